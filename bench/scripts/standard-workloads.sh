#!/usr/bin/env bash
# The standard pinlog-bench workloads (1 KiB records, 16 partitions) against a running broker,
# each repeated, with a JSON report per workload and client in OUT_DIR. The README's
# performance table comes from this script.
#
#   bench/scripts/standard-workloads.sh [BOOTSTRAP] [OUT_DIR]
#
# Environment: CLIENTS ("pinlog rdkafka"), REPEAT (3), DURATION (10s), WARMUP (2s),
# E2E_RATE (records/s of the end-to-end run; default half the first client's acks=all produce
# rate, then the same for every client — set it explicitly in CI so that every commit is
# measured at the same load),
# BENCH_CORES (the CPUs pinlog-bench pins to; default its own default, the last core),
# PINLOG_BENCH (the binary; default target/release/pinlog-bench).
# Each run's CPU time is written beside its report (`*.time`: user s, system s, elapsed s), so
# throughput per core of the two clients can be compared.
set -euo pipefail

bootstrap=${1:-127.0.0.1:9092}
out=${2:-bench-results}
clients=${CLIENTS:-pinlog rdkafka}
repeat=${REPEAT:-3}
duration=${DURATION:-10s}
warmup=${WARMUP:-2s}
bench=${PINLOG_BENCH:-target/release/pinlog-bench}
cores=()
if [[ -n ${BENCH_CORES:-} ]]; then cores=(--cores "$BENCH_CORES"); fi
mkdir -p "$out"

common=(--bootstrap "$bootstrap" --partitions 16 --message-size 1024 --batch-size 256KiB
        --linger-ms 5 --max-in-flight 16 --repeat "$repeat" --warmup "$warmup" --quiet
        "${cores[@]}")

# The median records/s of a report's first workload.
median_rate() {
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(int(r["summary"][0]["metrics"]["records_per_sec"]["median"]))' "$1"
}

run() {
    local name=$1; shift
    echo "== $name: $bench $*" >&2
    /usr/bin/time -f "%U %S %e" -o "$out/$name.time" \
        "$bench" "$@" --json "$out/$name.json" --plot "$out/$name.svg"
}

for client in $clients; do
    topic="standard-$client"
    run "produce-acks1-$client" produce --client "$client" --topic "$topic" --acks 1 \
        --duration "$duration" "${common[@]}"
    run "produce-acksall-$client" produce --client "$client" --topic "$topic" --acks all \
        --duration "$duration" "${common[@]}"
    # Reads what the produce runs left (retention permitting), from the log start.
    run "consume-$client" consume --client "$client" --topic "$topic" \
        --duration "$duration" "${common[@]}"
    e2e_rate=${E2E_RATE:-$(( $(median_rate "$out/produce-acksall-$client.json") / 2 ))}
    E2E_RATE=$e2e_rate
    run "end-to-end-half-rate-$client" end-to-end --client "$client" --topic "$topic-e2e" \
        --acks all --rate "$e2e_rate" --duration "$duration" "${common[@]}"
done
