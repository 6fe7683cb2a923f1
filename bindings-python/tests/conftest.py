import base64
import json
import pathlib

import pytest

VECTORS = pathlib.Path(__file__).resolve().parents[2] / "tests" / "vectors"


FRIEND_ADD = "Sns.CallbackPrevFriendAdd"


def load_cases():
    """Every vector: friend responses (the top folder), then friend
    requests (friend_add/), each with its `command`."""
    cases = []
    for folder, command in ((VECTORS, "Sns.CallbackPrevFriendResponse"), (VECTORS / "friend_add", FRIEND_ADD)):
        for path in sorted(folder.glob("*.json")):
            for case in json.loads(path.read_text(encoding="utf-8"))["cases"]:
                case["file"] = path.relative_to(VECTORS).as_posix()
                case["command"] = command
                cases.append(case)
    return cases


def case_body(case) -> bytes:
    if "body_base64" in case:
        return base64.b64decode(case["body_base64"])
    return case["body"].encode("utf-8")


@pytest.fixture
def sample():
    from friendgate.testing import sample_body, signed_query

    return signed_query(1400000000, "xxxxyyyy", 1669872112), sample_body().encode()
