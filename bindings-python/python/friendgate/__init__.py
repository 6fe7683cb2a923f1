"""friendgate: answer Tencent Cloud Chat's friend callbacks,
``Sns.CallbackPrevFriendResponse`` ("before a friend request is responded")
and ``Sns.CallbackPrevFriendAdd`` ("before a friend request is sent"),
correctly, safely and fast.

Every check, limit, error and answer byte comes from friendgate-core (Rust);
this package adds Python idioms: async deciders, framework adapters, typed
exceptions.

>>> from friendgate import CallbackHandler, Allow, Reject
>>> handler = CallbackHandler(app_ids=[1400000000], tokens=["my-token"])
>>> def decide(event, item):
...     return Reject(38001, "remark not allowed") if "spam" in item.remark else Allow()
>>> reply = handler.handle(query_string, body_bytes, decide)   # doctest: +SKIP
>>> reply.status, reply.headers, reply.body                      # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any, Awaitable, Callable, Optional, Union

from . import errors, testing
from ._native import (
    ERROR_CODES,
    AddItem,
    DeciderFailure,
    Allow,
    FriendAddCallback,
    CallbackRequest,
    FriendResponseCallback,
    Pending,
    Reject,
    Reply,
    Response,
    ResponseItem,
    __version__,
    processed,
)
from ._native import CallbackHandler as _NativeHandler
from .errors import (
    ERROR_CATALOGUE,
    AppIdError,
    BodyAlreadyConsumed,
    BodyError,
    CallbackError,
    ConfigurationError,
    DecisionError,
    ErrorEntry,
    LimitError,
    QueryError,
    SignatureError,
    TransportError,
)

Decision = Union[Allow, Reject]

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
"""The methods to route to an adapter: it answers all but POST itself, with
core's 405 body, instead of the framework's own page."""

# Bodies above this size are verified off the event loop (matches the native
# threshold above which the GIL is released).
_OFF_LOOP_ABOVE = 64 * 1024
# What a decider is given and must return: mypy --strict refuses a decider
# returning anything but Allow or Reject (tests/typing checks that).
SyncDecide = Callable[[FriendResponseCallback, ResponseItem], Decision]
"""A synchronous decider, for ``handle`` and the Flask and Django adapters."""
AsyncDecide = Callable[[FriendResponseCallback, ResponseItem], Awaitable[Decision]]
"""A coroutine function decider, for ``handle_async`` and the Starlette/FastAPI adapter."""
Decide = Callable[[FriendResponseCallback, ResponseItem], Union[Decision, Awaitable[Decision]]]
"""Either kind: what ``handle_async`` accepts."""
SyncAddDecide = Callable[[FriendAddCallback, AddItem], Decision]
"""A synchronous friend-request decider, for ``handle_add`` and the Flask and Django adapters."""
AsyncAddDecide = Callable[[FriendAddCallback, AddItem], Awaitable[Decision]]
"""A coroutine function friend-request decider."""
AddDecide = Callable[[FriendAddCallback, AddItem], Union[Decision, Awaitable[Decision]]]
"""Either kind of friend-request decider: what ``handle_add_async`` accepts."""
# A handler for the app's other callbacks at the same URL: the authenticated
# request and the raw body in, the framework's response out.
OnOther = Callable[[CallbackRequest, bytes], Any]

__all__ = [
    "ERROR_CATALOGUE",
    "ERROR_CODES",
    "AddDecide",
    "AddItem",
    "Allow",
    "AppIdError",
    "BodyAlreadyConsumed",
    "BodyError",
    "CallbackError",
    "CallbackHandler",
    "CallbackRequest",
    "ConfigurationError",
    "AsyncAddDecide",
    "AsyncDecide",
    "Decide",
    "Decision",
    "DeciderFailure",
    "DecisionError",
    "ErrorEntry",
    "FriendAddCallback",
    "FriendResponseCallback",
    "LimitError",
    "METHODS",
    "OnOther",
    "QueryError",
    "Reject",
    "Reply",
    "Response",
    "ResponseItem",
    "SignatureError",
    "SyncAddDecide",
    "SyncDecide",
    "TransportError",
    "__version__",
    "errors",
    "processed",
    "testing",
]


class CallbackHandler(_NativeHandler):
    """Verifies and answers callbacks for your app ids and tokens.

    ``CallbackHandler(app_ids, tokens=(), window_seconds=60, limits=None,
    on_decider_error=None, decider_deadline_ms=None, on_decider_failure=None)``: ``limits`` is a dict of
    ``max_body_bytes``, ``max_items``, ``max_user_id_bytes``,
    ``max_remark_bytes``, ``max_tag_name_bytes``, ``max_depth``;
    ``on_decider_error`` is ``{"policy": "reject", "code": 38900, "info": ...}``,
    ``{"policy": "allow"}`` or ``{"policy": "fail_callback"}`` (default: reject
    with 38900); ``decider_deadline_ms`` in milliseconds (default 1500). A
    bad setting raises ``ConfigurationError`` with core's code and message.
    ``on_decider_failure(failure)`` is told of every failed decision as a
    :class:`DeciderFailure` (``index``, ``to_account``, ``reason``, ``report``),
    as Node's ``onDeciderFailure`` and Kotlin's listener are; by default the
    ``report`` is logged on the ``friendgate`` logger.

    ``handle(query, body, decide=None, *, now=None)`` answers a friend
    response synchronously: ``decide(event, item)`` returns ``Allow()`` or
    ``Reject(code, info)``. If it raises an ``Exception`` or returns anything
    else, that item gets the failure policy. ``handle_add`` does the same for
    a friend request (``Sns.CallbackPrevFriendAdd``: a ``FriendAddCallback``
    and its ``AddItem``s), and ``answer(query, body, decide, decide_add)``
    either one, by its command, as the one callback URL needs. Instances are
    immutable and safe to share between threads.
    """

    __slots__ = ()

    async def handle_async(
        self,
        query: str,
        body: Union[bytes, bytearray, memoryview, str],
        decide: Optional[Decide] = None,
        *,
        now: Optional[int] = None,
    ) -> Reply:
        """Answers one friend response, awaiting ``decide`` when it is a
        coroutine function. The items' coroutines run concurrently and share
        one deadline (``decider_deadline_ms``); the items not decided by then
        get the failure policy, well before the platform's 2 s. Parsing runs
        in native code, off the GIL for large bodies. A synchronous
        ``decide`` runs inline: keep it fast."""
        return await self._decide_async(self.begin, query, body, now, decide, None)

    async def handle_add_async(
        self,
        query: str,
        body: Union[bytes, bytearray, memoryview, str],
        decide: Optional[AddDecide] = None,
        *,
        now: Optional[int] = None,
    ) -> Reply:
        """``handle_async`` for a friend request (``Sns.CallbackPrevFriendAdd``)."""
        return await self._decide_async(self.begin_add, query, body, now, None, decide)

    async def answer_async(
        self,
        query: str,
        body: Union[bytes, bytearray, memoryview, str],
        decide: Optional[Decide] = None,
        decide_add: Optional[AddDecide] = None,
        *,
        now: Optional[int] = None,
    ) -> Reply:
        """Either friend callback at the one URL, by its command: a friend
        response with ``decide``, a friend request with ``decide_add``."""
        return await self._decide_async(self.begin_friend, query, body, now, decide, decide_add)

    async def _decide_async(
        self,
        begin: Callable[[str, Any, Optional[int]], Union[Pending, Reply]],
        query: str,
        body: Union[bytes, bytearray, memoryview, str],
        now: Optional[int],
        decide: Optional[Callable[..., Any]],
        decide_add: Optional[Callable[..., Any]],
    ) -> Reply:
        if len(body) > _OFF_LOOP_ABOVE:
            # Parsed in a worker thread: the native code releases the GIL for
            # large bodies, so the event loop keeps running meanwhile.
            started = await asyncio.get_running_loop().run_in_executor(None, begin, query, body, now)
        else:
            started = begin(query, body, now)
        if isinstance(started, Reply):
            return started
        pending: Pending = started
        event = pending.event
        chosen = decide_add if pending.command == _FRIEND_ADD else decide
        items = event.items
        outcomes: list[Any] = [None] * len(items)

        async def settle(index: int, value: Awaitable[Any]) -> None:
            try:
                outcomes[index] = await value
            except Exception as exc:  # a failed decision, not a failed handler
                outcomes[index] = exc

        async def run() -> None:
            # Synchronous deciders run inline, in item order; the awaitables
            # they return are awaited together, under the one deadline.
            waiting = []
            for index, item in enumerate(items):
                try:
                    value = Allow() if chosen is None else chosen(event, item)
                except Exception as exc:
                    outcomes[index] = exc
                    continue
                if inspect.isawaitable(value):
                    waiting.append(settle(index, value))
                else:
                    outcomes[index] = value
            if waiting:
                await asyncio.gather(*waiting)

        try:
            await asyncio.wait_for(run(), timeout=self.decider_deadline_ms / 1000)
        except asyncio.TimeoutError:
            for index, value in enumerate(outcomes):
                if value is None:
                    outcomes[index] = TimeoutError("decider deadline exceeded")
        return self.finish(pending, outcomes)


_FRIEND_ADD = "Sns.CallbackPrevFriendAdd"
