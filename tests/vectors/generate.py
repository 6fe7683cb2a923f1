#!/usr/bin/env python3
"""Writes the conformance vectors in this folder.

The expected answers are computed here, independently of friendgate-core:
Signs with hashlib, OK bodies with json.dumps, FAIL messages written out as
the specification of core's messages. A runner in any language that disagrees
with a file has found a bug on one side; decide which, never re-bless blindly.

Run: python3 tests/vectors/generate.py          (rewrites tests/vectors/*.json)
     python3 tests/vectors/generate.py --check  (fails if a file differs)
"""

import base64
import sys
import hashlib
import json
import pathlib
import urllib.parse

HERE = pathlib.Path(__file__).resolve().parent
APP = 1400000000
TOKEN = "xxxxyyyy"
NOW = 1669872112
CMD = "Sns.CallbackPrevFriendResponse"
KNOWN_SIGN = "17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061"
FAIL_CODE = 38900
FAIL_INFO = "decision unavailable"

# The platform's sample body exactly as the documentation page prints it.
PAGE_SAMPLE = """{
"CallbackCommand": "Sns.CallbackPrevFriendResponse",
"Requester_Account": "id",
"From_Account": "id",
"ResponseFriendItem": [
{
"To_Account": "id1",
"Remark": "remark1",
"TagName": "group1",
"ResponseAction": "Response_Action_AgreeAndAdd"
},
{
"To_Account": "id2",
"Remark": "remark2",
"TagName": "group2",
"ResponseAction": "Response_Action_Reject"
}
],
"EventTime": 1631777645424
}"""

# Error codes: snake_case code -> (platform ErrorCode, HTTP status).
ERRORS = {
    "missing_parameter": (38001, 400),
    "invalid_parameter": (38002, 400),
    "duplicate_parameter": (38003, 400),
    "unsupported_content_type": (38004, 415),
    "unexpected_command": (38005, 400),
    "foreign_app_id": (38010, 403),
    "missing_signature": (38011, 401),
    "bad_signature": (38012, 401),
    "request_time_too_old": (38013, 401),
    "request_time_in_future": (38014, 401),
    "body_too_large": (38020, 413),
    "invalid_utf8": (38021, 400),
    "malformed_json": (38022, 400),
    "duplicate_key": (38023, 400),
    "missing_field": (38024, 400),
    "wrong_type": (38025, 400),
    "too_deep": (38026, 400),
    "too_many_items": (38027, 413),
    "field_too_long": (38028, 400),
    "command_mismatch": (38029, 400),
    "decider_failed": (38031, 500),
}


def sign(token, request_time):
    return hashlib.sha256(f"{token}{request_time}".encode()).hexdigest()


assert sign(TOKEN, NOW) == KNOWN_SIGN, "the Sign known answer"


def query(app=APP, platform="iOS", ip="127.0.0.1", token=TOKEN, time=NOW,
          sign_value=None, drop=(), extra=""):
    params = [("SdkAppid", str(app)), ("CallbackCommand", CMD),
              ("contenttype", "json"), ("ClientIP", ip), ("OptPlatform", platform)]
    if token is not None:
        params += [("RequestTime", str(time)),
                   ("Sign", sign_value if sign_value is not None else sign(token, time))]
    params = [p for p in params if p[0] not in drop]
    return urllib.parse.urlencode(params) + extra


def item(to, remark="", tag="", action="Response_Action_AgreeAndAdd", **extra):
    entry = {"To_Account": to, "Remark": remark, "TagName": tag, "ResponseAction": action}
    entry.update(extra)
    return entry


SAMPLE_ITEMS = [item("id1", "remark1", "group1", "Response_Action_AgreeAndAdd"),
                item("id2", "remark2", "group2", "Response_Action_Reject")]


def body_obj(items=None, **fields):
    obj = {"CallbackCommand": CMD, "Requester_Account": "id", "From_Account": "id",
           "ResponseFriendItem": SAMPLE_ITEMS if items is None else items,
           "EventTime": 1631777645424}
    obj.update(fields)
    return obj


def compact(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def answer(items):
    """OK answer for (to_account, code, info) triples."""
    return compact({"ActionStatus": "OK", "ErrorCode": 0, "ErrorInfo": "",
                    "ResultItem": [{"To_Account": t, "ResultCode": c, "ResultInfo": i}
                                   for t, c, i in items]})


def fail(code, message):
    error_code, status = ERRORS[code]
    body = compact({"ActionStatus": "FAIL", "ErrorCode": error_code,
                    "ErrorInfo": message, "ResultItem": []})
    return {"status": status, "error": code, "body": body}


def allowed(items):
    return {"status": 200, "error": None,
            "body": answer([(i["To_Account"], 0, "") for i in items])}


def case(name, description, expect, *, q=None, body=None, body_bytes=None,
         config=None, now=NOW, decisions=None):
    entry = {"name": name, "description": description,
             "config": {"app_ids": [APP], "tokens": [TOKEN], **(config or {})},
             "now": now, "query": query() if q is None else q}
    if body_bytes is not None:
        entry["body_base64"] = base64.b64encode(body_bytes).decode()
    else:
        entry["body"] = compact(body_obj()) if body is None else (
            body if isinstance(body, str) else compact(body))
    if decisions is not None:
        entry["decisions"] = decisions
    entry["expect"] = expect
    return entry


def reject(code, info):
    return {"reject": {"code": code, "info": info}}


SAMPLE_OK = allowed(SAMPLE_ITEMS)


def platform_cases():
    return [
        case("page_sample_signed", "The page's sample body byte for byte, signed with the known answer; everything allowed.",
             SAMPLE_OK, body=PAGE_SAMPLE, q=query(sign_value=KNOWN_SIGN)),
        case("page_sample_unsigned", "The page's sample URL without authentication (no tokens configured).",
             SAMPLE_OK, body=PAGE_SAMPLE, q=query(token=None), config={"tokens": []}),
        case("sample_reject_second", "The sample with the second response blocked.",
             {"status": 200, "error": None,
              "body": answer([("id1", 0, ""), ("id2", 38001, "spam ring")])},
             decisions=["allow", reject(38001, "spam ring")]),
        case("sample_reject_both_unicode_info", "Reasons with quotes, a backslash and non-ASCII text are escaped as JSON, UTF-8 kept.",
             {"status": 200, "error": None,
              "body": answer([("id1", 38500, "备注含有\"违规\"词\\"), ("id2", 38999, "banned ✋")])},
             decisions=[reject(38500, "备注含有\"违规\"词\\"), reject(38999, "banned ✋")]),
    ]


def sign_cases():
    bad = KNOWN_SIGN[:-1] + ("0" if KNOWN_SIGN[-1] != "0" else "1")
    return [
        case("sign_known_answer", "Token xxxxyyyy at 1669872112 signs as the overview page says.",
             SAMPLE_OK, q=query(sign_value=KNOWN_SIGN)),
        case("sign_uppercase_hex", "The same Sign in upper-case hex is the same digest.",
             SAMPLE_OK, q=query(sign_value=KNOWN_SIGN.upper())),
        case("sign_missing", "Authentication on, no Sign.",
             fail("missing_signature", "query parameter `Sign` is required: callback authentication is on"),
             q=query(drop=("Sign",))),
        case("request_time_missing", "Authentication on, no RequestTime.",
             fail("missing_signature", "query parameter `RequestTime` is required: callback authentication is on"),
             q=query(drop=("RequestTime",))),
        case("sign_one_digit_off", "Last hex digit changed.",
             fail("bad_signature", "Sign does not match"), q=query(sign_value=bad)),
        case("sign_not_hex", "A Sign that is not hex never matches.",
             fail("bad_signature", "Sign does not match"), q=query(sign_value="z" * 64)),
        case("sign_truncated", "63 hex digits.",
             fail("bad_signature", "Sign does not match"), q=query(sign_value=KNOWN_SIGN[:63])),
        case("sign_empty", "Sign= with no value.",
             fail("bad_signature", "Sign does not match"), q=query(sign_value="")),
        case("sign_for_other_time", "A Sign made for another second does not cover this RequestTime.",
             fail("bad_signature", "Sign does not match"), q=query(sign_value=sign(TOKEN, NOW - 1))),
        case("sign_other_token", "Signed with a token this endpoint does not have.",
             fail("bad_signature", "Sign does not match"), q=query(token="another-token")),
        case("rotation_old_token", "During rotation the old token still signs.",
             SAMPLE_OK, q=query(token="old-token"), config={"tokens": ["new-token", "old-token"]}),
        case("rotation_new_token", "During rotation the new token signs.",
             SAMPLE_OK, q=query(token="new-token"), config={"tokens": ["new-token", "old-token"]}),
        case("rotation_retired_token", "After rotation the retired token is refused.",
             fail("bad_signature", "Sign does not match"), q=query(token=TOKEN), config={"tokens": ["new-token"]}),
        case("no_tokens_ignores_sign", "Without tokens authentication is off: a stale, wrong Sign is not read.",
             SAMPLE_OK, q=query(sign_value="bad", time=1), config={"tokens": []}),
        case("request_time_not_a_number", "RequestTime must be decimal seconds.",
             fail("invalid_parameter", "query parameter `RequestTime` is invalid: expected Unix time in seconds as a decimal integer"),
             q=query(time="16698721.12", sign_value=sign(TOKEN, "16698721.12"))),
        case("request_time_leading_zero", "The Sign covers the RequestTime text as sent, leading zero included.",
             SAMPLE_OK, q=query(time="01669872112", sign_value=sign(TOKEN, "01669872112"))),
    ]


def window_cases():
    def at(offset, expect, window=None):
        config = {} if window is None else {"window_seconds": window}
        return case(f"window_{'minus' if offset < 0 else 'plus'}_{abs(offset)}" + (f"_of_{window}" if window is not None else ""),
                    f"RequestTime {offset:+d} s from now, window {window or 60} s.",
                    expect, q=query(time=NOW + offset), config=config)
    old = fail("request_time_too_old", "RequestTime is older than the accepted window")
    future = fail("request_time_in_future", "RequestTime is further in the future than the accepted window")
    return [
        at(-60, SAMPLE_OK), at(-61, old), at(60, SAMPLE_OK), at(61, future),
        at(-5, SAMPLE_OK, 5), at(-6, old, 5), at(0, SAMPLE_OK, 0), at(1, future, 0),
        at(-86400, old),
    ]


def query_cases():
    return [
        case("query_missing_app_id", "No SdkAppid.",
             fail("missing_parameter", "query parameter `SdkAppid` is missing"), q=query(drop=("SdkAppid",))),
        case("query_app_id_not_a_number", "SdkAppid must be a decimal integer.",
             fail("invalid_parameter", "query parameter `SdkAppid` is invalid: expected a decimal integer"),
             q=query(app="14000x")),
        case("query_foreign_app_id", "Another app's callback; the message does not echo the id.",
             fail("foreign_app_id", "SdkAppid is not accepted by this endpoint"), q=query(app=1400000001)),
        case("query_second_app_id", "An endpoint serving two apps accepts both.",
             SAMPLE_OK, q=query(app=1400000001), config={"app_ids": [APP, 1400000001]}),
        case("query_missing_command", "No CallbackCommand.",
             fail("missing_parameter", "query parameter `CallbackCommand` is missing"),
             q=query(drop=("CallbackCommand",))),
        case("query_other_command", "A sibling callback sent to this endpoint.",
             fail("unexpected_command", "query parameter `CallbackCommand` must be `Sns.CallbackPrevFriendResponse`, got `Sns.CallbackPrevFriendAdd`"),
             q=query().replace(CMD, "Sns.CallbackPrevFriendAdd")),
        case("query_missing_content_type",
             "No contenttype: accepted as json, the only type the platform sends (refusing it would protect nothing, and the platform lets a refused callback through).",
             SAMPLE_OK, q=query(drop=("contenttype",))),
        case("query_content_type_xml", "contenttype other than json.",
             fail("unsupported_content_type", "query parameter `contenttype` must be `json`, got `xml`"),
             q=query().replace("contenttype=json", "contenttype=xml")),
        case("query_duplicate_sign", "Two Sign parameters: refused rather than guessing which counts.",
             fail("duplicate_parameter", "query parameter `Sign` appears more than once"),
             q=query(extra="&Sign=" + KNOWN_SIGN)),
        case("query_leading_question_mark_and_unknown_params", "A leading ? and parameters added later are fine.",
             SAMPLE_OK, q="?" + query(extra="&NewParam=1&flag")),
        case("query_percent_encoded_ipv6", "ClientIP percent-encoded IPv6.",
             SAMPLE_OK, q=query(ip="2001:db8::1")),
        case("query_client_ip_not_an_ip", "A ClientIP that is not an address is kept, not refused.",
             SAMPLE_OK, q=query(ip="unknown")),
        case("query_no_client_ip_no_platform", "ClientIP and OptPlatform are descriptive; their absence is not an error.",
             SAMPLE_OK, q=query(drop=("ClientIP", "OptPlatform"))),
    ]


def platform_spelling_cases():
    names = ["RESTAPI", "Web", "Android", "iOS", "IOS", "Windows", "Mac", "macOS", "iPad", "Unknown", "HarmonyOS"]
    return [case(f"platform_{name}", f"OptPlatform={name} is accepted" + (" (an unknown platform flows on)" if name == "HarmonyOS" else ""),
                 SAMPLE_OK, q=query(platform=name)) for name in names]


def action_cases():
    actions = ["Response_Action_AgreeAndAdd", "Response_Action_Agree", "Response_Action_Reject", "Response_Action_Later"]
    items = [item(f"u{i}", action=a) for i, a in enumerate(actions)]
    return [
        case("actions_all_and_unknown", "Every documented action and one the platform may add later.",
             {"status": 200, "error": None, "body": answer([("u0", 0, ""), ("u1", 0, ""), ("u2", 0, ""), ("u3", 38002, "unknown action")])},
             body=body_obj(items), decisions=["allow", "allow", "allow", reject(38002, "unknown action")]),
    ]


def body_cases():
    b = compact(body_obj())
    no_remark = [{"To_Account": "id1", "ResponseAction": "Response_Action_Agree"}]
    deep_ok = "[" * 31 + "0" + "]" * 31
    deep_bad = "[" * 32 + "0" + "]" * 32
    deep_path = "$.Future" + "[0]" * 31
    return [
        case("body_empty", "An empty body.",
             fail("malformed_json", "body is not valid JSON: EOF while parsing a value at line 1 column 0"), body=""),
        case("body_truncated", "The sample cut in the middle of an item.",
             fail("malformed_json", "body is not valid JSON: EOF while parsing an object at line 1 column 120"), body=b[:120]),
        case("body_trailing_garbage", "Valid JSON followed by more text.",
             fail("malformed_json", "body is not valid JSON: trailing characters at line 1 column %d" % (len(b) + 2)), body=b + " x"),
        case("body_not_json", "Form data instead of JSON.",
             fail("malformed_json", "body is not valid JSON: expected value at line 1 column 1"), body="From_Account=id"),
        case("body_lone_surrogate", "A lone \\ud800 escape (no low surrogate after it) is not a Unicode scalar value.",
             fail("malformed_json", "body is not valid JSON: unexpected end of hex escape at line 1 column 100"),
             body=b.replace('"From_Account":"id"', '"From_Account":"\\ud800"')),
        case("body_invalid_utf8", "Raw 0xFF byte inside a remark.",
             fail("invalid_utf8", "body is not valid UTF-8 at byte %d" % b.index("remark1")),
             body_bytes=b.replace("remark1", "\udcffremark1").encode("utf-8", "surrogateescape")),
        case("body_top_level_array", "The body must be an object.",
             fail("wrong_type", "$ must be an object, found array"), body="[]"),
        case("body_to_account_number", "To_Account as a number.",
             fail("wrong_type", "$.ResponseFriendItem[0].To_Account must be a string, found number"),
             body=body_obj([{**SAMPLE_ITEMS[0], "To_Account": 42}])),
        case("body_remark_null", "Remark null (absent is fine, null is not a string).",
             fail("wrong_type", "$.ResponseFriendItem[1].Remark must be a string, found null"),
             body=body_obj([SAMPLE_ITEMS[0], {**SAMPLE_ITEMS[1], "Remark": None}])),
        case("body_event_time_string", "EventTime as a string.",
             fail("wrong_type", "$.EventTime must be a non-negative integer, found string"),
             body=body_obj(EventTime="1631777645424")),
        case("body_event_time_negative", "EventTime below zero.",
             fail("wrong_type", "$.EventTime must be a non-negative integer, found a negative number"),
             body=body_obj(EventTime=-1)),
        case("body_event_time_fraction", "EventTime with a fraction.",
             fail("wrong_type", "$.EventTime must be a non-negative integer, found a non-integer number"),
             body=b.replace("1631777645424", "1631777645424.5")),
        case("body_items_object", "ResponseFriendItem as an object.",
             fail("wrong_type", "$.ResponseFriendItem must be an array, found object"),
             body=body_obj({"To_Account": "id1"})),
        case("body_item_string", "An item that is a string.",
             fail("wrong_type", "$.ResponseFriendItem[0] must be an object, found string"),
             body=body_obj(["id1"])),
        case("body_missing_from_account", "No From_Account.",
             fail("missing_field", "missing field $.From_Account"),
             body={k: v for k, v in body_obj().items() if k != "From_Account"}),
        case("body_missing_event_time",
             "No EventTime: accepted (as 0), since no answer depends on it and a refused callback is let through.",
             SAMPLE_OK, body={k: v for k, v in body_obj().items() if k != "EventTime"}),
        case("body_missing_requester",
             "No Requester_Account: accepted (as empty), since no answer depends on it.",
             SAMPLE_OK, body={k: v for k, v in body_obj().items() if k != "Requester_Account"}),
        case("body_missing_to_account", "An item without To_Account.",
             fail("missing_field", "missing field $.ResponseFriendItem[1].To_Account"),
             body=body_obj([SAMPLE_ITEMS[0], {"ResponseAction": "Response_Action_Agree"}])),
        case("body_missing_action", "An item without ResponseAction.",
             fail("missing_field", "missing field $.ResponseFriendItem[0].ResponseAction"),
             body=body_obj([{"To_Account": "id1"}])),
        case("body_remark_and_tag_absent", "Remark and TagName may be absent.",
             allowed(no_remark), body=body_obj(no_remark)),
        case("body_duplicate_top_level_key", "From_Account twice: which one would a decider see?",
             fail("duplicate_key", "duplicate key `From_Account` in $"),
             body=b.replace('"From_Account":"id"', '"From_Account":"id","From_Account":"admin"')),
        case("body_duplicate_item_key", "To_Account twice in one item.",
             fail("duplicate_key", "duplicate key `To_Account` in $.ResponseFriendItem[1]"),
             body=b.replace('"To_Account":"id2"', '"To_Account":"id2","To_Account":"id3"')),
        case("body_duplicate_unknown_key", "Duplicate keys are refused inside unknown fields too.",
             fail("duplicate_key", "duplicate key `a` in $.Future"),
             body=b.replace('{"CallbackCommand"', '{"Future":{"a":1,"a":2},"CallbackCommand"')),
        case("body_unknown_fields", "Fields the platform may add later, at the top and in items, nested, are ignored.",
             SAMPLE_OK, body=body_obj([{**SAMPLE_ITEMS[0], "AddSource": "AddSource_Type_Web", "Meta": {"x": [1, {"y": None}]}}, SAMPLE_ITEMS[1]],
                                      Future={"list": [True, 1.5, "s"]}, Seq=7)),
        case("body_command_mismatch", "The body names another callback than the query.",
             fail("command_mismatch", "$.CallbackCommand must be `Sns.CallbackPrevFriendResponse` like the query's, got `Sns.CallbackPrevFriendAdd`"),
             body=body_obj(CallbackCommand="Sns.CallbackPrevFriendAdd")),
        case("body_depth_at_limit", "An unknown field nested to exactly 32 levels (the top object is level 1).",
             SAMPLE_OK, body=b.replace('{"CallbackCommand"', '{"Future":%s,"CallbackCommand"' % deep_ok)),
        case("body_depth_past_limit", "One level deeper than the default 32.",
             fail("too_deep", f"body nests deeper than 32 levels at {deep_path}"),
             body=b.replace('{"CallbackCommand"', '{"Future":%s,"CallbackCommand"' % deep_bad)),
        case("body_escaped_keys_and_values", "Escapes in keys and values decode before matching; answers re-encode.",
             {"status": 200, "error": None, "body": answer([("id\n1", 0, ""), ("id2", 0, "")])},
             body=b.replace('"To_Account":"id1"', '"To\\u005fAccount":"id\\n1"')),
    ]


def limit_cases():
    b = compact(body_obj())
    n = len(b.encode())
    hanzi32 = "好" * 32  # 96 bytes, 32 characters
    return [
        case("limit_body_at", "A body exactly at a custom 400-byte limit (padded with spaces).",
             SAMPLE_OK, body=b + " " * (400 - n), config={"limits": {"max_body_bytes": 400}}),
        case("limit_body_past", "One byte over the custom limit.",
             fail("body_too_large", "body is 401 bytes, over the limit of 400"),
             body=b + " " * (401 - n), config={"limits": {"max_body_bytes": 400}}),
        case("limit_user_id_at", "To_Account of exactly 32 bytes.",
             allowed([item("u" * 32)]), body=body_obj([item("u" * 32)])),
        case("limit_user_id_past", "From_Account of 33 bytes.",
             fail("field_too_long", "$.From_Account is 33 bytes, over the limit of 32"),
             body=body_obj(From_Account="u" * 33)),
        case("limit_remark_unicode_at", "A remark of 32 CJK characters is 96 bytes: at the limit.",
             allowed([item("id1", remark=hanzi32)]), body=body_obj([item("id1", remark=hanzi32)])),
        case("limit_remark_unicode_past", "33 CJK characters are 99 bytes: limits count bytes, not characters.",
             fail("field_too_long", "$.ResponseFriendItem[0].Remark is 99 bytes, over the limit of 96"),
             body=body_obj([item("id1", remark=hanzi32 + "好")])),
        case("limit_tag_name_past", "TagName of 97 bytes.",
             fail("field_too_long", "$.ResponseFriendItem[0].TagName is 97 bytes, over the limit of 96"),
             body=body_obj([item("id1", tag="t" * 97)])),
        case("limit_tag_name_emoji_at", "TagName of 24 four-byte emoji is 96 bytes.",
             allowed([item("id1", tag="😀" * 24)]), body=body_obj([item("id1", tag="😀" * 24)])),
        case("limit_items_at", "Three items under a custom limit of three.",
             allowed([item(f"u{i}") for i in range(3)]), body=body_obj([item(f"u{i}") for i in range(3)]),
             config={"limits": {"max_items": 3}}),
        case("limit_items_past", "Four items under a custom limit of three.",
             fail("too_many_items", "$.ResponseFriendItem has more than 3 items"),
             body=body_obj([item(f"u{i}") for i in range(4)]), config={"limits": {"max_items": 3}}),
        case("items_empty", "No items: an OK answer with no ResultItem.",
             allowed([]), body=body_obj([])),
        case("items_many", "100 items, every third rejected, answered in order.",
             {"status": 200, "error": None,
              "body": answer([(f"user{i}", 38003 if i % 3 == 2 else 0, "rule 3" if i % 3 == 2 else "") for i in range(100)])},
             body=body_obj([item(f"user{i}", f"remark{i}", "friends") for i in range(100)]),
             decisions=[reject(38003, "rule 3") if i % 3 == 2 else "allow" for i in range(100)]),
    ]


def decision_cases():
    return [
        case("decision_code_edges", "38000 and 39000 are both valid result codes.",
             {"status": 200, "error": None, "body": answer([("id1", 38000, "low"), ("id2", 39000, "high")])},
             decisions=[reject(38000, "low"), reject(39000, "high")]),
        case("decider_fails_default_policy", "A failing decider: the default policy rejects that item with 38900.",
             {"status": 200, "error": None, "body": answer([("id1", 0, ""), ("id2", FAIL_CODE, FAIL_INFO)])},
             decisions=["allow", {"fail": "database unreachable"}]),
        case("decider_invalid_code_default_policy", "A decider asking for code 37999 fails; the policy rejects with 38900.",
             {"status": 200, "error": None, "body": answer([("id1", FAIL_CODE, FAIL_INFO), ("id2", 0, "")])},
             decisions=[reject(37999, "too low"), "allow"]),
        case("decider_code_zero_is_not_a_rejection", "Reject with code 0 is refused, not turned into an allow.",
             {"status": 200, "error": None, "body": answer([("id1", FAIL_CODE, FAIL_INFO), ("id2", 0, "")])},
             decisions=[reject(0, "zero"), "allow"]),
        case("decider_fails_custom_reject_policy", "A configured failure code and info.",
             {"status": 200, "error": None, "body": answer([("id1", 38777, "try again later"), ("id2", 0, "")])},
             decisions=[{"fail": "timeout"}, "allow"],
             config={"on_decider_error": {"policy": "reject", "code": 38777, "info": "try again later"}}),
        case("decider_fails_allow_policy", "Fail-open policy: the failed item is allowed.",
             {"status": 200, "error": None, "body": answer([("id1", 0, ""), ("id2", 38001, "spam")])},
             decisions=[{"fail": "timeout"}, reject(38001, "spam")],
             config={"on_decider_error": {"policy": "allow"}}),
        case("decider_fails_fail_callback_policy", "FAIL policy: the whole callback fails, naming the item.",
             fail("decider_failed", "decision for item 1 failed: database unreachable"),
             decisions=["allow", {"fail": "database unreachable"}],
             config={"on_decider_error": {"policy": "fail_callback"}}),
        case("decider_invalid_code_fail_callback_policy", "FAIL policy with an out-of-range code: the reason is core's invalid_result_code message.",
             fail("decider_failed", "decision for item 0 failed: result code 39001 is outside [38000, 39000]"),
             decisions=[reject(39001, "too high"), "allow"],
             config={"on_decider_error": {"policy": "fail_callback"}}),
    ]


FILES = {
    "platform.json": ("The platform's own samples.", platform_cases),
    "sign.json": ("Sign and RequestTime: the known answer, missing and wrong Signs, token rotation.", sign_cases),
    "window.json": ("The RequestTime window, at and one second past each edge.", window_cases),
    "query.json": ("Query string parameters.", query_cases),
    "platforms.json": ("Every OptPlatform spelling, and an unknown one.", platform_spelling_cases),
    "actions.json": ("ResponseAction values, documented and unknown.", action_cases),
    "body.json": ("Body syntax, types, required fields, duplicate keys, unknown fields, depth.", body_cases),
    "limits.json": ("Size limits at and one byte past, counted in UTF-8 bytes.", limit_cases),
    "decisions.json": ("Decisions, result code range, and the decider failure policies.", decision_cases),
}


def main():
    import friend_add  # the friend-request files, in friend_add/

    FILES.update(friend_add.FILES)
    (HERE / "friend_add").mkdir(exist_ok=True)
    check = "--check" in sys.argv[1:]
    total, stale = 0, []
    for file_name, (description, build) in FILES.items():
        cases = build()
        total += len(cases)
        text = json.dumps({"description": description, "cases": cases}, ensure_ascii=False, indent=2) + "\n"
        path = HERE / file_name
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(file_name)
        else:
            path.write_text(text, encoding="utf-8")
    written = [p.relative_to(HERE).as_posix() for p in [*HERE.glob("*.json"), *HERE.glob("friend_add/*.json")]]
    extra = sorted(name for name in written if name not in FILES)
    if check:
        if stale or extra:
            print(f"vectors differ from generate.py: {stale + extra}; run python3 tests/vectors/generate.py")
            sys.exit(1)
        print(f"{total} vector cases in {len(FILES)} files match generate.py")
    else:
        print(f"wrote {total} cases in {len(FILES)} files")


if __name__ == "__main__":
    sys.modules.setdefault("generate", sys.modules[__name__])
    main()
