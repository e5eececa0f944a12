"""Command-line tools: `flask --app app link ...`."""

from __future__ import annotations

import click
from flask import Flask

from .links import LinkClaims, Purpose


def register_commands(app: Flask) -> None:
    """Add the app's commands to `flask`."""

    @app.cli.command("link")
    @click.argument("user_id")
    @click.option("--tenant", "tenant_id", default=None, help="Tenant context of the link.")
    @click.option(
        "--unsubscribe",
        "topic_id",
        default=None,
        metavar="TOPIC_ID",
        help="Print a one-click unsubscribe link for this topic, with its email headers.",
    )
    @click.option("--embed", is_flag=True, help="Print a short-lived embed URL instead.")
    @click.option("--locale", default=None, help="Language of the pages the link opens.")
    def link_command(
        user_id: str, tenant_id: str | None, topic_id: str | None, embed: bool, locale: str | None
    ) -> None:
        """Print a signed link for USER_ID: their preferences, or unsubscribing from a topic."""
        if topic_id and embed:
            raise click.UsageError("--unsubscribe and --embed cannot be combined")
        purpose = Purpose.MANAGE
        if topic_id:
            purpose = Purpose.UNSUBSCRIBE
        elif embed:
            purpose = Purpose.EMBED
        try:
            claims = LinkClaims(
                user_id, purpose, tenant_id=tenant_id, topic_id=topic_id, locale=locale
            )
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
        link = app.extensions["prefcenter"].minter.mint(claims)
        click.echo(link.url)
        for name, value in link.email_headers.items():
            click.echo(f"{name}: {value}")
