#!/usr/bin/env bash
# The gateway as the README installs it: `cargo install --path server
# --locked` into a temporary root (ROOT), then the installed binary used as
# the docs use it, and the systemd unit in examples/ checked against it by
# systemd-analyze (installed from Debian when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=${1:?usage: install-gateway.sh ROOT}
rm -rf "$ROOT"
start=$(date +%s)
cargo install --quiet --locked --path server --root "$ROOT"
echo "cargo install: $(( $(date +%s) - start )) s"
BIN=$ROOT/bin/friendgate
"$BIN" --version
"$BIN" check-config --config examples/friendgate.toml
url=$("$BIN" sign --token xxxxyyyy --url http://127.0.0.1:8080/callback | tail -1)
case "$url" in
  http://127.0.0.1:8080/callback\?*Sign=*) ;;
  *) echo "friendgate sign printed no signed URL: $url" >&2; exit 1 ;;
esac

if ! command -v systemd-analyze >/dev/null; then
  apt-get update -qq && apt-get install -y -qq systemd >/dev/null
fi
unit=$ROOT/friendgate.service
sed "s|/usr/local/bin/friendgate|$BIN|" examples/systemd/friendgate.service > "$unit"
# verify exits 0 on unknown keys and other warnings: any output fails.
out=$(systemd-analyze verify "$unit" 2>&1 || echo "systemd-analyze verify failed")
if [ -n "$out" ]; then echo "$out" >&2; exit 1; fi
echo "systemd unit ok: $(systemd-analyze security --offline=true "$unit" 2>/dev/null | tail -1 || true)"
