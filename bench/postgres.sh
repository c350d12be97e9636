#!/usr/bin/env bash
# The PostgreSQL store's ingest rate, for information (the issue's speed targets are the
# SQLite store's): klaxon serve on a throw-away PostgreSQL cluster on 127.0.0.1 with its
# default durability (fsync and synchronous_commit on), under wrk with 1-alert and 100-alert
# webhooks that open new incidents, after the answer time at a steady PACED_RATE (200)
# webhooks a second; then a second instance beside the first, each given half the connections.
#
# Needs: wrk and Debian's postgresql. Run from the package root: bench/postgres.sh
# Environment: DURATION (10s), CONNECTIONS (64), THREADS (2), PACED_RATE (200).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
BIN=.build-release/release
for product in klaxon klaxon-http-bench; do swift build -c release --scratch-path .build-release --product "$product" >/dev/null; done

PG=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
WORK=$(mktemp -d /tmp/klaxon-bench-postgres.XXXX)
PIDS=()
as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    as_postgres "$PG/pg_ctl" -D "$WORK/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
[ "$(id -u)" -eq 0 ] && chown postgres "$WORK"
as_postgres "$PG/initdb" -D "$WORK/data" -U postgres --auth=trust -E UTF8 --locale=C >/dev/null
as_postgres "$PG/pg_ctl" -D "$WORK/data" -o "-p 15432 -k $WORK -c listen_addresses=127.0.0.1" -l "$WORK/server.log" -w start >/dev/null
as_postgres "$PG/psql" -q -h 127.0.0.1 -p 15432 -U postgres -c "CREATE DATABASE klaxon"
STORE="postgres://postgres@127.0.0.1:15432/klaxon?sslmode=disable"

serve() { # port
    KLAXON_BENCH_RECEIVER=http://127.0.0.1:19194/call $BIN/klaxon serve --config bench/rules --store "$STORE" \
        --listen "127.0.0.1:$1" 2>>"$WORK/klaxon.log" &
    PIDS+=($!)
    for _ in $(seq 1 500); do curl -sf -o /dev/null "http://127.0.0.1:$1/readyz" && return; sleep 0.02; done
    echo "klaxon on $1 did not start" >&2; exit 1
}
run_wrk() { # label port body alerts-per-request connections
    local out rps
    out=$(wrk -t"$THREADS" -c"$5" -d"$DURATION" --latency -s bench/wrk/post-unique.lua "http://127.0.0.1:$2/webhook/alertmanager" -- "$3")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    printf '%s: %s req/s, %.0f alerts/s, p50 %s, p99 %s, non-2xx: %s\n' "$1" "$rps" "$(echo "$rps * $4" | bc -l)" \
        "$(awk '$1 == "50%" {print $2}' <<<"$out")" "$(awk '$1 == "99%" {print $2}' <<<"$out")" \
        "$(awk '/Non-2xx/ {print $5}' <<<"$out" | grep . || echo 0)" >&2
    echo "$rps"
}

echo "== $(date -u +%FT%TZ), $(nproc) cores, PostgreSQL $("$PG/postgres" --version | awk '{print $3}'), wrk -t$THREADS -c$CONNECTIONS -d$DURATION"
serve 19195
echo "-- one instance paced at ${PACED_RATE:=200} req/s for 10 s (1 alert, new incidents):" >&2
$BIN/klaxon-http-bench paced http://127.0.0.1:19195/webhook/alertmanager 19194 "$PACED_RATE" 10 bench/bodies/webhook-1-alert.json | grep -v receipt >&2
run_wrk "one instance, 1 alert" 19195 bench/bodies/webhook-1-alert.json 1 "$CONNECTIONS" >/dev/null
run_wrk "one instance, 100 alerts" 19195 bench/bodies/webhook-100-alerts.json 100 "$CONNECTIONS" >/dev/null
serve 19196
run_wrk "two instances at once, 1 alert, the first" 19195 bench/bodies/webhook-1-alert.json 1 $((CONNECTIONS / 2)) >/dev/null &
first=$!
run_wrk "two instances at once, 1 alert, the second" 19196 bench/bodies/webhook-1-alert.json 1 $((CONNECTIONS / 2)) >/dev/null
wait "$first"
echo "klaxon errors logged: $(grep -c ' error ' "$WORK/klaxon.log" || true)"
