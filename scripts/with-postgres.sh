#!/usr/bin/env bash
# with-postgres.sh CMD…: start a throwaway PostgreSQL server on a Unix socket in a temp dir (as a
# non-root user, since postgres refuses to run as root), export KEFU_TEST_POSTGRES_DSN, run CMD, then
# stop the server and remove the data dir. Installs PostgreSQL from Debian when it is missing.
# The server runs with fsync and synchronous_commit off (tests need no durability); PG_DURABLE=1 keeps
# PostgreSQL's durable defaults, for benchmarks that compare with real commits.
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
if [ ! -x "$PGBIN/initdb" ]; then
  echo "with-postgres: installing postgresql" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq postgresql >/dev/null
fi
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

dir=$(mktemp -d /tmp/kefu-pg.XXXXXX)
runas=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  chown postgres "$dir"
  runas=(runuser -u postgres --)
fi
cleanup() {
  "${runas[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

"${runas[@]}" "$PGBIN/initdb" -D "$dir/data" -U app -A trust -E UTF8 --locale=C --no-sync >/dev/null
nosync="-c fsync=off -c synchronous_commit=off"
if [ "${PG_DURABLE:-}" = 1 ]; then
  nosync=""
fi
"${runas[@]}" "$PGBIN/pg_ctl" -D "$dir/data" -w -l "$dir/log" \
  -o "-c listen_addresses='' -k $dir $nosync -c max_connections=200" start >/dev/null
"$PGBIN/createdb" -h "$dir" -U app app

export KEFU_TEST_POSTGRES_DSN="host=$dir user=app dbname=app sslmode=disable"
# PostgreSQL has no directory of its own for the zero-configuration key file (storage/keys.go): the
# tests share one throwaway key here instead of creating data/kefu.key in each package directory.
export KEFU_ENCRYPTION_KEY_FILE="$dir/kefu.key"
echo "with-postgres: PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') at $dir" >&2
"$@"
