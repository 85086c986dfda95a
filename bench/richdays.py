"""Rich days side by side: Roundtrip, VROOM at exploration 5 and plain OR-Tools (R1, R3).

    .venv/bin/python -m bench.richdays [--sizes 200,400,800] [--live 400] [--seeds 1,2]
        [--budgets 10,30] [--solvers ours,vroom,ortools] [--jobs 2]

Each day comes from bench/richday.py (same seed, same day). Every solver gets the same
problem and budget on one core (``--jobs`` runs that many solves at once, one per core);
every plan is re-timed by routing.feasibility, which knows breaks, windows, loads and skills.

- ours: ``routing.solver.solve`` with ``engine="auto"``, explanations included; its wall time
  is the whole call's;
- vroom: VROOM (pyvroom) on the same model, exploration 5, one thread, stopped at the budget
  (routing.vroom_engine, without our repair: its routes as VROOM returned them);
- ortools: ``solve`` with ``engine="ortools"``, the OR-Tools model the product had before.

Results go to bench/results/richdays.jsonl (one line per run; runs already there are kept,
so an interrupted run resumes); the summary table is printed and written to
bench/results/richdays.md for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from bench.richday import generate
from routing import feasibility, reasons
from routing.model import Problem
from routing.search import SolveParameters

RESULTS = Path(__file__).resolve().parent / "results"
OUT = RESULTS / "richdays.jsonl"


def travel_hours(problem: Problem, routes: list[tuple[int, list[int]]]) -> float:
    total = 0
    for vehicle, stops in routes:
        if stops:
            m = problem.duration_s[problem.vehicles[vehicle].profile]
            total += sum(int(m[a, b]) for a, b in _legs(problem, vehicle, stops))
    return total / 3600


def run_one(task: tuple[str, int, int, bool, float]) -> dict[str, Any]:
    solver, size, seed, live, budget = task
    problem = generate(size, seed, live=live)
    started = time.perf_counter()
    if solver == "vroom":
        from routing import vroom_engine

        ruled_out = reasons.precheck(problem)
        candidates = [i for i in range(len(problem.stops)) if i not in ruled_out]
        result = vroom_engine.solve(
            problem, candidates, SolveParameters(time_limit_s=budget), started + budget
        )
        routes = [(v, list(stops)) for v, stops in result.routes]
        engine = "vroom"
    else:
        from routing.solver import planned_routes, solve

        engine_asked = "auto" if solver == "ours" else "ortools"
        plan = solve(problem, SolveParameters(time_limit_s=budget, seed=seed, engine=engine_asked))  # type: ignore[arg-type]
        routes = planned_routes(plan)
        engine = plan.engine
    wall = time.perf_counter() - started
    violations = feasibility.violations(problem, routes)
    placed = sum(len(s) for _, s in routes)
    distance = sum(
        int(problem.distance_m[a, b])
        for v, stops in routes
        if stops
        for a, b in _legs(problem, v, stops)
    )
    return {
        "solver": solver,
        "engine": engine,
        "stops": size,
        "live": live,
        "seed": seed,
        "budget_s": budget,
        "n_stops": len(problem.stops),
        "vehicles": len(problem.vehicles),
        "placed": placed,
        "distance_km": round(distance / 1000, 1),
        "travel_h": round(travel_hours(problem, routes), 2),
        "violations": len(violations),
        "wall_s": round(wall, 2),
        "over_limit": round(wall / budget, 3),
    }


def _legs(problem: Problem, vehicle: int, stops: list[int]) -> list[tuple[int, int]]:
    v = problem.vehicles[vehicle]
    path = [problem.depots[v.start_depot].location]
    path += [problem.stops[s].location for s in stops]
    path.append(problem.depots[v.end_depot].location)
    return list(itertools.pairwise(path))


def summary(rows: list[dict[str, Any]]) -> str:
    """Per budget: mean travel of ours/vroom/ortools and the ratio to VROOM."""
    lines = [
        "| day | budget | solver | placed | travel h | km | ratio to VROOM (travel h) "
        "| feasible | wall s (max) |",
        "|---|---:|---|---:|---:|---:|---:|---|---:|",
    ]
    keys = sorted({(r["stops"], r["live"], r["budget_s"]) for r in rows})
    ratios: dict[tuple[str, float], list[float]] = {}
    for size, live, budget in keys:
        same = [r for r in rows if (r["stops"], r["live"], r["budget_s"]) == (size, live, budget)]
        vroom = {r["seed"]: r for r in same if r["solver"] == "vroom"}
        for solver in ("ours", "vroom", "ortools"):
            mine = [r for r in same if r["solver"] == solver]
            if not mine:
                continue
            # Travel is only compared where the solver placed at least VROOM's stops.
            ratio = [
                r["travel_h"] / vroom[r["seed"]]["travel_h"]
                for r in mine
                if r["seed"] in vroom
                and vroom[r["seed"]]["travel_h"]
                and r["placed"] >= vroom[r["seed"]]["placed"]
            ]
            fewer = sum(
                1 for r in mine if r["seed"] in vroom and r["placed"] < vroom[r["seed"]]["placed"]
            )
            ratios.setdefault((solver, budget), []).extend(ratio)
            day = f"{size}{' live' if live else ''}"
            lines.append(
                f"| {day} | {budget:g} s | {solver} "
                f"| {statistics.mean(r['placed'] for r in mine):.0f} of {mine[0]['n_stops']} "
                f"| {statistics.mean(r['travel_h'] for r in mine):.1f} "
                f"| {statistics.mean(r['distance_km'] for r in mine):.0f} "
                f"| {statistics.mean(ratio):.3f}{f' ({fewer} placed fewer)' if fewer else ''} "
                f"| {'yes' if all(r['violations'] == 0 for r in mine) else 'NO'} "
                f"| {max(r['wall_s'] for r in mine):.1f} |"
                if ratio
                else f"| {day} | {budget:g} s | {solver} "
                f"| {statistics.mean(r['placed'] for r in mine):.0f} of {mine[0]['n_stops']} "
                f"| {statistics.mean(r['travel_h'] for r in mine):.1f} "
                f"| {statistics.mean(r['distance_km'] for r in mine):.0f} "
                f"| not compared: placed fewer stops than VROOM "
                f"| {'yes' if all(r['violations'] == 0 for r in mine) else 'NO'} "
                f"| {max(r['wall_s'] for r in mine):.1f} |"
            )
    lines.append("")
    lines.append(
        "Mean ratio to VROOM over all days and seeds (runs that placed at least as many stops):"
    )
    for (solver, budget), values in sorted(ratios.items()):
        lines.append(
            f"- {solver} at {budget:g} s: {statistics.mean(values):.3f} ({len(values)} runs)"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="200,400,800")
    parser.add_argument("--live", default="400", help="sizes of live (14:00 re-plan) days")
    parser.add_argument("--seeds", default="1,2")
    parser.add_argument("--budgets", default="10,30")
    parser.add_argument("--solvers", default="ours,vroom,ortools")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    done = set()
    rows: list[dict[str, Any]] = []
    if args.out.exists():
        for line in args.out.read_text().splitlines():
            row = json.loads(line)
            rows.append(row)
            done.add((row["solver"], row["stops"], row["seed"], row["live"], row["budget_s"]))
    tasks = [
        (solver, size, seed, live, float(budget))
        for budget in args.budgets.split(",")
        for live, sizes in ((False, args.sizes), (True, args.live))
        for size in (int(x) for x in sizes.split(",") if x)
        for seed in (int(x) for x in args.seeds.split(","))
        for solver in args.solvers.split(",")
    ]
    tasks = [t for t in tasks if (t[0], t[1], t[2], t[3], t[4]) not in done]
    with ProcessPoolExecutor(args.jobs) as pool, args.out.open("a") as sink:
        for row in pool.map(run_one, tasks):
            rows.append(row)
            sink.write(json.dumps(row) + "\n")
            sink.flush()
            print(json.dumps(row), flush=True)
    table = summary(rows)
    (RESULTS / "richdays.md").write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
