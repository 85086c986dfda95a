"""The production stack as the production-mode benchmarks drive it (bench/load.py,
bench/faults.py, bench/scaleout.py): start and stop it, its database, its processes, the
machine's load, and CPU by process group read from /proc.

The benchmarks run a stack of their own, never the one on port 8000: PROD_PORT (8100),
PROD_DB (roundtrip_bench) and PROD_DIR (/tmp/rt-bench) as `make prod` reads them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
PORT = int(os.environ.get("PROD_PORT", "8100"))
DB = os.environ.get("PROD_DB", "roundtrip_bench")
DIR = Path(os.environ.get("PROD_DIR", "/tmp/rt-bench"))
BASE = f"http://127.0.0.1:{PORT}"
TICK = os.sysconf("SC_CLK_TCK")

if PORT == 8000 or DB == "roundtrip":
    raise SystemExit("the benchmarks never run on port 8000 or database roundtrip (others' stack)")


def stack_env(workers: int | None = None) -> dict[str, str]:
    env = os.environ.copy()
    env.update(PROD_PORT=str(PORT), PROD_DB=DB, PROD_DIR=str(DIR))
    if workers is not None:
        env["PROD_WORKERS"] = str(workers)
    return env


def up(workers: int = 2) -> float:
    """`make prod` with this benchmark's stack; returns the seconds it took."""
    started = time.monotonic()
    subprocess.run(["make", "-s", "prod"], cwd=ROOT, env=stack_env(workers), check=True)
    return time.monotonic() - started


def down() -> None:
    subprocess.run(["make", "-s", "prod-down"], cwd=ROOT, env=stack_env(), check=True)


def running() -> bool:
    pid = honcho_pid()
    return pid is not None and Path(f"/proc/{pid}").exists()


def honcho_pid() -> int | None:
    try:
        return int((DIR / "honcho.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def pg_port() -> int:
    url = (ROOT / "instance" / "test_postgres_url").read_text().strip()
    return int(re.search(r":(\d+)/", url).group(1))  # type: ignore[union-attr]


def psql(sql: str, database: str = "postgres") -> str:
    out = subprocess.run(
        [
            "runuser",
            "-u",
            "postgres",
            "--",
            "psql",
            "-p",
            str(pg_port()),
            "-d",
            database,
            "-tAc",
            sql,
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def drop_database() -> None:
    """A fresh start: drop this benchmark's database (the stack must be down)."""
    if running():
        raise RuntimeError("stop the stack before dropping its database")
    subprocess.run(
        [
            "runuser",
            "-u",
            "postgres",
            "--",
            "dropdb",
            "-p",
            str(pg_port()),
            "--if-exists",
            "--force",
            DB,
        ],
        check=True,
    )


def preload_demo(now_shift: timedelta) -> None:
    """Create, migrate and load the demo into this stack's fresh database before `make prod`,
    as if it were ``now_shift`` from now (`make prod` then finds the demo and keeps it)."""
    url = f"postgresql://roundtrip:roundtrip@127.0.0.1:{pg_port()}/{DB}"
    subprocess.run(["make", "-s", "pg-up"], cwd=ROOT, check=True, capture_output=True)
    subprocess.run(
        [
            "runuser",
            "-u",
            "postgres",
            "--",
            "createdb",
            "-p",
            str(pg_port()),
            "-O",
            "roundtrip",
            DB,
        ],
        check=True,
    )
    env = os.environ.copy()
    env.update(DATABASE_URL=url, ROUNDTRIP_QUEUE="inline", ROUNDTRIP_SCHEDULER="off")
    subprocess.run([".venv/bin/roundtrip", "db", "upgrade"], cwd=ROOT, env=env, check=True)
    import app.models  # noqa: F401  (every table mapped)
    from app import demo
    from app.db import make_engine, make_session_factory, session_scope

    engine = make_engine(url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            demo.load(session, now=datetime.now(UTC) + now_shift)
    finally:
        engine.dispose()


def database_url() -> str:
    for line in (DIR / "env").read_text().splitlines():
        if line.startswith("DATABASE_URL="):
            return line.split("=", 1)[1]
    raise RuntimeError(f"no DATABASE_URL in {DIR / 'env'}")


_FACTORIES: dict[str, Any] = {}


def session_factory():  # type: ignore[no-untyped-def]
    """One engine (and connection pool) per database URL for the whole benchmark process:
    a poll loop must not open a pool per call (PostgreSQL has 100 connection slots, shared
    with everyone's tests)."""
    import app.models  # noqa: F401  (every table mapped)
    from app.db import make_engine, make_session_factory

    url = database_url()
    if url not in _FACTORIES:
        _FACTORIES[url] = make_session_factory(make_engine(url, pool_pre_ping=True))
    return _FACTORIES[url]


def loadavg() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


# --- processes and CPU -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Proc:
    pid: int
    ppid: int
    ticks: int  # utime + stime
    cmdline: str


def _proc(pid: int) -> Proc | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return None
    rest = stat[stat.rindex(")") + 2 :].split()
    return Proc(pid, int(rest[1]), int(rest[11]) + int(rest[12]), cmd)


def all_procs() -> dict[int, Proc]:
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (p := _proc(int(entry))) is not None:
            found[p.pid] = p
    return found


def descendants(root: int, procs: dict[int, Proc]) -> set[int]:
    children: dict[int, list[int]] = {}
    for p in procs.values():
        children.setdefault(p.ppid, []).append(p.pid)
    out, todo = set(), [root]
    while todo:
        pid = todo.pop()
        for c in children.get(pid, []):
            if c not in out:
                out.add(c)
                todo.append(c)
    return out


def roles(
    procs: dict[int, Proc] | None = None, extra: dict[str, int] | None = None
) -> dict[int, str]:
    """pid -> role for this stack's processes and its PostgreSQL backends (and ``extra``
    roots, e.g. the load generator: its whole process tree)."""
    procs = procs or all_procs()
    out: dict[int, str] = {}
    root = honcho_pid()
    ours = descendants(root, procs) if root else set()

    def python(pid: int, what: str) -> bool:
        cmd = procs[pid].cmdline if pid in procs else ""
        return bool(cmd) and "python" in cmd.split()[0] and what in cmd

    for pid in ours:
        if python(pid, "bin/gunicorn"):
            master = not python(procs[pid].ppid, "bin/gunicorn")
            out[pid] = "gunicorn master" if master else "gunicorn workers"
        elif python(pid, "app.worker"):
            out[pid] = "job workers"
        elif python(pid, "app.scheduler"):
            out[pid] = "scheduler"
        else:
            out[pid] = "honcho"
    marker = f" {DB} "
    for p in procs.values():
        if p.cmdline.startswith("postgres:") and marker in p.cmdline + " ":
            out[p.pid] = "postgres (this db)"
    for name, pid in (extra or {}).items():
        for q in {pid} | descendants(pid, procs):
            out.setdefault(q, name)
    return out


def pids_of(role: str) -> list[int]:
    return sorted(pid for pid, r in roles().items() if r == role)


def _cpu_total() -> tuple[int, int]:
    """(busy, all) jiffies of the whole machine."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    total = sum(fields[:8])
    return total - idle, total


@dataclass
class CpuSampler:
    """Samples CPU by role every ``every_s`` in a thread; ``result()`` gives cores used (1.0 =
    one core busy) per role, the machine's busy cores, and the rest ("others": what runs on
    the machine that is not this stack, its database backends or the load generator)."""

    every_s: float = 1.0
    extra: dict[str, int] = field(default_factory=dict)
    samples: list[dict[str, float]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> CpuSampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        if self._thread:
            self._thread.join()
        return self.result()

    def _run(self) -> None:
        procs = all_procs()
        prev = {pid: p.ticks for pid, p in procs.items()}
        busy0, _all0 = _cpu_total()
        t0 = time.monotonic()
        while not self._stop.wait(self.every_s):
            procs = all_procs()
            busy1, _all1 = _cpu_total()
            t1 = time.monotonic()
            dt = t1 - t0
            by_role: dict[str, float] = {}
            for pid, role in roles(procs, self.extra).items():
                p = procs.get(pid)
                if p is None:
                    continue
                by_role[role] = by_role.get(role, 0.0) + (p.ticks - prev.get(pid, 0)) / TICK / dt
            machine = (busy1 - busy0) / TICK / dt
            by_role["machine busy"] = machine
            by_role["others"] = max(
                0.0, machine - sum(v for k, v in by_role.items() if k != "machine busy")
            )
            self.samples.append(by_role)
            prev = {pid: p.ticks for pid, p in procs.items()}
            busy0, t0 = busy1, t1

    def result(self) -> dict[str, Any]:
        keys = sorted({k for s in self.samples for k in s})
        mean = {
            k: round(sum(s.get(k, 0.0) for s in self.samples) / max(1, len(self.samples)), 3)
            for k in keys
        }
        return {"samples": len(self.samples), "every_s": self.every_s, "mean_cores": mean}


def others_busy(seconds: float = 5.0) -> float:
    """Cores other people's work keeps busy now (machine busy minus this stack)."""
    sampler = CpuSampler(every_s=seconds).start()
    time.sleep(seconds + 0.2)
    return sampler.stop()["mean_cores"].get("others", 0.0)


def wait_quiet(limit: float = 1.0, timeout_s: float = 600, log=print) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Before a key measurement: wait (up to ``timeout_s``) until others' work keeps less than
    ``limit`` cores busy and the 1-min load average is at most ``limit`` plus what this stack
    itself adds; returns what was seen."""
    started = time.monotonic()
    while True:
        others = others_busy()
        load = loadavg()
        if others <= limit or time.monotonic() - started > timeout_s:
            waited = round(time.monotonic() - started, 1)
            if others > limit:
                log(
                    f"  others still keep {others:.2f} cores busy after {waited:.0f} s; "
                    "measuring anyway"
                )
            return {"others_cores": round(others, 2), "loadavg": load, "waited_s": waited}
        log(f"  others keep {others:.2f} cores busy (load {load[0]}); waiting")
        time.sleep(15)


def top_snapshot() -> str:
    return subprocess.run(
        ["top", "-b", "-n", "1", "-w", "200"], capture_output=True, text=True
    ).stdout


# --- HTTP ------------------------------------------------------------------------------------

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def api_token(email: str, password: str) -> str:
    r = requests.post(
        f"{BASE}/api/v1/auth/tokens", json={"email": email, "password": password}, timeout=30
    )
    r.raise_for_status()
    body = r.json()
    return body.get("token") or body["secret"]


def sign_in(email: str, password: str) -> requests.Session:
    s = requests.Session()
    page = s.get(f"{BASE}/login", timeout=30)
    token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    r = s.post(
        f"{BASE}/login",
        data={"csrf_token": token, "email": email, "password": password},
        allow_redirects=False,
        timeout=30,
    )
    if r.status_code != 302:
        raise RuntimeError(f"sign-in of {email} answered {r.status_code}")
    return s


class Api:
    """The planning-runs API with a dispatcher's token."""

    def __init__(self, token: str) -> None:
        self.s = requests.Session()
        self.s.headers["Authorization"] = f"Bearer {token}"

    def start_run(self, depot_id: int, day: str, time_limit_s: int | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"depot_id": depot_id, "day": day}
        if time_limit_s is not None:
            body["time_limit_s"] = time_limit_s
        r = self.s.post(f"{BASE}/api/v1/planning-runs", json=body, timeout=30)
        if r.status_code != 202:
            raise RuntimeError(f"start run: {r.status_code} {r.text[:300]}")
        return r.json()

    def run(self, plan_id: int) -> dict[str, Any]:
        r = self.s.get(f"{BASE}/api/v1/planning-runs/{plan_id}", timeout=30)
        r.raise_for_status()
        return r.json()

    def cancel(self, plan_id: int) -> int:
        return self.s.post(f"{BASE}/api/v1/planning-runs/{plan_id}/cancel", timeout=30).status_code

    def publish(self, plan_id: int) -> dict[str, Any]:
        r = self.s.post(f"{BASE}/api/v1/planning-runs/{plan_id}/publish", timeout=60)
        if r.status_code != 200:
            raise RuntimeError(f"publish: {r.status_code} {r.text[:300]}")
        return r.json()

    def wait(self, plan_id: int, *, until: str = "done", timeout_s: float = 900) -> dict[str, Any]:
        """Poll until the run left 'solving' (``done``) or a worker took it up (``claimed``)."""
        deadline = time.monotonic() + timeout_s
        while True:
            state = self.run(plan_id)
            if until == "done" and state["status"] != "solving":
                return state
            if until == "claimed" and (not state["queued"] or state["status"] != "solving"):
                return state
            if time.monotonic() > deadline:
                raise TimeoutError(f"run {plan_id}: {state}")
            time.sleep(0.5)


def write_json(name: str, data: Any) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / name
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    return path


def log_lines(pattern: str, limit: int = 40) -> list[str]:
    """Lines of this stack's prod.log matching ``pattern`` (for the report of a defect)."""
    try:
        text = (DIR / "prod.log").read_text(errors="replace")
    except OSError:
        return []
    rx = re.compile(pattern)
    return [line for line in text.splitlines() if rx.search(line)][-limit:]


def quote(value: str) -> str:
    return urllib.parse.quote(value, safe="")
