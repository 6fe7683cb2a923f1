"""The Python API: handler, decisions, errors, typed callback, threads."""

import datetime
import pickle
import threading

import pytest

import friendgate
from friendgate import (
    Allow,
    AppIdError,
    BodyError,
    CallbackError,
    CallbackHandler,
    ConfigurationError,
    DecisionError,
    LimitError,
    Reject,
    Response,
    SignatureError,
)
from friendgate.testing import sample_body, sign, signed_query

NOW = 1669872112


@pytest.fixture
def handler():
    return CallbackHandler(app_ids=[1400000000], tokens=["xxxxyyyy"])


def test_known_sign_and_query():
    assert sign("xxxxyyyy", NOW) == "17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061"
    query = signed_query(1400000000, "xxxxyyyy", NOW, platform="Android", client_ip="::1")
    assert "OptPlatform=Android" in query and "ClientIP=%3A%3A1" in query
    assert "Sign=" not in signed_query(1400000000)


def test_handle_without_decide_allows_all(handler, sample):
    reply = handler.handle(*sample, now=NOW)
    assert reply.ok and reply.error_code is None
    assert reply.body.count(b'"ResultCode":0') == 2


def test_decide_sees_the_whole_context(handler, sample):
    seen = []

    def decide(event, item):
        seen.append((event.sdk_app_id, event.platform, event.client_ip, event.from_account,
                     event.requester_account, event.event_time_ms, item.index, item.to_account,
                     item.remark, item.tag_name, item.action, item.is_accept))
        return Allow()

    handler.handle(*sample, decide, now=NOW)
    assert seen == [
        (1400000000, "iOS", "127.0.0.1", "id", "id", 1631777645424, 0, "id1", "remark1", "group1", "Response_Action_AgreeAndAdd", True),
        (1400000000, "iOS", "127.0.0.1", "id", "id", 1631777645424, 1, "id2", "remark2", "group2", "Response_Action_Reject", False),
    ]


def test_failing_and_wrong_deciders_get_the_failure_policy(handler, sample):
    def raises(event, item):
        raise ConnectionError("db down")

    for bad in (raises, lambda e, i: "yes", lambda e, i: None, lambda e, i: 0):
        reply = handler.handle(*sample, bad, now=NOW)
        assert reply.status == 200
        assert reply.body.count(b'"ResultCode":38900,"ResultInfo":"decision unavailable"') == 2

    strict = CallbackHandler(app_ids=[1400000000], tokens=["xxxxyyyy"], on_decider_error={"policy": "fail_callback"})
    reply = strict.handle(*sample, raises, now=NOW)
    assert (reply.status, reply.error_code) == (500, "decider_failed")
    assert b"decision for item 0 failed: db down" in reply.body


def test_keyboard_interrupt_is_not_swallowed(handler, sample):
    def interrupt(event, item):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        handler.handle(*sample, interrupt, now=NOW)


def test_reject_checks_its_code():
    assert Reject(38000, "a").code == 38000 and Reject(39000).info == ""
    with pytest.raises(DecisionError) as info:
        Reject(37999, "low")
    assert info.value.code == "invalid_result_code"
    assert str(info.value) == "result code 37999 is outside [38000, 39000]"
    assert Reject(38001, "x") == Reject(38001, "x") and Reject(38001, "x") != Reject(38002, "x")
    assert Allow() == Allow() and repr(Reject(38001, "it's")) == "Reject(38001, 'it\\'s')"
    assert pickle.loads(pickle.dumps(Reject(38005, "p"))) == Reject(38005, "p")


@pytest.mark.parametrize(
    "query_fix, body, family, code",
    [
        (lambda q: q.replace("1400000000", "1400000001"), None, AppIdError, "foreign_app_id"),
        (lambda q: q.replace("Sign=1", "Sign=2"), None, SignatureError, "bad_signature"),
        (lambda q: q, b"{", BodyError, "malformed_json"),
        (lambda q: q, b"x" * (1 << 21), LimitError, "body_too_large"),
    ],
)
def test_verify_raises_by_family(handler, sample, query_fix, body, family, code):
    query = query_fix(sample[0])
    with pytest.raises(family) as info:
        handler.verify(query, body if body is not None else sample[1], now=NOW)
    error = info.value
    assert isinstance(error, CallbackError) and isinstance(error, ValueError)
    assert error.code == code and error.code in friendgate.ERROR_CODES
    assert 38000 <= error.error_code <= 39000 and error.http_status >= 400
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is family and again.__dict__ == error.__dict__ and str(again) == str(error)


def test_verify_returns_the_typed_callback(handler, sample):
    event = handler.verify(*sample, now=NOW)
    assert event.event_time == datetime.datetime(2021, 9, 16, 7, 34, 5, 424000, tzinfo=datetime.timezone.utc)
    assert event.request_time == NOW and event.platform_known
    assert [i.to_account for i in event.items] == ["id1", "id2"]
    with pytest.raises(AttributeError):
        event.from_account = "x"


def test_configuration_errors():
    with pytest.raises(ConfigurationError) as info:
        CallbackHandler(app_ids=[])
    assert info.value.code == "no_app_ids"
    with pytest.raises(ConfigurationError, match="unknown field `max_itemz`"):
        CallbackHandler(app_ids=[1], limits={"max_itemz": 3})
    with pytest.raises(ConfigurationError):
        CallbackHandler(app_ids=[1], limits={"max_depth": 1})
    # Core's code and message, the same in every language.
    with pytest.raises(ConfigurationError) as info:
        CallbackHandler(app_ids=[1], on_decider_error={"policy": "reject", "code": 5})
    assert info.value.code == "invalid_result_code"
    assert str(info.value) == "on_decider_error.code: result code 5 is outside [38000, 39000]"
    with pytest.raises(ConfigurationError) as info:
        CallbackHandler(app_ids=[1], decider_deadline_ms=2000)
    assert info.value.code == "deadline_out_of_range"
    assert CallbackHandler(app_ids=[1], decider_deadline_ms=250).decider_deadline_ms == 250
    assert CallbackHandler(app_ids=[1], window_seconds=5) is not None


def test_body_types(handler, sample):
    query, body = sample
    for variant in (body, bytearray(body), memoryview(body), body.decode()):
        assert handler.handle(query, variant, now=NOW).status == 200
    with pytest.raises(TypeError):
        handler.handle(query, 42, now=NOW)


def test_response_builder():
    built = Response.allow_all(["a", "b"]).reject("b", 38001, "spam").to_bytes()
    assert built == b'{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","ResultItem":[{"To_Account":"a","ResultCode":0,"ResultInfo":""},{"To_Account":"b","ResultCode":38001,"ResultInfo":"spam"}]}'
    assert Response.fail(38500, "maintenance").to_bytes() == b'{"ActionStatus":"FAIL","ErrorCode":38500,"ErrorInfo":"maintenance","ResultItem":[]}'
    with pytest.raises(DecisionError):
        Response.fail(1, "x")


def test_one_handler_shared_by_threads(handler):
    results = []

    def work(n):
        query = signed_query(1400000000, "xxxxyyyy", NOW)
        body = sample_body(items=n, from_account=f"user{n}").encode()
        for _ in range(200):
            reply = handler.handle(query, body, lambda e, i: Reject(38001, e.from_account) if i.index == 0 else Allow(), now=NOW)
            results.append(reply.body.count(b"ResultCode") == n and f'"ResultInfo":"user{n}"'.encode() in reply.body)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(1, 9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 1600 and all(results)


def test_authenticate_and_route_any_command():
    from friendgate import CallbackRequest, Reply, processed
    from friendgate.errors import SignatureError

    handler = CallbackHandler(app_ids=[1400000000], tokens=["xxxxyyyy"])
    query = signed_query(1400000000, "xxxxyyyy", 1669872112).replace(
        "Sns.CallbackPrevFriendResponse", "State.StateChange"
    )
    request = handler.authenticate(query, now=1669872112)
    assert (request.command, request.command_known, request.sdk_app_id, request.request_time) == (
        "State.StateChange",
        True,
        1400000000,
        1669872112,
    )
    assert request.platform == "iOS" and request.client_ip == "127.0.0.1"
    routed = handler.route(query, now=1669872112)
    assert isinstance(routed, CallbackRequest) and routed.command == "State.StateChange"
    assert handler.route(signed_query(1400000000, "xxxxyyyy", 1669872112), now=1669872112) is None
    with pytest.raises(SignatureError) as info:
        handler.authenticate(query.replace("Sign=1", "Sign=2"), now=1669872112)
    assert info.value.code == "bad_signature"
    refused = handler.route(query, now=1669872112 + 3600)
    assert isinstance(refused, Reply) and refused.error_code == "request_time_too_old"
    assert processed().body == b'{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}'


def test_the_error_catalogue_is_cores_as_in_every_binding():
    assert [entry.code for entry in friendgate.ERROR_CATALOGUE] == list(friendgate.ERROR_CODES)
    bad = next(entry for entry in friendgate.ERROR_CATALOGUE if entry.code == "bad_signature")
    assert bad == friendgate.ErrorEntry("bad_signature", 38012, 401, "signature")
    assert all(38000 <= entry.error_code <= 39000 for entry in friendgate.ERROR_CATALOGUE)


def test_refusal_with_a_code_that_is_no_transport_refusal_raises_cores_message():
    from friendgate._native import refusal

    assert refusal("overloaded", "").status == 503
    with pytest.raises(ValueError, match=r"^bad_signature is not a transport refusal "
                       r"\(method_not_allowed, request_timeout, overloaded, body_incomplete\)$"):
        refusal("bad_signature", "")


def test_decider_failures_go_to_the_hook_as_cores_rows():
    seen: list = []
    handler = friendgate.CallbackHandler(app_ids=[1400000000], tokens=["xxxxyyyy"],
                                         on_decider_failure=seen.append)
    now = 1669872112

    def decide(event, item):
        if item.to_account == "id1":
            raise RuntimeError("lookup failed")
        return "yes"

    reply = handler.handle(signed_query(1400000000, "xxxxyyyy", now), sample_body(), decide, now=now)
    assert reply.status == 200
    assert [(f.index, f.to_account) for f in seen] == [(0, "id1"), (1, "id2")]
    assert seen[0].reason == "lookup failed"
    assert seen[0].report == ('decision for item 0 (To_Account "id1") failed: lookup failed; '
                              'answered by the failure policy')
    assert all(isinstance(f, friendgate.DeciderFailure) for f in seen)


def test_a_hook_that_raises_costs_the_callback_nothing(caplog):
    def hook(failure):
        raise ValueError("broken hook")

    handler = friendgate.CallbackHandler(app_ids=[1400000000], tokens=["xxxxyyyy"], on_decider_failure=hook)
    now = 1669872112
    with caplog.at_level("WARNING", logger="friendgate"):
        reply = handler.handle(signed_query(1400000000, "xxxxyyyy", now), sample_body(),
                               lambda event, item: None, now=now)
    assert reply.status == 200
    assert any("broken hook" in r.getMessage() for r in caplog.records)
    with pytest.raises(friendgate.ConfigurationError):
        friendgate.CallbackHandler(app_ids=[1400000000], on_decider_failure="not callable")


def test_a_bad_setting_gets_cores_message_naming_it_as_in_every_binding():
    with pytest.raises(ConfigurationError) as info:
        friendgate.CallbackHandler(app_ids=[-1])
    assert (info.value.code, info.value.message) == (
        "invalid_setting", "app_ids[0]: invalid value: integer `-1`, expected u64")
