"""The alert rules and the dashboard on a real Prometheus (Debian's prometheus) scraping a real
gateway's admin listener every second, with faults made for real, all at
once: Redis killed, the webhook receiver down, the upstream refusing, the
log pipe stalled, 2,000 idle connections. Each fault's alert must reach
`firing` in Prometheus' /api/v1/alerts and clear once the fault is
repaired; on the healthy gateway under steady load, none fires. Every
query of the dashboard (deploy/grafana/friendgate.json, its variables
filled in as Grafana would) is valid, and while the faults last (when every
series exists) each one returns data.

The rules are deploy/prometheus/alerts.yml with time scaled down so that the
test takes a minute, not an hour: rate windows of 5 and 15 minutes become
15 and 30 seconds, every `for:` 3 seconds. Expressions, metric names and
labels are the file's own. Every server is started here on 127.0.0.1 and
stopped by pid.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "server"))
from helpers import APP_ID, TOKEN, free_port, post, signed_query, wait_for  # noqa: E402

FAULT_ALERTS = {
    "FriendgateRedisDown",
    "FriendgateRedisFallbacks",
    "FriendgateEventDeliveryFailing",
    "FriendgateEventsDropped",
    "FriendgateUpstreamFailing",
    "FriendgateLogLinesDropped",
    "FriendgateConnectionsLimited",
}


def scaled_rules(tmp: Path) -> Path:
    text = (ROOT / "deploy" / "prometheus" / "alerts.yml").read_text()
    text = text.replace("[5m]", "[15s]").replace("[15m]", "[30s]")
    text = re.sub(r"for: \d+m", "for: 3s", text)
    path = tmp / "alerts.yml"
    path.write_text(text)
    return path


class Switchable:
    """An HTTP server on a fixed port that can be stopped and started again
    (a webhook receiver answering 204, an upstream answering OK)."""

    def __init__(self, body: bytes, status: int) -> None:
        self.port = free_port()
        self.body, self.status = body, status
        self.server: ThreadingHTTPServer | None = None
        self.start()

    def start(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(outer.body)))
                self.end_headers()
                self.wfile.write(outer.body)

            def log_message(self, *args: object) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def start_redis(port: int, tmp: Path) -> subprocess.Popen:
    process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", str(tmp)], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).stdout.strip() != b"PONG":
        assert time.monotonic() < deadline, "redis-server did not start"
        time.sleep(0.05)
    return process


def query(prometheus: str, expr: str) -> list:
    url = f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=5) as answer:
        body = json.load(answer)
    assert body["status"] == "success", (expr, body)
    return body["data"]["result"]


def dashboard_queries() -> list[str]:
    """Every panel target's query, with Grafana's variables filled in."""
    model = json.loads((ROOT / "deploy" / "grafana" / "friendgate.json").read_text())
    exprs = [target["expr"] for panel in model["panels"] for target in panel["targets"]]
    return [e.replace("$__rate_interval", "15s").replace('"$instance"', '".*"') for e in exprs]


def alerts(prometheus: str) -> set[str]:
    with urllib.request.urlopen(f"{prometheus}/api/v1/alerts", timeout=5) as answer:
        data = json.load(answer)["data"]["alerts"]
    return {a["labels"]["alertname"] for a in data if a["state"] == "firing"}


def wait_until(check, within: float, what: str):
    deadline = time.monotonic() + within
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, what
        time.sleep(0.5)


@pytest.fixture
def stack(tmp_path: Path):
    processes: list[subprocess.Popen] = []
    redis_port, port, admin_port, prom_port = free_port(), free_port(), free_port(), free_port()
    redis = start_redis(redis_port, tmp_path)
    webhook = Switchable(b"", 204)
    upstream = Switchable(b'{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}', 200)
    (tmp_path / "token").write_text(TOKEN + "\n")
    (tmp_path / "secret").write_text("whsec_" + "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" + "\n")
    config = tmp_path / "friendgate.toml"
    config.write_text(f"""
[server]
listen = "127.0.0.1:{port}"
path = "/callback"
max_connections = 1000

[admin]
listen = "127.0.0.1:{admin_port}"

[callback]
app_ids = [{APP_ID}]
tokens = [{{ file = "token" }}]

[log]
format = "json"
level = "info"
buffer_bytes = 65536

[state]
redis_url = "redis://127.0.0.1:{redis_port}/0"
timeout_ms = 50

[events]
queue_events = 50

[events.webhook]
url = "http://127.0.0.1:{webhook.port}/hooks"
secret = {{ file = "secret" }}
batch_max_ms = 20
timeout_ms = 500

[upstream]
routes = [{{ command = "C2C.*", url = "http://127.0.0.1:{upstream.port}/c2c" }}]
timeout_ms = 500

[[rule]]
name = "mass-accept"
kind = "rate_limit"
max = 1000000
per_seconds = 60
on_redis_error = "local"
code = 38003
""")
    # The log goes to a pipe this test reads, until it stops reading.
    gateway = subprocess.Popen([os.environ["FRIENDGATE"], "serve", "--config", str(config)],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    processes.append(gateway)
    reading = threading.Event()
    reading.set()

    def drain() -> None:
        assert gateway.stdout is not None
        while True:
            reading.wait()
            if not gateway.stdout.read(65536):
                return

    threading.Thread(target=drain, daemon=True).start()
    wait_for(f"http://127.0.0.1:{admin_port}/healthz")
    rules = scaled_rules(tmp_path)
    (tmp_path / "prometheus.yml").write_text(f"""
global: {{scrape_interval: 1s, evaluation_interval: 1s}}
rule_files: [{rules}]
scrape_configs:
  - job_name: friendgate
    static_configs: [{{targets: ["127.0.0.1:{admin_port}"]}}]
""")
    prometheus = subprocess.Popen(
        [shutil.which("prometheus") or "prometheus", f"--config.file={tmp_path / 'prometheus.yml'}",
         f"--storage.tsdb.path={tmp_path / 'tsdb'}", f"--web.listen-address=127.0.0.1:{prom_port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    processes.append(prometheus)
    wait_for(f"http://127.0.0.1:{prom_port}/-/ready")

    stop = threading.Event()
    base = f"http://127.0.0.1:{port}"

    def load() -> None:
        """Steady traffic: friend responses and a forwarded command, 20/s."""
        other = signed_query().replace("Sns.CallbackPrevFriendResponse", "C2C.CallbackAfterSendMsg")
        while not stop.is_set():
            post(base, sender="alice")
            post(base, signed=False)  # an outsider's request, refused
            try:
                urllib.request.urlopen(urllib.request.Request(f"{base}/callback?{other}", data=b"{}", method="POST"),
                                       timeout=5).read()
            except OSError:
                pass
            time.sleep(0.05)

    threading.Thread(target=load, daemon=True).start()
    state = {"redis": redis, "redis_port": redis_port, "tmp": tmp_path, "webhook": webhook, "upstream": upstream,
             "reading": reading, "port": port, "prometheus": f"http://127.0.0.1:{prom_port}",
             "admin": f"http://127.0.0.1:{admin_port}"}
    yield state
    stop.set()
    webhook.stop()
    upstream.stop()
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
    # The Redis in use now: the test restarts it after killing the first.
    state["redis"].kill()
    state["redis"].wait()


def test_each_fault_fires_its_alert_on_a_real_prometheus_and_clears(stack) -> None:
    prometheus = stack["prometheus"]
    # Healthy, under steady load: rules evaluated, nothing fires.
    time.sleep(15)
    with urllib.request.urlopen(f"{prometheus}/api/v1/rules", timeout=5) as answer:
        groups = json.load(answer)["data"]["groups"]
    assert sum(len(g["rules"]) for g in groups) == 17
    assert alerts(prometheus) == set()
    queries = dashboard_queries()
    assert len(queries) >= 15
    for expr in queries:
        query(prometheus, expr)

    # Every fault at once.
    stack["redis"].kill()
    stack["redis"].wait()
    stack["webhook"].stop()
    stack["upstream"].stop()
    stack["reading"].clear()  # the log pipe: nobody reads it now
    idle = []
    for _ in range(2000):
        sock = socket.create_connection(("127.0.0.1", stack["port"]))
        idle.append(sock)
    seen: set[str] = set()

    def all_fired() -> set[str]:
        seen.clear()
        seen.update(alerts(prometheus))
        return seen if FAULT_ALERTS <= seen else set()

    try:
        fired = wait_until(all_fired, 90, "not every fault's alert fired")
    except AssertionError:
        metrics = urllib.request.urlopen(f"{stack['admin']}/metrics", timeout=5).read().decode()
        lines = [line for line in metrics.splitlines() if re.match(r"friendgate_(connections|other_commands|log_lines)", line)]
        raise AssertionError(f"missing {FAULT_ALERTS - seen}; firing {seen}; " + "\n".join(lines)) from None
    # Only the faults' alerts: none of them is misread as another.
    assert fired == FAULT_ALERTS, fired - FAULT_ALERTS
    # Every panel has data now that every series exists.
    empty = [expr for expr in queries if not query(prometheus, expr)]
    assert not empty, empty

    # Repaired: every alert clears.
    for sock in idle:
        sock.close()
    stack["reading"].set()
    stack["upstream"].start()
    stack["webhook"].start()
    stack["redis"] = start_redis(stack["redis_port"], stack["tmp"])
    wait_until(lambda: not alerts(prometheus), 120, "alerts still firing after the repair")
