"""Flask adapter: ``app.register_blueprint(blueprint(handler, decide))``, or
``app.add_url_rule("/callback", view_func=callback_view(handler, decide), methods=METHODS,
provide_automatic_options=False)``.

The view serves the app's one callback URL: friend responses are decided by
``decide``, friend requests (``Sns.CallbackPrevFriendAdd``) by ``decide_add``
(absent: allowed); an authenticated callback of any other command goes to
``on_other(request, body)`` (returning a Flask response), or, without one,
gets core's "processed" answer. Forged ones never reach ``on_other``.

The view reads the raw body itself (the Sign is checked against the exact
bytes' context, and nothing may parse them first) and answers with
friendgate-core's status, headers and bytes.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from flask import Blueprint, Response, request

from . import METHODS, CallbackHandler, CallbackRequest, OnOther, Reply, SyncAddDecide, SyncDecide
from ._native import processed, refusal
from .errors import BodyAlreadyConsumed

__all__ = ["METHODS", "BodyAlreadyConsumed", "blueprint", "callback_view"]


def _response(reply: Reply) -> Response:
    return Response(reply.body, status=reply.status, headers=reply.headers)


def callback_view(
    handler: CallbackHandler,
    decide: Optional[SyncDecide] = None,
    *,
    decide_add: Optional[SyncAddDecide] = None,
    on_other: Optional[OnOther] = None,
) -> Callable[..., Any]:
    """A Flask view answering the callback. Register it for every method: a
    non-POST request gets friendgate's 405 answer."""

    def friendgate_callback() -> Response:
        if request.method != "POST":
            return _response(refusal("method_not_allowed", request.method))
        query = request.query_string.decode("latin-1")
        routed = handler.route(query)
        if isinstance(routed, Reply):
            return _response(routed)
        body = request.get_data(cache=True)
        declared = request.content_length or 0
        if declared and not body:
            raise BodyAlreadyConsumed(
                "the request body was already read (request.form / request.get_json()?) "
                "before friendgate's view; register the view before any body parsing "
                "middleware and do not touch request.form on this route"
            )
        if isinstance(routed, CallbackRequest):
            return on_other(routed, body) if on_other else _response(processed())
        return _response(handler.answer(query, body, decide, decide_add))

    return friendgate_callback


def blueprint(
    handler: CallbackHandler,
    decide: Optional[SyncDecide] = None,
    *,
    path: str = "/callback",
    name: str = "friendgate",
    decide_add: Optional[SyncAddDecide] = None,
    on_other: Optional[OnOther] = None,
) -> Blueprint:
    """A blueprint with the callback view at ``path``."""
    bp = Blueprint(name, __name__)
    # Every method, OPTIONS included, reaches the view, which answers all but
    # POST with core's 405 instead of Flask's HTML pages.
    bp.add_url_rule(
        path,
        view_func=callback_view(handler, decide, decide_add=decide_add, on_other=on_other),
        methods=METHODS,
        provide_automatic_options=False,
    )
    return bp
