#!/usr/bin/env bash
# Starts a real `spicedb serve` on a fresh Postgres datastore and prints the environment that
# points the service at it. Usage:
#   eval "$(bash scripts/spicedb-serve.sh)"   # exports SPICEDB_ENDPOINT, SPICEDB_PRESHARED_KEY, SPICEDB_INSECURE, SPICEDB_PID, SPICEDB_DATASTORE_URL
#   ... ; bash scripts/spicedb-serve.sh stop  # stops it and drops its datastore
# Needs the binaries from scripts/tools.sh and a Postgres at SPICEDB_POSTGRES_URL
# (default postgres://postgres@127.0.0.1:5432/postgres). SPICEDB_DATASTORE_ENGINE=memory starts
# one on the memory datastore instead (no Postgres; exports no SPICEDB_DATASTORE_URL).
set -euo pipefail

TOOLS_BIN="${TENANT_AUTHZ_TOOLS:-$HOME/.cache/tenant-authz/bin}"
server_url="${SPICEDB_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

if [[ "${1:-start}" == "stop" ]]; then
  [[ -n "${SPICEDB_PID:-}" ]] && kill "$SPICEDB_PID" 2>/dev/null && while kill -0 "$SPICEDB_PID" 2>/dev/null; do sleep 0.1; done
  [[ -n "${SPICEDB_DATASTORE_URL:-}" ]] && psql -q "${SPICEDB_DATASTORE_URL%/*}/postgres" \
    -c "drop database if exists \"${SPICEDB_DATASTORE_URL##*/}\" with (force)" >&2
  exit 0
fi

if [[ "${SPICEDB_DATASTORE_ENGINE:-postgres}" == "memory" ]]; then
  datastore_flags=(--datastore-engine memory)
  datastore_export=""
else
  database="spicedb_$(date +%s)_$$"
  psql -q "$server_url" -c "create database \"$database\"" >&2
  datastore_url="${server_url%/*}/$database"
  # The migration logs a missing-table query as an error on a fresh datastore: show its log only on failure.
  if ! migrate_log="$("$TOOLS_BIN/spicedb" datastore migrate head --datastore-engine postgres \
    --datastore-conn-uri "$datastore_url" --skip-release-check=true --log-level warn 2>&1)"; then
    echo "$migrate_log" >&2
    exit 1
  fi
  datastore_flags=(--datastore-engine postgres --datastore-conn-uri "$datastore_url")
  datastore_export=" SPICEDB_DATASTORE_URL=$datastore_url"
fi

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
key="$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
log="${TMPDIR:-/tmp}/spicedb-$port.log"
nohup "$TOOLS_BIN/spicedb" serve --grpc-preshared-key "$key" \
  "${datastore_flags[@]}" \
  --grpc-addr "127.0.0.1:$port" --http-enabled=false --metrics-enabled=false \
  --dispatch-cluster-enabled=false --telemetry-endpoint="" --skip-release-check=true --log-level warn > "$log" 2>&1 &
pid=$!

for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "export SPICEDB_ENDPOINT=127.0.0.1:$port SPICEDB_PRESHARED_KEY=$key SPICEDB_INSECURE=true SPICEDB_PID=$pid$datastore_export"
    exit 0
  fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.2
done
echo "spicedb serve did not start; its log ($log):" >&2
cat "$log" >&2
kill "$pid" 2>/dev/null || true
exit 1
