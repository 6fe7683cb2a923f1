"""Deciders mypy --strict must refuse: every line marked ``# refused`` is an
error, and no other line is (checked by tests/test_typing.py)."""

from typing import Optional

from friendgate import Allow, CallbackHandler, Decision, FriendResponseCallback, Reject, ResponseItem
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
