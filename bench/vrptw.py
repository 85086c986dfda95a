"""Benchmark VRPTW instances: our solver beside PyVRP, VROOM and plain OR-Tools.

    .venv/bin/python -m bench.vrptw --set solomon --time-limit 5
    .venv/bin/python -m bench.vrptw --set gh1000 --time-limit 60 --solvers ours,pyvrp,vroom

Each solver gets the same integer instance (routing.io.instances) and budget; every plan is
re-checked by routing.feasibility and costed with exact distances. Results go to
bench/results/<set>_<limit>s.jsonl; --report rewrites the tables in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from bench.bks import BKS
from bench.solvers import SOLVERS
from routing import feasibility
from routing.io import instances

ROOT = Path(__file__).resolve().parent.parent
SETS = {
    "solomon": ROOT.parent / "shared" / "benchmarks" / "solomon",
    "gh1000": ROOT.parent / "shared" / "benchmarks" / "gh1000",
}
RESULTS = ROOT / "bench" / "results"


def family(name: str) -> str:
    return "RC" if name.startswith("RC") else name[0]


def run(
    set_name: str,
    time_limit: float,
    solvers: list[str],
    seed: int,
    only: str | None,
    out: Path | None = None,
) -> Path:
    folder = SETS[set_name]
    files = sorted(folder.glob("*.txt" if set_name == "solomon" else "*.vrp"))
    if only:
        files = [f for f in files if f.stem in only.split(",")]
    out = out or RESULTS / f"{set_name}_{time_limit:g}s.jsonl"
    RESULTS.mkdir(parents=True, exist_ok=True)
    done = set()
    if out.exists():
        for line in out.read_text().splitlines():
            row = json.loads(line)
            done.add((row["instance"], row["solver"]))
    with out.open("a") as sink:
        for path in files:
            inst = instances.read(path)
            bks = BKS.get(inst.name)
            if bks is None and path.with_suffix(".sol").exists():
                bks = instances.read_solution(path.with_suffix(".sol"))[1]
            for solver in solvers:
                if (inst.name, solver) in done:
                    continue
                result = SOLVERS[solver](inst.problem, time_limit, seed)
                found = feasibility.violations(inst.problem, result.routes)
                used = [stops for _, stops in result.routes if stops]
                served = sorted(s for stops in used for s in stops)
                row = {
                    "instance": inst.name,
                    "family": family(inst.name),
                    "solver": solver,
                    "time_limit_s": time_limit,
                    "bks": bks,
                    "cost": round(inst.cost(used), 3),
                    "vehicles": len(used),
                    "violations": len(found),
                    "complete": served == list(range(len(inst.problem.stops))),
                    "wall_s": round(result.wall_s, 3),
                }
                sink.write(json.dumps(row) + "\n")
                sink.flush()
                print(
                    f"{inst.name:10} {solver:8} cost {row['cost']:10.2f} veh {row['vehicles']:3} "
                    f"viol {row['violations']} complete {row['complete']} "
                    f"wall {row['wall_s']:.2f}s",
                    flush=True,
                )
    return out


def load(path: Path) -> dict[str, dict[str, dict]]:
    table: dict[str, dict[str, dict]] = {}
    for line in path.read_text().splitlines():
        row = json.loads(line)
        table.setdefault(row["instance"], {})[row["solver"]] = row
    return table


def ok(row: dict) -> bool:
    return row["violations"] == 0 and row["complete"]


def report(path: Path) -> str:
    """A markdown section: per-instance table, then means per family and the worst case."""
    table = load(path)
    solvers = [s for s in SOLVERS if any(s in r for r in table.values())]
    limit = next(iter(next(iter(table.values())).values()))["time_limit_s"]
    lines = [f"### {path.stem.split('_')[0]} at {limit:g} s per instance", ""]
    head = "| instance | BKS | " + " | ".join(f"{s} cost (gap)" for s in solvers)
    lines += [
        head + " | vehicles (ours) | feasible | wall s (ours) |",
        "|" + "---|" * (len(solvers) + 5),
    ]
    ratios: dict[str, list[tuple[str, str, float]]] = {s: [] for s in solvers if s != "pyvrp"}
    gaps_best: dict[str, list[float]] = {s: [] for s in solvers}
    for name in sorted(table, key=lambda n: (family(n), n)):
        rows = table[name]
        bks = next(iter(rows.values()))["bks"]
        best = min((r["cost"] for r in rows.values() if ok(r)), default=None)
        cells = []
        for s in solvers:
            r = rows.get(s)
            if r is None:
                cells.append("–")
                continue
            gap = f" ({100 * (r['cost'] / bks - 1):+.2f} %)" if bks else ""
            cells.append(f"{r['cost']:.1f}{gap}" + ("" if ok(r) else " ✗"))
            if ok(r) and best:
                gaps_best[s].append(r["cost"] / best - 1)
        base = rows.get("pyvrp")
        for s in ratios:
            if s in rows and base and ok(rows[s]) and ok(base):
                ratios[s].append((name, family(name), rows[s]["cost"] / base["cost"]))
        feas = "/".join("yes" if ok(rows[s]) else "NO" for s in solvers if s in rows)
        ours = rows.get("ours", {})
        lines.append(
            f"| {name} | {bks or '–'} | "
            + " | ".join(cells)
            + f" | {ours.get('vehicles', '–')} | {feas} | {ours.get('wall_s', '–')} |"
        )
    lines += [
        "",
        f"Feasible column order: {'/'.join(solvers)}. ✗ marks a plan our checker "
        "rejects or one that leaves customers out.",
        "",
    ]
    lines += [
        "| solver | mean cost ratio to PyVRP | C | R | RC | worst instance | "
        "mean gap to best of solvers | median wall s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in solvers:
        walls = [table[n][s]["wall_s"] for n in table if s in table[n]]
        gap = f"{100 * statistics.mean(gaps_best[s]):+.2f} %" if gaps_best[s] else "–"
        if s == "pyvrp":
            median_wall = statistics.median(walls)
            lines.append(f"| pyvrp | 1 (baseline) | | | | | {gap} | {median_wall:.2f} |")
            continue
        values = ratios[s]
        if not values:
            continue
        fam = {f: [r for _, ff, r in values if ff == f] for f in ("C", "R", "RC")}
        worst = max(values, key=lambda v: v[2])
        lines.append(
            f"| {s} | {statistics.mean(r for *_, r in values):.4f} | "
            + " | ".join(f"{statistics.mean(v):.4f}" if v else "–" for v in fam.values())
            + f" | {worst[0]} ({worst[2]:.4f}) | {gap} | {statistics.median(walls):.2f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--set", choices=sorted(SETS), default="solomon")
    parser.add_argument("--time-limit", type=float, default=5.0)
    parser.add_argument("--solvers", default="ours,pyvrp,vroom,ortools")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", help="comma-separated instance names")
    parser.add_argument("--out", type=Path, help="results file (default: by set and limit)")
    parser.add_argument("--report", action="store_true", help="print the markdown section")
    args = parser.parse_args()
    started = time.perf_counter()
    out = run(args.set, args.time_limit, args.solvers.split(","), args.seed, args.only, args.out)
    print(f"results in {out} ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    if args.report:
        print(report(out))


if __name__ == "__main__":
    main()
