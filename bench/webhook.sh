#!/usr/bin/env bash
# Webhook ingest benchmark, in one run beside its two references (see bench/README.md):
#   1. a bare Hummingbird endpoint that reads the body and answers 200 (the ceiling);
#   2. Alertmanager 0.25's own POST /api/v2/alerts (the peer);
#   3. klaxon serve on SQLite, POST /webhook/alertmanager, every request new alerts.
# measured in ROUNDS (3) rounds, each of all three, and the median ratio over the rounds;
# each run waits until the servers are idle.
# Then, SETTLE (20) seconds later: paced latency at half klaxon's median 1-alert rate (webhook
# answer and receipt → first call at a webhook receiver, each with klaxon's slow WAL syncs),
# RSS with 100,000 open incidents, startup to ready.
# Needs: wrk and prometheus-alertmanager (apt-get install -y wrk prometheus-alertmanager).
# Figures go to stderr; run as `bench/webhook.sh 2>&1 | grep -v Hummingbird`.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
WORK=$(mktemp -d /tmp/klaxon-bench.XXXXXX)
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

for port in 19090 19093 19094 19095; do
    if curl -s -o /dev/null "http://127.0.0.1:$port/"; then echo "port $port is in use: stop what listens there first" >&2; exit 1; fi
done
for product in klaxon klaxon-http-bench; do swift build -c release --scratch-path .build-release --product "$product" >/dev/null; done
BIN=.build-release/release

wait_ready() { for _ in $(seq 1 500); do curl -sf -o /dev/null -X "${2:-GET}" "$1" && return 0; sleep 0.02; done; echo "not ready: $1" >&2; exit 1; }

# Each run should find the other servers idle. Alertmanager spends about a sixth of a core
# for some 5 s after a load (its garbage collector), and klaxon's 1-alert run comes right
# after Alertmanager's 100-alert one. So each run first waits, for at most 20 s, until the
# three servers together used under 3 % of a core for a second.
CLOCK_TICKS=$(getconf CLK_TCK)
cpu_ticks() { local total=0 pid; for pid in "$@"; do total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done; echo "$total"; }
wait_idle() {
    local before after
    for _ in $(seq 1 20); do
        before=$(cpu_ticks "$BARE" "$AM" "$KLAXON"); sleep 1; after=$(cpu_ticks "$BARE" "$AM" "$KLAXON")
        [ $((after - before)) -lt 3 ] && return 0
    done
    echo "(the servers were still busy after 20 s)" >&2
}

run_wrk() { # label url body-file alerts-per-request server-pid
    local out before after
    wait_idle
    before=$(cpu_ticks "$5")
    out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/wrk/post-unique.lua "$2" -- "$3")
    after=$(cpu_ticks "$5")
    local rps p50 p99 errors requests
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p50=$(awk '$1=="50%" {print $2}' <<<"$out")
    p99=$(awk '$1=="99%" {print $2}' <<<"$out")
    errors=$(awk '/Non-2xx/ {print $5}' <<<"$out")
    requests=$(awk '/requests in/ {print $1}' <<<"$out")
    # Beside the rate, the server's CPU time a request: what a change to the server's code moves.
    local cpu=0
    [ "${requests:-0}" -gt 0 ] && cpu=$(((after - before) * 1000000 / CLOCK_TICKS / requests))
    printf '%-44s %10.0f req/s %10.0f alerts/s  p50 %-8s p99 %-8s non-2xx %s  CPU %d µs a request\n' "$1" "$rps" "$(echo "$rps * $4" | bc)" "$p50" "$p99" "${errors:-0}" "$cpu" >&2
    echo "$rps"
}

ROUNDS=${ROUNDS:-3}
echo "== $(date -u +%FT%TZ), $(nproc) cores, wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $ROUNDS rounds"

# The three servers run side by side, idle but for the one under load: each round measures
# all of them once, so a slow spell of the machine falls on all three alike.
$BIN/klaxon-http-bench bare 19090 2>/dev/null & BARE=$!; PIDS+=($BARE)
wait_ready http://127.0.0.1:19090/webhook/alertmanager POST

cat >"$WORK/am.yml" <<YAML
route: {receiver: none}
receivers: [{name: none}]
YAML
prometheus-alertmanager --config.file="$WORK/am.yml" --storage.path="$WORK/am" --web.listen-address=127.0.0.1:19093 \
    --cluster.listen-address= --log.level=error & AM=$!; PIDS+=($AM)
wait_ready http://127.0.0.1:19093/-/ready

export KLAXON_BENCH_RECEIVER=http://127.0.0.1:19094/call
start=$(date +%s%N)
$BIN/klaxon serve --config bench/rules --store "sqlite:$WORK/klaxon.db" --listen 127.0.0.1:19095 2>"$WORK/klaxon.log" & KLAXON=$!; PIDS+=($KLAXON)
wait_ready http://127.0.0.1:19095/readyz
echo "klaxon startup to ready: $(( ($(date +%s%N) - start) / 1000000 )) ms"

median() { tr ' ' '\n' | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# klaxon's WAL syncs so far (all, then at most 5 ms, 25 ms, 100 ms): every webhook of a group
# waits for its sync, so a stall of the disk under one of klaxon's runs shows here. Syncs over
# 5 ms are what sets the paced p99 (bench/README.md, 2026-11-24).
syncs() { curl -s http://127.0.0.1:19095/metrics | awk '/^klaxon_store_sync_seconds_count/ {c = $2} /^klaxon_store_sync_seconds_bucket\{le="0.005"\}/ {f = $2} /^klaxon_store_sync_seconds_bucket\{le="0.025"\}/ {a = $2} /^klaxon_store_sync_seconds_bucket\{le="0.1"\}/ {b = $2} END {printf "%d %d %d %d", c, f, a, b}'; }
report_syncs() { # what before after
    local c0 f0 a0 b0 c1 f1 a1 b1
    read -r c0 f0 a0 b0 <<<"$2"; read -r c1 f1 a1 b1 <<<"$3"
    echo "WAL syncs during $1: $((c1 - c0)); over 5 ms: $(((c1 - f1) - (c0 - f0))); over 25 ms: $(((c1 - a1) - (c0 - a0))); over 100 ms: $(((c1 - b1) - (c0 - b0)))"
}

k1s=""; r_bare=""; r_am1=""; r_am100=""
for round in $(seq 1 "$ROUNDS"); do
    echo "-- round $round"
    bare=$(run_wrk "bare Hummingbird, 1-alert body" http://127.0.0.1:19090/webhook/alertmanager bench/bodies/webhook-1-alert.json 1 "$BARE")
    am1=$(run_wrk "Alertmanager POST /api/v2/alerts, 1 alert" http://127.0.0.1:19093/api/v2/alerts bench/bodies/api-1-alert.json 1 "$AM")
    am100=$(run_wrk "Alertmanager POST /api/v2/alerts, 100 alerts" http://127.0.0.1:19093/api/v2/alerts bench/bodies/api-100-alerts.json 100 "$AM")
    before=$(syncs)
    k1=$(run_wrk "klaxon POST /webhook/alertmanager, 1 alert" http://127.0.0.1:19095/webhook/alertmanager bench/bodies/webhook-1-alert.json 1 "$KLAXON")
    k100=$(run_wrk "klaxon POST /webhook/alertmanager, 100 alerts" http://127.0.0.1:19095/webhook/alertmanager bench/bodies/webhook-100-alerts.json 100 "$KLAXON")
    report_syncs "klaxon's two runs" "$before" "$(syncs)"
    printf 'round %d ratios: 1-alert / bare %.2f, 1-alert / Alertmanager %.2f, 100-alert / Alertmanager %.2f\n' "$round" \
        "$(echo "$k1 / $bare" | bc -l)" "$(echo "$k1 / $am1" | bc -l)" "$(echo "$k100 / $am100" | bc -l)"
    k1s+="$k1 "
    r_bare+="$(echo "$k1 / $bare" | bc -l) "
    r_am1+="$(echo "$k1 / $am1" | bc -l) "
    r_am100+="$(echo "$k100 / $am100" | bc -l) "
done
echo "Alertmanager RSS after the runs: $(awk '/VmRSS/ {print $2/1024 " MiB"}' /proc/$AM/status)"
# The references are done; what the rounds wrote goes to disk before latency is measured.
kill "$BARE" "$AM"
sync
# The rounds write a few GB; for a while after that the virtual disk stalls some syncs for
# 100-400 ms as it writes them back (bench/README.md). The latency runs measure klaxon, so
# they wait: 20 s was enough in three runs, and the slow syncs they print show if it was not.
sleep "${SETTLE:-20}"
k1=$(echo $k1s | median)

half=$(echo "$k1 / 2" | bc)
echo "-- webhook latency at half the 1-alert rate (new incidents, first step in an hour):"
before=$(syncs)
$BIN/klaxon-http-bench paced http://127.0.0.1:19095/webhook/alertmanager 19094 "$half" 10 bench/bodies/webhook-1-alert.json | grep -v receipt
report_syncs "the run" "$before" "$(syncs)"
echo "-- receipt to first call at the webhook receiver, ${CALL_RATE:=100} new incidents a second, each calling at once:"
before=$(syncs)
$BIN/klaxon-http-bench paced http://127.0.0.1:19095/webhook/alertmanager 19094 "$CALL_RATE" 10 bench/bodies/webhook-1-alert-call.json
report_syncs "the run" "$before" "$(syncs)"

open_incidents() { curl -s 'http://127.0.0.1:19095/metrics' | awk '/^klaxon_incidents_open / {printf "%d", $2}'; }
# Fill to at least 100,000 open incidents with more 1-alert payloads.
while [ "$(open_incidents)" -lt 100000 ]; do
    wrk -t"$THREADS" -c"$CONNECTIONS" -d10s -s bench/wrk/post-unique.lua http://127.0.0.1:19095/webhook/alertmanager -- bench/bodies/webhook-1-alert.json >/dev/null
    sleep 6   # the gauge is refreshed every 5 s
done
echo "klaxon open incidents: $(open_incidents), RSS $(awk '/VmRSS/ {print $2/1024 " MiB"}' /proc/$KLAXON/status)"

echo
printf 'median of %d rounds: klaxon 1-alert / bare = %.2f (target >= 0.50); klaxon 1-alert / Alertmanager 1-alert = %.2f (target > 1); klaxon 100-alert alerts/s / Alertmanager 100-alert = %.2f (target >= 2)\n' \
    "$ROUNDS" "$(echo $r_bare | median)" "$(echo $r_am1 | median)" "$(echo $r_am100 | median)"
