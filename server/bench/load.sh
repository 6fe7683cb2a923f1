#!/usr/bin/env bash
# Load benchmark of `friendgate serve` against a minimal warp handler (the
# ceiling), on 127.0.0.1 only. Needs wrk (apt-get install wrk) and, for the
# fixed-rate latency run, oha (cargo install oha).
#
# Each server is pinned to CPU 1 and the load generator to CPU 0, so both
# servers get the same single core and the generator does not steal it.
# Usage: [LOG=json|text|off] bash server/bench/load.sh [seconds]
#   LOG: the per-callback log line as JSON (default), text, or off (level warn).
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_RUN=${1:-15}
CONNECTIONS=32
HERE=server/bench
cargo build -q --release --locked -p friendgate-server --bin friendgate --example ceiling
BIN=${CARGO_TARGET_DIR:-target}/release

work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
sed -e 's/^listen = .*/listen = "127.0.0.1:18080"/' -e 's/^watch_config = .*/watch_config = false/' \
    -e 's/^format = .*/format = "json"/' examples/friendgate.toml > "$work/friendgate.toml"
cp examples/demo.token examples/blocklist.txt examples/words.txt "$work/"
# A generous rate limit so that every item takes the same path for the whole run.
sed -i 's/^max = 30 .*/max = 100000000/' "$work/friendgate.toml"
case "${LOG:-json}" in
    json) ;;
    text) sed -i 's/^format = .*/format = "text"/' "$work/friendgate.toml" ;;
    off) sed -i 's/^level = .*/level = "warn"/' "$work/friendgate.toml" ;;
    *) echo "LOG must be json, text or off" >&2; exit 2 ;;
esac

# The log goes to a pipe read on the generator's core, as a log shipper would
# read it; a file on disk would add writeback stalls that are not the server's.
(taskset -c 1 "$BIN/friendgate" serve --config "$work/friendgate.toml" | taskset -c 0 wc -l > "$work/log-lines") &
taskset -c 1 "$BIN/examples/ceiling" 127.0.0.1:18081 > /dev/null &
sleep 1

URL=$("$BIN/friendgate" sign --token xxxxyyyy --url http://127.0.0.1:18080/callback | tail -1)
# The ceiling gets the very same request: path, signed query and body.
CEILING_URL=${URL/18080/18081}
curl -sf -X POST "$URL" --data-binary @<(sed -n "s/^wrk.body = '\(.*\)'$/\1/p" $HERE/post.lua) > /dev/null

run_wrk() {
    taskset -c 0 wrk -t1 -c$CONNECTIONS -d${SECONDS_PER_RUN}s --latency -s $HERE/post.lua "$1"
}

echo "== friendgate serve (examples/friendgate.toml rules, log: ${LOG:-json}) =="
run_wrk "$URL" | tee "$work/friendgate.txt"
echo "== ceiling: minimal warp handler, fixed body =="
run_wrk "$CEILING_URL" | tee "$work/ceiling.txt"

rps() { awk '/Requests\/sec/ {print $2}' "$1"; }
FG=$(rps "$work/friendgate.txt"); CEIL=$(rps "$work/ceiling.txt")
echo "friendgate ${FG} req/s, ceiling ${CEIL} req/s, ratio $(awk -v a="$FG" -v b="$CEIL" 'BEGIN {printf "%.2f", a/b}')"

if command -v oha > /dev/null; then
    HALF=$(awk -v a="$FG" 'BEGIN {printf "%d", a/2}')
    BODY=$(sed -n "s/^wrk.body = '\(.*\)'$/\1/p" $HERE/post.lua)
    echo "== friendgate at half its maximum rate: ${HALF} req/s =="
    taskset -c 0 oha --no-tui -z ${SECONDS_PER_RUN}s -q "$HALF" -c $CONNECTIONS -m POST \
        -T application/json -d "$BODY" --latency-correction "$URL" | tee "$work/half.txt"
    # The same rate on the ceiling: what the generator and the machine add.
    echo "== ceiling at the same rate: ${HALF} req/s =="
    taskset -c 0 oha --no-tui -z ${SECONDS_PER_RUN}s -q "$HALF" -c $CONNECTIONS -m POST \
        -T application/json -d "$BODY" --latency-correction "$CEILING_URL" | tee "$work/half-ceiling.txt"
    pct() { awk -v p="$1" '$1 == p {print $3}' "$2"; }
    echo "at ${HALF} req/s: friendgate p50 $(pct 50.00% "$work/half.txt") p99 $(pct 99.00% "$work/half.txt") p99.9 $(pct 99.90% "$work/half.txt") ms;" \
        "ceiling p50 $(pct 50.00% "$work/half-ceiling.txt") p99 $(pct 99.00% "$work/half-ceiling.txt") p99.9 $(pct 99.90% "$work/half-ceiling.txt") ms"
fi
pkill -f "friendgate serve --config $work" || true
sleep 1
echo "log lines written: $(cat "$work/log-lines")"
