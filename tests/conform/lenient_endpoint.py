"""A callback endpoint written the lenient way, with Python's standard
library only, as a careful team might write one by hand: it checks the app
id, the command, the Sign (in constant time) and the RequestTime window,
parses the JSON, checks the field types the answer depends on and the
documented byte limits of friend responses, and answers one ResultItem per
item, in order, for friend responses and friend requests alike. It
does none of friendgate's extra hardening (duplicate keys and parameters,
depth, item count, exact types of fields the answer does not depend on).

`friendgate conform` must pass it with warnings, and fail it with
`--warnings-as-failures`. `BREAK=...` breaks it on purpose, to prove the
real failures are still caught: `nosign` (no Sign check), `reorder`
(ResultItem reversed), `drop` (the last item dropped), `badcode` (ResultCode
1), `slow` (answers after 1.5 s), `noadd` (friend requests answered as
another command, "processed", as endpoints written for friend responses
alone do). `BREAK=strict` is not broken but strict:
it refuses a body that lacks any field the documentation shows
(`Requester_Account`, `EventTime`, an item's `Remark` or `TagName`; for a
friend request also `AddType`, `ForceAddFlags`, an item's `GroupName`,
`AddSource` and `AddWording`), which `conform` must warn about, not fail.

Usage: python3 lenient_endpoint.py PORT   (env FRIENDGATE_TOKEN, BREAK)
"""

import hashlib
import hmac
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

APP_ID = "1400000000"
TOKEN = os.environ.get("FRIENDGATE_TOKEN", "xxxxyyyy")
BREAK = os.environ.get("BREAK", "")
# Per command: its items' field, the fields a strict reading wants at the
# top and in each item, and whether its items carry a ResponseAction.
COMMANDS = {
    "Sns.CallbackPrevFriendResponse": ("ResponseFriendItem", ("Requester_Account", "EventTime"), ("Remark", "TagName"), True),
    "Sns.CallbackPrevFriendAdd": ("FriendItem", ("Requester_Account", "EventTime", "AddType", "ForceAddFlags"),
                                  ("Remark", "GroupName", "AddSource", "AddWording"), False),
}


def fail(code, info):
    return 400, {"ActionStatus": "FAIL", "ErrorCode": code, "ErrorInfo": info}


def answer(query, body):
    params = {key: values[0] for key, values in parse_qs(query, keep_blank_values=True).items()}
    if params.get("SdkAppid") != APP_ID:
        return 403, {"ActionStatus": "FAIL", "ErrorCode": 1, "ErrorInfo": "wrong app"}
    if BREAK != "nosign":
        sign, request_time = params.get("Sign", ""), params.get("RequestTime", "")
        expected = hashlib.sha256((TOKEN + request_time).encode()).hexdigest()
        if not hmac.compare_digest(sign.lower(), expected):
            return 401, {"ActionStatus": "FAIL", "ErrorCode": 1, "ErrorInfo": "bad Sign"}
        if not request_time.isdigit() or abs(int(request_time) - time.time()) > 60:
            return 401, {"ActionStatus": "FAIL", "ErrorCode": 1, "ErrorInfo": "stale"}
    if params.get("CallbackCommand") not in COMMANDS or (
            BREAK == "noadd" and params["CallbackCommand"] == "Sns.CallbackPrevFriendAdd"):
        # The app's one URL: other callbacks are processed elsewhere.
        return 200, {"ActionStatus": "OK", "ErrorCode": 0, "ErrorInfo": ""}
    list_field, top_fields, item_fields, responses = COMMANDS[params["CallbackCommand"]]
    try:
        data = json.loads(body)
    except ValueError:
        return fail(1, "not JSON")
    if not isinstance(data, dict):
        return fail(1, "not an object")
    items = data.get(list_field)
    if not isinstance(data.get("From_Account"), str) or not isinstance(items, list):
        return fail(1, "missing fields")
    if BREAK == "strict" and not all(field in data for field in top_fields):
        return fail(1, "a documented field is missing")
    if len(data["From_Account"].encode()) > 32:
        return fail(1, "From_Account too long")
    results = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("To_Account"), str):
            return fail(1, "bad item")
        if responses and not isinstance(item.get("ResponseAction"), str):
            return fail(1, "bad item")
        if BREAK == "strict" and not all(field in item for field in item_fields):
            return fail(1, "a documented item field is missing")
        if len(item["To_Account"].encode()) > 32:
            return fail(1, "To_Account too long")
        remark = item.get("Remark", "")
        if responses and isinstance(remark, str) and len(remark.encode()) > 96:
            return fail(1, "Remark too long")
        results.append({"To_Account": item["To_Account"], "ResultCode": 1 if BREAK == "badcode" else 0, "ResultInfo": ""})
    if BREAK == "reorder":
        results.reverse()
    if BREAK == "drop" and results:
        results.pop()
    if BREAK == "slow":
        time.sleep(1.5)
    return 200, {"ActionStatus": "OK", "ErrorCode": 0, "ErrorInfo": "", "ResultItem": results}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the platform expects

    def send(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > 1 << 20:
            self.close_connection = True
            return self.send(*fail(1, "too large"))
        body = self.rfile.read(length)
        self.send(*answer(urlsplit(self.path).query, body))

    def do_GET(self):
        self.send(405, {"ActionStatus": "FAIL", "ErrorCode": 1, "ErrorInfo": "POST only"})

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    print("listening", flush=True)
    server.serve_forever()
