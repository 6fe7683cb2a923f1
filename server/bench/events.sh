#!/usr/bin/env bash
# Throughput of `friendgate serve` with the webhook sink and 10 live-page
# subscribers (SSE readers of /events) against none, and the delay from an
# answer to its event at the webhook. 127.0.0.1 only; the gateway on CPU 1,
# wrk, the receiver and the subscribers on CPU 0. Needs wrk and curl.
# Usage: [BATCH_MS=N] bash server/bench/events.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_RUN=${1:-10}
HERE=server/bench
cargo build -q --release --locked -p friendgate-server --bin friendgate
BIN=${CARGO_TARGET_DIR:-target}/release
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
sed -e 's/^watch_config = .*/watch_config = false/' -e 's/^level = .*/level = "warn"/' \
    -e 's/^max = 30 .*/max = 100000000/' examples/friendgate.toml > "$work/none.toml"
cp examples/demo.token examples/blocklist.txt examples/words.txt "$work/"
printf 'whsec_%s\n' "$(head -c 32 /dev/urandom | base64)" > "$work/webhook.secret"
{
  cat "$work/none.toml"
  printf '\n[events]\n\n[events.webhook]\nurl = "http://127.0.0.1:18099/hook"\nsecret = { file = "webhook.secret" }\nbatch_max_ms = %s\n' "${BATCH_MS:-200}"
} > "$work/webhook.toml"
cp "$work/none.toml" "$work/live.toml"
cp "$work/webhook.toml" "$work/both.toml"
# A webhook nobody listens at: every delivery fails.
sed 's/18099/18098/' "$work/webhook.toml" > "$work/dead.toml"
URL=$("$BIN/friendgate" sign --token xxxxyyyy --url http://127.0.0.1:18080/callback | tail -1)
declare -A RPS
ticks() { awk '{print $14 + $15}' /proc/$1/stat; }
TICK=$(getconf CLK_TCK)
for setup in none webhook live both dead; do
  taskset -c 1 "$BIN/friendgate" serve --config "$work/$setup.toml" --listen 127.0.0.1:18080 --admin-listen 127.0.0.1:19090 > /dev/null &
  pid=$!
  until curl -sf http://127.0.0.1:19090/healthz > /dev/null 2>&1; do sleep 0.1; done
  if [ "$setup" = webhook ] || [ "$setup" = both ]; then
    taskset -c 0 python3 $HERE/webhook_receiver.py 18099 > "$work/receiver-$setup.txt" &
    receiver=$!
  fi
  if [ "$setup" = live ] || [ "$setup" = both ]; then
    for i in $(seq 1 10); do taskset -c 0 curl -sN http://127.0.0.1:19090/events > /dev/null & done
  fi
  sleep 0.5
  t0=$(ticks $pid)
  echo "== $setup: maximum rate (wrk, 32 connections) =="
  taskset -c 0 wrk -t1 -c32 -d${SECONDS_PER_RUN}s -s $HERE/post.lua "$URL" | tee "$work/$setup.txt" | grep -E "Requests/sec|Latency "
  RPS[$setup]=$(awk '/Requests\/sec/ {printf "%d", $2}' "$work/$setup.txt")
  t1=$(ticks $pid)
  n=$(curl -s http://127.0.0.1:19090/metrics | awk '/^friendgate_callbacks_total\{outcome="ok"/ {print $2}')
  echo "$setup: gateway CPU per callback $(awk -v t=$((t1 - t0)) -v n=$n -v hz=$TICK 'BEGIN {printf "%.1f", t / hz * 1e6 / n}') us"
  curl -s http://127.0.0.1:19090/metrics | grep -E '^friendgate_events_total' || true
  if [ "$setup" = webhook ] || [ "$setup" = both ]; then
    sleep 1
    kill -TERM $receiver; wait $receiver 2>/dev/null || true
    cat "$work/receiver-$setup.txt"
  fi
  kill $pid; wait $pid 2>/dev/null || true
  pkill -f "curl -sN http://127.0.0.1:19090/events" || true
done
for setup in webhook live both dead; do
  echo "$setup: ${RPS[$setup]}/s against ${RPS[none]}/s with no sink: $(awk -v a="${RPS[$setup]}" -v b="${RPS[none]}" 'BEGIN {printf "%.2f", a/b}')x"
done
