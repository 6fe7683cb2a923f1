#!/usr/bin/env bash
# Forwarding through the gateway against the same upstream hit directly, in
# one run, on 127.0.0.1 only (issue 14). The upstream is the `ceiling`
# example (a minimal warp handler); the gateway forwards every
# C2C.CallbackAfterSendMsg to it. Reports:
#   1. the most callbacks per second (wrk, 32 connections), direct and via;
#   2. p50/p90/p99 at half the gateway's most (the `fixed_rate` example,
#      latency from when each request was due), direct and via;
#   3. the gateway's own CPU per callback (utime+stime from /proc), for a
#      forwarded callback and for a friend-response callback.
# Gateway pinned to CPU 1; wrk, fixed_rate and the upstream to CPU 0.
# Needs wrk (apt-get install wrk).
# Usage: [SECS=8] bash server/bench/forward.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${SECS:-8}
cargo build -q --release --locked -p friendgate-server --bin friendgate --example ceiling --example fixed_rate
T=${CARGO_TARGET_DIR:-target}/release
BIN=$T/friendgate
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
sed -e 's/^listen = "127.0.0.1:8080"/listen = "127.0.0.1:18080"/' -e 's/^listen = "127.0.0.1:9090"/listen = "127.0.0.1:19090"/' \
    -e 's/^watch_config = .*/watch_config = false/' -e 's/^max = 30 .*/max = 100000000/' -e 's/^format = .*/format = "json"/' \
    -e 's/^level = .*/level = "warn"/' examples/friendgate.toml > "$work/friendgate.toml"
printf '\n[upstream]\nurl = "http://127.0.0.1:18081/im"\n' >> "$work/friendgate.toml"
cp examples/demo.token examples/blocklist.txt examples/words.txt "$work/"
taskset -c 0 "$T/examples/ceiling" 127.0.0.1:18081 & pids+=($!)
taskset -c 1 "$BIN" serve --config "$work/friendgate.toml" > /dev/null & gw=$!; pids+=($gw)
sleep 1
AFTER='{"CallbackCommand":"C2C.CallbackAfterSendMsg","From_Account":"jared","To_Account":"jonh","MsgSeq":48374,"MsgRandom":2837546,"MsgTime":1557481126,"MsgKey":"48374_2837546_1557481126","OnlineOnlyFlag":1,"SendMsgResult":0,"ErrorInfo":"send msg succeed","UnreadMsgNum":7,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hello"}}],"CloudCustomData":"","EventTime":1670574414123}'
printf '%s' "$AFTER" > "$work/after.json"
cat > "$work/after.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '$AFTER'
LUA
signed() { "$BIN" sign --token xxxxyyyy --url "http://127.0.0.1:18080/callback" | tail -1; }
query() { signed | sed 's/Sns.CallbackPrevFriendResponse/C2C.CallbackAfterSendMsg/' | cut -d'?' -f2; }
cpu() { awk '{print $14 + $15}' "/proc/$gw/stat"; }
tick=$(getconf CLK_TCK)
rps() { taskset -c 0 wrk -t1 -c32 -d"${SECS}s" -s "$2" "$1" | tee "$work/wrk.out" | awk '/Requests\/sec/ {print $2}'; }
direct="http://127.0.0.1:18081/im?$(query)"
echo "most callbacks per second (wrk, 32 connections, ${SECS} s):"
d=$(rps "$direct" "$work/after.lua"); echo "  direct to the upstream:    $d/s"
c0=$(cpu); via="http://127.0.0.1:18080/callback?$(query)"
v=$(rps "$via" "$work/after.lua"); c1=$(cpu)
n=$(awk '/requests in/ {print $1}' "$work/wrk.out")
if grep -q "Non-2xx" "$work/wrk.out"; then echo "non-2xx answers through the gateway" >&2; cat "$work/wrk.out" >&2; exit 1; fi
echo "  through the gateway:       $v/s"
fwd_cpu=$(awk -v a="$c0" -v b="$c1" -v n="$n" -v t="$tick" 'BEGIN {printf "%.1f", (b - a) / t * 1e6 / n}')
c0=$(cpu); fr=$(rps "$(signed)" server/bench/post.lua); c1=$(cpu)
n=$(awk '/requests in/ {print $1}' "$work/wrk.out")
fr_cpu=$(awk -v a="$c0" -v b="$c1" -v n="$n" -v t="$tick" 'BEGIN {printf "%.1f", (b - a) / t * 1e6 / n}')
echo "  friend responses (rules):  $fr/s"
half=$(awk -v v="$v" 'BEGIN {printf "%d", v / 2}')
echo "latency at half the gateway's most ($half/s, ${SECS} s, from when each request was due):"
echo -n "  direct to the upstream:    "; taskset -c 0 "$T/examples/fixed_rate" "http://127.0.0.1:18081/im?$(query)" "$work/after.json" "$half" "$SECS"
echo -n "  through the gateway:       "; taskset -c 0 "$T/examples/fixed_rate" "http://127.0.0.1:18080/callback?$(query)" "$work/after.json" "$half" "$SECS"
echo "gateway CPU per callback: forwarded ${fwd_cpu} us, friend response ${fr_cpu} us"
