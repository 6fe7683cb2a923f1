//! The verified callback as the JavaScript layer reads it: core's
//! `CallbackView`, written for a cheap crossing.

use friendgate_core::{CallbackView, RequestView};
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

/// The event as the JavaScript layer reads it (V8's JSON.parse of the event
/// cost more than all of core's work): `slot:` then comma-separated integers
/// ending in `;`, then the strings back to back. The integers: item count,
/// SdkAppid, EventTime (ms), RequestTime (-1 when absent), platform known
/// (0/1), platform present, ClientIP present, then per item `action known`,
/// `is accept`, then the UTF-16 length of every string in order: platform,
/// ClientIP, Requester_Account, From_Account, and per item To_Account,
/// Remark, TagName, ResponseAction.
pub(crate) fn event_wire(slot: u32, view: &CallbackView<'_>) -> String {
    let items = &view.items;
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
    let text_len: usize = strings.iter().map(|s| s.len()).sum();
    let mut out = String::with_capacity(64 + 8 * strings.len() + text_len);
    let mut buffer = itoa::Buffer::new();
    let mut number = |out: &mut String, value: i64| {
        out.push_str(buffer.format(value));
        out.push(',');
    };
    out.push_str(itoa::Buffer::new().format(slot));
    out.push(':');
    number(&mut out, items.len() as i64);
    number(&mut out, view.sdk_app_id as i64);
    number(&mut out, view.event_time_ms as i64);
    number(&mut out, view.request_time.map_or(-1, |t| t as i64));
    number(&mut out, i64::from(view.platform_known));
    number(&mut out, i64::from(view.platform.is_some()));
    number(&mut out, i64::from(view.client_ip.is_some()));
    for item in items {
        number(&mut out, i64::from(item.action_known));
        number(&mut out, i64::from(item.is_accept));
    }
    for text in &strings {
        let units = if text.is_ascii() {
            text.len()
        } else {
            text.encode_utf16().count()
        };
        number(&mut out, units as i64);
    }
    out.pop();
    out.push(';');
    for text in strings {
        out.push_str(text);
    }
    out
}
