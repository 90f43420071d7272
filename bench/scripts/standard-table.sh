#!/usr/bin/env bash
# The README's performance table: the standard workloads (standard-workloads.sh) for each
# client against its own broker, started on an empty data directory with one shard on CPU 0,
# pinlog-bench on CPU 1. The end-to-end rate of every client is half the first client's
# acks=all produce rate, so the clients are compared at one load.
#
#   bench/scripts/standard-table.sh [OUT_DIR]
#
# Environment: PINLOG (the broker binary; default target/release/pinlog), BROKER_CONFIG (a
# config file for `pinlog serve`; default standard-broker.toml beside this script), DATA_DIR (default ./standard-table-data, removed at the start of
# each client and at the end), PORT (19092), CLIENTS ("pinlog rdkafka"), and what
# standard-workloads.sh reads (REPEAT, DURATION, WARMUP, PINLOG_BENCH).
set -euo pipefail

out=${1:-bench-results}
pinlog=${PINLOG:-target/release/pinlog}
data=${DATA_DIR:-./standard-table-data}
port=${PORT:-19092}
config=(--config "${BROKER_CONFIG:-$(dirname "$0")/standard-broker.toml}")
mkdir -p "$out"

broker=
stop_broker() {
    if [[ -n $broker ]]; then kill "$broker" 2>/dev/null || true; wait "$broker" 2>/dev/null || true; fi
    broker=
    rm -rf "$data"
}
trap stop_broker EXIT

for client in ${CLIENTS:-pinlog rdkafka}; do
    stop_broker
    taskset -c 0 "$pinlog" serve "${config[@]}" --data-dir "$data" --listen "127.0.0.1:$port" \
        --shards 1 > "$out/broker-$client.log" 2>&1 &
    broker=$!
    sleep 2
    CLIENTS=$client BENCH_CORES=1 bench/scripts/standard-workloads.sh "127.0.0.1:$port" "$out"
    # The next clients run end to end at the first one's half rate.
    if [[ -z ${E2E_RATE:-} ]]; then
        E2E_RATE=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(int(r["summary"][0]["metrics"]["records_per_sec"]["median"]) // 2)' "$out/produce-acksall-$client.json")
        export E2E_RATE
    fi
done
