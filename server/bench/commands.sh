#!/usr/bin/env bash
# Throughput of friend requests against friend responses through the same
# gateway, under the example rules (examples/friendgate.toml, rate limits
# raised so every item takes the same path): alternating wrk rounds of each
# sample, the server pinned to CPU 1 and wrk to CPU 0, on 127.0.0.1. Each
# round prints the rate and the server's CPU time per callback (utime +
# stime from /proc over the round, which a noisy host disturbs less than
# the rate); the ratios are requests against responses.
# Usage: bash server/bench/commands.sh [rounds] [seconds per round]
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-3}
SECONDS_PER_RUN=${2:-8}
HERE=server/bench
cargo build -q --release --locked -p friendgate-server --bin friendgate
BIN=${CARGO_TARGET_DIR:-target}/release

work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
sed -e '0,/^listen = /s/^listen = .*/listen = "127.0.0.1:18090"/' -e 's/^listen = "127.0.0.1:9090"/listen = "127.0.0.1:18091"/' \
    -e 's/^watch_config = .*/watch_config = false/' \
    -e 's/^level = .*/level = "warn"/' -e 's/^max = [0-9]* /max = 100000000 /' \
    examples/friendgate.toml > "$work/friendgate.toml"
cp examples/demo.token examples/blocklist.txt examples/words.txt "$work/"
taskset -c 1 "$BIN/friendgate" serve --config "$work/friendgate.toml" > /dev/null &
SERVER=$!
sleep 1
TICKS=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }
RESPONSES=$("$BIN/friendgate" sign --token xxxxyyyy --url http://127.0.0.1:18090/callback | tail -1)
REQUESTS=${RESPONSES/Sns.CallbackPrevFriendResponse/Sns.CallbackPrevFriendAdd}
body() { sed -n "s/^wrk.body = '\(.*\)'$/\1/p" "$1"; }
# Both must be decided (200, one ResultItem per item) before they are timed.
for pair in "$RESPONSES $HERE/post.lua" "$REQUESTS $HERE/post_add.lua"; do
    set -- $pair
    curl -sf -X POST "$1" --data-binary "$(body "$2")" | grep -q '"ResultItem":\[{"To_Account":"id1"'
done
# "<callbacks/s> <CPU µs per callback>" for one round of $1 with body $2.
measure() {
    local before out after
    before=$(cpu)
    out=$(taskset -c 0 wrk -t1 -c32 -d${SECONDS_PER_RUN}s -s "$2" "$1")
    after=$(cpu)
    echo "$out" | awk -v ticks="$TICKS" -v used=$((after - before)) '
        /requests in/ {n = $1} /Requests\/sec/ {rate = $2}
        END {printf "%s %.2f", rate, used / ticks * 1e6 / n}'
}
for round in $(seq "$ROUNDS"); do
    read -r r rc <<< "$(measure "$RESPONSES" $HERE/post.lua)"
    read -r a ac <<< "$(measure "$REQUESTS" $HERE/post_add.lua)"
    echo "round $round: responses ${r}/s ${rc} us CPU, requests ${a}/s ${ac} us CPU;" \
        "rate ratio $(awk -v a="$a" -v b="$r" 'BEGIN {printf "%.3f", a/b}')," \
        "CPU ratio $(awk -v a="$ac" -v b="$rc" 'BEGIN {printf "%.3f", b/a}')"
done
