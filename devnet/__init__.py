"""Developer network tooling: run the compose topology as local processes, enrol it, fill it
with synthetic residents and drive the linkage scenario. Talks to services over HTTP only."""
