#!/bin/sh
# PostgreSQL from Debian's packages with the official image's interface: POSTGRES_PASSWORD,
# PGDATA, and /docker-entrypoint-initdb.d/*.sql run (*.sh sourced) once, in order, on an empty
# data directory.
set -eu
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | tail -n 1)
export PGDATA="${PGDATA:-/var/lib/postgresql/data}"
mkdir -p "$PGDATA" /run/postgresql
chown -R postgres:postgres "$PGDATA" /run/postgresql
chmod 700 "$PGDATA"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pwfile=$(mktemp)
  printf '%s' "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required}" > "$pwfile"
  chown postgres "$pwfile"
  runuser -u postgres -- "$PGBIN/initdb" -D "$PGDATA" -U postgres --pwfile="$pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$pwfile"
  echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
  echo "host all all 0.0.0.0/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
  for script in /docker-entrypoint-initdb.d/*; do
    case "$script" in
      *.sql) runuser -u postgres -- psql -q -v ON_ERROR_STOP=1 -U postgres -f "$script" ;;
      *.sh) . "$script" ;;
    esac
  done
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
fi
exec runuser -u postgres -- "$PGBIN/postgres" -D "$PGDATA"
