"""The ``roundtrip`` command: database, demo data, users (and Flask's own run/shell/routes)."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from app import demo as demo_data
from app import migrate
from app.accounts import services as account_services
from app.accounts.models import Role, User
from app.db import session_scope
from app.errors import ValidationFailed


def _create_app() -> Flask:
    from app.web import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app)
def main() -> None:
    """Roundtrip: delivery and returns operations."""


@click.group("db")
def db_group() -> None:
    """Database schema (Alembic migrations)."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Bring the database schema up to date."""
    migrate.upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"Database is at {revision}: {_safe_url(current_app.config['DATABASE_URL'])}")


@db_group.command("check")
@with_appcontext
def db_check() -> None:
    """Fail if the models and the migrations disagree."""
    migrate.check(current_app.config["DATABASE_URL"])
    click.echo("Models and migrations agree.")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _factory():  # type: ignore[no-untyped-def]
    from app.web.database import session_factory

    return session_factory()


@click.command("demo")
@click.option("--quiet", is_flag=True, help="Do not print the demo logins.")
@with_appcontext
def demo(quiet: bool) -> None:
    """Load a demo city day in Moscow (does nothing if it is already loaded)."""
    with session_scope(_factory()) as session:
        summary = demo_data.load(session)
    if summary.created:
        click.echo(
            f"Demo loaded: {summary.orders} orders for {summary.delivery_day.isoformat()}, "
            f"{summary.couriers} couriers with vehicles and shifts."
        )
    else:
        click.echo("Demo data is already loaded; nothing was added.")
    if not quiet:
        click.echo("Demo logins (role, e-mail, password):")
        for login in demo_data.LOGINS:
            click.echo(f"  {login.role:<11} {login.email:<28} {login.password}")
        click.echo(
            f"  (couriers 2-12: courier2..courier12@roundtrip.demo, {demo_data.COURIER_PASSWORD})"
        )


@click.group("users")
def users_group() -> None:
    """People who sign in."""


@users_group.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.password_option(help="At least 8 characters (asked for if not given).")
@with_appcontext
def users_create(email: str, name: str, role: str, password: str) -> None:
    """Create a user who can sign in."""
    try:
        with session_scope(_factory()) as session:
            user = account_services.create_user(
                session, email=email, name=name, role=role, password=password
            )
            click.echo(f"Created {user.email} ({user.role}).")
    except ValidationFailed as exc:
        raise click.ClickException(str(exc)) from exc


@users_group.command("token")
@click.argument("email")
@click.option("--label", default="cli", show_default=True)
@with_appcontext
def users_token(email: str, label: str) -> None:
    """Print a new API token for a user (shown once)."""
    from sqlalchemy import select

    with session_scope(_factory()) as session:
        user = session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None:
            raise click.ClickException(f"There is no user {email}.")
        click.echo(account_services.issue_token(session, user=user, label=label))


def register(app: Flask) -> None:
    for command in (db_group, demo, users_group):
        app.cli.add_command(command)
