"""Standard instance files: conventions checked against published best-known solutions."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing import feasibility
from routing.io import instances

# Copies of a few files from ../shared/benchmarks (Solomon; Gehring & Homberger with its BKS).
DATA = Path(__file__).resolve().parent / "data"


def test_solomon_instance_is_read_with_scaled_integer_times():
    inst = instances.read(DATA / "C101.txt")
    p = inst.problem

    assert (len(p.stops), len(p.vehicles), p.vehicles[0].capacity) == (100, 25, (200,))
    first = p.stops[0]  # customer 1: (45, 68), demand 10, window 912-967, service 90
    assert (first.delivery, first.windows[0].early_s, first.windows[0].late_s) == (
        (10,),
        91200,
        96700,
    )
    assert first.service_s == 9000
    assert p.vehicles[0].shift.late_s == 123600
    # depot (40, 50) to customer 1 (45, 68): sqrt(349) = 18.68..., x100 rounded up
    assert p.duration_s["default"][0, 1] == 1869


def test_published_gh1000_best_solution_is_feasible_and_costs_what_it_says():
    """The .sol file comes from the literature, not from us: same cost, no violation."""
    inst = instances.read(DATA / "C1_10_1.vrp")
    routes, stated = instances.read_solution(DATA / "C1_10_1.sol")

    assert inst.cost(routes) == pytest.approx(stated, abs=0.05)
    assert feasibility.violations(inst.problem, list(enumerate(routes))) == []
    verdict = inst.recheck(routes)  # on the file's own numbers
    assert (verdict.violations, verdict.not_visited) == ((), ())
    assert verdict.distance == pytest.approx(stated, abs=0.05)


def test_solution_file_round_trip(tmp_path):
    path = tmp_path / "x.sol"

    instances.write_solution(path, [[0, 4, 2], [], [1]], 123.456)

    assert path.read_text() == "Route #1: 1 5 3\nRoute #2: 2\nCost 123.4560\n"
    assert instances.read_solution(path) == ([[0, 4, 2], [1]], 123.456)


def test_roundtrip_solve_writes_a_solution_the_checker_accepts(tmp_path):
    from click.testing import CliRunner

    from app.cli import main

    out = tmp_path / "r101.sol"
    args = ["solve", str(DATA / "R101.txt"), "--time-limit", "1", "--out", str(out)]
    result = CliRunner().invoke(main, args, env={"LANGUAGE": "en"})  # its words in English

    assert result.exit_code == 0, result.output
    assert "feasible, 0 unassigned" in result.output
    inst = instances.read(DATA / "R101.txt")
    routes, cost = instances.read_solution(out)
    assert feasibility.violations(inst.problem, list(enumerate(routes))) == []
    assert inst.recheck(routes).violations == ()
    assert sorted(s for r in routes for s in r) == list(range(100))
    assert cost == pytest.approx(inst.cost(routes), abs=1e-3)
    assert len(routes) <= 25
