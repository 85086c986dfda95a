"""The ``roundtrip`` command: database, demo data, users (and Flask's own run/shell/routes).

What it tells the operator is said in their language (app.cli_words: the installation's
default, or the one their locale names); what programs read (a token, ids) stays as it is.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import IO, TYPE_CHECKING, Any

import click
from flask import Flask, current_app, has_app_context
from flask.cli import FlaskGroup, ScriptInfo, pass_script_info, with_appcontext

from app.accounts.roles import Role
from app.messages import say, say_n

if TYPE_CHECKING:
    from app.cli_words import Voice

# Heavier modules (SQLAlchemy, Alembic, the demo) are imported inside the commands that use
# them, so `roundtrip solve` starts in a fraction of a second.


def _voice() -> Voice:
    """The operator's language, asked afresh each time (a test may change the locale)."""
    from app.cli_words import voice

    if has_app_context():
        offered = tuple(current_app.config.get("LANGUAGES", ("en",)))
    else:  # `roundtrip solve` builds no app: the installation's setting, read as Config does
        from app.config import languages

        try:
            offered = languages(os.environ)
        except ValueError:
            offered = ("en",)
    return voice(offered, os.environ)


def _echo(text: str) -> None:
    """Tell the operator ``text`` (a Message) in their language."""
    click.echo(_voice()(text))


class Refusal(click.ClickException):
    """A command refused, said in the operator's language (click's own "Error:" is English).

    Said when raised: click shows it after the command's app context (and its LANGUAGES)
    is gone."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.said = _voice()(say("Error: %(reason)s", reason=reason))

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(self.said, file=file, err=file is None)


def _create_app() -> Flask:
    from app.web import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app)
def main() -> None:
    """Roundtrip: delivery and returns operations."""


@main.command("run", short_help="Run the development server.")
@click.option("--host", "-h", default="127.0.0.1", show_default=True)
@click.option("--port", "-p", default=5000, show_default=True)
@click.option(
    "--reload/--no-reload", default=None, help="Restart on code changes (default: --debug)."
)
@click.option(
    "--debugger/--no-debugger", default=None, help="Debugger in the browser (default: --debug)."
)
@pass_script_info
def run(info: ScriptInfo, host: str, port: int, reload: bool | None, debugger: bool | None) -> None:
    """Flask's development server, with a Server header naming no Werkzeug/Python versions."""
    from flask.helpers import get_debug_flag
    from werkzeug.serving import run_simple

    from app.web.security import QuietRequestHandler

    debug = get_debug_flag()
    run_simple(
        host,
        port,
        info.load_app(),
        use_reloader=debug if reload is None else reload,
        use_debugger=debug if debugger is None else debugger,
        threaded=True,
        request_handler=QuietRequestHandler,
    )


@click.group("db")
def db_group() -> None:
    """Database schema (Alembic migrations)."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Bring the database schema up to date."""
    from app import migrate

    migrate.upgrade(current_app.config["DATABASE_URL"], revision)
    url = _safe_url(current_app.config["DATABASE_URL"])
    _echo(say("Database is at %(revision)s: %(url)s", revision=revision, url=url))


@db_group.command("check")
@with_appcontext
def db_check() -> None:
    """Fail if the models and the migrations disagree."""
    from app import migrate

    migrate.check(current_app.config["DATABASE_URL"])
    _echo(say("Models and migrations agree."))


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _factory():  # type: ignore[no-untyped-def]
    from app.web.database import session_factory

    return session_factory()


HISTORY_ORDERS_PER_DAY = 40  # a small shop's weeks: enough for every chart to show a trend


@click.command("demo")
@click.option("--quiet", is_flag=True, help="Do not print the demo logins.")
@click.option(
    "--history-weeks",
    type=click.IntRange(0, 8),
    default=0,
    show_default=True,
    help="Also simulate this many weeks up to yesterday in a second depot (the dashboard's "
    "history), through the services, unless they are there already.",
)
@with_appcontext
def demo(quiet: bool, history_weeks: int) -> None:
    """Load a demo city day in Moscow (does nothing if it is already loaded)."""
    from app import demo as demo_data
    from app.db import session_scope

    with session_scope(_factory()) as session:
        summary = demo_data.load(session, today=True)
    if summary.created:
        couriers = say_n(
            "%(n)s courier with a vehicle and a shift",
            "%(n)s couriers with vehicles and shifts",
            summary.couriers,
        )
        _echo(
            say_n(
                "Demo loaded: %(n)s order for %(day)s, %(couriers)s.",
                "Demo loaded: %(n)s orders for %(day)s, %(couriers)s.",
                summary.orders,
                day=summary.delivery_day,
                couriers=couriers,
            )
        )
        if summary.today_orders:
            _echo(
                say_n(
                    "Today's day is under way too: %(n)s order; stops reported so far: "
                    "%(reported)s. See it on the dispatcher's board for %(day)s.",
                    "Today's day is under way too: %(n)s orders; stops reported so far: "
                    "%(reported)s. See it on the dispatcher's board for %(day)s.",
                    summary.today_orders,
                    reported=summary.today_reported,
                    day=summary.delivery_day - timedelta(days=1),
                )
            )
        if summary.kettle_order_id is not None:
            from app.links import tracking_url

            link = tracking_url(
                current_app.config["PUBLIC_URL"],
                current_app.config["SECRET_KEY"],
                summary.kettle_order_id,
            )
            _echo(
                say(
                    "The demo customer's kettle was delivered two days ago; its page, opened "
                    "from this link without signing in, takes a return: %(link)s",
                    link=link,
                )
            )
    else:
        _echo(say("Demo data is already loaded; nothing was added."))
    if history_weeks:
        _history(history_weeks)
    if not quiet:
        _echo(say("Demo logins (role, e-mail, password):"))
        for login in demo_data.LOGINS:  # what a person types: as it is
            click.echo(f"  {login.role:<11} {login.email:<28} {login.password}")
        couriers_2_to_12 = say(
            "(couriers 2-12: %(emails)s, %(password)s)",
            emails="courier2..courier12@roundtrip.demo",
            password=demo_data.COURIER_PASSWORD,
        )
        click.echo("  " + _voice()(couriers_2_to_12))


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
    from app.accounts import services as account_services
    from app.db import session_scope
    from app.errors import ValidationFailed

    try:
        with session_scope(_factory()) as session:
            user = account_services.create_user(
                session, email=email, name=name, role=role, password=password
            )
            _echo(say("Created %(email)s (%(role)s).", email=user.email, role=str(user.role)))
    except ValidationFailed as exc:
        # Each problem in words; the field is the option of the same name.
        words = _voice()
        raise Refusal(" ".join(words(m) for ms in exc.errors.values() for m in ms)) from exc


@users_group.command("token")
@click.argument("email")
@click.option("--label", default="cli", show_default=True)
@with_appcontext
def users_token(email: str, label: str) -> None:
    """Print a new API token for a user (shown once)."""
    from datetime import timedelta

    from sqlalchemy import select

    from app.accounts import services as account_services
    from app.accounts.models import User
    from app.db import session_scope, utcnow

    config = current_app.config
    with session_scope(_factory()) as session:
        user = session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None:
            raise Refusal(say("There is no user %(email)s.", email=email))
        issued = account_services.issue_api_token(
            session,
            user=user,
            label=label,
            now=utcnow(),
            lifetime=timedelta(days=config.get("API_TOKEN_DAYS", 30)),
            cap=config.get("API_TOKEN_CAP", 10),
        )
        click.echo(issued.secret)  # for a program: as it is


@click.command("wave")
@click.option(
    "--kind",
    type=click.Choice(["tomorrow", "final", "same-day"]),
    default="tomorrow",
    show_default=True,
    help="tomorrow: draft tomorrow; final: draft and publish if nobody has; same-day: take "
    "today's new orders into the published plan.",
)
@click.option("--time-limit", type=float, default=None, help="Seconds (default: by day size).")
@with_appcontext
def wave(kind: str, time_limit: float | None) -> None:
    """Run a planning wave now, as the scheduler would."""
    from app.planning import jobs

    if kind == "same-day":
        touched = jobs.same_day_wave(_factory(), time_limit_s=time_limit)
    else:
        touched = jobs.planning_wave(_factory(), time_limit_s=time_limit, final=kind == "final")
    if touched:
        _echo(say("Plans changed or made: %(plans)s.", plans=", ".join(str(i) for i in touched)))
    else:
        _echo(say("Nothing to do: every order is already in its day's plan."))


def _history(weeks: int) -> None:
    """Weeks of simulated days ending yesterday (Moscow), for the dashboard's charts."""
    from zoneinfo import ZoneInfo

    from app.db import utcnow
    from app.simulation import world
    from app.simulation.run import AlreadySimulated, Settings
    from app.simulation.run import simulate as run_days

    days = 7 * weeks
    first = utcnow().astimezone(ZoneInfo(world.TIMEZONE)).date() - timedelta(days=days)
    settings = Settings(
        days=days,
        orders_per_day=HISTORY_ORDERS_PER_DAY,
        start=first,
        time_limit_s=1.0,
        draft_waves=(),
    )
    _echo(
        say(
            "Simulating %(days)s days of history for the dashboard, a line a day (about %(s)s "
            "seconds)...",
            days=days,
            s=days * 4,
        )
    )
    words = _voice()
    try:
        run_days(_factory(), settings, progress=lambda day: click.echo(words(day.line())))
    except AlreadySimulated:
        _echo(say("The dashboard's history is already there; nothing was simulated."))


@click.command("simulate")
@click.option("--days", type=click.IntRange(1, 60), required=True, help="Days to simulate.")
@click.option(
    "--orders-per-day", type=click.IntRange(1, 5000), required=True, help="Orders for each day."
)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option(
    "--start",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="First delivery day simulated (default: so that the last one is yesterday).",
)
@click.option(
    "--time-limit",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Planning seconds per wave (default: by day size, as the scheduler's waves).",
)
@click.option(
    "--draft-wave/--no-draft-wave",
    default=True,
    show_default=True,
    help="An 18:00 draft plan that later checkouts are promised against (the scheduler's "
    "default), or offers from the shifts alone until the cut-off.",
)
@click.option(
    "--out", type=click.Path(dir_okay=False), default=None, help="Write the figures as JSON."
)
@with_appcontext
def simulate(
    days: int,
    orders_per_day: int,
    seed: int,
    start: Any,
    time_limit: float | None,
    draft_wave: bool,
    out: str | None,
) -> None:
    """Run whole days through the product's services on a simulated clock; print what the
    customers experienced (and keep it all: the dashboard's history)."""
    import json
    import time
    from datetime import time as clock_time
    from zoneinfo import ZoneInfo

    from app.db import utcnow
    from app.errors import DomainError
    from app.simulation import world
    from app.simulation.run import Settings
    from app.simulation.run import simulate as run_days

    if start is None:  # history: the last simulated day is yesterday, in the depot's time
        today = utcnow().astimezone(ZoneInfo(world.TIMEZONE)).date()
        first = today - timedelta(days=days)
    else:
        first = start.date()
    settings = Settings(
        days=days,
        orders_per_day=orders_per_day,
        start=first,
        seed=seed,
        time_limit_s=time_limit,
        draft_waves=(clock_time(18, 0),) if draft_wave else (),
    )
    words = _voice()
    began = time.monotonic()
    try:
        outcome = run_days(_factory(), settings, progress=lambda day: click.echo(words(day.line())))
    except DomainError as exc:
        raise Refusal(exc.message or str(exc)) from exc
    wall_s = round(time.monotonic() - began, 1)
    for line in outcome.total.lines():
        click.echo(words(line))
    _echo(say("Wall time: %(seconds)s s.", seconds=str(wall_s)))
    if outcome.stamped:
        stamped = ", ".join(f"{table} {n}" for table, n in sorted(outcome.stamped.items()))
        _echo(say("Rows given the simulated time by the clock: %(rows)s.", rows=stamped))
    if out is not None:
        report = {
            "settings": {
                "days": days,
                "orders_per_day": orders_per_day,
                "seed": seed,
                "start": first.isoformat(),
                "time_limit_s": time_limit,
                "draft_wave": draft_wave,
            },
            "wall_s": wall_s,
            "total": outcome.total.as_dict(),
            "days": [d.as_dict() for d in outcome.days],
            "stamped": outcome.stamped,
        }
        with open(out, "w", encoding="utf-8") as sink:
            json.dump(report, sink, indent=1)


for _command in (db_group, demo, users_group, wave, simulate):
    main.add_command(_command)


@main.command("solve", with_appcontext=False)  # pure routing: no web app to build
@click.argument("instance", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--time-limit",
    type=click.FloatRange(min=0, min_open=True),
    required=True,
    help="Seconds of search.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--engine",
    type=click.Choice(["auto", "pyvrp", "vroom", "ortools"]),
    default="auto",
    show_default=True,
)
@click.option(
    "--workers", type=click.IntRange(min=1), default=1, show_default=True, help="parallel searches"
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    required=True,
    help="VRPLIB .sol file, or for a .json problem a VROOM-format .json plan",
)
def solve_instance(
    instance: str, time_limit: float, seed: int, engine: str, workers: int, out: str
) -> None:
    """Solve a Solomon (.txt), VRPLIB (.vrp) or VROOM-format (.json) problem; write a plan.

    A malformed file is refused with its line (or JSON field) and nothing is written. The
    verdict printed comes from re-checking the written plan against the file's own numbers,
    independently of the problem the solver was given. Solomon and VRPLIB: the exit code is 1
    unless every customer is served feasibly. VROOM JSON: the plan is in VROOM's solution
    format, each job left out with its reason; the exit code is 1 if the plan breaks a rule.
    """
    import time

    if instance.lower().endswith(".json"):
        _solve_vroom(instance, time_limit, seed, engine, workers, out)
        return

    from routing.io import instances
    from routing.solver import SolveParameters, solve

    started = time.perf_counter()
    try:
        inst = instances.read(instance)
    except instances.InstanceError as exc:
        # The routing core stands alone (no catalogue): its reason is English.
        raise Refusal(say("%(problem)s. Nothing was solved or written.", problem=str(exc))) from exc
    loaded = time.perf_counter()
    plan = solve(
        inst.problem,
        SolveParameters(time_limit_s=time_limit, seed=seed, engine=engine, workers=workers),  # type: ignore[arg-type]
    )
    solved = time.perf_counter()
    planned = [list(r.stops) for r in plan.routes]
    try:
        instances.write_solution(out, planned, inst.cost(planned))
        # Judge what was written, read back, on the file's own numbers.
        routes, _ = instances.read_solution(out)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise Refusal(
            say("%(path)s: cannot be written (%(reason)s)", path=out, reason=reason)
        ) from exc
    verdict = inst.recheck(routes)
    problems = verdict.violations
    words = _voice()
    _say_verdict(
        inst.name,
        verdict.distance,
        len(routes),
        plan.engine,
        (loaded - started, solved - loaded),
        len(problems),
        len(verdict.not_visited),
        out,
    )
    # The routing core's own reasons are English (it stands alone, without a catalogue).
    reasons = {left.stop + 1: left.message for left in plan.unassigned}
    for customer in verdict.not_visited:
        reason = reasons.get(customer) or say("the solver did not say why")
        line = say(
            "unassigned customer %(customer)s: %(reason)s", customer=str(customer), reason=reason
        )
        click.echo("  " + words(line))
    for violation in problems:
        click.echo("  " + words(say("violation: %(problem)s", problem=violation.message)))
    if problems or verdict.not_visited:
        raise SystemExit(1)


def _say_verdict(
    name: str,
    cost: float,
    vehicles: int,
    engine: str,
    seconds: tuple[float, float],
    violations: int,
    unassigned: int,
    out: str,
) -> None:
    """`roundtrip solve`'s one-line verdict; ``seconds`` are (reading, solving)."""
    words = _voice()
    number = words.formats.decimal
    judged = (
        say("feasible")
        if not violations
        else say_n("%(n)s violation", "%(n)s violations", violations)
    )
    click.echo(
        words(
            say(
                "%(name)s: cost %(cost)s, %(vehicles)s, engine %(engine)s, solve %(solve)s s "
                "(+ %(reading)s s reading), %(verdict)s, %(unassigned)s -> %(out)s",
                name=name,
                cost=number(cost),
                vehicles=say_n("%(n)s vehicle", "%(n)s vehicles", vehicles),
                engine=engine,
                solve=number(seconds[1]),
                reading=number(seconds[0]),
                verdict=judged,
                unassigned=say_n("%(n)s unassigned", "%(n)s unassigned", unassigned),
                out=out,
            )
        )
    )


def _solve_vroom(
    instance: str, time_limit: float, seed: int, engine: str, workers: int, out: str
) -> None:
    """`roundtrip solve` for a VROOM-format problem (see solve_instance)."""
    import json
    import time

    from routing import feasibility
    from routing.io import vroom_json, vroom_recheck
    from routing.solver import SolveParameters, planned_routes, solve

    started = time.perf_counter()
    try:
        with open(instance, encoding="utf-8") as source:
            data = json.load(source)
        problem = vroom_json.read_problem(data)
    except (OSError, UnicodeDecodeError) as exc:
        reason = str(exc)
        raise Refusal(
            say("%(path)s: cannot be read (%(reason)s)", path=instance, reason=reason)
        ) from exc
    except json.JSONDecodeError as exc:
        raise Refusal(
            say(
                "%(path)s is not JSON (line %(line)s, column %(column)s: %(reason)s). "
                "Nothing was solved or written.",
                path=instance,
                line=str(exc.lineno),
                column=str(exc.colno),
                reason=exc.msg,
            )
        ) from exc
    except vroom_json.VroomFormatError as exc:
        # The routing core stands alone (no catalogue): its reason is English.
        raise Refusal(say("%(problem)s. Nothing was solved or written.", problem=str(exc))) from exc
    loaded = time.perf_counter()
    plan = solve(
        problem,
        SolveParameters(time_limit_s=time_limit, seed=seed, engine=engine, workers=workers),  # type: ignore[arg-type]
    )
    solved = time.perf_counter()
    solution = vroom_json.write_solution(problem, plan, distances=vroom_json.read_distances(data))
    try:
        with open(out, "w", encoding="utf-8") as sink:
            json.dump(solution, sink, indent=1)
        with open(out, encoding="utf-8") as written:
            solution = json.load(written)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise Refusal(
            say("%(path)s: cannot be written (%(reason)s)", path=out, reason=reason)
        ) from exc
    # Judged twice: on the file's own numbers, and by our checker on the routes read back.
    problems = vroom_recheck.recheck(data, solution)
    index = {s.id: i for i, s in enumerate(problem.stops)}
    vehicle_index = {v.id: k for k, v in enumerate(problem.vehicles)}
    routes = [
        (
            vehicle_index[str(r["vehicle"])],
            [index[str(step["id"])] for step in r["steps"] if step["type"] == "job"],
        )
        for r in solution["routes"]
    ]
    problems += [v.message for v in feasibility.violations(problem, routes)]
    if routes != planned_routes(plan):
        problems.append("the plan read back differs from the plan solved")
    words = _voice()
    _say_verdict(
        instance,
        solution["summary"]["cost"],
        len(routes),
        plan.engine,
        (loaded - started, solved - loaded),
        len(problems),
        len(solution["unassigned"]),
        out,
    )
    for left in solution["unassigned"]:
        line = say(
            "unassigned job %(customer)s: %(reason)s",
            customer=str(left["id"]),
            reason=left["description"],
        )
        click.echo("  " + words(line))
    for problem_text in problems:
        click.echo("  " + words(say("violation: %(problem)s", problem=problem_text)))
    if problems:
        raise SystemExit(1)
