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
    def link_command(user_id: str, tenant_id: str | None) -> None:
        """Print a signed link that opens USER_ID's preferences."""
        from .views import mint_link

        with app.test_request_context():
            claims = LinkClaims(user_id=user_id, purpose=Purpose.MANAGE, tenant_id=tenant_id)
            click.echo(mint_link(claims))
