#!/usr/bin/env bash
# Alternating rounds of `friendgate serve` against the ceiling (a minimal warp
# handler), on 127.0.0.1 only: each round runs every log mode, then the
# ceiling, one after the other, so a change in the machine's state (this is a
# shared 2-vCPU VM) shows up in every column of a round rather than in one
# column of the table. Needs wrk (apt-get install wrk).
#
# Same pinning as load.sh: servers on CPU 1, wrk and the log reader on CPU 0;
# every server gets the same request (path, signed query, body).
# Usage: [ROUNDS=8] [SECS=6] [MODES="json off"] bash server/bench/rounds.sh
#   MODES: any of json, text, off (the per-callback log line).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${ROUNDS:-8}
SECS=${SECS:-6}
MODES=${MODES:-json off}
cargo build -q --release --locked -p friendgate-server --bin friendgate --example ceiling
BIN=${CARGO_TARGET_DIR:-target}/release

work=$(mktemp -d)
trap 'pkill -f "serve --config $work" 2>/dev/null || true; pkill -f "$BIN/examples/ceiling" 2>/dev/null || true; rm -rf "$work"' EXIT
for mode in $MODES; do
    mkdir "$work/$mode"
    sed -e 's/^listen = .*/listen = "127.0.0.1:18080"/' -e 's/^watch_config = .*/watch_config = false/' \
        -e 's/^max = 30 .*/max = 100000000/' examples/friendgate.toml > "$work/$mode/friendgate.toml"
    cp examples/demo.token examples/blocklist.txt examples/words.txt "$work/$mode/"
    case $mode in
        json) sed -i 's/^format = .*/format = "json"/' "$work/$mode/friendgate.toml" ;;
        text) sed -i 's/^format = .*/format = "text"/' "$work/$mode/friendgate.toml" ;;
        off) sed -i 's/^level = .*/level = "warn"/' "$work/$mode/friendgate.toml" ;;
        *) echo "unknown mode $mode (json, text, off)" >&2; exit 2 ;;
    esac
done

URL=$("$BIN/friendgate" sign --token xxxxyyyy --url http://127.0.0.1:18080/callback | tail -1)
rps() { taskset -c 0 wrk -t1 -c32 -d"${SECS}s" -s server/bench/post.lua "$1" | awk '/Requests\/sec/ {print $2}'; }

echo "| round | $(echo $MODES | sed 's/ / | /g') | ceiling | $(for m in $MODES; do printf '%s / ceiling | ' "$m"; done | sed 's/ | $//') |"
for round in $(seq "$ROUNDS"); do
    declare -A got=()
    for mode in $MODES; do
        (taskset -c 1 "$BIN/friendgate" serve --config "$work/$mode/friendgate.toml" | taskset -c 0 wc -l > /dev/null) &
        sleep 1
        got[$mode]=$(rps "$URL")
        pkill -f "serve --config $work/$mode/" || true
        wait || true
        sleep 1
    done
    taskset -c 1 "$BIN/examples/ceiling" 127.0.0.1:18081 > /dev/null &
    sleep 1
    ceiling=$(rps "${URL/18080/18081}")
    kill %% 2>/dev/null || true
    wait || true
    sleep 1
    line="| $round |"
    for mode in $MODES; do line="$line $(awk -v a="${got[$mode]}" 'BEGIN {printf "%.1fk", a/1000}') |"; done
    line="$line $(awk -v a="$ceiling" 'BEGIN {printf "%.1fk", a/1000}') |"
    for mode in $MODES; do line="$line $(awk -v a="${got[$mode]}" -v b="$ceiling" 'BEGIN {printf "%.2f", a/b}') |"; done
    echo "$line"
done
