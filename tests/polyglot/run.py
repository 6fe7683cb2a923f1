#!/usr/bin/env python3
"""Polyglot conformance: start every friendgate endpoint on 127.0.0.1, run
`friendgate conform --strict --one-url` against each, and print (and write) a table of
endpoint by case family. Exit 1 if any case fails anywhere.

Run by `make test-conformance` (part of `make test`), which builds what the
endpoints need first. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP_ID = "1400000000"
TOKEN = "xxxxyyyy"  # the examples' demo token (examples/demo.token)


def endpoints(friendgate: str, python: str) -> list[dict]:
    """Every endpoint: a name, the command that serves it on {port}, and where."""
    examples = ROOT / "examples"
    return [
        {
            "name": "reference server (Rust)",
            "key": "reference",
            "command": [friendgate, "serve", "--config", str(examples / "friendgate.toml"), "--listen", "127.0.0.1:{port}",
                        "--admin-listen", "127.0.0.1:{admin_port}"],
            "cwd": ROOT,
        },
        {"name": "Python Flask", "key": "flask", "command": [python, "flask_app.py"], "cwd": examples / "python"},
        {"name": "Python FastAPI", "key": "fastapi", "command": [python, "fastapi_app.py"], "cwd": examples / "python"},
        {"name": "Python Django", "key": "django", "command": [python, "django_app.py"], "cwd": examples / "python"},
        {"name": "Node Express", "key": "node", "command": ["node", str(examples / "node" / "server.js")], "cwd": ROOT},
        {"name": "Node Fastify", "key": "fastify", "command": ["node", str(examples / "node" / "fastify.js")], "cwd": ROOT},
        {
            "name": "Kotlin (JDK HttpServer)",
            "key": "kotlin",
            "command": ["mvn", "-B", "-q", "--no-transfer-progress", "exec:java"],
            "cwd": ROOT / "bindings-uniffi" / "kotlin",
        },
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop(process: subprocess.Popen) -> None:
    """Stops the endpoint's whole process group (mvn starts a JVM, etc.)."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def run_one(endpoint: dict, friendgate: str, out: Path, wait: int) -> dict:
    port = free_port()
    url = f"http://127.0.0.1:{port}/callback"
    log = out / f"{endpoint['key']}.log"
    report = out / f"{endpoint['key']}.json"
    report.unlink(missing_ok=True)
    env = dict(os.environ, HOST="127.0.0.1", PORT=str(port), FRIENDGATE_APP_ID=APP_ID, FRIENDGATE_TOKEN=TOKEN)
    admin_port = free_port()
    command = [part.replace("{port}", str(port)).replace("{admin_port}", str(admin_port)) for part in endpoint["command"]]
    print(f"\n== {endpoint['name']}: {url}", flush=True)
    with open(log, "wb") as log_file:
        process = subprocess.Popen(
            command, cwd=endpoint["cwd"], env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            conform = subprocess.run(
                [
                    friendgate, "conform", "--url", url, "--app-id", APP_ID, "--token-env", "FRIENDGATE_TOKEN",
                    "--strict", "--one-url", "--failures-only", "--wait", str(wait), "--json", str(report),
                ],
                env=env,
            )
            crashed = process.poll()
        finally:
            stop(process)
    result = {"endpoint": endpoint["name"], "key": endpoint["key"], "url": url, "exit": conform.returncode}
    if crashed is not None:
        result["error"] = f"the endpoint exited with {crashed} during the run (log: {log})"
    elif not report.exists():
        result["error"] = f"friendgate conform exited with {conform.returncode} and no report (log: {log})"
    else:
        result["report"] = json.loads(report.read_text())
    if "error" in result:
        print(f"ERROR: {result['error']}\n--- last lines of {log}:", flush=True)
        print("\n".join(log.read_text(errors="replace").splitlines()[-20:]), flush=True)
    return result


def summary(results: list[dict]) -> str:
    """Markdown table: one row per endpoint, one column per family (passed/run)."""
    families: list[str] = []
    for result in results:
        for family in result.get("report", {}).get("families", {}):
            if family not in families:
                families.append(family)
    header = ["endpoint", *families, "all", "skipped", "result"]
    rows = [header, ["---"] * len(header)]
    for result in results:
        report = result.get("report")
        if report is None:
            rows.append([result["endpoint"], *["-"] * (len(families) + 2), "ERROR"])
            continue

        def cell(tally: dict | None) -> str:
            if not tally:
                return "-"
            run = tally["passed"] + tally["failed"]
            mark = "" if tally["failed"] == 0 else "✗ "
            return f"{mark}{tally['passed']}/{run}"

        ok = report["passed"] and result["exit"] == 0
        rows.append(
            [
                result["endpoint"],
                *[cell(report["families"].get(family)) for family in families],
                cell(report["summary"]),
                str(report["summary"]["skipped"]),
                "pass" if ok else "FAIL",
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for row in rows:
        if row[0] == "---":
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
        else:
            lines.append("| " + " | ".join(value.ljust(w) for value, w in zip(row, widths)) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--friendgate", required=True, help="the friendgate binary")
    parser.add_argument("--python", required=True, help="a Python with friendgate, Flask, FastAPI, Django and waitress")
    parser.add_argument("--out", default=str(ROOT / "target" / "conformance"), help="reports, logs and summary")
    parser.add_argument("--only", action="append", help="run only these endpoints (reference, flask, fastapi, django, node, fastify, kotlin)")
    parser.add_argument("--wait", type=int, default=180, help="seconds to wait for an endpoint to start")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    # Absolute, since endpoints run in their own folders; abspath, not
    # resolve, which would turn a virtualenv's python into the base one.
    friendgate, python = os.path.abspath(args.friendgate), os.path.abspath(args.python)
    selected = [e for e in endpoints(friendgate, python) if not args.only or e["key"] in args.only]
    results = [run_one(endpoint, friendgate, out, args.wait) for endpoint in selected]
    table = summary(results)
    (out / "summary.md").write_text(
        "# Polyglot conformance\n\n`friendgate conform --strict --one-url` against every endpoint "
        "(passed/run per case family; reports in this folder).\n\n" + table + "\n"
    )
    print(f"\n{table}\n\n(written to {out / 'summary.md'})")
    failed = [r["endpoint"] for r in results if "report" not in r or not r["report"]["passed"] or r["exit"] != 0]
    if failed:
        print(f"conformance FAILED for: {', '.join(failed)}")
        return 1
    print(f"conformance passed for all {len(results)} endpoints")
    return 0


if __name__ == "__main__":
    sys.exit(main())
