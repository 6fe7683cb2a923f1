//! The callback Sign: `lowercase hex(SHA-256(Token ++ RequestTime))`.
//!
//! The Sign covers neither the body nor the other parameters; see
//! [`auth`](crate::auth) for why the freshness window matters.

use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

use crate::config::Token;

/// SHA-256 of the token followed by the `RequestTime` text.
fn digest(token: &str, request_time: &str) -> [u8; 32] {
    Sha256::new()
        .chain_update(token.as_bytes())
        .chain_update(request_time.as_bytes())
        .finalize()
        .into()
}

/// The Sign the platform sends for `token` and the `RequestTime` text.
pub fn compute_sign(token: &str, request_time: &str) -> String {
    const_hex::encode(digest(token, request_time))
}

/// A digest as four words, so that the constant-time comparison needs four
/// optimization barriers instead of 32.
fn words(digest: &[u8; 32]) -> [u64; 4] {
    let mut words = [0u64; 4];
    for (word, bytes) in words.iter_mut().zip(digest.chunks_exact(8)) {
        let mut chunk = [0u8; 8];
        chunk.copy_from_slice(bytes);
        *word = u64::from_ne_bytes(chunk);
    }
    words
}

/// Whether `sign` is the Sign of `request_time` under any of `tokens`.
///
/// Every token is tried and compared in constant time, so the answer's timing
/// says nothing about which token matched or how much of the Sign was right.
/// A Sign that is not 64 hex digits never matches.
pub fn verify_sign(tokens: &[Token], request_time: &str, sign: &str) -> bool {
    let mut given = [0u8; 32];
    if const_hex::decode_to_slice(sign, &mut given).is_err() {
        return false;
    }
    let given = words(&given);
    let matched = tokens.iter().fold(Choice::from(0), |matched, token| {
        let expected = words(&digest(token.expose(), request_time));
        matched | expected[..].ct_eq(&given[..])
    });
    matched.into()
}

/// What stands for a Sign in redacted text.
pub const REDACTED: &str = "<redacted>";

/// `text` with the value of every `Sign=` query parameter replaced by
/// [`REDACTED`]: for log lines that carry a callback URL (access logs). A
/// logged Sign can be replayed with any body until its window closes.
pub fn redact_sign(text: &str) -> std::borrow::Cow<'_, str> {
    const KEY: &str = "Sign=";
    if !text.contains(KEY) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(KEY) {
        // Only the parameter itself: `?Sign=` or `&Sign=`, or at the start.
        let starts_parameter = at == 0 || matches!(rest.as_bytes()[at - 1], b'?' | b'&');
        let (before, after) = rest.split_at(at + KEY.len());
        out.push_str(before);
        rest = after;
        if !starts_parameter {
            continue;
        }
        let end = rest
            .find(|c: char| c == '&' || c == '#' || c == '"' || c == '\'' || c.is_whitespace())
            .unwrap_or(rest.len());
        if end > 0 {
            out.push_str(REDACTED);
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_are_redacted_from_logged_urls() {
        assert_eq!(
            redact_sign("POST /cb?SdkAppid=1&RequestTime=2&Sign=17773bc3 HTTP/1.1\" 200"),
            "POST /cb?SdkAppid=1&RequestTime=2&Sign=<redacted> HTTP/1.1\" 200"
        );
        assert_eq!(
            redact_sign("/cb?Sign=ab&x=1 and /cb?a=1&Sign=cd"),
            "/cb?Sign=<redacted>&x=1 and /cb?a=1&Sign=<redacted>"
        );
        assert_eq!(redact_sign("Sign=abc"), "Sign=<redacted>");
        assert_eq!(redact_sign("no sign here"), "no sign here");
        // Another parameter ending in "Sign" is not the Sign.
        assert_eq!(redact_sign("?XSign=1&Sign="), "?XSign=1&Sign=");
    }

    const KNOWN_SIGN: &str = "17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061";

    #[test]
    fn known_answer_from_the_overview_page() {
        assert_eq!(compute_sign("xxxxyyyy", "1669872112"), KNOWN_SIGN);
    }

    #[test]
    fn words_keep_every_byte() {
        let mut a = [0u8; 32];
        for i in 0..32 {
            a[i] = 1;
            assert_ne!(words(&a), words(&[0u8; 32]), "byte {i} is compared");
            a[i] = 0;
        }
    }

    #[test]
    fn verifies_against_any_of_several_tokens() {
        let tokens = [Token::new("old").unwrap(), Token::new("xxxxyyyy").unwrap()];
        assert!(verify_sign(&tokens, "1669872112", KNOWN_SIGN));
        assert!(verify_sign(
            &tokens,
            "1669872112",
            &KNOWN_SIGN.to_uppercase()
        ));
        assert!(!verify_sign(&tokens[..1], "1669872112", KNOWN_SIGN));
        assert!(!verify_sign(&tokens, "1669872113", KNOWN_SIGN));
        assert!(!verify_sign(&tokens, "1669872112", &KNOWN_SIGN[..63]));
        assert!(!verify_sign(&tokens, "1669872112", ""));
        assert!(!verify_sign(&[], "1669872112", KNOWN_SIGN));
    }
}
