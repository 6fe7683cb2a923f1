"""Deciders mypy --strict must refuse: every line marked ``# refused`` is an
error, and no other line is (checked by tests/test_typing.py)."""

from typing import Optional

from friendgate import (
    AddItem,
    Allow,
    CallbackHandler,
    Decision,
    FriendAddCallback,
    FriendResponseCallback,
    Reject,
    ResponseItem,
)
from friendgate.flask import blueprint
from friendgate.starlette import endpoint

handler = CallbackHandler(app_ids=[1400000000], tokens=["t"])


def returns_int(event: FriendResponseCallback, item: ResponseItem) -> int:
    return 42


def returns_optional(event: FriendResponseCallback, item: ResponseItem) -> Optional[Allow]:
    return None


def returns_bool(event: FriendResponseCallback, item: ResponseItem) -> bool:
    return item.is_accept


async def async_decide(event: FriendResponseCallback, item: ResponseItem) -> Decision:
    return Allow()


async def async_returns_str(event: FriendResponseCallback, item: ResponseItem) -> str:
    return "allow"


def good(event: FriendResponseCallback, item: ResponseItem) -> Decision:
    return Reject(38001, "no")


handler.handle("", b"", returns_int)  # refused
handler.handle("", b"", returns_optional)  # refused
handler.handle("", b"", returns_bool)  # refused
handler.handle("", b"", lambda event, item: 42)  # refused
handler.handle("", b"", async_decide)  # refused: the sync handle cannot await
blueprint(handler, async_decide)  # refused
blueprint(handler, returns_int)  # refused
endpoint(handler, async_returns_str)  # refused
endpoint(handler, returns_int)  # refused


async def main() -> None:
    await handler.handle_async("", b"", async_returns_str)  # refused
    await handler.handle_async("", b"", async_decide)
    await handler.handle_async("", b"", good)


handler.handle("", b"", good)
blueprint(handler, good)
endpoint(handler, async_decide)
endpoint(handler, good)


# Friend requests: their own event and item types, the same rules.
def add_good(event: FriendAddCallback, item: AddItem) -> Decision:
    return Reject(38010, "greeting") if "spam" in item.add_wording else Allow()


def add_returns_int(event: FriendAddCallback, item: AddItem) -> int:
    return 1


async def add_async(event: FriendAddCallback, item: AddItem) -> Decision:
    return Allow()


handler.handle_add("", b"", add_good)
handler.handle_add("", b"", add_returns_int)  # refused
handler.handle_add("", b"", good)  # refused: a friend response's decider
handler.handle("", b"", add_good)  # refused: a friend request's decider
handler.answer("", b"", good, add_good)
handler.answer("", b"", add_good, good)  # refused
blueprint(handler, good, decide_add=add_good)
blueprint(handler, good, decide_add=add_returns_int)  # refused
endpoint(handler, good, decide_add=add_async)
endpoint(handler, good, decide_add=good)  # refused


async def main_add() -> None:
    await handler.handle_add_async("", b"", add_async)
    await handler.answer_async("", b"", async_decide, add_async)
    await handler.handle_add_async("", b"", async_returns_str)  # refused
