"""Friend-request vectors (`Sns.CallbackPrevFriendAdd`), written into
`friend_add/` by generate.py with the same independent oracle: Signs with
hashlib, OK bodies with json.dumps, FAIL messages as the specification of
core's. Runners send these through their friend-request entry point."""

import json

import generate as g

ADD = "Sns.CallbackPrevFriendAdd"
LIST = "FriendItem"

# The documentation's sample body exactly as PROTOCOL.md prints it.
PAGE_SAMPLE = """{
  "CallbackCommand": "Sns.CallbackPrevFriendAdd",
  "Requester_Account": "id",
  "From_Account": "id",
  "FriendItem": [
    {"To_Account": "id1", "Remark": "remark1", "GroupName": "group1", "AddSource": "AddSource_Type_Android", "AddWording": "this is id1!"},
    {"To_Account": "id2", "Remark": "remark2", "GroupName": "group1", "AddSource": "AddSource_Type_Android", "AddWording": "this is id2!"}
  ],
  "AddType": "Add_Type_Both",
  "ForceAddFlags": 0,
  "EventTime": 1631777344870
}"""


def query(**kwargs):
    return g.query(**kwargs).replace(g.CMD, ADD)


def item(to, remark="", group="", source="AddSource_Type_Android", wording="", **extra):
    entry = {"To_Account": to, "Remark": remark, "GroupName": group,
             "AddSource": source, "AddWording": wording}
    entry.update(extra)
    return entry


SAMPLE_ITEMS = [item("id1", "remark1", "group1", wording="this is id1!"),
                item("id2", "remark2", "group1", wording="this is id2!")]
SAMPLE_OK = g.allowed(SAMPLE_ITEMS)


def body_obj(items=None, **fields):
    obj = {"CallbackCommand": ADD, "Requester_Account": "id", "From_Account": "id",
           LIST: SAMPLE_ITEMS if items is None else items,
           "AddType": "Add_Type_Both", "ForceAddFlags": 0, "EventTime": 1631777344870}
    obj.update(fields)
    return obj


def without(*names):
    return {k: v for k, v in body_obj().items() if k not in names}


def case(name, description, expect, *, q=None, body=None, **kwargs):
    return g.case(name, description, expect, q=query() if q is None else q,
                  body=body_obj() if body is None else body, **kwargs)


def wrong(path, expected, found):
    return g.fail("wrong_type", f"{path} must be {expected}, found {found}")


def answered(*triples):
    return {"status": 200, "error": None, "body": g.answer(list(triples))}


def platform_cases():
    return [
        case("add_documented_sample_signed", "The documentation's friend-request sample, signed with the known answer: both allowed.",
             SAMPLE_OK, body=PAGE_SAMPLE, q=query(sign_value=g.KNOWN_SIGN)),
        case("add_documented_sample_unsigned", "The sample without authentication (no tokens configured).",
             SAMPLE_OK, body=PAGE_SAMPLE, q=query(token=None), config={"tokens": []}),
        case("add_sample_reject_second", "The second request refused for its greeting.",
             answered(("id1", 0, ""), ("id2", 38010, "greeting not allowed")),
             decisions=["allow", g.reject(38010, "greeting not allowed")]),
        case("add_sample_reject_unicode_info", "Reasons with quotes and non-ASCII text are escaped as JSON, UTF-8 kept.",
             answered(("id1", 38500, "验证消息含\"违规\"词"), ("id2", 39000, "spam ✋")),
             decisions=[g.reject(38500, "验证消息含\"违规\"词"), g.reject(39000, "spam ✋")]),
    ]


def auth_cases():
    return [
        case("add_sign_missing", "A friend request without Sign never reaches a decider.",
             g.fail("missing_signature", "query parameter `Sign` is required: callback authentication is on"),
             q=query(drop=("Sign",))),
        case("add_sign_forged", "Signed with another token.",
             g.fail("bad_signature", "Sign does not match"), q=query(token="another-token")),
        case("add_stale", "RequestTime 61 s old.",
             g.fail("request_time_too_old", "RequestTime is older than the accepted window"), q=query(time=g.NOW - 61)),
        case("add_future", "RequestTime 61 s ahead.",
             g.fail("request_time_in_future", "RequestTime is further in the future than the accepted window"),
             q=query(time=g.NOW + 61)),
        case("add_window_edge", "RequestTime exactly 60 s old is inside the window.",
             SAMPLE_OK, q=query(time=g.NOW - 60)),
        case("add_foreign_app_id", "Another app's friend request.",
             g.fail("foreign_app_id", "SdkAppid is not accepted by this endpoint"), q=query(app=1400000001)),
        case("add_rotation_old_token", "During rotation the old token still signs.",
             SAMPLE_OK, q=query(token="old-token"), config={"tokens": ["new-token", "old-token"]}),
        case("add_query_response_command", "The friend-request entry point refuses a friend response's query.",
             g.fail("unexpected_command", f"query parameter `CallbackCommand` must be `{ADD}`, got `{g.CMD}`"),
             q=g.query()),
        case("add_body_command_mismatch", "The body names the friend-response callback.",
             g.fail("command_mismatch", f"$.CallbackCommand must be `{ADD}` like the query's, got `{g.CMD}`"),
             body=body_obj(CallbackCommand=g.CMD)),
        case("add_platform_unknown", "An OptPlatform the platform may add later flows on.",
             SAMPLE_OK, q=query(platform="HarmonyOS")),
    ]


def body_cases():
    b = g.compact(body_obj())
    deep_bad = "[" * 32 + "0" + "]" * 32
    return [
        case("add_body_empty", "An empty body.",
             g.fail("malformed_json", "body is not valid JSON: EOF while parsing a value at line 1 column 0"), body=""),
        case("add_body_truncated", "The sample cut after a key, in the middle of an item.",
             g.fail("malformed_json", "body is not valid JSON: EOF while parsing a value at line 1 column 120"), body=b[:120]),
        case("add_body_top_level_array", "The body must be an object.",
             wrong("$", "an object", "array"), body="[]"),
        case("add_invalid_utf8", "A raw 0xFF byte inside AddWording.",
             g.fail("invalid_utf8", "body is not valid UTF-8 at byte %d" % b.index("this is id1!")),
             body=None, body_bytes=b.replace("this is id1!", "\udcffthis is id1!").encode("utf-8", "surrogateescape")),
        case("add_to_account_number", "To_Account as a number.",
             wrong(f"$.{LIST}[0].To_Account", "a string", "number"), body=body_obj([{**SAMPLE_ITEMS[0], "To_Account": 7}])),
        case("add_wording_number", "AddWording as a number.",
             wrong(f"$.{LIST}[1].AddWording", "a string", "number"), body=body_obj([SAMPLE_ITEMS[0], {**SAMPLE_ITEMS[1], "AddWording": 1}])),
        case("add_remark_null", "Remark null (absent is fine, null is not a string).",
             wrong(f"$.{LIST}[0].Remark", "a string", "null"), body=body_obj([{**SAMPLE_ITEMS[0], "Remark": None}])),
        case("add_group_name_array", "GroupName as an array.",
             wrong(f"$.{LIST}[0].GroupName", "a string", "array"), body=body_obj([{**SAMPLE_ITEMS[0], "GroupName": ["a"]}])),
        case("add_source_object", "AddSource as an object.",
             wrong(f"$.{LIST}[0].AddSource", "a string", "object"), body=body_obj([{**SAMPLE_ITEMS[0], "AddSource": {}}])),
        case("add_type_number", "AddType as a number.",
             wrong("$.AddType", "a string", "number"), body=body_obj(AddType=2)),
        case("add_force_flags_string", "ForceAddFlags as a string.",
             wrong("$.ForceAddFlags", "a non-negative integer", "string"), body=body_obj(ForceAddFlags="1")),
        case("add_force_flags_negative", "ForceAddFlags below zero.",
             wrong("$.ForceAddFlags", "a non-negative integer", "a negative number"), body=body_obj(ForceAddFlags=-1)),
        case("add_event_time_fraction", "EventTime with a fraction.",
             wrong("$.EventTime", "a non-negative integer", "a non-integer number"),
             body=b.replace("1631777344870", "1631777344870.5")),
        case("add_items_object", "FriendItem as an object.",
             wrong(f"$.{LIST}", "an array", "object"), body=body_obj({"To_Account": "id1"})),
        case("add_item_string", "An item that is a string.",
             wrong(f"$.{LIST}[0]", "an object", "string"), body=body_obj(["id1"])),
        case("add_missing_from_account", "No From_Account.",
             g.fail("missing_field", "missing field $.From_Account"), body=without("From_Account")),
        case("add_missing_items", "No FriendItem (a friend response's body under this command).",
             g.fail("missing_field", f"missing field $.{LIST}"), body=without(LIST)),
        case("add_missing_to_account", "An item without To_Account.",
             g.fail("missing_field", f"missing field $.{LIST}[1].To_Account"),
             body=body_obj([SAMPLE_ITEMS[0], {"AddWording": "hi"}])),
        case("add_optional_fields_absent",
             "Only To_Account in the item, no Requester_Account, AddType, ForceAddFlags or EventTime: decided, since refusing only lets it through.",
             g.allowed([{"To_Account": "id1"}]),
             body={"CallbackCommand": ADD, "From_Account": "id", LIST: [{"To_Account": "id1"}]}),
        case("add_duplicate_top_level_key", "AddType twice: which one would a decider see?",
             g.fail("duplicate_key", "duplicate key `AddType` in $"),
             body=b.replace('"AddType":"Add_Type_Both"', '"AddType":"Add_Type_Both","AddType":"Add_Type_Single"')),
        case("add_duplicate_item_key", "AddWording twice in one item: a filter must not read one and the app the other.",
             g.fail("duplicate_key", f"duplicate key `AddWording` in $.{LIST}[0]"),
             body=b.replace('"AddWording":"this is id1!"', '"AddWording":"hello","AddWording":"buy followers"')),
        case("add_unknown_fields", "Fields the platform may add later, at the top and in items, are ignored.",
             SAMPLE_OK, body=body_obj([{**SAMPLE_ITEMS[0], "Meta": {"x": [1, None]}}, SAMPLE_ITEMS[1]], Future={"a": [True]}, Seq=3)),
        case("add_escaped_strings", "Escapes decode before deciding; answers re-encode.",
             answered(("id\n1", 0, ""), ("id2", 0, "")),
             body=b.replace('"To_Account":"id1"', '"To\\u005fAccount":"id\\n1"').replace("this is id1!", "\\u4f60\\u597d \\ud83d\\ude00")),
        case("add_depth_past_limit", "An unknown field one level deeper than the default 32.",
             g.fail("too_deep", "body nests deeper than 32 levels at $.Future" + "[0]" * 31),
             body=b.replace('{"CallbackCommand"', '{"Future":%s,"CallbackCommand"' % deep_bad)),
    ]


def value_cases():
    return [
        case("add_type_single", "Add_Type_Single (one-way).", SAMPLE_OK, body=body_obj(AddType="Add_Type_Single")),
        case("add_type_unknown", "An AddType the platform may add later is decided, not refused.",
             SAMPLE_OK, body=body_obj(AddType="Add_Type_Group")),
        case("add_source_unknown", "AddSource keywords the app chose, and one without the documented prefix.",
             g.allowed([item("id1", source="AddSource_Type_Hologram"), item("id2", source="QRCode")]),
             body=body_obj([item("id1", source="AddSource_Type_Hologram"), item("id2", source="QRCode")])),
        case("add_force_flags_new_value", "ForceAddFlags 2 (documented 0 or 1) is kept, not refused.",
             SAMPLE_OK, body=body_obj(ForceAddFlags=2)),
    ]


def limit_cases():
    long_wording = "买粉丝" * 120  # 1,080 bytes: over the documented 256
    long_items = [item("id1", wording=long_wording), item("id2", remark="r" * 200, group="😀" * 25)]
    b = g.compact(body_obj())
    n = len(b.encode())
    return [
        case("add_wording_over_long_decided",
             "AddWording of 1,080 bytes (documented 256) is decided like any other: refused here by the decider.",
             answered(("id1", 38010, "greeting not allowed"), ("id2", 0, "")),
             body=body_obj(long_items), decisions=[g.reject(38010, "greeting not allowed"), "allow"]),
        case("add_remark_and_group_over_long", "Remark of 200 bytes and GroupName of 100 bytes are still decided.",
             g.allowed(long_items), body=body_obj(long_items)),
        case("add_wording_unicode", "CJK, emoji, right-to-left and combining text in AddWording.",
             g.allowed([item("id1", wording="你好 👋 مرحبا é")]), body=body_obj([item("id1", wording="你好 👋 مرحبا é")])),
        case("add_to_account_past", "To_Account of 33 bytes is not a UserID.",
             g.fail("field_too_long", f"$.{LIST}[0].To_Account is 33 bytes, over the limit of 32"),
             body=body_obj([item("u" * 33)])),
        case("add_body_at", "A body exactly at a custom 600-byte limit (padded with spaces).",
             SAMPLE_OK, body=b + " " * (600 - n), config={"limits": {"max_body_bytes": 600}}),
        case("add_body_past", "One byte over a custom 600-byte body limit.",
             g.fail("body_too_large", "body is 601 bytes, over the limit of 600"),
             body=b + " " * (601 - n), config={"limits": {"max_body_bytes": 600}}),
        case("add_items_empty", "No items: an OK answer with no ResultItem.", g.allowed([]), body=body_obj([])),
        case("add_items_past", "Four items under a custom limit of three.",
             g.fail("too_many_items", f"$.{LIST} has more than 3 items"),
             body=body_obj([item(f"u{i}") for i in range(4)]), config={"limits": {"max_items": 3}}),
        case("add_items_1000", "1,000 requests from one account, every seventh refused, answered in order.",
             answered(*[(f"user{i}", 38020 if i % 7 == 6 else 0, "mass request" if i % 7 == 6 else "") for i in range(1000)]),
             body=body_obj([item(f"user{i}", wording=f"hi {i}") for i in range(1000)]),
             decisions=[g.reject(38020, "mass request") if i % 7 == 6 else "allow" for i in range(1000)]),
    ]


def decision_cases():
    return [
        case("add_decider_fails_default_policy", "A failing decider: the default policy rejects that request with 38900.",
             answered(("id1", 0, ""), ("id2", g.FAIL_CODE, g.FAIL_INFO)),
             decisions=["allow", {"fail": "database unreachable"}]),
        case("add_decider_fails_allow_policy", "Fail-open policy: the failed request goes through.",
             answered(("id1", 0, ""), ("id2", 0, "")),
             decisions=["allow", {"fail": "timeout"}], config={"on_decider_error": {"policy": "allow"}}),
        case("add_decider_fails_fail_callback_policy", "FAIL policy: the whole callback fails, naming the item.",
             g.fail("decider_failed", "decision for item 1 failed: database unreachable"),
             decisions=["allow", {"fail": "database unreachable"}],
             config={"on_decider_error": {"policy": "fail_callback"}}),
        case("add_decider_code_zero_is_not_a_rejection", "Reject with code 0 is refused, not turned into an allow.",
             answered(("id1", g.FAIL_CODE, g.FAIL_INFO), ("id2", 0, "")), decisions=[g.reject(0, "zero"), "allow"]),
    ]


FILES = {
    "friend_add/platform.json": ("Friend requests: the documentation's sample and decisions on it.", platform_cases),
    "friend_add/auth.json": ("Friend requests: Sign, window, app id and command, as for friend responses.", auth_cases),
    "friend_add/body.json": ("Friend requests: syntax, types, required and optional fields, duplicate keys, unknown fields.", body_cases),
    "friend_add/values.json": ("Friend requests: AddType, AddSource and ForceAddFlags values the platform may add.", value_cases),
    "friend_add/limits.json": ("Friend requests: over-long texts still decided, UserID and item limits, 1,000 items.", limit_cases),
    "friend_add/decisions.json": ("Friend requests: decider failures and the failure policies.", decision_cases),
}
