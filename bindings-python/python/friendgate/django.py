"""Django adapter: ``path("callback", callback_view(handler, decide, decide_add=...))`` in urls.py.

The view is CSRF-exempt (the platform signs with its token instead) and reads
the raw body itself. It serves the app's one callback URL: friend responses
go to ``decide``, friend requests (``Sns.CallbackPrevFriendAdd``) to
``decide_add`` (absent: allowed); an authenticated
callback of any other command goes to ``on_other(request, body)`` (returning
an ``HttpResponse``), or, without one, gets core's "processed" answer. Forged
ones never reach ``on_other``.
"""

from __future__ import annotations

from typing import Callable, Optional

from django.http import HttpRequest, HttpResponse
from django.http.request import RawPostDataException
from django.views.decorators.csrf import csrf_exempt

from . import CallbackHandler, CallbackRequest, OnOther, Reply, SyncAddDecide, SyncDecide
from ._native import processed, refusal
from .errors import BodyAlreadyConsumed

__all__ = ["BodyAlreadyConsumed", "callback_view"]


def _response(reply: Reply) -> HttpResponse:
    response = HttpResponse(reply.body, status=reply.status, headers=reply.headers)
    # Django leaves Content-Length to middleware; without it WSGI servers
    # stream the answer chunked or close the connection, and the platform
    # keeps connections alive.
    response["Content-Length"] = str(len(reply.body))
    return response


def callback_view(
    handler: CallbackHandler,
    decide: Optional[SyncDecide] = None,
    *,
    decide_add: Optional[SyncAddDecide] = None,
    on_other: Optional[OnOther] = None,
) -> Callable[[HttpRequest], HttpResponse]:
    """A Django view answering the callback with friendgate-core's bytes."""

    def friendgate_callback(request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return _response(refusal("method_not_allowed", request.method or ""))
        query = request.META.get("QUERY_STRING", "")
        routed = handler.route(query)
        if isinstance(routed, Reply):
            return _response(routed)
        try:
            body = request.body
        except RawPostDataException as exc:
            raise BodyAlreadyConsumed(
                "the body was read (request.POST or request.read()) before friendgate's view; "
                "do not touch request.POST in middleware for this path"
            ) from exc
        if isinstance(routed, CallbackRequest):
            if on_other is None:
                return _response(processed())
            response: HttpResponse = on_other(routed, body)
            return response
        return _response(handler.answer(query, body, decide, decide_add))

    # The platform authenticates with its Sign, not a CSRF token.
    view: Callable[[HttpRequest], HttpResponse] = csrf_exempt(friendgate_callback)
    return view
