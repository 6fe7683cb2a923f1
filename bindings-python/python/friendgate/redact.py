"""Keep the callback's ``Sign`` out of access logs.

The platform puts ``RequestTime`` and ``Sign`` in the callback URL, and the
access logs of uvicorn, gunicorn and werkzeug print the whole URL. A logged
Sign can be replayed, with any body, until its window closes. One line per
logger fixes that::

    import logging
    from friendgate.redact import RedactSign

    logging.getLogger("uvicorn.access").addFilter(RedactSign())    # uvicorn, FastAPI
    logging.getLogger("gunicorn.access").addFilter(RedactSign())   # gunicorn
    logging.getLogger("werkzeug").addFilter(RedactSign())          # Flask's dev server

The filter replaces every ``Sign=`` value with ``<redacted>``
(friendgate-core's ``redact_sign``) in the record's message and in each of
its arguments, keeping their shape (uvicorn's and gunicorn's access
formatters read the arguments themselves), and lets the record through.
"""

from __future__ import annotations

import logging

from ._native import redact_sign

__all__ = ["RedactSign", "redact_sign"]


class RedactSign(logging.Filter):
    """A ``logging.Filter`` that removes ``Sign`` values from each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_sign(record.msg)
        args = record.args
        if isinstance(args, tuple):
            record.args = tuple(_redacted(arg) for arg in args)
        elif isinstance(args, dict):  # gunicorn's access atoms
            record.args = {key: _redacted(value) for key, value in args.items()}
        return True


def _redacted(value: object) -> object:
    return redact_sign(value) if isinstance(value, str) else value
