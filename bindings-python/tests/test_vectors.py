"""Every conformance vector through the Python API, byte for byte."""

import pytest

from friendgate import Allow, CallbackHandler, Reject

from conftest import FRIEND_ADD, case_body, load_cases

CASES = load_cases()


def handler_for(config):
    return CallbackHandler(
        app_ids=config["app_ids"],
        tokens=config["tokens"],
        window_seconds=config.get("window_seconds"),
        limits=config.get("limits"),
        on_decider_error=config.get("on_decider_error"),
    )


def scripted(case):
    scripts = case.get("decisions", [])

    def decide(event, item):
        script = scripts[item.index] if item.index < len(scripts) else "allow"
        if script == "allow":
            return Allow()
        if "reject" in script:
            return Reject(script["reject"]["code"], script["reject"]["info"])
        raise RuntimeError(script["fail"])

    return decide


def test_there_are_many_vectors():
    assert len(CASES) >= 50
    assert sum(case["command"] == FRIEND_ADD for case in CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_vector(case):
    handler = handler_for(case["config"])
    handle = handler.handle_add if case["command"] == FRIEND_ADD else handler.handle
    reply = handle(case["query"], case_body(case), scripted(case), now=case["now"])
    expect = case["expect"]
    assert reply.status == expect["status"]
    assert reply.error_code == expect["error"]
    assert reply.body == expect["body"].encode("utf-8")
    assert reply.headers == {"Content-Type": "application/json"}


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
async def test_vector_async(case):
    handler = handler_for(case["config"])
    handle = handler.handle_add_async if case["command"] == FRIEND_ADD else handler.handle_async
    reply = await handle(case["query"], case_body(case), scripted(case), now=case["now"])
    assert (reply.status, reply.body) == (case["expect"]["status"], case["expect"]["body"].encode("utf-8"))
