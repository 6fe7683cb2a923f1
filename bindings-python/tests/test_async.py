"""handle_async: coroutine deciders, the shared deadline, failures."""

import asyncio
import time
import warnings

import pytest

from friendgate import Allow, CallbackHandler, Reject

NOW = 1669872112


async def test_coroutine_deciders(sample):
    handler = CallbackHandler(app_ids=[1400000000], tokens=["xxxxyyyy"])

    async def decide(event, item):
        await asyncio.sleep(0.01)
        return Reject(38002, "async no") if item.index == 1 else Allow()

    reply = await handler.handle_async(*sample, decide, now=NOW)
    assert reply.status == 200
    assert b'{"To_Account":"id2","ResultCode":38002,"ResultInfo":"async no"}' in reply.body


async def test_late_decider_gets_the_failure_policy_within_the_deadline(sample):
    handler = CallbackHandler(app_ids=[1400000000], tokens=["xxxxyyyy"], decider_deadline_ms=200)

    async def slow(event, item):
        if item.index == 1:
            await asyncio.sleep(5)
        return Allow()

    started = time.monotonic()
    reply = await handler.handle_async(*sample, slow, now=NOW)
    assert time.monotonic() - started < 1.0
    assert b'{"To_Account":"id1","ResultCode":0,"ResultInfo":""}' in reply.body
    assert b'{"To_Account":"id2","ResultCode":38900,"ResultInfo":"decision unavailable"}' in reply.body


async def test_fail_callback_names_the_deadline(sample):
    handler = CallbackHandler(app_ids=[1400000000], tokens=["xxxxyyyy"], decider_deadline_ms=100,
                              on_decider_error={"policy": "fail_callback"})

    async def slow(event, item):
        await asyncio.sleep(5)

    reply = await handler.handle_async(*sample, slow, now=NOW)
    assert reply.status == 500
    assert b"decision for item 0 failed: decider deadline exceeded" in reply.body


async def test_the_event_loop_keeps_running_during_a_large_body():
    from friendgate.testing import sample_body, signed_query

    handler = CallbackHandler(app_ids=[1400000000], tokens=["xxxxyyyy"], limits={"max_items": 20000})
    query = signed_query(1400000000, "xxxxyyyy", NOW)
    body = sample_body(items=8000).encode()
    assert len(body) > 512 * 1024
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    before = ticks
    reply = await handler.handle_async(query, body, now=NOW)
    during = ticks - before
    task.cancel()
    assert reply.status == 200 and reply.body.count(b'"ResultCode":0') == 8000
    assert during > 1, "the loop ran other tasks while the body was parsed"


async def test_refused_callbacks_answer_without_deciding(sample):
    handler = CallbackHandler(app_ids=[1400000000], tokens=["other"])
    called = []
    reply = await handler.handle_async(*sample, lambda e, i: called.append(i), now=NOW)
    assert (reply.status, reply.error_code, called) == (401, "bad_signature", [])


async def test_coroutine_deciders_of_one_callback_run_concurrently():
    from friendgate.testing import sample_body, signed_query

    handler = CallbackHandler(app_ids=[1400000000], tokens=["xxxxyyyy"])
    query = signed_query(1400000000, "xxxxyyyy", NOW)
    body = sample_body(items=20).encode()

    async def lookup(event, item):
        await asyncio.sleep(0.05)  # a 50 ms lookup per item
        return Allow()

    started = time.monotonic()
    reply = await handler.handle_async(query, body, lookup, now=NOW)
    took = time.monotonic() - started
    assert reply.status == 200 and reply.body.count(b'"ResultCode":0') == 20
    # One after another, 20 lookups take a second.
    assert took < 0.5, f"{took:.3f} s"


async def test_synchronous_deciders_run_in_item_order(sample):
    handler = CallbackHandler(app_ids=[1400000000], tokens=["xxxxyyyy"])
    seen = []

    def decide(event, item):
        seen.append(item.index)
        return Allow()

    await handler.handle_async(*sample, decide, now=NOW)
    assert seen == [0, 1]


async def test_a_failing_decider_is_reported_on_the_friendgate_logger(sample, caplog):
    handler = CallbackHandler(app_ids=[1400000000], tokens=["xxxxyyyy"])

    async def decide(event, item):
        if item.index == 1:
            raise LookupError("moderation service unreachable")
        return Allow()

    with caplog.at_level("WARNING", logger="friendgate"):
        reply = await handler.handle_async(*sample, decide, now=NOW)
    assert b'"ResultCode":38900' in reply.body
    [record] = [r for r in caplog.records if r.name == "friendgate"]
    message = record.getMessage()
    assert message == 'decision for item 1 (To_Account "id2") failed: moderation service unreachable; answered by the failure policy'
    assert "xxxxyyyy" not in message


def test_a_failing_synchronous_decider_is_reported_too(sample, caplog):
    handler = CallbackHandler(app_ids=[1400000000], tokens=["xxxxyyyy"])

    def decide(event, item):
        return 42  # not a decision

    with caplog.at_level("WARNING", logger="friendgate"):
        handler.handle(*sample, decide, now=NOW)
    messages = [r.getMessage() for r in caplog.records if r.name == "friendgate"]
    assert len(messages) == 2 and "item 0" in messages[0], messages


@pytest.mark.parametrize(
    ("returned", "reason"),
    [
        (42, "decide returned int, expected allow or reject"),
        (None, "decide returned no decision, expected allow or reject"),
    ],
)
def test_wrong_values_are_worded_by_core(sample, caplog, returned, reason):
    handler = CallbackHandler(app_ids=[1400000000], tokens=["xxxxyyyy"])
    with caplog.at_level("WARNING", logger="friendgate"):
        handler.handle(*sample, lambda event, item: returned, now=NOW)
    messages = [r.getMessage() for r in caplog.records if r.name == "friendgate"]
    assert messages[0] == f'decision for item 0 (To_Account "id1") failed: {reason}; answered by the failure policy'


def test_a_coroutine_from_the_synchronous_handle_points_to_handle_async(sample, caplog):
    handler = CallbackHandler(app_ids=[1400000000], tokens=["xxxxyyyy"])

    async def decide(event, item):
        return Allow()

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "coroutine was never awaited"
        with caplog.at_level("WARNING", logger="friendgate"):
            reply = handler.handle(*sample, decide, now=NOW)
    assert b'"ResultCode":38900' in reply.body
    messages = [r.getMessage() for r in caplog.records if r.name == "friendgate"]
    assert "decide returned coroutine, which needs the async handler" in messages[0]
