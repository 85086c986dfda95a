#!/usr/bin/env bash
# `make prod` / `make prod-down`: the production stack on this machine, in the background.
#   up:   PostgreSQL (Debian's cluster), a database, migrations, the demo if it is empty, then
#         honcho runs the Procfile: gunicorn on 127.0.0.1:$PROD_PORT (3 workers), two job
#         workers, one scheduler. Waits until the site answers.
#   down: stops honcho and every process it started (PostgreSQL keeps running).
# PROD_PORT (8000), PROD_DB (roundtrip), PROD_DIR (instance/prod: env, logs, pid) and
# PROD_WORKERS (2 job workers) can be changed, e.g. by the test that runs the whole stack or
# the scale-out benchmark (bench/scaleout.py runs 1 and 2 job workers).
set -euo pipefail
cd "$(dirname "$0")/.."
action=${1:-up}
port=${PROD_PORT:-8000}
db=${PROD_DB:-roundtrip}
dir=${PROD_DIR:-instance/prod}
workers=${PROD_WORKERS:-2}
case "$workers" in ''|*[!0-9]*|0) echo "PROD_WORKERS must be a number of job workers from 1 up, not '$workers'" >&2; exit 2;; esac
pidfile="$dir/honcho.pid"
mkdir -p "$dir"

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

if [ "$action" = down ]; then
  if ! running; then echo "The production stack is not running."; rm -f "$pidfile"; exit 0; fi
  pid=$(cat "$pidfile")
  kill -TERM "$pid"
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid"; fi
  rm -f "$pidfile"
  echo "The production stack is stopped (PostgreSQL keeps running: make pg-down is not needed)."
  exit 0
fi

if running; then echo "The production stack already runs (pid $(cat "$pidfile")); make prod-down stops it."; exit 0; fi

# PostgreSQL, the role, and this stack's database.
scripts/pg-up.sh >/dev/null
if [ "$(id -u)" = 0 ]; then as_pg=(runuser -u postgres --); else as_pg=(sudo -u postgres); fi
pg_port=$(sed -E 's|.*:([0-9]+)/.*|\1|' instance/test_postgres_url)
if ! "${as_pg[@]}" psql -p "$pg_port" -tAc "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1; then
  "${as_pg[@]}" createdb -p "$pg_port" -O roundtrip "$db"
fi

env_file="$dir/env"
cat > "$env_file" <<ENV
DATABASE_URL=postgresql://roundtrip:roundtrip@127.0.0.1:$pg_port/$db
ROUNDTRIP_QUEUE=procrastinate
ROUNDTRIP_SCHEDULER=off
ROUNDTRIP_PORT=$port
ROUNDTRIP_INSTANCE=$(cd "$dir" && pwd)
ROUNDTRIP_RATELIMIT_STORAGE=memory://
PYTHONUNBUFFERED=1
PROMETHEUS_MULTIPROC_DIR=$(cd "$dir" && pwd)/metrics
ENV
set -a; . "$env_file"; set +a
# Each process writes its metric samples here; the last run's are stale.
rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"

.venv/bin/roundtrip db upgrade
.venv/bin/roundtrip demo --quiet

log="$dir/prod.log"
# setsid: honcho leads its own process group, so `down` can stop every process it started.
setsid .venv/bin/honcho --procfile Procfile --env "$env_file" start --concurrency "web=1,worker=$workers,scheduler=1" >"$log" 2>&1 < /dev/null &
echo $! > "$pidfile"

for _ in $(seq 1 120); do
  if curl -fsS "http://127.0.0.1:$port/api/v1/health" >/dev/null 2>&1; then
    echo "Roundtrip (production mode) serves http://127.0.0.1:$port: gunicorn with 3 workers, $workers job worker(s), 1 scheduler."
    echo "Logs: $log. Stop it with: make prod-down"
    exit 0
  fi
  if ! running; then echo "The stack stopped while starting; see $log" >&2; tail -n 30 "$log" >&2; exit 1; fi
  sleep 0.5
done
echo "The site did not answer within 60 s; see $log" >&2
exit 1
