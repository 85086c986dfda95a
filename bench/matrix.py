"""Travel-matrix speed and the memory of a 1,000-stop solve.

    .venv/bin/python -m bench.matrix

Matrix: 2,000 points over Moscow, three speed profiles, median of 7 runs, against geopy's
per-pair geodesic measured in the same process on 2,000 pairs and scaled to the 4 M pairs.
Memory: peak resident set size of `roundtrip solve` on a Gehring & Homberger 1,000-customer
instance, per engine, in a child process (OR-Tools and PyVRP allocate in C++, which
tracemalloc cannot see).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from geopy.distance import geodesic

from routing.matrix import GeodesicMatrix

ROOT = Path(__file__).resolve().parent.parent
GH = ROOT.parent / "shared" / "benchmarks" / "gh1000" / "C1_10_1.vrp"


def matrix_speed(n: int = 2000, runs: int = 7) -> dict[str, float]:
    rng = np.random.default_rng(42)
    points = list(
        zip(55.75 + rng.uniform(-0.15, 0.15, n), 37.62 + rng.uniform(-0.25, 0.25, n), strict=True)
    )
    provider = GeodesicMatrix()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        provider.matrices(points, ["bike", "car", "van"])
        times.append(time.perf_counter() - started)
    pairs = 2000
    started = time.perf_counter()
    for k in range(pairs):
        geodesic(points[k % n], points[(k * 7 + 1) % n])
    per_pair = (time.perf_counter() - started) / pairs
    geopy_full = per_pair * n * n
    median = statistics.median(times)
    return {
        "points": n,
        "median_s": median,
        "min_s": min(times),
        "max_s": max(times),
        "geopy_extrapolated_s": geopy_full,
        "speedup_vs_geopy": geopy_full / median,
    }


def solve_memory(engine: str, time_limit: float = 10) -> dict[str, float]:
    """Peak RSS of one solve; a fresh wrapper process so earlier children do not count."""
    with tempfile.TemporaryDirectory() as tmp:
        command = [
            str(ROOT / ".venv" / "bin" / "roundtrip"),
            "solve",
            str(GH),
            "--time-limit",
            str(time_limit),
            "--engine",
            engine,
            "--out",
            f"{tmp}/x.sol",
        ]
        wrapper = (
            "import resource, subprocess, sys, time\n"
            "t = time.perf_counter()\n"
            f"subprocess.run({command!r}, capture_output=True)\n"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, "
            "time.perf_counter() - t)\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", wrapper], capture_output=True, text=True, check=True
        ).stdout.split()
    return {"engine": engine, "peak_rss_mb": int(out[0]) / 1024, "wall_s": float(out[1])}


def main() -> None:
    import json

    from bench.vrptw import RESULTS

    m = matrix_speed()
    memory = [solve_memory(engine) for engine in ("pyvrp", "ortools")] if GH.exists() else []
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "matrix.json").write_text(json.dumps({"matrix": m, "memory": memory}, indent=1))
    print(
        f"matrix {m['points']} points x 3 profiles: median {m['median_s']:.3f} s "
        f"(min {m['min_s']:.3f}, max {m['max_s']:.3f}); geopy per pair would take "
        f"{m['geopy_extrapolated_s']:.0f} s: {m['speedup_vs_geopy']:.0f}x faster"
    )
    if GH.exists():
        for r in memory:
            engine = r["engine"]
            print(
                f"1,000-stop solve ({engine}, 10 s): peak RSS {r['peak_rss_mb']:.0f} MB, "
                f"process wall {r['wall_s']:.1f} s"
            )
    else:
        print(f"{GH} not found: memory of a 1,000-stop solve not measured", file=sys.stderr)


if __name__ == "__main__":
    main()
