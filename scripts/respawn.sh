#!/bin/sh
# Run a command and start it again whenever it exits, until told to stop (TERM or INT).
# honcho stops the whole stack when any one process ends, so under `make prod` a job worker
# killed mid-search, or the scheduler losing PostgreSQL, would take the web tier with it;
# wrapped, each comes back on its own. (systemd units restart with Restart=always instead.)
child=
stop() {
  [ -n "$child" ] && kill -TERM "$child" 2>/dev/null && wait "$child"
  exit 0
}
trap stop TERM INT
while :; do
  "$@" &
  child=$!
  wait "$child"
  status=$?
  echo "respawn: '$*' exited with status $status; starting it again in 2 s" >&2
  sleep 2
done
