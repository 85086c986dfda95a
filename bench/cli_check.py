"""`roundtrip solve` on every Solomon instance, as a user runs it.

    .venv/bin/python -m bench.cli_check --time-limit 5

Each instance runs in its own process; the solution file it writes is read back and judged
by our checker. Solve time is what the command reports; start-up is the rest of the
process's wall time (interpreter, imports, reading the file, writing the solution).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

from bench.vrptw import RESULTS, ROOT, SETS
from routing import feasibility
from routing.io import instances


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--time-limit", type=float, default=5.0)
    args = parser.parse_args()
    out = RESULTS / f"cli_{args.time_limit:g}s.jsonl"
    RESULTS.mkdir(parents=True, exist_ok=True)
    with out.open("w") as sink, tempfile.TemporaryDirectory() as tmp:
        for path in sorted(SETS["solomon"].glob("*.txt")):
            sol = Path(tmp) / f"{path.stem}.sol"
            started = time.perf_counter()
            proc = subprocess.run(
                [
                    str(ROOT / ".venv" / "bin" / "roundtrip"),
                    "solve",
                    str(path),
                    "--time-limit",
                    str(args.time_limit),
                    "--out",
                    str(sol),
                ],
                capture_output=True,
                text=True,
                check=False,
                env={**os.environ, "LANGUAGE": "en"},  # the line parsed below, in English
            )
            wall = time.perf_counter() - started
            solve_s = float(re.search(r"solve ([0-9.]+) s", proc.stdout).group(1))  # type: ignore[union-attr]
            inst = instances.read(path)
            routes, cost = instances.read_solution(sol)
            found = feasibility.violations(inst.problem, list(enumerate(routes)))
            complete = sorted(s for r in routes for s in r) == list(range(len(inst.problem.stops)))
            row = {
                "instance": path.stem,
                "time_limit_s": args.time_limit,
                "exit": proc.returncode,
                "solve_s": solve_s,
                "process_wall_s": round(wall, 3),
                "startup_s": round(wall - solve_s, 3),
                "cost": cost,
                "violations": len(found),
                "complete": complete,
            }
            sink.write(json.dumps(row) + "\n")
            sink.flush()
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
