"""Shared by the example apps: the handler and a small policy."""

import json
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


def decide_add(event, item):
    """Friend requests (Sns.CallbackPrevFriendAdd), where abuse mostly comes
    in: the same blocked accounts, and banned words in the greeting too."""
    if event.from_account in BLOCKED or item.to_account in BLOCKED:
        return Reject(38001, "account is blocked")
    text = f"{item.remark} {item.group_name} {item.add_wording}".lower()
    if any(word in text for word in WORDS):
        return Reject(38002, "greeting not allowed")
    return Allow()


# The app's one callback URL receives its other callbacks too; friendgate
# authenticates them (forged ones never get here) and hands them over.
OK = b'{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}'
MESSAGES_SEEN = []


def on_other(request, body):
    """The app's own handler for its other callbacks: here it records who sent
    C2C messages (C2C.CallbackAfterSendMsg) and answers "processed" to all."""
    if request.command == "C2C.CallbackAfterSendMsg":
        MESSAGES_SEEN.append(json.loads(body).get("From_Account"))
    return OK
