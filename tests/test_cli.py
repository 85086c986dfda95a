"""The roundtrip command, run in-process against the test database."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.accounts import services
from app.accounts.models import User
from app.cli import main
from app.cli_words import choose_language

LOCALE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG", "ROUNDTRIP_LANGUAGES")


@pytest.fixture(autouse=True)
def _plain_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    """The operator's locale names no language (LANG=C), whatever the shell running the tests
    says: the command speaks the installation's default, English first as in the app fixture
    (unless a test says)."""
    for variable in LOCALE_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LANG", "C")
    monkeypatch.setenv("ROUNDTRIP_LANGUAGES", "en,ru")


def test_users_create_adds_a_person_who_can_sign_in(app, session):
    result = app.test_cli_runner().invoke(
        main,
        args=[
            "users",
            "create",
            "--email",
            "Olga@Example.org",
            "--name",
            "Olga",
            "--role",
            "support",
            "--password",
            "long-enough-1",
        ],
    )

    assert result.exit_code == 0, result.output
    assert "Created olga@example.org (support)" in result.output
    assert services.authenticate(session, email="olga@example.org", password="long-enough-1")


def test_users_create_explains_what_is_wrong(app, session, make_user):
    make_user("support", email="taken@example.org")

    result = app.test_cli_runner().invoke(
        main,
        args=[
            "users",
            "create",
            "--email",
            "taken@example.org",
            "--name",
            "X",
            "--role",
            "support",
            "--password",
            "short",
        ],
    )

    assert result.exit_code == 1
    assert "already exists" in result.output
    assert "at least 8 characters" in result.output
    assert len(session.scalars(select(User).where(User.email == "taken@example.org")).all()) == 1


def test_users_token_prints_a_working_token(app, client, make_user):
    person = make_user("dispatcher")

    result = app.test_cli_runner().invoke(main, args=["users", "token", person.email])

    assert result.exit_code == 0, result.output
    token = result.output.strip()
    response = client.get("/api/v1/couriers", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_a_wave_can_be_run_by_hand(app, session, clock):
    from datetime import UTC, datetime

    from app import demo
    from app.planning.models import Plan

    evening = datetime(2026, 11, 24, 19, tzinfo=UTC)  # 22:00 in Moscow, the demo's depot
    clock(evening)
    summary = demo.load(session, now=evening)
    session.commit()

    result = app.test_cli_runner().invoke(
        main, args=["wave", "--kind", "final", "--time-limit", "1"]
    )

    assert result.exit_code == 0, result.output
    assert result.output.startswith("Plans changed or made: ")
    plan = session.scalars(select(Plan)).one()
    assert plan.delivery_day == summary.delivery_day
    assert plan.published_at is not None


# --- roundtrip solve (pure routing: no database, no app) --------------------------------


def _solve(instance, out, *extra):  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from app.cli import main

    args = ["solve", str(instance), "--time-limit", "0.5", "--out", str(out), *extra]
    return CliRunner().invoke(main, args)


def test_solve_reads_decimal_coordinates_and_reports_the_true_cost(tmp_path):
    """A Solomon file with decimal coordinates is planned on its real distances: the cost
    printed and written is the Euclidean length of the written routes, computed here from
    the file's numbers, and the verdict is feasible."""
    import math

    from tests.routing.solomon import small_rows, solomon_text

    rows = small_rows()
    instance = tmp_path / "dec.txt"
    instance.write_text(solomon_text(rows))
    out = tmp_path / "dec.sol"

    result = _solve(instance, out)

    assert result.exit_code == 0, result.output
    assert "feasible, 0 unassigned" in result.output
    lines = out.read_text().splitlines()
    routes = [[int(c) for c in line.split(":")[1].split()] for line in lines[:-1]]
    assert sorted(c for r in routes for c in r) == [1, 2, 3]
    xy = [(float(r[1]), float(r[2])) for r in rows]
    length = sum(
        math.dist(xy[a], xy[b]) for r in routes for a, b in zip([0, *r], [*r, 0], strict=True)
    )
    assert length > 100
    assert float(lines[-1].split()[1]) == pytest.approx(length, abs=1e-4)
    assert f"cost {length:.2f}" in result.output


@pytest.mark.parametrize(
    ("row", "column", "value", "words"),
    [
        (2, 5, "50", "line 12, DUE DATE: 50 is before READY TIME 100"),
        (1, 3, "ten", "line 11, DEMAND: 'ten' is not a number"),
        (3, 6, None, "line 13: expected 7 columns, found 6: SERVICE TIME missing"),
        (1, 3, "-4", "line 11, DEMAND: must not be negative"),
    ],
)
def test_solve_refuses_a_malformed_file_naming_the_line(tmp_path, row, column, value, words):
    """A malformed file stops the command before solving: exit code 1, the line and field
    named, no traceback, no solution file."""
    from tests.routing.solomon import small_rows, solomon_text

    rows = small_rows()
    if value is None:
        rows[row] = rows[row][:column]
    else:
        rows[row][column] = value
    instance = tmp_path / "bad.txt"
    instance.write_text(solomon_text(rows))
    out = tmp_path / "bad.sol"

    result = _solve(instance, out)

    assert result.exit_code == 1
    assert f"Error: {instance}, {words}" in result.output
    assert "Nothing was solved or written" in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)
    assert not out.exists()


def test_solve_refuses_an_empty_file(tmp_path):
    """An empty file is not an empty instance."""
    instance = tmp_path / "empty.txt"
    instance.write_text("")
    out = tmp_path / "empty.sol"

    result = _solve(instance, out)

    assert result.exit_code == 1
    assert "the file is empty" in result.output
    assert not out.exists()


def test_solve_verdict_comes_from_the_files_numbers_not_the_solvers_matrix(tmp_path, monkeypatch):
    """If the matrix handed to the solver were wrong (all zeros, as when coordinates were
    misread), the plan looks perfect to the solver; the command still reports the
    violations found on the file's own numbers and exits 1."""
    import numpy as np

    from routing.io import instances
    from routing.model import Problem
    from tests.routing.solomon import solomon_text

    real_build = instances.build_problem

    def blind(raw):  # type: ignore[no-untyped-def]
        p = real_build(raw)
        zeros = np.zeros_like(p.distance_m)
        return Problem(
            depots=p.depots,
            vehicles=p.vehicles,
            stops=p.stops,
            distance_m=zeros,
            duration_s={"default": zeros},
        )

    monkeypatch.setattr(instances, "build_problem", blind)
    rows = [
        [0, "50.50", "50.50", 0, 0, 1000, 0],
        [1, "50.50", "0.25", 10, 0, 60, 0],
        [2, "50.50", "99.75", 10, 0, 60, 0],
    ]
    instance = tmp_path / "far.txt"
    instance.write_text(solomon_text(rows, vehicles=1))

    result = _solve(instance, tmp_path / "far.sol")

    assert result.exit_code == 1, result.output
    assert "feasible" not in result.output
    assert "cost 199.00, 1 vehicle," in result.output
    assert "1 violation, 0 unassigned" in result.output
    assert "violation: route 1: customer" in result.output


# --- the operator's language -------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "offered", "language"),
    [
        ({"LANG": "C"}, ("en", "ru"), "en"),
        ({"LANG": "C"}, ("ru", "en"), "ru"),
        ({"LANG": "ru_RU.UTF-8"}, ("en", "ru"), "ru"),
        ({"LANGUAGE": "ru", "LANG": "C.UTF-8"}, ("en", "ru"), "ru"),
        ({"LANGUAGE": "de:ru", "LANG": "en_GB.UTF-8"}, ("en", "ru"), "ru"),
        ({"LC_ALL": "en_US.UTF-8", "LANG": "ru_RU.UTF-8"}, ("ru", "en"), "en"),
        ({"LC_ALL": "C", "LANG": "ru_RU.UTF-8"}, ("en", "ru"), "en"),  # LC_ALL decides
        ({"LANG": "de_DE.UTF-8"}, ("ru", "en"), "ru"),
        ({"LANGUAGE": "ru"}, ("en",), "en"),  # not offered here
        ({}, ("ru", "en"), "ru"),
    ],
)
def test_the_command_speaks_the_operators_locale_if_offered(environ, offered, language):
    assert choose_language(offered, environ) == language


def _create_user(app, password: str, env: dict[str, str]):  # type: ignore[no-untyped-def]
    args = ["users", "create", "--email", "olga@example.org", "--name", "Olga"]
    args += ["--role", "support", "--password", password]
    return app.test_cli_runner().invoke(main, args=args, env=env)


def test_with_language_ru_the_command_speaks_russian(app, session):
    app.config["LANGUAGES"] = ("en", "ru")  # an English installation that offers Russian

    created = _create_user(app, "long-enough-1", {"LANGUAGE": "ru"})
    refused = _create_user(app, "short", {"LANGUAGE": "ru"})

    assert created.exit_code == 0, created.output
    assert created.output == "Создан пользователь olga@example.org (support).\n"
    assert refused.exit_code == 1
    assert refused.output.startswith("Ошибка: ")
    assert "Error" not in refused.output


def test_a_russian_installation_speaks_russian_unless_the_locale_says_english(app, session):
    app.config["LANGUAGES"] = ("ru", "en")

    russian = app.test_cli_runner().invoke(main, args=["users", "token", "nobody@example.org"])
    english = app.test_cli_runner().invoke(
        main, args=["users", "token", "nobody@example.org"], env={"LANG": "en_GB.UTF-8"}
    )

    assert russian.output == "Ошибка: Пользователя nobody@example.org нет.\n"
    assert english.output == "Error: There is no user nobody@example.org.\n"


def test_solve_speaks_the_installations_default_language(tmp_path):
    """Without ROUNDTRIP_LANGUAGES the installation offers ru,en, as the web app does."""
    from click.testing import CliRunner

    from app.cli import main
    from tests.routing.solomon import small_rows, solomon_text

    instance = tmp_path / "dec.txt"
    instance.write_text(solomon_text(small_rows()))
    args = ["solve", str(instance), "--time-limit", "0.5", "--out", str(tmp_path / "dec.sol")]

    result = CliRunner().invoke(main, args, env={"ROUNDTRIP_LANGUAGES": None})

    assert result.exit_code == 0, result.output
    assert "допустимо, 0 точек без маршрута" in result.output


def test_solve_speaks_russian_with_the_locales_numbers(tmp_path):
    from click.testing import CliRunner

    from app.cli import main
    from tests.routing.solomon import small_rows, solomon_text

    instance = tmp_path / "dec.txt"
    instance.write_text(solomon_text(small_rows()))
    out = tmp_path / "dec.sol"
    args = ["solve", str(instance), "--time-limit", "0.5", "--out", str(out)]

    result = CliRunner().invoke(main, args, env={"ROUNDTRIP_LANGUAGES": "en,ru", "LANGUAGE": "ru"})

    assert result.exit_code == 0, result.output
    assert re.search(r"^\S+: стоимость \d+,\d\d, \d+ машин", result.output)
    assert "допустимо, 0 точек без маршрута" in result.output
