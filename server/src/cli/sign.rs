//! `friendgate sign`: `RequestTime` and `Sign` as the platform computes them,
//! and a signed callback URL, for testing an endpoint by hand.

use friendgate_core::testing::{sign, QueryBuilder};

/// The lines to print: `RequestTime=...`, `Sign=...`, and, with `url`, that
/// base URL with a signed query for `app_id`.
pub fn lines(token: &str, time: u64, url: Option<&str>, app_id: u64) -> Vec<String> {
    let mut lines = vec![
        format!("RequestTime={time}"),
        format!("Sign={}", sign(token, time)),
    ];
    if let Some(base) = url {
        let query = QueryBuilder::new(app_id).signed(token, time).build();
        let separator = if base.contains('?') { '&' } else { '?' };
        lines.push(format!("{base}{separator}{query}"));
    }
    lines
}
