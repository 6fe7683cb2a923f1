"""Exceptions raised by friendgate.

Every refusal of a callback is a :class:`CallbackError` (a ``ValueError``)
carrying friendgate-core's stable ``code`` (e.g. ``"bad_signature"``), the HTTP
``http_status``, the platform ``error_code`` in [38000, 39000] and a
``message``. Catch a family with its subclass.
"""

from __future__ import annotations

from typing import NamedTuple, Tuple, Type

from ._native import ERROR_CATALOGUE as _CATALOGUE

__all__ = [
    "ERROR_CATALOGUE",
    "AppIdError",
    "BodyAlreadyConsumed",
    "BodyError",
    "CallbackError",
    "ConfigurationError",
    "DecisionError",
    "LimitError",
    "QueryError",
    "SignatureError",
    "ErrorEntry",
    "TransportError",
]


class ErrorEntry(NamedTuple):
    """One row of friendgate-core's error catalogue."""

    code: str
    """Stable snake_case code (``bad_signature``)."""
    error_code: int
    """Platform ErrorCode of the FAIL answer, in [38000, 39000]."""
    http_status: int
    """HTTP status of the FAIL answer."""
    family: str
    """The family (``signature``, ``body``, ...): the subclass that is raised."""


ERROR_CATALOGUE: Tuple[ErrorEntry, ...] = tuple(ErrorEntry(*row) for row in _CATALOGUE)
"""Every error friendgate-core can refuse a callback with, in catalogue order
(the same rows as Node's ``errorCatalogue()`` and Kotlin's ``errorCatalogue()``)."""


class CallbackError(ValueError):
    """A callback friendgate refuses, with core's code, status and message."""

    def __init__(self, code: str, http_status: int, error_code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.http_status = http_status
        self.error_code = error_code
        self.message = message

    def __reduce__(self) -> Tuple[Type["CallbackError"], Tuple[str, int, int, str]]:
        return (type(self), (self.code, self.http_status, self.error_code, self.message))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.http_status}, {self.error_code}, {self.message!r})"


class QueryError(CallbackError):
    """The query string is malformed or names another callback."""


class AppIdError(CallbackError):
    """``SdkAppid`` is not one of this endpoint's app ids."""


class SignatureError(CallbackError):
    """``Sign`` or ``RequestTime`` is missing, wrong, or outside the window."""


class BodyError(CallbackError):
    """The body is not a well-formed callback body."""


class LimitError(CallbackError):
    """A size limit was exceeded (body, items, field length)."""


class DecisionError(CallbackError):
    """A decision is invalid (a result code outside [38000, 39000])."""


class TransportError(CallbackError):
    """The HTTP exchange failed (method, deadline, load, incomplete body)."""


FAMILIES = {
    "query": QueryError,
    "app_id": AppIdError,
    "signature": SignatureError,
    "body": BodyError,
    "limit": LimitError,
    "decision": DecisionError,
    "transport": TransportError,
}


class ConfigurationError(ValueError):
    """A handler configuration friendgate-core refuses (no app ids, a bad limit...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __reduce__(self) -> Tuple[Type["ConfigurationError"], Tuple[str, str]]:
        return (type(self), (self.code, self.message))


class BodyAlreadyConsumed(RuntimeError):
    """A framework read the request body (a form or JSON parser, a
    middleware) before friendgate could see its raw bytes, which the answer
    must be computed from. One class for every adapter (Flask, Starlette and
    FastAPI, Django), so one ``except`` catches it whatever the framework;
    the message says which parser to keep off the callback route."""
