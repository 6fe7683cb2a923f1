"""Django adapter: ``path("callback", callback_view(handler, decide))`` in urls.py.

The view is CSRF-exempt (the platform signs with its token instead) and reads
the raw body itself.
"""

from __future__ import annotations

from typing import Callable, Optional

from django.http import HttpRequest, HttpResponse
from django.http.request import RawPostDataException
from django.views.decorators.csrf import csrf_exempt

from . import CallbackHandler, Decide, Reply
from ._native import refusal
from .errors import BodyAlreadyConsumed

__all__ = ["BodyAlreadyConsumed", "callback_view"]


def _response(reply: Reply) -> HttpResponse:
    response = HttpResponse(reply.body, status=reply.status, content_type=reply.content_type)
    # Django leaves Content-Length to middleware; without it WSGI servers
    # stream the answer chunked or close the connection, and the platform
    # keeps connections alive.
    response["Content-Length"] = str(len(reply.body))
    return response


def callback_view(handler: CallbackHandler, decide: Optional[Decide] = None) -> Callable[[HttpRequest], HttpResponse]:
    """A Django view answering the callback with friendgate-core's bytes."""

    def friendgate_callback(request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return _response(refusal("method_not_allowed", request.method or ""))
        try:
            body = request.body
        except RawPostDataException as exc:
            raise BodyAlreadyConsumed(
                "the body was read (request.POST or request.read()) before friendgate's view; "
                "do not touch request.POST in middleware for this path"
            ) from exc
        query = request.META.get("QUERY_STRING", "")
        return _response(handler.handle(query, body, decide))

    # The platform authenticates with its Sign, not a CSRF token.
    view: Callable[[HttpRequest], HttpResponse] = csrf_exempt(friendgate_callback)
    return view
