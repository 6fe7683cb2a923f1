//! Fuzzes `handle` with arbitrary query strings and bodies, signed and not,
//! and checks every reply is a well-formed answer.
#![no_main]

use friendgate_core::testing::{signed_query, SAMPLE_BODY};
use friendgate_core::{handle, AllowAll, Config, Limits, Token};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

const NOW: u64 = 1_669_872_112;

fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| {
        let limits = Limits { max_items: 50, max_depth: 8, ..Limits::default() };
        Config::builder(1_400_000_000)
            .token(Token::new("xxxxyyyy").expect("token"))
            .limits(limits)
            .build()
            .expect("config")
    })
}

fuzz_target!(|data: &[u8]| {
    // First byte picks the mode; signed mode fuzzes the body behind a valid
    // Sign so that the fuzzer reaches the body parser.
    let Some((&mode, rest)) = data.split_first() else { return };
    let signed = signed_query(1_400_000_000, "xxxxyyyy", NOW);
    let (query, body) = match mode % 3 {
        0 => (signed.as_str(), rest),
        1 => {
            let cut = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
            let query = std::str::from_utf8(&rest[..cut]).unwrap_or("");
            (query, rest.get(cut + 1..).unwrap_or(&[]))
        }
        _ => (signed.as_str(), if rest.is_empty() { SAMPLE_BODY.as_bytes() } else { rest }),
    };
    let reply = handle(config(), query, body, NOW, &AllowAll);
    let value: serde_json::Value = serde_json::from_slice(&reply.body).expect("answer is JSON");
    let ok = value["ActionStatus"] == "OK";
    assert_eq!(ok, reply.status == 200);
    assert_eq!(ok, reply.error.is_none());
    let code = value["ErrorCode"].as_u64().expect("ErrorCode");
    assert!(code == 0 || (38000..=39000).contains(&code));
});
