#!/usr/bin/env bash
# Throughput of two `friendgate` binaries (say, before and after a change) in
# alternating rounds, on 127.0.0.1 only: the same config (examples/friendgate.toml
# without the keys the older binary may not know, JSON log to a pipe), the
# same signed request, each server pinned to CPU 1 and wrk to CPU 0, so a
# change in the machine's state shows in both columns of a round.
# Needs wrk (apt-get install wrk).
# Usage: [ROUNDS=8] [SECS=6] bash server/bench/compare.sh OLD_BINARY NEW_BINARY
set -euo pipefail
cd "$(dirname "$0")/../.."
OLD=$1; NEW=$2
ROUNDS=${ROUNDS:-8}
SECS=${SECS:-6}
work=$(mktemp -d)
trap 'pkill -f "serve --config $work" 2>/dev/null || true; rm -rf "$work"' EXIT
# Keys both binaries take: no [admin] table, no confusables.
sed -e 's/^listen = "127.0.0.1:8080"/listen = "127.0.0.1:18080"/' -e 's/^watch_config = .*/watch_config = false/' \
    -e 's/^max = 30 .*/max = 100000000/' -e 's/^format = .*/format = "json"/' \
    -e '/^\[admin\]/,/^$/d' -e '/^confusables/d' examples/friendgate.toml > "$work/friendgate.toml"
cp examples/demo.token examples/blocklist.txt examples/words.txt "$work/"
one() {
    # Signed afresh for each run: a URL older than the 60 s window is refused.
    URL=$("$NEW" sign --token xxxxyyyy --url http://127.0.0.1:18080/callback | tail -1)
    (taskset -c 1 "$1" serve --config "$work/friendgate.toml" | taskset -c 0 wc -l > /dev/null) &
    sleep 1
    out=$(taskset -c 0 wrk -t1 -c32 -d"${SECS}s" -s server/bench/post.lua "$URL")
    if grep -q "Non-2xx" <<< "$out"; then echo "non-2xx answers: $out" >&2; exit 1; fi
    awk '/Requests\/sec/ {print $2}' <<< "$out"
    pkill -f "serve --config $work" || true
    wait 2>/dev/null || true
    sleep 0.5
}
echo "| round | old req/s | new req/s | new / old |"
echo "|---|---|---|---|"
ratios=()
for round in $(seq "$ROUNDS"); do
    a=$(one "$OLD"); b=$(one "$NEW")
    r=$(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.3f", b/a}')
    ratios+=("$r")
    echo "| $round | $a | $b | $r |"
done
median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else printf "%.3f\n", (v[NR/2]+v[NR/2+1])/2}')
echo "median new / old: $median"
