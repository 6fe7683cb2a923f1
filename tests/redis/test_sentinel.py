"""Redis Sentinel failover, measured: a master, a replica and three
Sentinels on loopback ports, two gateways on `redis-sentinel://`, callbacks
at a steady rate from one account, and the master killed with SIGKILL.

Required: every callback answered 200 within the platform's 2 s throughout
(by Redis, or by the rule's `on_redis_error = "local"`); both gateways on
the promoted master within one second of the promotion; the rate limit
counting on it again. Measured and printed (BENCHMARKS.md has the figures):
callbacks decided by the fallback, the time to recover, and the tokens the
promoted replica never saw (asynchronous replication loses the last
writes). Every server is started here on 127.0.0.1 and stopped by pid.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "server"))
from helpers import APP_ID, TOKEN, free_port, post, wait_for  # noqa: E402

MAX, PER = 1_000_000, 86_400  # one token every 86.4 ms: the TAT runs ahead of now at 40/s
INTERVAL_US = PER * 1e6 / MAX
KEY = "friendgate:{alice}:rl:mass-accept"


def redis_cli(port: int, *args: str) -> str:
    return subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True,
                          timeout=5).stdout.strip()


def wait_until(check, within: float, what: str):
    deadline = time.monotonic() + within
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def metric(admin: str, prefix: str) -> float:
    text = urllib.request.urlopen(f"{admin}/metrics", timeout=5).read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(prefix))


class Load:
    """Accepting responses from alice, every 50 ms to each gateway: their
    status and time taken, and a pause for clean readings."""

    def __init__(self, bases: list[str]) -> None:
        self.answers: list[tuple[float, int, float]] = []  # (sent at, status, seconds)
        self.lock = threading.Lock()
        self.running = threading.Event()
        self.running.set()
        self.stopped = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(base,), daemon=True) for base in bases]
        for thread in self.threads:
            thread.start()

    def run(self, base: str) -> None:
        while not self.stopped.is_set():
            self.running.wait()
            started = time.monotonic()
            try:
                status, _ = post(base, sender="alice", items=(("bob", "Response_Action_Agree"),))
            except OSError:  # refused, reset or timed out: the platform would allow it
                status = 0
            with self.lock:
                self.answers.append((started, status, time.monotonic() - started))
            time.sleep(max(0.0, 0.05 - (time.monotonic() - started)))

    def pause(self) -> int:
        """Stops sending, lets the last callbacks finish; the number answered."""
        self.running.clear()
        time.sleep(0.3)
        with self.lock:
            return len(self.answers)

    def resume(self) -> None:
        self.running.set()


def start_gateways(tmp_path: Path, url: str, state: str = "", tables: str = "") -> list[tuple[subprocess.Popen, str, str]]:
    """Two gateways on `url` with the mass-accept rate limit (`on_redis_error = "local"`), `state` lines
    added to `[state]` and `tables` before the rule; each with its process, base URL and admin URL, its
    log in `tmp_path`."""
    (tmp_path / "token").write_text(TOKEN + "\n")
    started = []
    for n in range(2):
        port, admin = free_port(), free_port()
        config = tmp_path / f"gateway-{n}.toml"
        config.write_text(f"""
[server]
listen = "127.0.0.1:{port}"
path = "/callback"

[admin]
listen = "127.0.0.1:{admin}"

[callback]
app_ids = [{APP_ID}]
tokens = [{{ file = "token" }}]

[log]
level = "warn"

[state]
redis_url = "{url}"
timeout_ms = 50
{state}
{tables}
[[rule]]
name = "mass-accept"
kind = "rate_limit"
max = {MAX}
per_seconds = {PER}
on_redis_error = "local"
code = 38003
""")
        process = subprocess.Popen([os.environ["FRIENDGATE"], "serve", "--config", str(config)],
                                   stdout=(tmp_path / f"gateway-{n}.log").open("w"))
        started.append((process, f"http://127.0.0.1:{port}", f"http://127.0.0.1:{admin}"))
        wait_for(f"http://127.0.0.1:{admin}/healthz")
    return started


def stop_all(processes) -> None:
    """SIGTERM to each still running, then SIGKILL to any not gone in 10 s."""
    processes = list(processes)
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def sentinel_stack(tmp_path: Path):
    processes: list[subprocess.Popen] = []
    master, replica = free_port(), free_port()
    common = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    for port, extra in ((master, []), (replica, ["--replicaof", "127.0.0.1", str(master)])):
        processes.append(subprocess.Popen(["redis-server", "--port", str(port), "--dir", str(tmp_path), *common,
                                           "--dbfilename", f"{port}.rdb", *extra], stdout=subprocess.DEVNULL))
    wait_until(lambda: redis_cli(replica, "info", "replication").count("master_link_status:up"), 10,
               "the replica did not sync")
    sentinels = [free_port() for _ in range(3)]
    for port in sentinels:
        conf = tmp_path / f"sentinel-{port}.conf"
        conf.write_text(f"port {port}\nbind 127.0.0.1\ndir {tmp_path}\n"
                        f"sentinel monitor fg 127.0.0.1 {master} 2\n"
                        "sentinel down-after-milliseconds fg 1000\n"
                        "sentinel failover-timeout fg 5000\n"
                        "sentinel parallel-syncs fg 1\n")
        processes.append(subprocess.Popen(["redis-server", str(conf), "--sentinel"], stdout=subprocess.DEVNULL))
    for port in sentinels:
        wait_until(lambda p=port: redis_cli(p, "sentinel", "get-master-addr-by-name", "fg").endswith(str(master)),
                   10, "a sentinel does not know the master")
    url = (f"redis-sentinel://127.0.0.1:{sentinels[0]}/0?sentinelServiceName=fg"
           f"&node=127.0.0.1:{sentinels[1]}&node=127.0.0.1:{sentinels[2]}")
    gateways = start_gateways(tmp_path, url)
    processes.extend(process for process, _, _ in gateways)
    gateways = [(base, admin) for _, base, admin in gateways]
    yield {"master": processes[0], "master_port": master, "replica_port": replica, "sentinels": sentinels,
           "gateways": gateways}
    stop_all(processes)


def test_a_killed_master_is_followed_and_every_callback_answered(sentinel_stack) -> None:
    stack = sentinel_stack
    admins = [admin for _, admin in stack["gateways"]]
    wait_until(lambda: all(metric(a, "friendgate_redis_up") == 1 for a in admins), 10, "gateways not on Redis")
    load = Load([base for base, _ in stack["gateways"]])
    time.sleep(3)

    # A clean reading: answered so far, the bucket's TAT, the fallbacks.
    answered_before = load.pause()
    tat_before = float(redis_cli(stack["master_port"], "get", KEY))
    fallbacks_before = sum(metric(a, "friendgate_redis_fallbacks_total") for a in admins)
    load.resume()
    time.sleep(1)
    stack["master"].send_signal(signal.SIGKILL)
    killed = time.monotonic()

    promoted_at = wait_until(
        lambda: redis_cli(stack["sentinels"][0], "sentinel", "get-master-addr-by-name", "fg").endswith(
            str(stack["replica_port"])) and time.monotonic(),
        30, "no sentinel promoted the replica")

    # The fallback counters every 50 ms: the gateways are back on Redis at
    # the sample where the count last rose (no fallback after it, for 3 s).
    samples: list[tuple[float, float]] = []
    while True:
        samples.append((time.monotonic(), sum(metric(a, "friendgate_redis_fallbacks_total") for a in admins)))
        last_rise = next(t for t, count in samples if count == samples[-1][1])
        if samples[-1][0] - last_rise >= 3 and all(metric(a, "friendgate_redis_up") == 1 for a in admins):
            break
        assert samples[-1][0] - killed < 30, "the gateways did not follow the promotion"
        time.sleep(0.05)
    recovered_at = last_rise
    answered_after = load.pause()
    tat_after = float(redis_cli(stack["replica_port"], "get", KEY))
    fallbacks = sum(metric(a, "friendgate_redis_fallbacks_total") for a in admins) - fallbacks_before
    load.stopped.set()
    load.resume()

    # Every callback answered 200 within the platform's 2 s.
    statuses = {status for _, status, _ in load.answers}
    slowest = max(seconds for _, _, seconds in load.answers)
    assert statuses == {200}, statuses
    assert slowest < 2.0, slowest
    # The gateways were on the promoted master within a second of the promotion.
    assert recovered_at - promoted_at <= 1.0, recovered_at - promoted_at
    # The limit counts on the new master: its TAT moved past the old one's.
    counted = (tat_after - tat_before) / INTERVAL_US
    decided_by_redis = (answered_after - answered_before) - fallbacks
    lost = decided_by_redis - counted
    assert counted > 0
    print(f"\nsentinel failover: promoted {promoted_at - killed:.2f} s after the kill, gateways back "
          f"{max(0.0, recovered_at - promoted_at):.2f} s after the promotion; {int(fallbacks)} of "
          f"{answered_after - answered_before} callbacks decided by on_redis_error; tokens taken by Redis "
          f"{decided_by_redis - 0:.0f}, on the promoted master {counted:.1f}, lost {lost:.1f}; "
          f"slowest answer {slowest * 1000:.0f} ms")
