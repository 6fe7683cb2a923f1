"""Redis Cluster, measured as Sentinel is (test_sentinel.py): three masters
with one replica each on loopback ports, two gateways on
`redis-cluster://`, callbacks at a steady rate from one account. Required:
one script call per callback (the account is the key's hash tag); an
account set and an event stream on the cluster work; the slot of the busy
account migrated to another master while callbacks flow, with the steps
`redis-cli --cluster reshard` takes (SETSLOT IMPORTING and MIGRATING,
MIGRATE, SETSLOT NODE), each held 0.5 s so that every phase is seen: the
gateways decide on Redis again at once after the slot moved (MOVED
followed), and only calls while its key was moving (ASK, which fred 10.1
does not follow) fall back; its master killed with SIGKILL, its replica
promoted, the gateways following within 2 s; every callback answered 200
within the platform's 2 s throughout. Figures printed
(docs/deployment.md). Every server is started here on 127.0.0.1 and
stopped by pid.
"""

from __future__ import annotations

import random
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "tests" / "server"))
from helpers import free_port, post  # noqa: E402
from test_sentinel import INTERVAL_US, KEY, Load, metric, redis_cli, start_gateways, stop_all, wait_until  # noqa: E402


def cluster(port: int, *args: str) -> str:
    return redis_cli(port, *args)


def node_port() -> int:
    """A free port whose cluster bus port (the port + 10000) is free too;
    the kernel's own pick can be too high for that."""
    while True:
        port = free_port()
        if port + 10_000 > 65_535:
            port = random.randrange(20_000, 50_000)
        try:
            for candidate in (port, port + 10_000):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", candidate))
        except OSError:
            continue
        return port


def owner(ports: list[int], slot: int) -> tuple[int, str] | None:
    """The port and node id of the healthy master serving `slot`, as the
    node at `ports[0]` sees it; None while no healthy master does."""
    for line in cluster(ports[0], "cluster", "nodes").splitlines():
        fields = line.split()
        if "master" not in fields[2] or "fail" in fields[2]:
            continue
        for part in fields[8:]:
            low, _, high = part.partition("-")
            if low.isdigit() and int(low) <= slot <= int(high or low):
                return int(fields[1].split(":")[1].split("@")[0]), fields[0]
    return None


@pytest.fixture
def cluster_stack(tmp_path: Path):
    processes: dict[int, subprocess.Popen] = {}
    ports = [node_port() for _ in range(6)]
    for port in ports:
        processes[port] = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
             "--cluster-config-file", f"nodes-{port}.conf", "--cluster-node-timeout", "1000", "--save", "",
             "--appendonly", "no", "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    for port in ports:
        wait_until(lambda p=port: redis_cli(p, "ping") == "PONG", 10, "a node did not start")
    created = subprocess.run(["redis-cli", "--cluster", "create", *[f"127.0.0.1:{p}" for p in ports],
                              "--cluster-replicas", "1", "--cluster-yes"], capture_output=True, text=True, timeout=60)
    assert created.returncode == 0, created.stdout + created.stderr
    for port in ports:
        wait_until(lambda p=port: "cluster_state:ok" in redis_cli(p, "cluster", "info"), 20, "the cluster is not ok")
    url = f"redis-cluster://127.0.0.1:{ports[0]}?node=127.0.0.1:{ports[1]}&node=127.0.0.1:{ports[2]}"
    tables = """
[events.redis_stream]
key = "fgtest:events"

[[rule]]
name = "blocked"
kind = "accounts"
field = "from"
redis_set = "fgtest:blocked"
code = 38001
"""
    gateways = []
    for process, base, admin in start_gateways(tmp_path, url, state="refresh_seconds = 1", tables=tables):
        processes[int(base.rsplit(":", 1)[1])] = process
        gateways.append((base, admin))
    yield {"ports": ports, "processes": processes, "gateways": gateways}
    stop_all(processes.values())


def fallbacks(admins: list[str]) -> float:
    """Callbacks the rate limit decided by its on_redis_error, both gateways."""
    return sum(metric(a, 'friendgate_redis_fallbacks_total{rule="mass-accept"') for a in admins)


class Fallbacks:
    """The gateways' rate-limit fallback count, sampled every 50 ms from a
    thread for the whole test."""

    def __init__(self, admins: list[str]) -> None:
        self.admins = admins
        self.samples: list[tuple[float, float]] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                self.samples.append((time.monotonic(), fallbacks(self.admins)))
            except OSError:  # a gateway gone: the test has failed already
                return
            time.sleep(0.05)

    def settled(self, since: float, within: float) -> float:
        """Once the count has held for 2 s: when it last rose after `since`
        (`since` when it did not)."""
        deadline = since + within
        while True:
            samples = [(t, count) for t, count in list(self.samples) if t >= since]
            if samples:
                last_rise = next(t for t, count in samples if count == samples[-1][1])
                if samples[-1][0] - last_rise >= 2:
                    return last_rise if last_rise > samples[0][0] else since
            assert time.monotonic() < deadline, "the gateways kept falling back"
            time.sleep(0.05)


def calls(ports: list[int]) -> int:
    """Script calls the cluster ran, all nodes."""
    total = 0
    for port in ports:
        for line in redis_cli(port, "info", "commandstats").splitlines():
            if line.startswith("cmdstat_evalsha:"):
                total += int(line.split("calls=")[1].split(",")[0])
    return total


def test_cluster_sets_streams_migration_and_failover(cluster_stack) -> None:
    stack = cluster_stack
    ports, admins = stack["ports"], [admin for _, admin in stack["gateways"]]
    bases = [base for base, _ in stack["gateways"]]
    wait_until(lambda: all(metric(a, "friendgate_redis_up") == 1 for a in admins), 15, "gateways not on Redis")

    # One script call per callback, whichever node holds the account.
    before = calls(ports)
    for n in range(20):
        assert post(bases[n % 2], sender=f"user{n}")[0] == 200
    assert calls(ports) - before == 20

    # An account set and the event stream, on the cluster.
    subprocess.run(["redis-cli", "-c", "-p", str(ports[0]), "sadd", "fgtest:blocked", "mallory"], check=True,
                   capture_output=True)
    wait_until(lambda: all(b'"ResultCode":38001' in post(b, sender="mallory")[1] for b in bases), 10,
               "the set on the cluster did not block mallory")
    stream_port, _ = owner(ports, int(cluster(ports[0], "cluster", "keyslot", "fgtest:events")))
    wait_until(lambda: int(redis_cli(stream_port, "xlen", "fgtest:events") or 0) > 20, 10, "no events in the stream")

    slot = int(cluster(ports[0], "cluster", "keyslot", KEY))
    load = Load(bases)
    sampler = Fallbacks(admins)
    time.sleep(2)

    # The busy account's slot migrated to another master under load, as
    # `redis-cli --cluster reshard` does it, with each step held 0.5 s.
    source_port, source_id = owner(ports, slot)
    target_port, target_id = next(
        (p, i) for p, i in (owner(ports, s) for s in (0, 5461, 10923)) if p != source_port)
    before_migration = fallbacks(admins)
    assert cluster(target_port, "cluster", "setslot", str(slot), "importing", source_id) == "OK"
    assert cluster(source_port, "cluster", "setslot", str(slot), "migrating", target_id) == "OK"
    time.sleep(0.5)  # the key still on the source, which answers
    asked = time.monotonic()
    keys = cluster(source_port, "cluster", "getkeysinslot", str(slot), "100").split()
    assert KEY in keys
    for key in keys:
        assert cluster(source_port, "migrate", "127.0.0.1", str(target_port), key, "0", "5000") == "OK"
    time.sleep(0.5)  # the key on the target, the slot not yet: ASK
    for port in ports:
        cluster(port, "cluster", "setslot", str(slot), "node", target_id)
    moved = time.monotonic()
    wait_until(lambda: owner(ports, slot)[0] == target_port, 10, "the slot did not move")
    settled = sampler.settled(since=moved, within=10)
    migrated = fallbacks(admins) - before_migration
    asked_window = sum(1 for sent, _, _ in load.answers if asked <= sent <= settled)
    # The MOVED is followed: decided on Redis again within a second of the
    # slot's move. Only calls while the keys were moving fell back.
    assert settled - moved <= 1.0, settled - moved
    assert migrated <= asked_window, (migrated, asked_window)

    # Its master killed: the replica takes over.
    answered_before = load.pause()
    tat_before = float(redis_cli(target_port, "get", KEY))
    fallbacks_before = fallbacks(admins)
    load.resume()
    time.sleep(1)
    stack["processes"][target_port].send_signal(signal.SIGKILL)
    killed = time.monotonic()
    survivors = [p for p in ports if p != target_port]
    promoted_at = wait_until(
        lambda: (owner(survivors, slot) or (target_port,))[0] != target_port and time.monotonic(), 30,
        "no replica took the slot")
    new_port, _ = owner(survivors, slot)
    recovered_at = sampler.settled(since=promoted_at, within=40)
    answered_after = load.pause()
    tat_after = float(redis_cli(new_port, "get", KEY))
    fallen_back = fallbacks(admins) - fallbacks_before
    load.stopped.set()
    load.resume()
    sampler.stopped.set()

    statuses = {status for _, status, _ in load.answers}
    slowest = max(seconds for _, _, seconds in load.answers)
    assert statuses == {200}, statuses
    assert slowest < 2.0, slowest
    # Back within 2 s of the promotion (measured: 0.63 to 1.09 s; fred reads
    # the slot map from the first node that answers, which may learn of the
    # promotion a gossip round after the node polled here). Before this
    # round the gateways never came back from the migration above.
    assert recovered_at - promoted_at <= 2.0, recovered_at - promoted_at
    counted = (tat_after - tat_before) / INTERVAL_US
    decided_by_redis = (answered_after - answered_before) - fallen_back
    assert counted > 0
    print(f"\ncluster: slot {slot} migrated under load: {int(migrated)} of {asked_window} callbacks while its key "
          f"moved decided by on_redis_error, Redis again {max(0.0, settled - moved):.2f} s after the slot moved; "
          f"master killed, replica promoted {promoted_at - killed:.2f} s after, gateways back "
          f"{max(0.0, recovered_at - promoted_at):.2f} s after the promotion; {int(fallen_back)} of "
          f"{answered_after - answered_before} callbacks decided by on_redis_error; tokens taken by Redis "
          f"{decided_by_redis:.0f}, on the promoted replica {counted:.1f}, lost {decided_by_redis - counted:.1f}; "
          f"slowest answer {slowest * 1000:.0f} ms")
