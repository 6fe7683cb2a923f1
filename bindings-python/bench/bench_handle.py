"""friendgate's handle() with a Python decide, beside a pure-Python handler
doing the same checks, on the platform's signed sample; then handle_add() on
the friend-request sample beside its pure-Python handler. Run with the
binding built in release mode: `make bench-python`."""

import hashlib
import hmac
import json
import time
import timeit
import urllib.parse

from friendgate import Allow, CallbackHandler, Reject
from friendgate.testing import sample_add_body, sample_body, signed_query

APP_ID, TOKEN = 1400000000, "xxxxyyyy"
CMD = "Sns.CallbackPrevFriendResponse"
NOW = int(time.time())
QUERY = signed_query(APP_ID, TOKEN, NOW)
BODY = sample_body().encode()


def decide(event, item):
    return Reject(38001, "spam") if "spam" in item.remark else Allow()


handler = CallbackHandler(app_ids=[APP_ID], tokens=[TOKEN])


def friendgate_handle():
    return handler.handle(QUERY, BODY, decide)


def fail(status, code, info):
    return status, json.dumps({"ActionStatus": "FAIL", "ErrorCode": code, "ErrorInfo": info, "ResultItem": []},
                              separators=(",", ":"), ensure_ascii=False).encode()


def short(value, limit):
    return isinstance(value, str) and len(value.encode()) <= limit


def checked(query, body, command):
    """The checks every command shares: the query, the Sign, the window, the
    JSON, the command and the accounts. The parsed body, or the refusal."""
    params = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
    if params.get("SdkAppid") != str(APP_ID):
        return None, fail(403, 38010, "foreign app")
    if params.get("CallbackCommand") != command or params.get("contenttype") != "json":
        return None, fail(400, 38005, "bad command")
    request_time, sign = params.get("RequestTime"), params.get("Sign")
    if request_time is None or sign is None:
        return None, fail(401, 38011, "missing Sign")
    expected = hashlib.sha256((TOKEN + request_time).encode()).hexdigest()
    if not hmac.compare_digest(expected, sign.lower()):
        return None, fail(401, 38012, "bad Sign")
    if not request_time.isdigit() or abs(int(request_time) - int(time.time())) > 60:
        return None, fail(401, 38013, "stale")
    if len(body) > 1 << 20:
        return None, fail(413, 38020, "too large")
    try:
        data = json.loads(body)
    except ValueError:
        return None, fail(400, 38022, "bad JSON")
    if not isinstance(data, dict) or data.get("CallbackCommand") != command:
        return None, fail(400, 38029, "bad command")
    if not (short(data.get("Requester_Account"), 32) and short(data.get("From_Account"), 32)):
        return None, fail(400, 38025, "bad account")
    return data, None


def pure_python_handle(query=QUERY, body=BODY):
    """What a careful hand-written endpoint does."""
    data, refused = checked(query, body, CMD)
    if refused:
        return refused
    event_time = data.get("EventTime")
    if not isinstance(event_time, int) or isinstance(event_time, bool) or event_time < 0:
        return fail(400, 38025, "bad EventTime")
    items = data.get("ResponseFriendItem")
    if not isinstance(items, list) or len(items) > 1000:
        return fail(400, 38025, "bad items")
    results = []
    for item in items:
        if not (isinstance(item, dict) and short(item.get("To_Account"), 32)
                and short(item.get("Remark", ""), 96) and short(item.get("TagName", ""), 96)
                and isinstance(item.get("ResponseAction"), str)):
            return fail(400, 38025, "bad item")
        code, info = (38001, "spam") if "spam" in item.get("Remark", "") else (0, "")
        results.append({"To_Account": item["To_Account"], "ResultCode": code, "ResultInfo": info})
    answer = {"ActionStatus": "OK", "ErrorCode": 0, "ErrorInfo": "", "ResultItem": results}
    return 200, json.dumps(answer, separators=(",", ":"), ensure_ascii=False).encode()


def per_call(fn, rounds=7, number=20000):
    return min(timeit.repeat(fn, repeat=rounds, number=number)) / number


ADD = "Sns.CallbackPrevFriendAdd"
ADD_QUERY = signed_query(APP_ID, TOKEN, NOW, command=ADD)
ADD_BODY = sample_add_body().encode()


def decide_add(event, item):
    return Reject(38010, "spam") if "spam" in item.add_wording else Allow()


def friendgate_handle_add():
    return handler.handle_add(ADD_QUERY, ADD_BODY, decide_add)


def pure_python_handle_add(query=ADD_QUERY, body=ADD_BODY):
    """The same careful checks for a friend request (texts of any length)."""
    data, refused = checked(query, body, ADD)
    if refused:
        return refused
    for key in ("EventTime", "ForceAddFlags"):
        value = data.get(key, 0)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            return fail(400, 38025, f"bad {key}")
    if not isinstance(data.get("AddType", ""), str):
        return fail(400, 38025, "bad AddType")
    items = data.get("FriendItem")
    if not isinstance(items, list) or len(items) > 1000:
        return fail(400, 38025, "bad items")
    results = []
    for item in items:
        if not (isinstance(item, dict) and short(item.get("To_Account"), 32)
                and all(isinstance(item.get(key, ""), str) for key in ("Remark", "GroupName", "AddSource", "AddWording"))):
            return fail(400, 38025, "bad item")
        code, info = (38010, "spam") if "spam" in item.get("AddWording", "") else (0, "")
        results.append({"To_Account": item["To_Account"], "ResultCode": code, "ResultInfo": info})
    answer = {"ActionStatus": "OK", "ErrorCode": 0, "ErrorInfo": "", "ResultItem": results}
    return 200, json.dumps(answer, separators=(",", ":"), ensure_ascii=False).encode()


def compare(name, ours_fn, theirs_fn):
    ours, theirs = ours_fn(), theirs_fn()
    assert (ours.status, ours.body) == theirs, "both must give the same answer bytes"
    fg = per_call(ours_fn)
    py = per_call(theirs_fn)
    print(f"{name}: friendgate {fg * 1e6:.2f} us/callback ({1 / fg:,.0f}/s), "
          f"pure Python {py * 1e6:.2f} us ({1 / py:,.0f}/s), speed-up {py / fg:.1f}x")


def main():
    compare("friend responses", friendgate_handle, pure_python_handle)
    compare("friend requests ", friendgate_handle_add, pure_python_handle_add)


if __name__ == "__main__":
    main()
