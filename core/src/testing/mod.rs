//! Helpers for testing an endpoint: sign like the platform, build signed
//! query strings, and sample bodies. Bindings and the server expose them.

pub mod vectors;

use crate::query::{CALLBACK_COMMAND, CONTENT_TYPE};
use crate::sign::compute_sign;

/// The app id of the platform's documentation samples.
pub const SAMPLE_APP_ID: u64 = 1_400_000_000;
/// The token of the Sign known answer.
pub const SAMPLE_TOKEN: &str = "xxxxyyyy";
/// The `RequestTime` of the Sign known answer.
pub const SAMPLE_REQUEST_TIME: u64 = 1_669_872_112;
/// The Sign known answer: `SAMPLE_TOKEN` at `SAMPLE_REQUEST_TIME`.
pub const SAMPLE_SIGN: &str = "17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061";

/// The platform's sample request body, compact.
pub const SAMPLE_BODY: &str = r#"{"CallbackCommand":"Sns.CallbackPrevFriendResponse","Requester_Account":"id","From_Account":"id","ResponseFriendItem":[{"To_Account":"id1","Remark":"remark1","TagName":"group1","ResponseAction":"Response_Action_AgreeAndAdd"},{"To_Account":"id2","Remark":"remark2","TagName":"group2","ResponseAction":"Response_Action_Reject"}],"EventTime":1631777645424}"#;

/// The documentation's friend-request sample (`Sns.CallbackPrevFriendAdd`),
/// compact.
pub const SAMPLE_ADD_BODY: &str = r#"{"CallbackCommand":"Sns.CallbackPrevFriendAdd","Requester_Account":"id","From_Account":"id","FriendItem":[{"To_Account":"id1","Remark":"remark1","GroupName":"group1","AddSource":"AddSource_Type_Android","AddWording":"this is id1!"},{"To_Account":"id2","Remark":"remark2","GroupName":"group1","AddSource":"AddSource_Type_Android","AddWording":"this is id2!"}],"AddType":"Add_Type_Both","ForceAddFlags":0,"EventTime":1631777344870}"#;

/// [`signed_query`] for a friend request (`Sns.CallbackPrevFriendAdd`).
pub fn signed_add_query(app_id: u64, token: &str, request_time: u64) -> String {
    QueryBuilder::new(app_id)
        .command(crate::command::FRIEND_ADD)
        .signed(token, request_time)
        .build()
}

/// A friend request from `from_account` with `count` items, each with an
/// `AddWording` (`hello {i}`): for load tests and benchmarks.
pub fn add_body_with_items(from_account: &str, count: usize) -> String {
    let items: Vec<serde_json::Value> = (0..count)
        .map(|i| {
            serde_json::json!({
                "To_Account": format!("user{i}"),
                "Remark": format!("remark{i}"),
                "GroupName": "friends",
                "AddSource": "AddSource_Type_Android",
                "AddWording": format!("hello {i}"),
            })
        })
        .collect();
    serde_json::json!({
        "CallbackCommand": crate::command::FRIEND_ADD,
        "Requester_Account": from_account,
        "From_Account": from_account,
        "FriendItem": items,
        "AddType": "Add_Type_Both",
        "ForceAddFlags": 0,
        "EventTime": 1_631_777_344_870_u64,
    })
    .to_string()
}

/// The Sign for `token` at `request_time` (Unix seconds).
pub fn sign(token: &str, request_time: u64) -> String {
    compute_sign(token, &request_time.to_string())
}

/// A callback query string for `app_id` from `127.0.0.1` on `iOS`, signed
/// with `token` at `request_time`.
pub fn signed_query(app_id: u64, token: &str, request_time: u64) -> String {
    QueryBuilder::new(app_id)
        .signed(token, request_time)
        .build()
}

/// The platform's sample body (see [`SAMPLE_BODY`]).
pub fn sample_body() -> String {
    SAMPLE_BODY.to_owned()
}

/// A valid body from `from_account` with `count` items to `user0`,
/// `user1`, ..., cycling through the three documented actions.
pub fn body_with_items(from_account: &str, count: usize) -> String {
    const ACTIONS: [&str; 3] = [
        "Response_Action_AgreeAndAdd",
        "Response_Action_Agree",
        "Response_Action_Reject",
    ];
    let items: Vec<serde_json::Value> = (0..count)
        .map(|i| {
            serde_json::json!({
                "To_Account": format!("user{i}"),
                "Remark": format!("remark{i}"),
                "TagName": "friends",
                "ResponseAction": ACTIONS[i % 3],
            })
        })
        .collect();
    serde_json::json!({
        "CallbackCommand": CALLBACK_COMMAND,
        "Requester_Account": from_account,
        "From_Account": from_account,
        "ResponseFriendItem": items,
        "EventTime": 1_631_777_645_424_u64,
    })
    .to_string()
}

/// Builds callback query strings the way the platform sends them.
#[derive(Debug, Clone)]
pub struct QueryBuilder {
    app_id: u64,
    command: String,
    client_ip: String,
    platform: String,
    signed: Option<(String, u64)>,
}

impl QueryBuilder {
    /// A query for `app_id` from `127.0.0.1` on `iOS`, unsigned.
    pub fn new(app_id: u64) -> Self {
        Self {
            app_id,
            command: CALLBACK_COMMAND.to_owned(),
            client_ip: "127.0.0.1".to_owned(),
            platform: "iOS".to_owned(),
            signed: None,
        }
    }

    /// Sets `CallbackCommand` (friend responses by default).
    pub fn command(mut self, command: &str) -> Self {
        self.command = command.to_owned();
        self
    }

    /// Sets `ClientIP`.
    pub fn client_ip(mut self, client_ip: &str) -> Self {
        self.client_ip = client_ip.to_owned();
        self
    }

    /// Sets `OptPlatform`.
    pub fn platform(mut self, platform: &str) -> Self {
        self.platform = platform.to_owned();
        self
    }

    /// Adds `RequestTime` and the `Sign` for `token`.
    pub fn signed(mut self, token: &str, request_time: u64) -> Self {
        self.signed = Some((token.to_owned(), request_time));
        self
    }

    /// The query string, without a leading `?`, percent-encoded.
    pub fn build(&self) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query
            .append_pair("SdkAppid", &self.app_id.to_string())
            .append_pair("CallbackCommand", &self.command)
            .append_pair("contenttype", CONTENT_TYPE)
            .append_pair("ClientIP", &self.client_ip)
            .append_pair("OptPlatform", &self.platform);
        if let Some((token, time)) = &self.signed {
            query
                .append_pair("RequestTime", &time.to_string())
                .append_pair("Sign", &sign(token, *time));
        }
        query.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_sample_query() {
        assert_eq!(sign(SAMPLE_TOKEN, SAMPLE_REQUEST_TIME), SAMPLE_SIGN);
        assert_eq!(
            signed_query(SAMPLE_APP_ID, SAMPLE_TOKEN, SAMPLE_REQUEST_TIME),
            format!("SdkAppid=1400000000&CallbackCommand=Sns.CallbackPrevFriendResponse&contenttype=json&ClientIP=127.0.0.1&OptPlatform=iOS&RequestTime=1669872112&Sign={SAMPLE_SIGN}")
        );
        assert!(QueryBuilder::new(1)
            .client_ip("::1")
            .build()
            .contains("ClientIP=%3A%3A1"));
    }
}
