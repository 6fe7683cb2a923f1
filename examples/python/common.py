"""Shared by the example apps: the handler and a small policy."""

import os

from friendgate import Allow, CallbackHandler, Reject

# The console's app id and token; the demo values match examples/demo.token.
APP_ID = int(os.environ.get("FRIENDGATE_APP_ID", "1400000000"))
TOKEN = os.environ.get("FRIENDGATE_TOKEN", "xxxxyyyy")
HOST = os.environ.get("HOST", "127.0.0.1")
PORT = int(os.environ.get("PORT", "8000"))

handler = CallbackHandler(app_ids=[APP_ID], tokens=[TOKEN])

BLOCKED = {"spam_ring_001", "spam_ring_002", "banned_user"}
WORDS = ("free money", "casino")


def decide(event, item):
    """Reject blocked accounts and remarks with banned words; allow the rest."""
    if event.from_account in BLOCKED or item.to_account in BLOCKED:
        return Reject(38001, "account is blocked")
    text = f"{item.remark} {item.tag_name}".lower()
    if any(word in text for word in WORDS):
        return Reject(38002, "remark or tag not allowed")
    return Allow()
