#!/usr/bin/env bash
# Consume throughput of several pinlog-bench invocations side by side on one machine: a
# broker on an empty data directory (one shard on CPU 0) is filled by a 12 s acks=1 produce,
# then each command consumes from the log start in turn, for ROUNDS rounds, on CPU 1.
#
#   bench/scripts/consume-side-by-side.sh "BENCH [ARGS]" ["BENCH [ARGS]" ...]
#   e.g. bench/scripts/consume-side-by-side.sh target/release/pinlog-bench \
#          "target/release/pinlog-bench --client rdkafka"
#
# Environment: PINLOG (the broker binary; default target/release/pinlog), BROKER_CONFIG (a
# config file for `pinlog serve`, e.g. with segment and retention sizes), DATA_DIR (default
# ./side-by-side-data, removed at the start and the end), PORT (19092), ROUNDS (3).
set -euo pipefail

pinlog=${PINLOG:-target/release/pinlog}
data=${DATA_DIR:-./side-by-side-data}
port=${PORT:-19092}
rounds=${ROUNDS:-3}
config=()
if [[ -n ${BROKER_CONFIG:-} ]]; then config=(--config "$BROKER_CONFIG"); fi

rm -rf "$data"
taskset -c 0 "$pinlog" serve "${config[@]}" --data-dir "$data" --listen "127.0.0.1:$port" \
    --shards 1 > "$data.log" 2>&1 &
broker=$!
trap 'kill $broker 2>/dev/null; wait $broker 2>/dev/null; rm -rf "$data"' EXIT
sleep 2

common=(--bootstrap "127.0.0.1:$port" --topic side-by-side --partitions 16 --message-size 1024
        --batch-size 256KiB --linger-ms 5 --max-in-flight 16 --cores 1 --quiet)
first=($1)
echo "fill: $("${first[0]}" produce "${common[@]}" --acks 1 --duration 12s --warmup 1s | tail -1)"
for round in $(seq "$rounds"); do
    for command in "$@"; do
        words=($command)
        result=$("${words[0]}" consume "${words[@]:1}" "${common[@]}" --duration 8s --warmup 1s \
            | tail -1)
        echo "round $round, $command: $result"
    done
done
