"""Shared by the tests that run the `friendgate` binary (path in FRIENDGATE)."""

from __future__ import annotations

import hashlib
import json
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "xxxxyyyy"
APP_ID = 1400000000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str) -> None:
    deadline = time.monotonic() + 15
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def signed_query(signed: bool = True, command: str = "Sns.CallbackPrevFriendResponse") -> str:
    now = str(int(time.time()))
    query = (f"SdkAppid={APP_ID}&CallbackCommand={command}"
             "&contenttype=json&OptPlatform=iOS&ClientIP=203.0.113.7")
    if signed:
        query += f"&RequestTime={now}&Sign={hashlib.sha256((TOKEN + now).encode()).hexdigest()}"
    return query


def post(base: str, signed: bool = True, sender: str = "a",
         items: tuple[tuple[str, str], ...] = (("b", "Response_Action_Agree"),)) -> tuple[int, bytes]:
    """POSTs a callback from `sender` with `(To_Account, ResponseAction)` items."""
    body = json.dumps({"CallbackCommand": "Sns.CallbackPrevFriendResponse", "Requester_Account": sender,
                       "From_Account": sender, "EventTime": 1,
                       "ResponseFriendItem": [{"To_Account": to, "Remark": "", "TagName": "",
                                               "ResponseAction": action} for to, action in items]}).encode()
    request = urllib.request.Request(f"{base}/callback?{signed_query(signed)}", data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def post_request(base: str, sender: str = "a",
                 items: tuple[tuple[str, str], ...] = (("b", "hello"),)) -> tuple[int, bytes]:
    """POSTs a signed friend request (Sns.CallbackPrevFriendAdd) from
    `sender` with `(To_Account, AddWording)` items."""
    body = json.dumps({"CallbackCommand": "Sns.CallbackPrevFriendAdd", "Requester_Account": sender,
                       "From_Account": sender, "AddType": "Add_Type_Both", "ForceAddFlags": 0, "EventTime": 1,
                       "FriendItem": [{"To_Account": to, "Remark": "", "GroupName": "", "AddSource": "AddSource_Type_Web",
                                       "AddWording": wording} for to, wording in items]}).encode()
    query = signed_query(command="Sns.CallbackPrevFriendAdd")
    request = urllib.request.Request(f"{base}/callback?{query}", data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
