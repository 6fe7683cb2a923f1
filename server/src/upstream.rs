//! Upstreams: where authenticated callbacks of other commands go (the app
//! has one callback URL for every command), and the pooled HTTP client that
//! takes them there and brings the answer back unchanged.

use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use friendgate_core::{command_matches, CallbackError};
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rustls_pki_types::CertificateDer;
use serde::Deserialize;

use crate::config::files::SettingsError;

/// `[upstream]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpstreamSection {
    /// Where every other command goes, unless a route says otherwise.
    url: Option<String>,
    /// Time an upstream has to answer (default: the request deadline less
    /// 100 ms).
    timeout_ms: Option<u64>,
    /// Largest answer passed on, in bytes (default 1 MiB).
    max_answer_bytes: Option<usize>,
    /// A PEM file of certificate authorities to trust for https://
    /// upstreams, besides the web's roots (an internal CA).
    ca_file: Option<std::path::PathBuf>,
    /// Per command, or per command prefix (`C2C.*`), in order.
    #[serde(default)]
    routes: Vec<RouteSection>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteSection {
    command: String,
    url: String,
}

/// One upstream and the commands it takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// An exact command, a prefix ending in `*`, or `*` (the `url` default).
    pub command: String,
    /// The URL callbacks are POSTed to (the query is appended).
    pub url: Uri,
}

impl Route {
    /// The URL as it may be shown: a `user:password@` in it hidden.
    pub fn shown_url(&self) -> String {
        crate::config::redact::url(&self.url.to_string())
    }
}

/// The built `[upstream]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstreams {
    /// In order; the default `url` last, as `*`.
    pub routes: Vec<Route>,
    /// Time an upstream has to answer.
    pub timeout: Duration,
    /// Largest answer passed on.
    pub max_answer_bytes: usize,
    /// Extra certificate authorities for https:// upstreams (read at start;
    /// a change needs a restart).
    pub extra_roots: Vec<CertificateDer<'static>>,
}

/// Default of `upstream.max_answer_bytes`.
const DEFAULT_MAX_ANSWER_BYTES: usize = 1 << 20;

impl Default for Upstreams {
    /// No upstream (other commands get the gateway's own answer).
    fn default() -> Self {
        Self {
            routes: Vec::new(),
            timeout: Duration::from_millis(1400),
            max_answer_bytes: DEFAULT_MAX_ANSWER_BYTES,
            extra_roots: Vec::new(),
        }
    }
}

fn upstream_url(path: &Path, key: &str, text: &str) -> Result<Uri, SettingsError> {
    let bad = |why: &str| {
        SettingsError::new(
            path,
            key,
            format!("`{}` {why}", crate::config::redact::url(text)),
        )
    };
    if let Some(why) = crate::config::redact::credentials_or_fragment(text) {
        return Err(bad(why));
    }
    let uri: Uri = text
        .parse()
        .map_err(|_| bad("is not a URL like http://127.0.0.1:9000/im"))?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        _ => return Err(bad("must be an http:// or https:// URL")),
    }
    if uri.host().is_none() {
        return Err(bad("has no host"));
    }
    if uri.query().is_some() {
        return Err(bad(
            "must not have a query: the callback's own query is passed on",
        ));
    }
    Ok(uri)
}

impl Upstreams {
    pub(crate) fn build(
        path: &Path,
        base: &Path,
        section: UpstreamSection,
        request_deadline: Duration,
    ) -> Result<Self, SettingsError> {
        let extra_roots = match &section.ca_file {
            None => Vec::new(),
            Some(file) => crate::http::tls::read_roots(path, base, "upstream.ca_file", file)?,
        };
        let mut routes = Vec::with_capacity(section.routes.len() + 1);
        for (index, route) in section.routes.into_iter().enumerate() {
            let key = format!("upstream.routes[{index}]");
            let star = route.command.find('*');
            if route.command.is_empty() || star.is_some_and(|at| at + 1 != route.command.len()) {
                return Err(SettingsError::new(
                    path,
                    format!("{key}.command"),
                    format!(
                        "`{}` must be a command, or a prefix ending in `*` like `C2C.*`",
                        route.command
                    ),
                ));
            }
            routes.push(Route {
                url: upstream_url(path, &format!("{key}.url"), &route.url)?,
                command: route.command,
            });
        }
        if let Some(url) = section.url {
            routes.push(Route {
                url: upstream_url(path, "upstream.url", &url)?,
                command: "*".to_owned(),
            });
        }
        let default = request_deadline.saturating_sub(Duration::from_millis(100));
        let timeout = section
            .timeout_ms
            .map_or(default, Duration::from_millis)
            .max(Duration::from_millis(1));
        if timeout >= request_deadline {
            return Err(SettingsError::new(
                path,
                "upstream.timeout_ms",
                format!(
                    "must be below server.request_deadline_ms ({} ms), so that a late upstream still gets an answer out",
                    request_deadline.as_millis()
                ),
            ));
        }
        Ok(Self {
            routes,
            timeout,
            max_answer_bytes: section.max_answer_bytes.unwrap_or(DEFAULT_MAX_ANSWER_BYTES),
            extra_roots,
        })
    }

    /// The upstream for `command`, if any.
    pub fn route(&self, command: &str) -> Option<&Route> {
        self.routes
            .iter()
            .find(|route| command_matches(&route.command, command))
    }
}

/// What the upstream answered, passed on as it came.
#[derive(Debug)]
pub struct Forwarded {
    /// Its status.
    pub status: StatusCode,
    /// Its content type, when it sent one.
    pub content_type: Option<HeaderValue>,
    /// Its body.
    pub body: Bytes,
}

/// One callback to pass on.
pub(crate) struct Outgoing<'a> {
    pub route: &'a Route,
    /// The callback's raw query (Sign included: the upstream may check it).
    pub query: &'a str,
    pub content_type: Option<&'a str>,
    /// The `X-Forwarded-For` to send (the incoming one plus the peer).
    pub forwarded_for: Option<String>,
    pub body: Bytes,
    pub timeout: Duration,
    pub max_answer_bytes: usize,
}

type Connector = hyper_rustls::HttpsConnector<HttpConnector>;

/// The pooled client every forwarded callback goes through (kept across
/// reloads, so that keep-alive connections to the upstreams stay warm).
#[derive(Clone)]
pub struct Forwarder {
    client: Client<Connector, Full<Bytes>>,
}

impl std::fmt::Debug for Forwarder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Forwarder").finish_non_exhaustive()
    }
}

impl Default for Forwarder {
    fn default() -> Self {
        Self::new(&[])
    }
}

impl Forwarder {
    /// A client for http:// and https:// upstreams: the web's roots, plus
    /// `extra_roots` (a certificate that does not parse is skipped: the
    /// settings already read it).
    pub fn new(extra_roots: &[CertificateDer<'static>]) -> Self {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(Duration::from_secs(1)));
        let connector = match crate::http::tls::client_config(extra_roots) {
            Ok(config) => hyper_rustls::HttpsConnectorBuilder::new()
                .with_tls_config(config)
                .https_or_http()
                .enable_http1()
                .wrap_connector(http),
            // ring's defaults always build; should they not, TLS uses the
            // process's default provider.
            Err(_) => hyper_rustls::HttpsConnectorBuilder::new()
                .with_webpki_roots()
                .https_or_http()
                .enable_http1()
                .wrap_connector(http),
        };
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(256)
            .build(connector);
        Self { client }
    }

    /// Passes `outgoing` on and brings the answer back, within its timeout;
    /// every way an upstream can fail is one of core's upstream errors.
    pub(crate) async fn forward(&self, outgoing: Outgoing<'_>) -> Result<Forwarded, CallbackError> {
        let millis = u64::try_from(outgoing.timeout.as_millis()).unwrap_or(u64::MAX);
        let limit = outgoing.max_answer_bytes;
        let request = request(&outgoing).map_err(|reason| CallbackError::UpstreamUnavailable {
            reason: reason.to_string(),
        })?;
        let exchange = async {
            let response = self.client.request(request).await.map_err(|error| {
                CallbackError::UpstreamUnavailable {
                    reason: client_error(&error),
                }
            })?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, limit)
                .collect()
                .await
                .map_err(|error| CallbackError::UpstreamBadAnswer {
                    reason: if error.is::<http_body_util::LengthLimitError>() {
                        format!("larger than {limit} bytes")
                    } else {
                        format!("broken off: {error}")
                    },
                })?
                .to_bytes();
            Ok(Forwarded {
                status: parts.status,
                content_type: parts.headers.get(CONTENT_TYPE).cloned(),
                body,
            })
        };
        tokio::time::timeout(outgoing.timeout, exchange)
            .await
            .unwrap_or(Err(CallbackError::UpstreamTimeout { millis }))
    }
}

impl Forwarder {
    /// POSTs `body` as JSON with `headers` to `url` within `timeout`; the
    /// status, or why there is none. The answer's body is read and dropped
    /// (at most 64 KiB), so that the connection can be used again.
    pub(crate) async fn post_json(
        &self,
        url: &Uri,
        headers: &[(&'static str, String)],
        body: Bytes,
        timeout: Duration,
    ) -> Result<StatusCode, String> {
        let mut builder = Request::builder()
            .method(Method::POST)
            .uri(url.clone())
            .header(CONTENT_TYPE, "application/json");
        for (name, value) in headers {
            builder = builder.header(*name, value);
        }
        let request = builder.body(Full::new(body)).map_err(|e| e.to_string())?;
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|error| client_error(&error))?;
            let status = response.status();
            let _ = Limited::new(response.into_body(), 64 << 10).collect().await;
            Ok(status)
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .unwrap_or_else(|_| Err(format!("no answer within {} ms", timeout.as_millis())))
    }
}

fn request(outgoing: &Outgoing<'_>) -> Result<Request<Full<Bytes>>, hyper::http::Error> {
    let base = &outgoing.route.url;
    let path = base.path();
    let target = if outgoing.query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", outgoing.query)
    };
    let mut parts = base.clone().into_parts();
    parts.path_and_query = Some(target.parse()?);
    let mut builder = Request::builder()
        .method(Method::POST)
        .uri(Uri::from_parts(parts).map_err(hyper::http::Error::from)?);
    if let Some(content_type) = outgoing.content_type {
        builder = builder.header(CONTENT_TYPE, content_type);
    }
    if let Some(forwarded_for) = &outgoing.forwarded_for {
        builder = builder.header("x-forwarded-for", forwarded_for);
    }
    builder.body(Full::new(outgoing.body.clone()))
}

/// The client error with its cause (hyper-util's own text is only
/// "client error (Connect)").
fn client_error(error: &hyper_util::client::legacy::Error) -> String {
    use std::error::Error as _;
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(toml_text: &str) -> Result<Upstreams, SettingsError> {
        let section: UpstreamSection = toml::from_str(toml_text).unwrap();
        Upstreams::build(
            Path::new("t.toml"),
            Path::new("."),
            section,
            Duration::from_millis(1500),
        )
    }

    #[test]
    fn routes_in_order_then_the_default() {
        let upstreams = build(
            r#"
            url = "http://127.0.0.1:9000/all"
            routes = [
              { command = "C2C.*", url = "http://127.0.0.1:9001/c2c" },
              { command = "State.StateChange", url = "https://state.example/x" },
            ]"#,
        )
        .unwrap();
        let to = |command| upstreams.route(command).map(|r| r.url.to_string());
        assert_eq!(
            to("C2C.CallbackAfterSendMsg").as_deref(),
            Some("http://127.0.0.1:9001/c2c")
        );
        assert_eq!(
            to("State.StateChange").as_deref(),
            Some("https://state.example/x")
        );
        assert_eq!(
            to("Group.CallbackAfterNewMemberJoin").as_deref(),
            Some("http://127.0.0.1:9000/all")
        );
        assert_eq!(upstreams.timeout, Duration::from_millis(1400));
        assert!(build("")
            .unwrap()
            .route("C2C.CallbackAfterSendMsg")
            .is_none());
    }

    #[test]
    fn bad_upstreams_are_named() {
        for (text, key) in [
            (r#"url = "ftp://x/""#, "upstream.url"),
            (r#"url = "http://x/?a=1""#, "upstream.url"),
            (
                r#"routes = [{ command = "C2C.*.x", url = "http://x/" }]"#,
                "upstream.routes[0].command",
            ),
            ("timeout_ms = 1500", "upstream.timeout_ms"),
        ] {
            let error = build(text).unwrap_err().to_string();
            assert!(error.contains(key), "{text}: {error}");
        }
    }
}
