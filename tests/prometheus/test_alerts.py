"""The alert rules (deploy/prometheus/alerts.yml) under promtool: they load,
their unit tests pass, and each alert's test fails when its expression's
metric is renamed (a rule reading a metric the gateway does not export
would never fire, silently). Needs promtool (Debian's prometheus package,
installed by `make system-deps`)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus"


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # Not skipped when missing: `make test-alerts` installs it first.
    path = shutil.which("promtool")
    assert path, "promtool is missing: run `make system-deps` (Debian's prometheus package)"
    return subprocess.run([path, *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def alerts() -> list[tuple[str, str]]:
    """(alert name, its expression's first friendgate metric) for each alert."""
    text = (RULES / "alerts.yml").read_text()
    found = []
    for block in re.split(r"\n      - alert: ", text)[1:]:
        name = block.split("\n", 1)[0].strip()
        expr = block.split("expr:", 1)[1].split("\n        for:", 1)[0].split("\n        labels:", 1)[0]
        metric = re.search(r"\b(friendgate[:_][a-z_:0-9]+|up)\b", expr)
        assert metric, name
        found.append((name, metric.group(1)))
    return found


def test_the_rules_load_and_their_tests_pass() -> None:
    checked = promtool("check", "rules", "alerts.yml", cwd=RULES)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = promtool("test", "rules", "alerts.test.yml", cwd=RULES)
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_alert_has_a_firing_test_and_a_runbook() -> None:
    tests = (RULES / "alerts.test.yml").read_text()
    runbook = (ROOT / "docs" / "operations.md").read_text().lower()
    for name, _ in alerts():
        assert re.search(rf"alertname: {name}\n\s+exp_alerts:", tests), f"{name} has no firing test"
        assert f"### {name.lower()}" in runbook, f"{name} has no runbook section"


@pytest.mark.parametrize("name,metric", alerts())
def test_an_alert_reading_a_renamed_metric_fails_its_test(tmp_path: Path, name: str, metric: str) -> None:
    text = (RULES / "alerts.yml").read_text()
    start = text.index(f"- alert: {name}\n")
    end = text.find("\n      - alert: ", start + 1)
    end = len(text) if end < 0 else end
    block = text[start:end]
    broken = block.replace(metric, metric + "_renamed", 1)
    assert broken != block
    (tmp_path / "alerts.yml").write_text(text[:start] + broken + text[end:])
    shutil.copy(RULES / "alerts.test.yml", tmp_path / "alerts.test.yml")
    tested = promtool("test", "rules", "alerts.test.yml", cwd=tmp_path)
    assert tested.returncode != 0, f"{name} still passes with {metric} renamed"
