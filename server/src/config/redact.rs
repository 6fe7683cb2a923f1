//! URLs as they may be shown (errors, logs, `check-config`): without the
//! secrets they can carry.

/// Query parameters whose values are secrets (fred's `sentinelPassword`,
/// and the like), matched without regard to case.
const SECRET_PARAMETERS: [&str; 3] = ["password", "token", "secret"];

/// `text` with its userinfo and the values of password-like query
/// parameters replaced by `***`; `(not a URL)` for a text without `://`
/// (it may be a secret pasted in the wrong place).
///
/// Not parsed as a URL would be: a password may hold `/`, `?`, `#`, `@`,
/// `:` or `%` unencoded, and a parser then takes part of it for the host,
/// path or query. The userinfo here runs to the last `@` of the text, so an
/// `@` in a path or query hides more than needed, never less.
pub(crate) fn url(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return "(not a URL)".to_owned();
    };
    let (userinfo, rest) = match rest.rfind('@') {
        Some(at) => ("***@", &rest[at + 1..]),
        None => ("", rest),
    };
    let (before_query, query) = match rest.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (rest, None),
    };
    let mut out = format!("{scheme}://{userinfo}{before_query}");
    if let Some(query) = query {
        out.push('?');
        for (index, pair) in query.split('&').enumerate() {
            if index > 0 {
                out.push('&');
            }
            match pair.split_once('=') {
                Some((name, _)) if is_secret(name) => {
                    out.push_str(name);
                    out.push_str("=***");
                }
                _ => out.push_str(pair),
            }
        }
    }
    out
}

/// Why an http(s) URL of the configuration (an upstream, the webhook) is
/// refused for holding `@` or `#`: friendgate sends no user or password in
/// a URL, a fragment is never sent, and a URL parser cuts a password that
/// holds `#`, `/` or `?` in the wrong place (the host then comes from the
/// password).
pub(crate) fn credentials_or_fragment(text: &str) -> Option<&'static str> {
    if text.contains('@') {
        Some("must not hold `@`: friendgate sends no user or password of a URL (put a shared secret in a header-checking proxy or on the network instead)")
    } else if text.contains('#') {
        Some("must not hold `#`: a fragment is never sent")
    } else {
        None
    }
}

fn is_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_PARAMETERS.iter().any(|secret| name.contains(secret))
}

#[cfg(test)]
mod tests {
    use super::url;

    #[test]
    fn every_userinfo_is_hidden_whatever_the_password_holds() {
        for c in ['/', '?', '#', '@', ':', '%'] {
            for form in [
                format!("redis://:pa{c}ss{c}word@host:6379/0"),
                format!("rediss://user:pa{c}ss{c}word@host"),
                format!("https://user:pa{c}ss{c}word@example.com/im"),
            ] {
                let shown = url(&form);
                assert!(
                    !shown.contains("pa") && !shown.contains("word"),
                    "{form} -> {shown}"
                );
                assert!(shown.contains("***@"), "{shown}");
            }
        }
        assert_eq!(
            url("redis://:s3cret@host:6379/0"),
            "redis://***@host:6379/0"
        );
        assert_eq!(url("redis://host:6379"), "redis://host:6379");
        assert_eq!(url("nonsense"), "(not a URL)");
    }

    #[test]
    fn secret_query_parameters_are_hidden() {
        assert_eq!(
            url("redis-sentinel://h:26379/0?sentinelServiceName=m&sentinelPassword=s3&x=1"),
            "redis-sentinel://h:26379/0?sentinelServiceName=m&sentinelPassword=***&x=1"
        );
    }
}
