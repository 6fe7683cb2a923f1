"""Helpers for testing a callback endpoint: sign like the platform, build
signed query strings, sample bodies. All computed by friendgate-core."""

from ._native import sample_add_body, sample_body, sign, signed_query

__all__ = ["sample_add_body", "sample_body", "sign", "signed_query"]
