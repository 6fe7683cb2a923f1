//! Helpers for the server's HTTP tests: start a real server on 127.0.0.1,
//! write config files, sign URLs.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod process;
pub mod redis;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use friendgate_core::testing::QueryBuilder;
use friendgate_core::Config;
use friendgate_server::policy::Policy;
use friendgate_server::settings::{AdminSettings, LogFormat, LogSettings, ServerSettings};
use friendgate_server::{Gateway, Server, Settings};

pub const APP: u64 = 1_400_000_000;
pub const TOKEN: &str = "xxxxyyyy";

/// Core's config for app `APP` with token `TOKEN`.
pub fn signing_config() -> Config {
    Config::builder(APP)
        .token(friendgate_core::Token::new(TOKEN).unwrap())
        .build()
        .unwrap()
}

/// Starts a gateway serving TLS for `localhost` with a fresh self-signed
/// certificate written in `dir`; returns it and the certificate's PEM.
pub async fn start_tls(dir: &Path) -> (Running, String) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert_pem = certified.cert.pem();
    std::fs::write(dir.join("cert.pem"), &cert_pem).unwrap();
    std::fs::write(dir.join("key.pem"), certified.signing_key.serialize_pem()).unwrap();
    let mut settings = settings(signing_config());
    settings.server.tls = Some((dir.join("cert.pem"), dir.join("key.pem")));
    (start(Gateway::new(settings)).await, cert_pem)
}

/// Starts a gateway serving TLS with a certificate made as `openssl req
/// -x509 -newkey rsa:2048 -nodes -subj /CN=localhost` makes one: self-signed,
/// the CA flag set, the name in the subject only (no subjectAltName).
pub async fn start_tls_like_openssl(dir: &Path) -> Running {
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "localhost");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
    let mut settings = settings(signing_config());
    settings.server.tls = Some((dir.join("cert.pem"), dir.join("key.pem")));
    start(Gateway::new(settings)).await
}

/// Settings built in code: listen on a free port, callback path `/cb`, no rules.
pub fn settings(callback: Config) -> Settings {
    Settings {
        path: PathBuf::from("(in code)"),
        server: ServerSettings {
            listen: "127.0.0.1:0".parse().unwrap(),
            path: "/cb".to_owned(),
            request_deadline: Duration::from_millis(1500),
            header_timeout: Duration::from_secs(5),
            max_in_flight: 64,
            max_connections: 1000,
            max_header_bytes: 16 << 10,
            shutdown_grace: Duration::from_secs(5),
            watch_config: false,
            tls: None,
        },
        callback,
        log: LogSettings {
            format: LogFormat::Text,
            level: "info".to_owned(),
            buffer_bytes: 1 << 20,
        },
        admin: Some(AdminSettings {
            listen: "127.0.0.1:0".parse().unwrap(),
            token: None,
            live_readers: 32,
        }),
        policy: Policy::default(),
        upstreams: Default::default(),
        other_commands: Default::default(),
        sources: Default::default(),
        state: None,
        events: Default::default(),
        watched_files: Vec::new(),
    }
}

/// A started server, its base URL (`http://127.0.0.1:PORT`) and its admin
/// listener's.
pub struct Running {
    pub gateway: Arc<Gateway>,
    pub server: Server,
    pub base: String,
    pub admin: String,
}

impl Running {
    /// The callback URL with `query`.
    pub fn callback(&self, query: &str) -> String {
        format!(
            "{}{}?{query}",
            self.base,
            self.gateway.settings().server.path
        )
    }

    /// A callback URL signed with `token` at the gateway's current time.
    pub fn signed(&self, token: &str) -> String {
        self.callback(
            &QueryBuilder::new(APP)
                .signed(token, self.gateway.now())
                .build(),
        )
    }

    /// A signed friend-request (`Sns.CallbackPrevFriendAdd`) URL.
    #[allow(dead_code)]
    pub fn signed_add(&self, token: &str) -> String {
        self.callback(
            &QueryBuilder::new(APP)
                .command(friendgate_core::FRIEND_ADD)
                .signed(token, self.gateway.now())
                .build(),
        )
    }
}

pub async fn start(gateway: Gateway) -> Running {
    let gateway = Arc::new(gateway);
    let server = Server::start(gateway.clone()).await.expect("server starts");
    let base = format!("http://{}", server.local_addr());
    let admin = server
        .admin_addr()
        .map(|addr| format!("http://{addr}"))
        .unwrap_or_default();
    Running {
        gateway,
        server,
        base,
        admin,
    }
}

/// Writes `text` as `friendgate.toml` in `dir`.
pub fn write_config(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("friendgate.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// A config file head: free port, path `/cb`, app 1400000000, token file.
pub fn config_head(dir: &Path) -> String {
    std::fs::write(dir.join("token"), format!("{TOKEN}\n")).unwrap();
    format!(
        "[server]\nlisten = \"127.0.0.1:0\"\npath = \"/cb\"\n\n[admin]\nlisten = \"127.0.0.1:0\"\n\n[callback]\napp_ids = [{APP}]\ntokens = [{{ file = \"token\" }}]\n\n"
    )
}

/// POSTs the platform's sample, signed with the test token; status and body.
pub async fn post_sample(running: &Running) -> (u16, String) {
    let response = client()
        .post(running.signed(TOKEN))
        .body(friendgate_core::testing::SAMPLE_BODY)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// A body from `alice` accepting requests from `x` and `y`.
pub fn body_x_y() -> String {
    body(
        "alice",
        &[
            ("x", "", "Response_Action_Agree"),
            ("y", "", "Response_Action_Agree"),
        ],
    )
}

/// GETs `path` on the callback listener and returns status and body.
pub async fn get(running: &Running, path: &str) -> (u16, String) {
    get_url(&format!("{}{path}", running.base)).await
}

/// GETs `path` on the admin listener and returns status and body.
pub async fn get_admin(running: &Running, path: &str) -> (u16, String) {
    get_url(&format!("{}{path}", running.admin)).await
}

async fn get_url(url: &str) -> (u16, String) {
    let response = client().get(url).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// A body from `from` with one item per `(to, remark, action)`.
pub fn body(from: &str, items: &[(&str, &str, &str)]) -> String {
    let items: Vec<serde_json::Value> = items
        .iter()
        .map(|(to, remark, action)| serde_json::json!({"To_Account": to, "Remark": remark, "TagName": "", "ResponseAction": action}))
        .collect();
    serde_json::json!({
        "CallbackCommand": "Sns.CallbackPrevFriendResponse",
        "Requester_Account": from,
        "From_Account": from,
        "ResponseFriendItem": items,
        "EventTime": 1_631_777_645_424u64,
    })
    .to_string()
}

/// `(ResultCode, ResultInfo)` of every item of an answer.
/// A friend request from `from`: `(to, remark, group_name, add_wording)` per item.
#[allow(dead_code)]
pub fn add_body(from: &str, items: &[(&str, &str, &str, &str)]) -> String {
    let items: Vec<serde_json::Value> = items
        .iter()
        .map(|(to, remark, group, wording)| serde_json::json!({"To_Account": to, "Remark": remark, "GroupName": group, "AddSource": "AddSource_Type_Android", "AddWording": wording}))
        .collect();
    serde_json::json!({
        "CallbackCommand": "Sns.CallbackPrevFriendAdd",
        "Requester_Account": from,
        "From_Account": from,
        "FriendItem": items,
        "AddType": "Add_Type_Both",
        "ForceAddFlags": 0,
        "EventTime": 1_631_777_344_870u64,
    })
    .to_string()
}

pub fn results(answer: &str) -> Vec<(u64, String)> {
    let value: serde_json::Value = serde_json::from_str(answer).unwrap();
    value["ResultItem"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["ResultCode"].as_u64().unwrap(),
                r["ResultInfo"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}
