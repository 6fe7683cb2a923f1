"""Starlette and FastAPI adapter.

FastAPI: ``app.add_route("/callback", endpoint(handler, decide), methods=METHODS)``;
Starlette: ``Route("/callback", endpoint(handler, decide), methods=METHODS)``. The
endpoint answers every method but POST with core's 405 itself.
``decide`` (friend responses) and ``decide_add`` (friend requests,
``Sns.CallbackPrevFriendAdd``; absent: allowed) may be coroutine functions;
decisions share the handler's deadline.

The endpoint serves the app's one callback URL: an authenticated callback of
any other command goes to ``on_other(request, body)`` (a coroutine function
or a plain one, returning a Starlette response), or, without one, gets core's
"processed" answer. Forged ones never reach ``on_other``.
"""

from __future__ import annotations

import inspect
from typing import Awaitable, Callable, Optional

from starlette.requests import Request
from starlette.responses import Response

from . import METHODS, AddDecide, CallbackHandler, CallbackRequest, Decide, OnOther, Reply
from ._native import processed, refusal
from .errors import BodyAlreadyConsumed

__all__ = ["METHODS", "BodyAlreadyConsumed", "endpoint"]


def _response(reply: Reply) -> Response:
    return Response(reply.body, status_code=reply.status, headers=reply.headers)


def endpoint(
    handler: CallbackHandler,
    decide: Optional[Decide] = None,
    *,
    decide_add: Optional[AddDecide] = None,
    on_other: Optional[OnOther] = None,
) -> Callable[[Request], Awaitable[Response]]:
    """An async endpoint answering the callback with friendgate-core's bytes."""

    async def friendgate_callback(request: Request) -> Response:
        if request.method != "POST":
            return _response(refusal("method_not_allowed", request.method))
        routed = handler.route(request.url.query)
        if isinstance(routed, Reply):
            return _response(routed)
        try:
            body = await request.body()
        except RuntimeError as exc:
            raise BodyAlreadyConsumed(
                "the request stream was consumed (request.stream() or a middleware) "
                "before friendgate's endpoint could read the raw body"
            ) from exc
        if isinstance(routed, CallbackRequest):
            if on_other is None:
                return _response(processed())
            answer = on_other(routed, body)
            if inspect.isawaitable(answer):
                answer = await answer
            response: Response = answer
            return response
        reply = await handler.answer_async(request.url.query, body, decide, decide_add)
        return _response(reply)

    return friendgate_callback
