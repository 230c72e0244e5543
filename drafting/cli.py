"""Command-line commands: create-org, create-user, create-token, seed-demo; notifications work|status."""

from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import select

from .extensions import db
from .models import ApiToken, Organisation, User


def register_commands(app: Flask) -> None:
    from .notifications.cli import notifications_cli

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
    def create_token(email: str) -> None:
        """Create a personal API token and print it alone on the last line."""
        user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None:
            raise click.UsageError(f"No user with email {email}.")
        _, secret = ApiToken.issue(user)
        db.session.commit()
        click.echo(f"API token for {user.email} (shown once; keep it secret):")
        click.echo(secret)

    @app.cli.command("seed-demo")
    def seed_demo_command() -> None:
        """Load the demo world; running it twice changes nothing."""
        from .demo.seed import print_logins, seed_demo

        created = seed_demo()
        click.echo("Demo world created." if created else "Demo world already present; nothing changed.")
        print_logins(click.echo)
