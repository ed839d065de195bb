#!/bin/sh
# West: a streaming standby of east ($PRIMARY_HOST), which east's commits wait for (DOMAIN rule 9).
# Cloned from east with pg_basebackup on first start, then PostgreSQL in standby mode; promoted with
# `SELECT pg_promote()` when east is lost. Works with the official image and ours alike: both have
# PostgreSQL's binaries on PATH and run it as `postgres`.
set -eu
export PGDATA="${PGDATA:-/var/lib/postgresql/data}"
mkdir -p "$PGDATA" /run/postgresql /var/run/postgresql
chown -R postgres:postgres "$PGDATA" /run/postgresql /var/run/postgresql
chmod 700 "$PGDATA"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until runuser -u postgres -- env PGPASSWORD="${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required}" \
      pg_basebackup -h "${PRIMARY_HOST:?PRIMARY_HOST is required}" -U postgres -D "$PGDATA" -R -X stream; do
    echo "waiting for east ($PRIMARY_HOST) to take a base backup" >&2
    find "$PGDATA" -mindepth 1 -delete
    sleep 2
  done
  # East's settings came with the copy: west, once promoted, must not wait for a standby of its own.
  cat >> "$PGDATA/postgresql.auto.conf" <<CONF
primary_conninfo = 'host=$PRIMARY_HOST user=postgres password=$POSTGRES_PASSWORD application_name=west'
synchronous_standby_names = ''
CONF
fi
exec runuser -u postgres -- postgres -D "$PGDATA"
