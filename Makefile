# friendgate: the two commands are `make run` and `make test`.
# One cargo target dir for every crate and binding keeps builds lean.
CARGO_TARGET_DIR ?= $(CURDIR)/target
export CARGO_TARGET_DIR
CARGO ?= cargo
PYTHON ?= python3
VENV := $(CURDIR)/.venv

.PHONY: run test system-deps test-alerts test-redis-failover test-live-page test-install lint test-conformance test-server-metrics test-rust test-python python-dist test-python-wheel test-node node-build node-dist test-kotlin kotlin-install python-env vectors bench bench-python bench-node bench-kotlin bench-load fuzz example-flask example-fastapi example-django example-node example-fastify example-kotlin

## The reference gateway on the example config (http://127.0.0.1:8080/callback).
run:
	$(CARGO) run --release --locked -p friendgate-server -- serve --config examples/friendgate.toml

## Every test in every language, with what they need installed locally.
test: lint vectors test-rust test-server-metrics test-alerts test-redis-failover test-live-page test-install test-python test-node test-kotlin test-conformance

lint:
	$(CARGO) fmt --all -- --check
	# The gateway's house: no import circle, no file over 600 lines, no
	# function over 100 (docs/architecture.md); core circle-free too.
	python3 tools/house.py server/src
	python3 tools/house.py core/src --max-fn-lines 0
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings
	# Embedding the gateway (no default features) pulls in neither the
	# simulator crate nor core's conformance feature.
	@if $(CARGO) tree --locked -p friendgate-server --no-default-features -e features --prefix none \
		| grep -E '^(friendgate-conform|indicatif|comfy-table) |feature "conformance"'; then \
		echo "friendgate-server without default features depends on the simulator"; exit 1; fi

## `cargo install --path server --locked` (the README's install) into a
## temporary root, the installed binary run, the systemd unit verified.
test-install:
	bash tests/install-gateway.sh $(CARGO_TARGET_DIR)/install-test

## The conformance vectors are exactly what tests/vectors/generate.py writes.
vectors:
	python3 tests/vectors/generate.py --check

## Debian packages the tests need (redis-server for [state]), installed
## when missing.
system-deps:
	bash tests/system-deps.sh

test-rust: system-deps
	$(CARGO) test --locked --workspace

## Polyglot conformance: the reference server and the Flask, FastAPI, Django, Node
## and Kotlin examples, each on 127.0.0.1, checked by `friendgate conform
## --strict`; summary in target/conformance/summary.md.
test-conformance: python-env node-build kotlin-install
	# The binary `cargo test --workspace` builds (a no-op after test-rust;
	# `cargo build -p` would resolve other features and rebuild 40 crates).
	$(CARGO) test --locked --workspace --no-run
	$(PYTHON) tests/polyglot/run.py --friendgate $(CARGO_TARGET_DIR)/debug/friendgate --python $(VENV)/bin/python

## The gateway's /metrics read by a real Prometheus parser (prometheus_client,
## in the test virtualenv), against the binary `cargo test --workspace` builds.
test-server-metrics: $(VENV)/.installed
	$(CARGO) test --locked --workspace --no-run
	FRIENDGATE=$(CARGO_TARGET_DIR)/debug/friendgate $(VENV)/bin/python -m pytest -q -p no:cacheprovider tests/server

## The alert rules under promtool (Debian's prometheus package, installed
## when missing): they load, their unit tests pass, and each alert's test
## fails when its metric is renamed; then a real Prometheus scrapes a real
## gateway while faults are made (deploy/prometheus, docs/operations.md).
test-alerts: system-deps $(VENV)/.installed
	$(CARGO) test --locked --workspace --no-run
	FRIENDGATE=$(CARGO_TARGET_DIR)/debug/friendgate $(VENV)/bin/python -m pytest -q -p no:cacheprovider tests/prometheus

## Redis failover, measured on real servers started by the test on
## 127.0.0.1: a Sentinel group whose master is killed under load, and a
## Cluster of three masters and three replicas with a slot migrated and a
## master killed under load (docs/deployment.md has the figures).
test-redis-failover: system-deps $(VENV)/.installed
	$(CARGO) test --locked --workspace --no-run
	FRIENDGATE=$(CARGO_TARGET_DIR)/debug/friendgate $(VENV)/bin/python -m pytest -q -s -p no:cacheprovider tests/redis

## The admin listener's live page in headless Chromium (Debian's chromium,
## installed when missing; playwright-core from npm into tests/live-page),
## against the binary `cargo test --workspace` builds. Screenshot:
## target/live-page.png.
test-live-page: system-deps
	$(CARGO) test --locked --workspace --no-run
	cd tests/live-page && npm ci --no-audit --no-fund --loglevel=error
	cd tests/live-page && FRIENDGATE=$(CARGO_TARGET_DIR)/debug/friendgate node --test live.test.mjs

## Python: a local virtualenv with the pinned test requirements, the binding
## built into it by maturin (same cargo target dir), then pytest.
$(VENV)/.installed: bindings-python/requirements-test.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r bindings-python/requirements-test.txt
	touch $@

python-env: $(VENV)/.installed
	cd bindings-python && $(VENV)/bin/maturin develop --quiet --locked

test-python: python-env
	cd bindings-python && $(VENV)/bin/python -m mypy python/friendgate
	cd /tmp && $(VENV)/bin/python -m mypy.stubtest --mypy-config-file $(CURDIR)/bindings-python/pyproject.toml friendgate
	cd bindings-python && $(VENV)/bin/python -m pytest -q -p no:cacheprovider tests
	$(MAKE) --no-print-directory test-python-wheel

## Release packages as published, in target/dist/python: the abi3 wheel for
## manylinux2014 (glibc 2.17), linked by zig (ziglang from PyPI, in the
## virtualenv) and checked by auditwheel; and the sdist. No musllinux wheel:
## auditwheel cannot check one on this glibc host, nor can a test install it.
PY_DIST := $(CARGO_TARGET_DIR)/dist/python
python-dist: $(VENV)/.installed
	rm -rf $(PY_DIST)
	cd bindings-python && PATH=$(VENV)/bin:$$PATH $(VENV)/bin/maturin build --quiet --release --locked \
		--zig --target x86_64-unknown-linux-gnu --compatibility manylinux2014 --out $(PY_DIST)
	cd bindings-python && $(VENV)/bin/maturin sdist --out $(PY_DIST)
	cd $(PY_DIST) && $(VENV)/bin/auditwheel show friendgate-*manylinux2014*.whl | tr -s ' \n' ' ' | grep -q 'consistent with the following platform tag: "manylinux_2_17_x86_64"'

## The wheel as users get it: the manylinux2014 wheel installed in a fresh
## virtualenv whose PATH has no cargo or rustc; then the sdist built by pip
## (with the toolchain) to prove it is complete, in its own target dir: the
## sdist's files carry old mtimes, so cargo would take the shared dir's
## artifacts of older sources for fresh.
PY_INSTALL := $(CARGO_TARGET_DIR)/wheel-test
test-python-wheel: python-dist
	rm -rf $(PY_INSTALL) && $(PYTHON) -m venv $(PY_INSTALL)/venv
	env PATH=$(PY_INSTALL)/venv/bin:/usr/bin:/bin $(PY_INSTALL)/venv/bin/pip install --quiet --no-index $(PY_DIST)/friendgate-*manylinux2014*.whl
	cd /tmp && env PATH=$(PY_INSTALL)/venv/bin:/usr/bin:/bin $(PY_INSTALL)/venv/bin/python $(CURDIR)/bindings-python/tests/wheel_smoke.py
	PATH=$(VENV)/bin:$$PATH CARGO_TARGET_DIR=$(PY_INSTALL)/sdist-target $(VENV)/bin/pip wheel --quiet --no-deps --no-build-isolation --wheel-dir $(PY_INSTALL)/from-sdist $(PY_DIST)/friendgate-*.tar.gz
	ls $(PY_INSTALL)/from-sdist/friendgate-*-abi3-*.whl

## Node: npm packages from the lockfile into node_modules, the addon built by
## the napi CLI (same cargo target dir, generates native.js and native.d.ts),
## the TypeScript declarations type-checked, then node --test.
bindings-node/node_modules/.installed: bindings-node/package-lock.json
	cd bindings-node && npm ci --engine-strict --no-audit --no-fund --loglevel=error
	touch $@

node-build: bindings-node/node_modules/.installed
	cd bindings-node && npx napi build --platform --js native.js --dts native.d.ts

## What npm would publish, in target/dist/node: the `friendgate` tarball and
## the `friendgate-linux-x64-gnu` platform package holding the release addon,
## built for glibc 2.17 by cargo-zigbuild (zig from PyPI, in the virtualenv).
NODE_DIST := $(CARGO_TARGET_DIR)/dist/node
node-dist: node-build $(VENV)/.installed
	rm -rf $(NODE_DIST)
	cd bindings-node && PATH=$(VENV)/bin:$$PATH npx napi build --platform --release --cross-compile \
		--target x86_64-unknown-linux-gnu.2.17 --no-js --output-dir $(NODE_DIST)/addon
	bash tests/glibc-at-most.sh 2.17 $(NODE_DIST)/addon/friendgate.linux-x64-gnu.node
	node bindings-node/scripts/pack.js $(NODE_DIST)/addon $(NODE_DIST)

test-node: node-dist
	cd bindings-node && npx tsc -p test/tsconfig.json
	cd bindings-node && FRIENDGATE_NODE_DIST=$(NODE_DIST) node --test test/

## JVM: `mvn install` builds the release native library for glibc 2.17
## (cargo-zigbuild, zig from the virtualenv), generates the Kotlin from it
## (bindings-uniffi/build-native.sh), compiles, tests, and installs the jar,
## which carries the library under linux-x86-64/; then a Java 17 and a Kotlin
## project use it from the local Maven repository with nothing but the
## dependency.
MVN := mvn -B --no-transfer-progress
JVM_NATIVE := FRIENDGATE_NATIVE_TARGET=x86_64-unknown-linux-gnu.2.17 PATH=$(VENV)/bin:$$PATH
kotlin-install: $(VENV)/.installed
	cd bindings-uniffi/kotlin && $(JVM_NATIVE) $(MVN) install
	bash tests/glibc-at-most.sh 2.17 bindings-uniffi/kotlin/target/native/linux-x86-64/libfriendgate_uniffi.so
	! unzip -l bindings-uniffi/kotlin/target/friendgate-kotlin-0.1.0.jar | grep -E 'example|bench'

test-kotlin: kotlin-install
	python3 tests/jvm-consumers/java/readme_example.py bindings-uniffi/README.md \
		tests/jvm-consumers/java/src/main/java/consumer/ReadmeExample.java
	cd tests/jvm-consumers/java && $(MVN) -q clean package exec:java
	cd tests/jvm-consumers/kotlin && $(MVN) -q clean package exec:java

## The Python example apps (examples/python/README.md), on 127.0.0.1:8000.
example-flask example-fastapi example-django: example-%: python-env
	cd examples/python && $(VENV)/bin/python $*_app.py

## The Node example apps (examples/node/README.md), on 127.0.0.1:8000.
example-node: node-build
	node examples/node/server.js

example-fastify: node-build
	node examples/node/fastify.js

## The Kotlin example server (JDK HttpServer), on 127.0.0.1:8000.
example-kotlin: $(VENV)/.installed
	cd bindings-uniffi/kotlin && $(JVM_NATIVE) $(MVN) -q test-compile exec:java

## Benchmarks (not part of `test`); figures go in BENCHMARKS.md.
bench:
	$(CARGO) bench --locked -p friendgate-core --bench handle

## Python binding against a pure-Python handler (release build of the binding).
bench-python: $(VENV)/.installed
	cd bindings-python && $(VENV)/bin/maturin develop --release --quiet --locked
	$(VENV)/bin/python bindings-python/bench/bench_handle.py

## Node binding against a pure-JS handler (release build of the addon).
bench-node: bindings-node/node_modules/.installed
	cd bindings-node && npx napi build --platform --release --js native.js --dts native.d.ts
	node bindings-node/bench/bench_handle.js

## Kotlin API through UniFFI against plain Kotlin (release build of the library).
bench-kotlin: $(VENV)/.installed
	# A fixed heap, so that the RSS samples after each million callbacks show native memory.
	cd bindings-uniffi/kotlin && MAVEN_OPTS="-Xms1g -Xmx1g" $(JVM_NATIVE) $(MVN) -q test-compile exec:java -Dexec.mainClass=dev.friendgate.bench.BenchKt

## Load benchmark of the gateway against a minimal warp handler (needs wrk and oha).
bench-load:
	bash server/bench/load.sh 15

## Fuzz `handle` for 5 minutes (needs the nightly toolchain and cargo-fuzz).
fuzz:
	cd fuzz && $(CARGO) +nightly fuzz run handle seeds/handle -- -max_total_time=300 -max_len=4096
