"""Starlette and FastAPI adapter.

FastAPI: ``app.add_api_route("/callback", endpoint(handler, decide), methods=["GET", "POST"])``;
Starlette: ``Route("/callback", endpoint(handler, decide), methods=["GET", "POST"])``.
``decide`` may be a coroutine function; decisions share the handler's deadline.
"""

from __future__ import annotations

from typing import Awaitable, Callable, Optional

from starlette.requests import Request
from starlette.responses import Response

from . import CallbackHandler, Decide, Reply
from ._native import refusal
from .errors import BodyAlreadyConsumed

__all__ = ["BodyAlreadyConsumed", "endpoint"]


def _response(reply: Reply) -> Response:
    return Response(reply.body, status_code=reply.status, media_type=reply.content_type)


def endpoint(handler: CallbackHandler, decide: Optional[Decide] = None) -> Callable[[Request], Awaitable[Response]]:
    """An async endpoint answering the callback with friendgate-core's bytes."""

    async def friendgate_callback(request: Request) -> Response:
        if request.method != "POST":
            return _response(refusal("method_not_allowed", request.method))
        try:
            body = await request.body()
        except RuntimeError as exc:
            raise BodyAlreadyConsumed(
                "the request stream was consumed (request.stream() or a middleware) "
                "before friendgate's endpoint could read the raw body"
            ) from exc
        reply = await handler.handle_async(request.url.query, body, decide)
        return _response(reply)

    return friendgate_callback
