"""`roundtrip solve PROBLEM.json`: a VROOM-format day in, a VROOM-format plan out, judged on
the file's own numbers; a malformed file refused naming the field, nothing written."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from app.cli import main
from routing.io import vroom_recheck
from tests.routing.vroom_days import day


@pytest.fixture(autouse=True)
def _english_operator(monkeypatch):  # type: ignore[no-untyped-def]
    """The operator's locale names no language; the installation offers English first."""
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C")
    monkeypatch.setenv("ROUNDTRIP_LANGUAGES", "en,ru")


def _solve(problem_path, out, *extra):  # type: ignore[no-untyped-def]
    args = ["solve", str(problem_path), "--time-limit", "1", "--out", str(out), *extra]
    return CliRunner().invoke(main, args)


def test_solve_writes_a_vroom_plan_with_breaks_skills_two_windows_and_exchanges(tmp_path):
    problem = tmp_path / "day.json"
    problem.write_text(json.dumps(day()))
    out = tmp_path / "plan.json"

    result = _solve(problem, out)

    assert result.exit_code == 0, result.output
    assert "feasible" in result.output
    plan = json.loads(out.read_text())
    assert vroom_recheck.recheck(day(), plan) == []
    served = sorted(s["id"] for r in plan["routes"] for s in r["steps"] if s["type"] == "job")
    assert served == [101, 102, 103, 104, 105, 106]
    exchange = next(s for r in plan["routes"] for s in r["steps"] if s.get("id") == 104)
    assert exchange["service"] == 480
    assert plan["summary"]["unassigned"] == 0


def test_a_job_left_out_is_printed_with_its_reason(tmp_path):
    data = day()
    data["jobs"][4]["skills"] = [9]  # no vehicle has it
    problem = tmp_path / "day.json"
    problem.write_text(json.dumps(data))
    out = tmp_path / "plan.json"

    result = _solve(problem, out)

    assert result.exit_code == 0, result.output
    assert "unassigned job 105: No vehicle on shift has what stop 105 needs (9)" in result.output
    plan = json.loads(out.read_text())
    assert [(u["id"], u["reason"]) for u in plan["unassigned"]] == [(105, "NO_VEHICLE_WITH_SKILL")]


def test_a_malformed_file_is_refused_naming_the_field_and_nothing_is_written(tmp_path):
    data = day()
    data["jobs"][2]["time_windows"] = [[50, 40]]
    problem = tmp_path / "day.json"
    problem.write_text(json.dumps(data))
    out = tmp_path / "plan.json"

    result = _solve(problem, out)

    assert result.exit_code != 0
    assert "jobs[2].time_windows[0]" in result.output
    assert "Nothing was solved or written" in result.output
    assert not out.exists()


def test_a_file_that_is_not_json_is_refused_with_its_line(tmp_path):
    problem = tmp_path / "day.json"
    problem.write_text('{"vehicles": [\n  {"id": 1,,}\n]}')
    out = tmp_path / "plan.json"

    result = _solve(problem, out)

    assert result.exit_code != 0
    assert "is not JSON (line 2, column" in result.output
    assert not out.exists()
