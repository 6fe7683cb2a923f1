//! The verified callback as the JavaScript layer reads it: core's
//! `CallbackView`, written for a cheap crossing.

use friendgate_core::{AddCallbackView, CallbackView, RequestView};
use serde::Serialize;

/// An authenticated callback of any command as the JavaScript layer reads
/// it (`?` + this JSON).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RequestJson<'a> {
    command: &'a str,
    command_known: bool,
    sdk_app_id: u64,
    platform: Option<&'a str>,
    platform_known: bool,
    client_ip: Option<&'a str>,
    request_time: Option<u64>,
}

/// `?` + the request as JSON.
pub(crate) fn request_text(view: &RequestView<'_>) -> String {
    let request = RequestJson {
        command: &view.command,
        command_known: view.command_known,
        sdk_app_id: view.sdk_app_id,
        platform: view.platform.as_deref(),
        platform_known: view.platform_known,
        client_ip: view.client_ip.as_deref(),
        request_time: view.request_time,
    };
    format!("?{}", serde_json::to_string(&request).unwrap_or_default())
}

/// A verified friend response for the JavaScript layer: `slot:numbers;strings`.
/// Numbers: item count, `SdkAppid`, `EventTime`, `RequestTime` (-1: none),
/// platform known, platform sent, client IP sent, then per item action known
/// and is accept; strings: platform, client IP, `Requester_Account`,
/// `From_Account`, then per item `To_Account`, `Remark`, `TagName`,
/// `ResponseAction`.
pub(crate) fn event_wire(slot: u32, view: &CallbackView<'_>) -> String {
    let items = &view.items;
    let mut numbers: Vec<i64> = Vec::with_capacity(7 + 2 * items.len());
    numbers.extend([
        items.len() as i64,
        view.sdk_app_id as i64,
        view.event_time_ms as i64,
        view.request_time.map_or(-1, |t| t as i64),
        i64::from(view.platform_known),
        i64::from(view.platform.is_some()),
        i64::from(view.client_ip.is_some()),
    ]);
    for item in items {
        numbers.extend([i64::from(item.action_known), i64::from(item.is_accept)]);
    }
    let mut strings: Vec<&str> = Vec::with_capacity(4 + 4 * items.len());
    strings.extend([
        view.platform.as_deref().unwrap_or(""),
        view.client_ip.as_deref().unwrap_or(""),
        &view.requester_account,
        &view.from_account,
    ]);
    for item in items {
        strings.extend([
            &*item.to_account,
            &*item.remark,
            &*item.tag_name,
            &*item.action,
        ]);
    }
    wire("", slot, &numbers, &strings)
}

/// A verified friend request for the JavaScript layer: `&` then the same
/// `slot:numbers;strings` shape as [`event_wire`]. Numbers: item count,
/// `SdkAppid`, `EventTime`, `RequestTime` (-1: none), platform known,
/// platform sent, client IP sent, add type known, `ForceAddFlags`; strings:
/// platform, client IP, `Requester_Account`, `From_Account`, `AddType`, then
/// per item `To_Account`, `Remark`, `GroupName`, `AddSource`, `AddWording`.
pub(crate) fn add_event_wire(slot: u32, view: &AddCallbackView<'_>) -> String {
    let items = &view.items;
    let numbers = [
        items.len() as i64,
        view.sdk_app_id as i64,
        view.event_time_ms as i64,
        view.request_time.map_or(-1, |t| t as i64),
        i64::from(view.platform_known),
        i64::from(view.platform.is_some()),
        i64::from(view.client_ip.is_some()),
        i64::from(view.add_type_known),
        i64::try_from(view.force_add_flags).unwrap_or(i64::MAX),
    ];
    let mut strings: Vec<&str> = Vec::with_capacity(5 + 5 * items.len());
    strings.extend([
        view.platform.as_deref().unwrap_or(""),
        view.client_ip.as_deref().unwrap_or(""),
        &view.requester_account,
        &view.from_account,
        &view.add_type,
    ]);
    for item in items {
        strings.extend([
            &*item.to_account,
            &*item.remark,
            &*item.group_name,
            &*item.add_source,
            &*item.add_wording,
        ]);
    }
    wire("&", slot, &numbers, &strings)
}

/// `prefix` `slot:` the numbers and each string's length in UTF-16 units,
/// comma-separated, `;`, then the strings back to back: one JavaScript
/// string that the JS layer slices without a JSON parse.
fn wire(prefix: &str, slot: u32, numbers: &[i64], strings: &[&str]) -> String {
    let text_len: usize = strings.iter().map(|s| s.len()).sum();
    let mut out = String::with_capacity(64 + 8 * (numbers.len() + strings.len()) + text_len);
    let mut buffer = itoa::Buffer::new();
    out.push_str(prefix);
    out.push_str(buffer.format(slot));
    out.push(':');
    for value in numbers {
        out.push_str(buffer.format(*value));
        out.push(',');
    }
    for text in strings {
        let units = if text.is_ascii() {
            text.len()
        } else {
            text.encode_utf16().count()
        };
        out.push_str(buffer.format(units));
        out.push(',');
    }
    out.pop();
    out.push(';');
    for text in strings {
        out.push_str(text);
    }
    out
}
