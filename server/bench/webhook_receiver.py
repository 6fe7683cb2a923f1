"""A webhook receiver for server/bench/events.sh: answers 204 at once and
records, for every event, the time from its answer (`answered_at_ms`) to
its arrival here. On SIGTERM prints the count and the delay percentiles."""

import re
import signal
import statistics
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

delays: list[float] = []
ANSWERED = re.compile(rb'"answered_at_ms":(\d+)')


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        now = time.time() * 1000
        # A regular expression rather than json.loads: the receiver shares a
        # core with the load generator and must not slow it.
        delays.extend(now - int(t) for t in ANSWERED.findall(body))
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def report(*_: object) -> None:
    if delays:
        q = statistics.quantiles(delays, n=100)
        print(f"events {len(delays)}; delay answer -> sink: p50 {q[49]:.1f} ms, p99 {q[98]:.1f} ms", flush=True)
    else:
        print("events 0", flush=True)
    sys.exit(0)


signal.signal(signal.SIGTERM, report)
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
