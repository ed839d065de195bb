# East (this server) streams its WAL to west (the `postgres-west` service) and waits for west on
# every commit, so a record any service was told is stored is in both data centres (DOMAIN rule 9).
# Sourced once by the image's entrypoint on an empty data directory; in force from the first real
# start, not for the init scripts' own server, which west cannot reach.
echo "host replication postgres all scram-sha-256" >> "$PGDATA/pg_hba.conf"
psql -v ON_ERROR_STOP=1 -q -U postgres -c "ALTER SYSTEM SET synchronous_standby_names = 'west'"
