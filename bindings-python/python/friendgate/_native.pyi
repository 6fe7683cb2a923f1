"""Type stubs of the native module (checked with mypy's stubtest)."""

import datetime
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union, final

from typing_extensions import disjoint_base

__all__ = [
    "Allow",
    "CallbackHandler",
    "ERROR_CODES",
    "FriendResponseCallback",
    "Pending",
    "Reject",
    "Reply",
    "Response",
    "ResponseItem",
    "__version__",
    "refusal",
    "sample_body",
    "sign",
    "signed_query",
]
ERROR_CODES: List[str]
__version__: str

_Body = Union[bytes, bytearray, memoryview, str]

@final
class Allow:
    """Let the friend response through (ResultCode 0)."""
    def __new__(cls) -> Allow: ...
    def __eq__(self, other: object, /) -> bool: ...

@final
class Reject:
    """Do not let it through: code in [38000, 39000], checked at once."""
    def __new__(cls, code: int, info: str = ...) -> Reject: ...
    @property
    def code(self) -> int: ...
    @property
    def info(self) -> str: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __reduce__(self) -> Tuple[Any, Tuple[int, str]]: ...

@final
class ResponseItem:
    """One friend request being answered."""
    @property
    def index(self) -> int: ...
    @property
    def to_account(self) -> str: ...
    @property
    def remark(self) -> str: ...
    @property
    def tag_name(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def action_known(self) -> bool: ...
    @property
    def is_accept(self) -> bool: ...

@final
class FriendResponseCallback:
    """A verified Sns.CallbackPrevFriendResponse callback."""
    @property
    def sdk_app_id(self) -> int: ...
    @property
    def platform(self) -> Optional[str]: ...
    @property
    def platform_known(self) -> bool: ...
    @property
    def client_ip(self) -> Optional[str]: ...
    @property
    def request_time(self) -> Optional[int]: ...
    @property
    def requester_account(self) -> str: ...
    @property
    def from_account(self) -> str: ...
    @property
    def event_time_ms(self) -> int: ...
    @property
    def event_time(self) -> datetime.datetime: ...
    @property
    def items(self) -> Tuple[ResponseItem, ...]: ...

@final
class Reply:
    """An HTTP answer: status, headers and core's exact body bytes."""
    @property
    def status(self) -> int: ...
    @property
    def content_type(self) -> str: ...
    @property
    def headers(self) -> Dict[str, str]: ...
    @property
    def body(self) -> bytes: ...
    @property
    def ok(self) -> bool: ...
    @property
    def error_code(self) -> Optional[str]: ...
    @property
    def error_message(self) -> Optional[str]: ...

@final
class Response:
    """An answer built by hand."""
    @staticmethod
    def allow_all(to_accounts: Sequence[str]) -> Response: ...
    @staticmethod
    def fail(code: int, info: str) -> Response: ...
    def reject(self, to_account: str, code: int, info: str) -> Response: ...
    def push(self, to_account: str, decision: Union[Allow, Reject]) -> None: ...
    def to_bytes(self) -> bytes: ...

@final
class Pending:
    """A verified callback waiting for its decisions."""
    @property
    def event(self) -> FriendResponseCallback: ...

@disjoint_base
class CallbackHandler:
    """Verifies and answers callbacks for a set of app ids and tokens."""
    def __new__(
        cls,
        app_ids: Sequence[int],
        tokens: Sequence[str] = ...,
        window_seconds: Optional[int] = ...,
        limits: Optional[Dict[str, int]] = ...,
        on_decider_error: Optional[Dict[str, Any]] = ...,
        decider_deadline_ms: Optional[int] = ...,
    ) -> CallbackHandler: ...
    @property
    def decider_deadline_ms(self) -> int: ...
    def handle(
        self,
        query: str,
        body: _Body,
        decide: Optional[Callable[[FriendResponseCallback, ResponseItem], Any]] = ...,
        *,
        now: Optional[int] = ...,
    ) -> Reply: ...
    def verify(self, query: str, body: _Body, *, now: Optional[int] = ...) -> FriendResponseCallback: ...
    def begin(self, query: str, body: _Body, now: Optional[int] = ...) -> Union[Pending, Reply]: ...
    def finish(self, pending: Pending, outcomes: Sequence[object]) -> Reply: ...

def refusal(code: str, detail: str = ...) -> Reply: ...
def sign(token: str, request_time: int) -> str: ...
def signed_query(
    app_id: int,
    token: Optional[str] = ...,
    request_time: Optional[int] = ...,
    *,
    platform: str = ...,
    client_ip: str = ...,
) -> str: ...
def sample_body(items: Optional[int] = ..., from_account: str = ...) -> str: ...
