#!/usr/bin/env bash
# Generates the Kotlin and Swift sources from the built library (the library
# must be built first: cargo build -p friendgate-uniffi).
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=${CARGO_TARGET_DIR:-target}
OUT=bindings-uniffi/kotlin/generated
SWIFT=bindings-uniffi/swift/generated
rm -rf "$OUT" "$SWIFT"
cargo run -q --locked -p uniffi-bindgen -- generate --no-format \
    --library "$TARGET/debug/libfriendgate_uniffi.so" --language kotlin --out-dir "$OUT"
cargo run -q --locked -p uniffi-bindgen -- generate --no-format \
    --library "$TARGET/debug/libfriendgate_uniffi.so" --language swift --out-dir "$SWIFT"
