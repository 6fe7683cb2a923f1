//! The source allowlist: the platform publishes the address ranges its
//! callbacks come from (`v4/ConfigSvc/GetIPList`), so a gateway may refuse
//! every request from elsewhere before it reads anything. Behind a proxy,
//! `X-Forwarded-For` is believed only as far as the proxies are trusted.
//! The ranges change: they live in the config file, which a reload (or
//! `watch_config`) re-reads.

use std::net::IpAddr;
use std::path::Path;

use ipnet::IpNet;
use serde::Deserialize;

use crate::config::files::SettingsError;

/// `[sources]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SourcesSection {
    /// CIDR ranges callbacks may come from; absent: any source.
    allow: Option<Vec<String>>,
    /// Proxies in front of the gateway whose `X-Forwarded-For` is believed.
    #[serde(default)]
    trusted_proxies: Vec<String>,
}

/// The built allowlist.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sources {
    allow: Option<Vec<IpNet>>,
    trusted: Vec<IpNet>,
}

fn ranges(path: &Path, key: &str, list: Vec<String>) -> Result<Vec<IpNet>, SettingsError> {
    list.into_iter()
        .map(|text| {
            text.parse::<IpNet>()
                .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
                .map(|net| net.trunc())
                .map_err(|_| {
                    SettingsError::new(
                        path,
                        key,
                        format!("`{text}` is not an address or a CIDR range like 10.0.0.0/8"),
                    )
                })
        })
        .collect()
}

impl Sources {
    pub(crate) fn build(path: &Path, section: SourcesSection) -> Result<Self, SettingsError> {
        let allow = section
            .allow
            .map(|list| ranges(path, "sources.allow", list))
            .transpose()?;
        let trusted = ranges(path, "sources.trusted_proxies", section.trusted_proxies)?;
        if allow.is_none() && !trusted.is_empty() {
            return Err(SettingsError::new(
                path,
                "sources.trusted_proxies",
                "needs `sources.allow`: proxies are trusted only to name the source the allowlist checks",
            ));
        }
        Ok(Self { allow, trusted })
    }

    /// Whether an allowlist is configured.
    pub fn is_on(&self) -> bool {
        self.allow.is_some()
    }

    /// Whether a request from `peer` carrying `forwarded_for` may go on.
    /// The source is `peer`, or, when `peer` is a trusted proxy, the
    /// right-most `X-Forwarded-For` address that is not one (a client can
    /// write the left part of the header, never what a trusted proxy
    /// appended). An unreadable address where the source should be refuses.
    pub fn admits(&self, peer: Option<IpAddr>, forwarded_for: Option<&str>) -> bool {
        let Some(allow) = &self.allow else {
            return true;
        };
        let Some(mut source) = peer.map(|ip| ip.to_canonical()) else {
            return false;
        };
        if self.trusts(source) {
            for hop in forwarded_for.unwrap_or("").rsplit(',').map(str::trim) {
                if hop.is_empty() {
                    continue;
                }
                let Ok(hop) = hop.parse::<IpAddr>() else {
                    return false;
                };
                source = hop.to_canonical();
                if !self.trusts(source) {
                    break;
                }
            }
        }
        allow.iter().any(|net| net.contains(&source))
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.trusted.iter().any(|net| net.contains(&ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(allow: &[&str], trusted: &[&str]) -> Sources {
        let owned = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect();
        Sources::build(
            Path::new("t.toml"),
            SourcesSection {
                allow: Some(owned(allow)),
                trusted_proxies: owned(trusted),
            },
        )
        .unwrap()
    }

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn without_an_allowlist_everything_goes() {
        assert!(Sources::default().admits(None, None));
    }

    #[test]
    fn direct_sources() {
        let s = sources(&["10.1.0.0/16", "2001:db8::/32", "192.0.2.7"], &[]);
        assert!(s.admits(ip("10.1.2.3"), None));
        assert!(s.admits(ip("192.0.2.7"), None));
        assert!(s.admits(ip("::ffff:10.1.2.3"), None));
        assert!(s.admits(ip("2001:db8::1"), None));
        assert!(!s.admits(ip("10.2.0.1"), None));
        assert!(!s.admits(None, None));
        // An untrusted peer's X-Forwarded-For is not believed.
        assert!(!s.admits(ip("203.0.113.9"), Some("10.1.2.3")));
    }

    #[test]
    fn behind_trusted_proxies() {
        let s = sources(&["10.1.0.0/16"], &["127.0.0.1", "172.16.0.0/12"]);
        assert!(s.admits(ip("127.0.0.1"), Some("10.1.2.3")));
        assert!(s.admits(ip("127.0.0.1"), Some("10.1.2.3, 172.16.0.5")));
        // A client writes the left part; the proxy appended its peer.
        assert!(!s.admits(ip("127.0.0.1"), Some("10.1.2.3, 203.0.113.9")));
        assert!(!s.admits(ip("127.0.0.1"), Some("10.1.2.3, not-an-ip")));
        // A trusted proxy with no header is its own source.
        assert!(!s.admits(ip("127.0.0.1"), None));
    }

    #[test]
    fn bad_ranges_are_named() {
        let error = Sources::build(
            Path::new("t.toml"),
            SourcesSection {
                allow: Some(vec!["10.0.0.0/33".to_owned()]),
                trusted_proxies: Vec::new(),
            },
        )
        .unwrap_err();
        assert!(error.to_string().contains("sources.allow"), "{error}");
    }
}
