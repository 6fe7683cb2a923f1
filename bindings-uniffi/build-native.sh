#!/usr/bin/env bash
# Builds the native library the JVM artifact carries and generates the Kotlin
# and Swift sources from it, so the two always match (UniFFI checks that at
# load). Run by Maven in generate-sources (`mvn install` from a fresh clone)
# and by make.
#
#   FRIENDGATE_NATIVE_TARGET unset: a release build for this host, with cargo;
#   FRIENDGATE_NATIVE_TARGET=x86_64-unknown-linux-gnu.2.17: the release
#     artifact, linked by zig through cargo-zigbuild (both on PATH; make puts
#     the virtualenv's there) so it loads on glibc 2.17 and later.
#
# Outputs: kotlin/generated (Kotlin), swift/generated (Swift), and
# kotlin/target/native/linux-x86-64/libfriendgate_uniffi.so, where JNA looks
# for it on the classpath.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
if [ -n "${FRIENDGATE_NATIVE_TARGET:-}" ]; then
    cargo zigbuild --quiet --release --locked -p friendgate-uniffi --target "$FRIENDGATE_NATIVE_TARGET"
    LIB="$TARGET_DIR/${FRIENDGATE_NATIVE_TARGET%%.*}/release/libfriendgate_uniffi.so"
    # zig's linker drops the static symbol table uniffi-bindgen reads the
    # interface from (the exported symbols stay); the debug build of the same
    # sources carries the same interface. UniFFI's checksums, checked when the
    # library loads, make the tests fail if the two ever differed.
    cargo build --quiet --locked -p friendgate-uniffi
    META="$TARGET_DIR/debug/libfriendgate_uniffi.so"
else
    cargo build --quiet --release --locked -p friendgate-uniffi
    LIB="$TARGET_DIR/release/libfriendgate_uniffi.so"
    META=$LIB
fi
KOTLIN=bindings-uniffi/kotlin/generated
SWIFT=bindings-uniffi/swift/generated
NATIVE=bindings-uniffi/kotlin/target/native/linux-x86-64
rm -rf "$KOTLIN" "$SWIFT" "$NATIVE"
mkdir -p "$NATIVE"
cargo run -q --locked -p uniffi-bindgen -- generate --no-format --library "$META" --language kotlin --out-dir "$KOTLIN"
cargo run -q --locked -p uniffi-bindgen -- generate --no-format --library "$META" --language swift --out-dir "$SWIFT"
cp "$LIB" "$NATIVE/"
echo "native library: $LIB"
