#!/usr/bin/env bash
# Start Debian's PostgreSQL cluster and create the test role and database; safe to run again.
# initdb/pg_ctl refuse to run as root, so we use Debian's cluster tools and the postgres user.
set -euo pipefail
url_file=${1:-instance/test_postgres_url}

if [ "$(id -u)" = 0 ]; then as_pg=(runuser -u postgres --); sudo_=(); else as_pg=(sudo -u postgres); sudo_=(sudo); fi
command -v pg_lsclusters >/dev/null || { echo "PostgreSQL is not installed: apt-get install postgresql" >&2; exit 1; }

version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$version main"; then
  "${sudo_[@]}" pg_createcluster "$version" main
fi
if ! pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $4}' | grep -qx online; then
  "${sudo_[@]}" pg_ctlcluster "$version" main start
fi
port=$(pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $3}')
for _ in $(seq 1 60); do pg_isready -q -h 127.0.0.1 -p "$port" && break; sleep 0.5; done
pg_isready -h 127.0.0.1 -p "$port"

"${as_pg[@]}" psql -p "$port" -v ON_ERROR_STOP=1 -q <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'roundtrip') THEN
    CREATE ROLE roundtrip LOGIN PASSWORD 'roundtrip' CREATEDB;
  END IF;
END $$;
SQL
if ! "${as_pg[@]}" psql -p "$port" -tAc "SELECT 1 FROM pg_database WHERE datname='roundtrip_test'" | grep -q 1; then
  "${as_pg[@]}" createdb -p "$port" -O roundtrip roundtrip_test
fi
mkdir -p "$(dirname "$url_file")"
echo "postgresql://roundtrip:roundtrip@127.0.0.1:$port/roundtrip_test" > "$url_file"
echo "PostgreSQL is ready; tests will use $(cat "$url_file") (saved in $url_file)."
