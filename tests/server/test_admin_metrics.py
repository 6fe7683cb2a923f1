"""The gateway's /metrics, read by a real Prometheus text parser.

Starts the `friendgate` binary (path in FRIENDGATE) on free loopback ports,
sends callbacks, scrapes the admin listener, and parses the answer with the
`prometheus_client` package's OpenMetrics parser, the format its content
type announces. Run by `make test-server-metrics` (part of `make test`).
"""

from __future__ import annotations

import os
import subprocess
import urllib.error
import urllib.request

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from helpers import ROOT, free_port, post, wait_for


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


def test_metrics_parse_as_the_format_their_content_type_names(gateway):
    base, admin = gateway
    assert [post(base)[0] for _ in range(3)] == [200] * 3
    assert post(base, signed=False)[0] == 401
    with urllib.request.urlopen(f"{admin}/metrics", timeout=5) as response:
        content_type = response.headers["Content-Type"]
        text = response.read().decode()
    assert content_type.startswith("application/openmetrics-text; version=1.0.0")
    families = {family.name: family for family in text_string_to_metric_families(text)}
    callbacks = families["friendgate_callbacks"]
    assert callbacks.type == "counter"
    samples = {(s.name, s.labels.get("outcome"), s.labels.get("error"), s.labels.get("command")): s.value
               for s in callbacks.samples}
    assert samples[("friendgate_callbacks_total", "ok", "none", "Sns.CallbackPrevFriendResponse")] == 3
    assert samples[("friendgate_callbacks_total", "ok", "none", "Sns.CallbackPrevFriendAdd")] == 0
    assert samples[("friendgate_callbacks_total", "fail", "missing_signature", "unknown")] == 1
    for name in ["friendgate_decisions", "friendgate_log_lines_dropped"]:
        assert families[name].type == "counter", name
    assert families["friendgate_callback_duration_seconds"].type == "histogram"
    assert families["friendgate_connections"].type == "gauge"


def test_metrics_are_not_on_the_callback_port(gateway):
    base, _ = gateway
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{base}/metrics", timeout=5)
    assert refused.value.code == 404
