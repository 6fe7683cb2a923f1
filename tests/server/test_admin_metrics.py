"""The gateway's /metrics, read by a real Prometheus text parser.

Starts the `friendgate` binary (path in FRIENDGATE) on free loopback ports,
sends callbacks, scrapes the admin listener, and parses the answer with the
`prometheus_client` package's OpenMetrics parser, the format its content
type announces. Run by `make test-server-metrics` (part of `make test`).
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "xxxxyyyy"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str) -> None:
    deadline = time.monotonic() + 15
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@pytest.fixture(scope="module")
def gateway():
    port, admin = free_port(), free_port()
    process = subprocess.Popen(
        [os.environ["FRIENDGATE"], "serve", "--config", str(ROOT / "examples" / "friendgate.toml"),
         "--listen", f"127.0.0.1:{port}", "--admin-listen", f"127.0.0.1:{admin}"],
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_for(f"http://127.0.0.1:{admin}/healthz")
        yield f"http://127.0.0.1:{port}", f"http://127.0.0.1:{admin}"
    finally:
        process.terminate()
        process.wait(timeout=15)


def post(base: str, signed: bool) -> int:
    now = str(int(time.time()))
    query = "SdkAppid=1400000000&CallbackCommand=Sns.CallbackPrevFriendResponse&contenttype=json&OptPlatform=iOS"
    if signed:
        query += f"&RequestTime={now}&Sign={hashlib.sha256((TOKEN + now).encode()).hexdigest()}"
    body = json.dumps({"CallbackCommand": "Sns.CallbackPrevFriendResponse", "Requester_Account": "a",
                       "From_Account": "a", "EventTime": 1,
                       "ResponseFriendItem": [{"To_Account": "b", "Remark": "", "TagName": "",
                                               "ResponseAction": "Response_Action_Agree"}]}).encode()
    request = urllib.request.Request(f"{base}/callback?{query}", data=body, method="POST")
    try:
        return urllib.request.urlopen(request, timeout=5).status
    except urllib.error.HTTPError as error:
        return error.code


def test_metrics_parse_as_the_format_their_content_type_names(gateway):
    base, admin = gateway
    assert [post(base, True) for _ in range(3)] == [200] * 3
    assert post(base, False) == 401
    with urllib.request.urlopen(f"{admin}/metrics", timeout=5) as response:
        content_type = response.headers["Content-Type"]
        text = response.read().decode()
    assert content_type.startswith("application/openmetrics-text; version=1.0.0")
    families = {family.name: family for family in text_string_to_metric_families(text)}
    callbacks = families["friendgate_callbacks"]
    assert callbacks.type == "counter"
    samples = {(s.name, s.labels.get("outcome"), s.labels.get("error")): s.value for s in callbacks.samples}
    assert samples[("friendgate_callbacks_total", "ok", "none")] == 3
    assert samples[("friendgate_callbacks_total", "fail", "missing_signature")] == 1
    for name in ["friendgate_decisions", "friendgate_log_lines_dropped"]:
        assert families[name].type == "counter", name
    assert families["friendgate_callback_duration_seconds"].type == "histogram"
    assert families["friendgate_connections"].type == "gauge"


def test_metrics_are_not_on_the_callback_port(gateway):
    base, _ = gateway
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{base}/metrics", timeout=5)
    assert refused.value.code == 404
