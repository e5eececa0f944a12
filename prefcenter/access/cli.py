"""Command-line tools: `flask --app app link ...` (or `make link USER=...`)."""

from __future__ import annotations

import click
from flask import Flask

from ..courier import CourierUnavailable
from ..services import Services
from .links import LinkClaims, Purpose
from .minting import UnknownTopic, check_topic


def register_commands(app: Flask) -> None:
    """Add the app's commands to `flask`."""

    @app.cli.command("link")
    @click.argument("user_id", required=False)
    @click.option("--tenant", "tenant_id", default=None, help="Tenant context of the link.")
    @click.option(
        "--unsubscribe",
        "topic_id",
        default=None,
        metavar="TOPIC_ID",
        help="Print a one-click unsubscribe link for this topic, with its email headers.",
    )
    @click.option("--embed", is_flag=True, help="Print a short-lived embed URL instead.")
    @click.option(
        "--preview",
        is_flag=True,
        help="Print a short-lived, read-only preview of the person's page, for support.",
    )
    @click.option(
        "--by",
        default=None,
        metavar="AGENT_ID",
        help="With --preview: who asked for it (a support agent's id), for the log of previews.",
    )
    @click.option("--locale", default=None, help="Language of the pages the link opens.")
    @click.option(
        "--hide",
        default="",
        metavar="PARTS",
        help="With --embed: parts of the page the host shows itself, comma separated"
        " (heading, language, banner).",
    )
    @click.option(
        "--list-topics",
        is_flag=True,
        help="Print the workspace's sections and topic ids (for --unsubscribe) and stop.",
    )
    def link_command(
        user_id: str | None,
        tenant_id: str | None,
        topic_id: str | None,
        embed: bool,
        preview: bool,
        by: str | None,
        locale: str | None,
        hide: str,
        list_topics: bool,
    ) -> None:
        """Print a signed link for USER_ID: their preferences, or unsubscribing from a topic."""
        svc: Services = app.extensions["prefcenter"]
        if list_topics:
            _print_topics(svc)
            return
        if not user_id:
            raise click.UsageError("Missing argument 'USER_ID' (or give --list-topics).")
        if sum((bool(topic_id), embed, preview)) > 1:
            raise click.UsageError("choose one of --unsubscribe, --embed and --preview")
        purpose = Purpose.MANAGE
        if topic_id:
            purpose = Purpose.UNSUBSCRIBE
        elif embed:
            purpose = Purpose.EMBED
        elif preview:
            purpose = Purpose.PREVIEW
        try:
            claims = LinkClaims(
                user_id,
                purpose,
                tenant_id=tenant_id,
                topic_id=topic_id,
                locale=locale,
                hide=frozenset(part.strip() for part in hide.split(",") if part.strip()),
                by=by,
            )
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
        try:
            check_topic(claims, svc.catalog.sections, svc.courier)
        except UnknownTopic as exc:
            raise click.ClickException(f"{exc}: no link printed (see --list-topics)") from None
        except CourierUnavailable as exc:
            raise click.ClickException(f"Courier did not answer: {exc}") from None
        link = svc.minter.mint(claims)
        click.echo(link.url)
        for name, value in link.email_headers.items():
            click.echo(f"{name}: {value}")


def _print_topics(svc: Services) -> None:
    try:
        sections = svc.catalog.sections()
    except CourierUnavailable as exc:
        raise click.ClickException(f"Courier did not answer: {exc}") from None
    for section in sections:
        click.echo(f"{section.name} (section {section.id})")
        for topic in section.topics:
            default = f" [{topic.default_status.value}]" if topic.default_status else ""
            click.echo(f"  {topic.id}  {topic.name}{default}")
