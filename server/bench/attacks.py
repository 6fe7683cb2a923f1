#!/usr/bin/env python3
"""Signed-callback latency and the gateway's memory under each attack of the
hardening issue, against the release binary on 127.0.0.1 only.

For each scenario: a fresh `friendgate serve` (examples/friendgate.toml, JSON
log to a pipe) pinned to CPU 1; the attack started from this process and
`friendgate conform --load` (open-loop, signed sample callbacks) pinned to
CPU 0; RSS sampled every 100 ms. Prints one table row per scenario.

Usage: python3 server/bench/attacks.py [--rate 1000] [--seconds 10] [--bin PATH]
Standard library only. Every loop is bounded by the scenario's duration.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "xxxxyyyy"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def config(work: Path, port: int, admin: int, compat: bool) -> Path:
    text = (ROOT / "examples" / "friendgate.toml").read_text()
    if compat:
        # For a binary from before the admin listener and these keys.
        text = re.sub(r"^\[admin\]\n(?:[^\n]+\n)*\n", "", text, flags=re.M)
        text = re.sub(r"^(confusables|allow_shrink) = .*\n", "", text, flags=re.M)
    text = text.replace('listen = "127.0.0.1:8080"', f'listen = "127.0.0.1:{port}"')
    text = text.replace('listen = "127.0.0.1:9090"', f'listen = "127.0.0.1:{admin}"')
    text = text.replace("watch_config = true", "watch_config = false")
    text = text.replace('format = "text"', 'format = "json"')
    # A generous rate limit, so every item takes the same path.
    text = re.sub(r"^max = 30 .*$", "max = 100000000", text, flags=re.M)
    for name in ["demo.token", "blocklist.txt", "words.txt"]:
        shutil.copy(ROOT / "examples" / name, work / name)
    path = work / "friendgate.toml"
    path.write_text(text)
    return path


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def signed_query() -> str:
    import hashlib

    now = str(int(time.time()))
    sign = hashlib.sha256((TOKEN + now).encode()).hexdigest()
    return ("SdkAppid=1400000000&CallbackCommand=Sns.CallbackPrevFriendResponse&contenttype=json"
            f"&ClientIP=127.0.0.1&OptPlatform=iOS&RequestTime={now}&Sign={sign}")


def nonblocking(addr) -> socket.socket | None:
    sock = socket.socket()
    try:
        sock.connect(addr)
    except OSError:
        sock.close()
        return None
    sock.setblocking(False)
    return sock


def send(sock: socket.socket, data: bytes) -> None:
    try:
        sock.send(data)
    except OSError:
        pass


# Attacks: each runs until `stop` is set.

def slots(addr, stop):
    """600 unsigned POSTs declaring a body they never send, renewed every 1.3 s."""
    while not stop.is_set():
        held = [s for s in (nonblocking(addr) for _ in range(600)) if s]
        for sock in held:
            send(sock, b"POST /callback HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
        stop.wait(1.3)
        for sock in held:
            sock.close()


def refused_flood(addr, stop):
    """Refused unsigned GETs as fast as one thread can send them (one WARN each before the fix)."""
    while not stop.is_set():
        sock = nonblocking(addr)
        if sock:
            send(sock, b"GET /callback HTTP/1.1\r\nHost: x\r\n\r\n")
            time.sleep(0.0002)
            sock.close()


def idle_sockets(addr, stop):
    """2000 idle sockets (the server starts with a soft descriptor limit of 1024)."""
    held = [s for s in (nonblocking(addr) for _ in range(2000)) if s]
    stop.wait()
    for sock in held:
        sock.close()


def declared_bodies(addr, stop):
    """512 signed and 512 unsigned requests declaring 1 MiB and sending 2 x 20 bytes, renewed every second."""
    while not stop.is_set():
        held = []
        for signed in (True, False):
            for _ in range(512):
                sock = nonblocking(addr)
                if not sock:
                    continue
                query = signed_query() if signed else ""
                send(sock, f"POST /callback?{query} HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n".encode() + b" " * 20)
                held.append(sock)
        time.sleep(0.05)
        for sock in held:
            send(sock, b" " * 20)
        stop.wait(1.0)
        for sock in held:
            sock.close()


def big_headers(addr, stop):
    """2500 connections sending up to 400 KB of headers that never end."""
    filler = b"X-Filler: " + b"a" * 1000 + b"\r\n"
    held = [s for s in (nonblocking(addr) for _ in range(2500)) if s]
    for sock in held:
        send(sock, b"POST /callback HTTP/1.1\r\nHost: x\r\n")
    for _ in range(400):
        if stop.is_set():
            break
        for sock in held:
            send(sock, filler)
    stop.wait()
    for sock in held:
        sock.close()


SCENARIOS = {
    "none": None,
    "unsigned requests holding slots": slots,
    "stalled log reader + refused flood": refused_flood,
    "2000 idle sockets, soft fd limit 1024": idle_sockets,
    "declared-but-unsent 1 MiB bodies": declared_bodies,
    "2500 x 400 KB unfinished headers": big_headers,
}


def run(name: str, attack, binary: str, rate: int, seconds: int, compat: bool) -> dict:
    work = Path(tempfile.mkdtemp())
    port, admin = free_port(), free_port()
    path = config(work, port, admin, compat)
    if compat:
        admin = port
    stalled = name.startswith("stalled")
    prefix = "ulimit -Sn 1024 && " if "fd limit" in name else ""
    server = subprocess.Popen(
        ["sh", "-c", f'{prefix}exec taskset -c 1 "$0" serve --config "$1"', binary, str(path)],
        stdout=subprocess.PIPE,
    )
    reader = None
    if not stalled:
        reader = threading.Thread(target=lambda: server.stdout.read(), daemon=True)
        reader.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", admin), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    base_rss = rss(server.pid)
    stop = threading.Event()
    attacker = threading.Thread(target=attack, args=(("127.0.0.1", port), stop), daemon=True) if attack else None
    if attacker:
        attacker.start()
        time.sleep(1.0)
    peak = [0]

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], rss(server.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    report = work / "load.json"
    load = subprocess.run(
        ["taskset", "-c", "0", binary, "conform", "--url", f"http://127.0.0.1:{port}/callback",
         "--app-id", "1400000000", "--token-env", "FG_BENCH_TOKEN", "--load", "--rate", str(rate),
         "--duration", str(seconds), "--connections", "16", "--json", str(report)],
        env=dict(os.environ, FG_BENCH_TOKEN=TOKEN), capture_output=True, text=True,
    )
    stop.set()
    if attacker:
        attacker.join(timeout=10)
    sampler.join(timeout=2)
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
    result = {"scenario": name, "rss_base_mib": base_rss / 2**20, "rss_peak_mib": peak[0] / 2**20}
    if report.exists():
        data = json.loads(report.read_text())
        result.update(p50=data["latency_ms"]["p50"], p99=data["latency_ms"]["p99"],
                      max=data["latency_ms"]["max"], sent=data["sent"], ok=data["ok"],
                      errors=sum(count for _, count in data["errors"]))
    else:
        result["error"] = load.stderr[-500:]
    shutil.rmtree(work, ignore_errors=True)
    return result


def main() -> None:
    import resource

    # The attacks hold thousands of sockets: this process needs the descriptors.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--bin", default=None)
    parser.add_argument("--only", default=None)
    parser.add_argument("--compat", action="store_true",
                        help="a config without the keys this change added, for the binary from before it")
    args = parser.parse_args()
    binary = args.bin
    if binary is None:
        subprocess.run(["cargo", "build", "-q", "--release", "--locked", "-p", "friendgate-server", "--bin", "friendgate"],
                       cwd=ROOT, check=True)
        binary = str(Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "release" / "friendgate")
    print(f"signed callbacks at {args.rate}/s for {args.seconds} s under each attack ({binary})")
    print("| attack | p50 ms | p99 ms | max ms | answered 200 | errors | RSS before -> peak (MiB) |")
    print("|---|---|---|---|---|---|---|")
    for name, attack in SCENARIOS.items():
        if args.only and args.only not in name:
            continue
        r = run(name, attack, binary, args.rate, args.seconds, args.compat)
        if "error" in r:
            print(f"| {name} | load failed: {r['error']!r} |")
            continue
        print(f"| {name} | {r['p50']:.2f} | {r['p99']:.2f} | {r['max']:.1f} | {r['ok']}/{r['sent']} | {r['errors']} "
              f"| {r['rss_base_mib']:.1f} -> {r['rss_peak_mib']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
