#!/usr/bin/env bash
# `[state]` on Redis against the rules in memory: maximum throughput (wrk),
# latency at half the in-memory maximum (friendgate conform --load, open
# loop) and Redis round trips per callback (Redis' own INFO commandstats
# against the callbacks the gateway answered). 127.0.0.1 only.
#
# The gateway is pinned to CPU 1; the load generator and redis-server share
# CPU 0 (a 2-core machine: Redis on its own core would be the fairer setup).
# Needs wrk and redis-server (apt-get install wrk redis-server).
# Usage: [RATE=N] bash server/bench/redis.sh [seconds]
#   RATE: the open-loop rate (default: half the in-memory maximum).
#   REDIS_CPU: the core redis-server runs on (default 0, the generator's).
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_RUN=${1:-10}
CONNECTIONS=32
HERE=server/bench
cargo build -q --release --locked -p friendgate-server --bin friendgate
BIN=${CARGO_TARGET_DIR:-target}/release
PORT=16379

work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
taskset -c ${REDIS_CPU:-0} redis-server --port $PORT --bind 127.0.0.1 --dir "$work" --save "" --appendonly no > /dev/null &
redis_pid=$!
until redis-cli -p $PORT PING > /dev/null 2>&1; do sleep 0.1; done

sed -e 's/^watch_config = .*/watch_config = false/' \
    -e 's/^level = .*/level = "warn"/' -e 's/^max = 30 .*/max = 100000000/' \
    examples/friendgate.toml > "$work/memory.toml"
cp examples/demo.token examples/blocklist.txt examples/words.txt "$work/"
# The same rules with [state]: the rate limit on Redis, the block list also
# read from a Redis set (a snapshot: no round trip).
{
  sed -e 's/^kind = "accounts"/kind = "accounts"\nredis_set = "friendgate:blocked"/' "$work/memory.toml"
  printf '\n[state]\nredis_url = "redis://127.0.0.1:%s/0"\n' $PORT
} > "$work/redis.toml"
# [state] must come before the rules' array of tables in TOML: move it up.
python3 - "$work/redis.toml" <<'PY'
import sys, re
path = sys.argv[1]
text = open(path).read()
state = text[text.index("\n[state]"):]
text = text[: text.index("\n[state]")]
first_rule = text.index("[[rule]]")
open(path, "w").write(text[:first_rule] + state.strip() + "\n\n" + text[first_rule:])
PY
redis-cli -p $PORT SADD friendgate:blocked banned_user > /dev/null

URL=$("$BIN/friendgate" sign --token xxxxyyyy --url http://127.0.0.1:18080/callback | tail -1)
declare -A RPS
# CPU time (utime + stime, in clock ticks) of a process.
ticks() { awk '{print $14 + $15}' /proc/$1/stat; }
TICK=$(getconf CLK_TCK)

for store in memory redis; do
  taskset -c 1 "$BIN/friendgate" serve --config "$work/$store.toml" --listen 127.0.0.1:18080 --admin-listen 127.0.0.1:19090 > "$work/$store.log" &
  pid=$!
  until curl -sf http://127.0.0.1:19090/readyz > /dev/null 2>&1; do sleep 0.1; done
  curl -sf -X POST "$URL" --data-binary @<(sed -n "s/^wrk.body = '\(.*\)'$/\1/p" $HERE/post.lua) > /dev/null
  redis-cli -p $PORT CONFIG RESETSTAT > /dev/null
  before=$(curl -s http://127.0.0.1:19090/metrics | awk '/^friendgate_callbacks_total\{outcome="ok"/ {print $2}')
  gw0=$(ticks $pid); rd0=$(ticks $redis_pid)
  echo "== $store: maximum rate (wrk, $CONNECTIONS connections) =="
  taskset -c 0 wrk -t1 -c$CONNECTIONS -d${SECONDS_PER_RUN}s --latency -s $HERE/post.lua "$URL" | tee "$work/$store-wrk.txt"
  RPS[$store]=$(awk '/Requests\/sec/ {printf "%d", $2}' "$work/$store-wrk.txt")
  after=$(curl -s http://127.0.0.1:19090/metrics | awk '/^friendgate_callbacks_total\{outcome="ok"/ {print $2}')
  calls=$(redis-cli -p $PORT INFO commandstats | sed -n 's/^cmdstat_evalsha:calls=\([0-9]*\),.*/\1/p')
  gw1=$(ticks $pid); rd1=$(ticks $redis_pid)
  n=$((after - before))
  echo "$store: callbacks answered $n, EVALSHA calls ${calls:-0}; CPU per callback:" \
    "gateway $(awk -v t=$((gw1 - gw0)) -v n=$n -v hz=$TICK 'BEGIN {printf "%.1f", t / hz * 1e6 / n}') us," \
    "redis-server $(awk -v t=$((rd1 - rd0)) -v n=$n -v hz=$TICK 'BEGIN {printf "%.1f", t / hz * 1e6 / n}') us"
  kill $pid; wait $pid 2>/dev/null || true
done

HALF=${RATE:-$((RPS[memory] / 2))}
for store in memory redis; do
  taskset -c 1 "$BIN/friendgate" serve --config "$work/$store.toml" --listen 127.0.0.1:18080 --admin-listen 127.0.0.1:19090 > /dev/null &
  pid=$!
  until curl -sf http://127.0.0.1:19090/readyz > /dev/null 2>&1; do sleep 0.1; done
  echo "== $store at $HALF/s, open loop =="
  FRIENDGATE_TOKEN=xxxxyyyy taskset -c 0 "$BIN/friendgate" conform --url http://127.0.0.1:18080/callback \
    --app-id 1400000000 --token-env FRIENDGATE_TOKEN --load --rate $HALF --duration $SECONDS_PER_RUN || true
  kill $pid; wait $pid 2>/dev/null || true
done
echo "maximum: memory ${RPS[memory]}/s, redis ${RPS[redis]}/s"
