"""Command-line commands: create-org, create-user, create-token, revoke-tokens, backup, restore, seed-demo; notifications work|status."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import select

from .backup import BackupError, backup, restore
from .demo.seed import print_logins, seed_demo
from .extensions import db
from .models import ApiToken, Organisation, User
from .notifications.cli import notifications_cli
from .people.tokens import MAX_TOKEN_DAYS, revoke_all_tokens


def register_commands(app: Flask) -> None:
    app.cli.add_command(notifications_cli)

    @app.cli.command("create-org")
    @click.argument("name")
    @click.option("--country", required=True, help="ISO 3166 alpha-2 country code, e.g. SE")
    def create_org(name: str, country: str) -> None:
        """Create an organisation (a cluster or network)."""
        country = country.strip().upper()
        if len(country) != 2 or not country.isalpha():
            raise click.UsageError("--country must be a two-letter country code, e.g. SE.")
        if db.session.scalar(select(Organisation).where(Organisation.name == name)):
            raise click.UsageError(f"An organisation named {name!r} exists already.")
        db.session.add(Organisation(name=name, country=country))
        db.session.commit()
        click.echo(f"Created organisation {name} ({country}).")

    @app.cli.command("create-user")
    @click.argument("email")
    @click.option("--name", required=True)
    @click.option("--org", "org_name", required=True, help="Name of the user's organisation")
    @click.option("--password", required=True)
    @click.option("--admin", is_flag=True, help="Make the user a secretariat admin")
    def create_user(email: str, name: str, org_name: str, password: str, admin: bool) -> None:
        """Create a user in an organisation."""
        email = email.strip().lower()
        organisation = db.session.scalar(select(Organisation).where(Organisation.name == org_name))
        if organisation is None:
            raise click.UsageError(f"No organisation named {org_name!r}; create it with create-org.")
        if db.session.scalar(select(User).where(User.email == email)):
            raise click.UsageError(f"A user with email {email} exists already.")
        if len(password) < 8:
            raise click.UsageError("Passwords need at least 8 characters.")
        user = User(email=email, name=name, organisation=organisation, is_admin=admin)
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
        click.echo(f"Created user {email}{' (admin)' if admin else ''}.")

    @app.cli.command("create-token")
    @click.argument("email")
    @click.option("--expires-days", type=click.IntRange(1, MAX_TOKEN_DAYS), default=None,
                  help=f"Days until the token stops working (1-{MAX_TOKEN_DAYS}); without it, until revoked.")
    @click.option("--name", default=None, help="A label for the token, shown in its owner's token list.")
    def create_token(email: str, expires_days: int | None, name: str | None) -> None:
        """Create a personal API token and print it alone on the last line."""
        user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None:
            raise click.UsageError(f"No user with email {email}.")
        # Not issue_token: the page's cap on active tokens is for people, not for the scripts
        # an operator runs (the option types already bound the expiry).
        token, secret = ApiToken.issue(user, name=" ".join((name or "").split())[:100] or "Command line",
                                       expires_in_days=expires_days)
        db.session.commit()
        until = f"until {token.expires_at:%Y-%m-%d %H:%M} UTC" if token.expires_at else "until revoked"
        click.echo(f"API token for {user.email}, valid {until} (shown once; keep it secret):")
        click.echo(secret)

    @app.cli.command("revoke-tokens")
    @click.argument("email")
    def revoke_tokens(email: str) -> None:
        """Revoke every API token of a user (their live connections by token end too)."""
        user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None:
            raise click.UsageError(f"No user with email {email}.")
        count = revoke_all_tokens(user)
        db.session.commit()
        click.echo(f"Revoked {count} API token{'s' if count != 1 else ''} of {user.email}.")

    @app.cli.command("backup")
    @click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
    def backup_command(path: Path) -> None:
        """Copy the SQLite database, while it serves, to PATH; the copy is verified (audit chains too)."""
        try:
            check = backup(current_app.config["SQLALCHEMY_DATABASE_URI"], path)
        except BackupError as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"Backed up to {check.path}: integrity ok; {check.documents} documents, "
                   f"{check.events} audit events, every chain intact.")

    @app.cli.command("restore")
    @click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
    def restore_command(path: Path, yes: bool) -> None:
        """Replace the SQLite database with a verified backup (stop the server first)."""
        if not yes:
            click.confirm("This replaces every document, vote and account with the backup's. "
                          "Is the server stopped, and do you want to go on?", abort=True)
        try:
            check = restore(current_app.config["SQLALCHEMY_DATABASE_URI"], path)
        except BackupError as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"Restored {path}: {check.documents} documents, {check.events} audit events, every chain "
                   "intact. Run `flask --app wsgi db upgrade` if the backup is from an older version.")

    @app.cli.command("seed-demo")
    def seed_demo_command() -> None:
        """Load the demo world; running it twice changes nothing."""
        created = seed_demo()
        click.echo("Demo world created." if created else "Demo world already present; nothing changed.")
        print_logins(click.echo)
