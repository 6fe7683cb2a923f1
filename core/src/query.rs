//! The callback URL's query string: `SdkAppid`, `CallbackCommand`,
//! `contenttype`, `ClientIP`, `OptPlatform`, and with authentication on,
//! `RequestTime` and `Sign`.

use std::borrow::Cow;
use std::net::IpAddr;

use percent_encoding::percent_decode_str;

use crate::error::{quote, CallbackError};

/// The friend-response `CallbackCommand` ([`crate::command::FRIEND_RESPONSE`]),
/// which [`CallbackQuery::parse`] expects.
pub const CALLBACK_COMMAND: &str = crate::command::FRIEND_RESPONSE;

/// The only `contenttype` the platform sends.
pub const CONTENT_TYPE: &str = "json";

/// The parsed query string of one callback. Values borrow from the raw query
/// unless percent-decoding had to change them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackQuery<'a> {
    /// `SdkAppid`: the app the callback is for.
    pub sdk_app_id: u64,
    /// `CallbackCommand` (checked to be [`CALLBACK_COMMAND`] by [`parse`](Self::parse)).
    pub callback_command: Cow<'a, str>,
    /// `contenttype`, when sent (checked to be `json` by [`parse`](Self::parse)
    /// when present; an absent one is taken as `json`, the only type the
    /// platform sends).
    pub content_type: Option<Cow<'a, str>>,
    /// `ClientIP`, when sent.
    pub client_ip: Option<ClientIp<'a>>,
    /// `OptPlatform`, when sent.
    pub platform: Option<Platform<'a>>,
    /// `RequestTime`, when sent (authentication on).
    pub request_time: Option<RequestTime<'a>>,
    /// `Sign`, when sent (authentication on).
    pub sign: Option<Cow<'a, str>>,
}

/// `ClientIP` as sent, and as an address when it is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientIp<'a> {
    raw: Cow<'a, str>,
}

fn owned(text: Cow<'_, str>) -> Cow<'static, str> {
    Cow::Owned(text.into_owned())
}

impl<'a> CallbackQuery<'a> {
    /// The same query, owning its strings (for hosts that keep it across an await).
    pub fn into_owned(self) -> CallbackQuery<'static> {
        CallbackQuery {
            sdk_app_id: self.sdk_app_id,
            callback_command: owned(self.callback_command),
            content_type: self.content_type.map(owned),
            client_ip: self.client_ip.map(|ip| ClientIp { raw: owned(ip.raw) }),
            platform: self.platform.map(Platform::into_owned),
            request_time: self.request_time.map(|t| RequestTime {
                text: owned(t.text),
                seconds: t.seconds,
            }),
            sign: self.sign.map(owned),
        }
    }
}

impl<'a> ClientIp<'a> {
    /// Keeps `raw` as sent; [`addr`](Self::addr) parses it on demand, since
    /// most deciders never look at it.
    pub fn new(raw: Cow<'a, str>) -> Self {
        Self { raw }
    }

    /// The value exactly as sent (after percent-decoding).
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The address, when the value is a valid IPv4 or IPv6 address.
    pub fn addr(&self) -> Option<IpAddr> {
        self.raw.parse().ok()
    }
}

/// `RequestTime`: Unix seconds, and the decimal text it was sent as (the Sign
/// covers the text, not the number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestTime<'a> {
    text: Cow<'a, str>,
    seconds: u64,
}

impl<'a> RequestTime<'a> {
    /// The text as sent.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The Unix time in seconds.
    pub fn seconds(&self) -> u64 {
        self.seconds
    }
}

/// `OptPlatform`: the client platform the user acted from.
///
/// Values the platform may add later parse as [`Platform::Other`], never as
/// an error.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Platform<'a> {
    /// `RESTAPI`.
    RestApi,
    /// `Web`.
    Web,
    /// `Android`.
    Android,
    /// `iOS` (also sent as `IOS`).
    Ios,
    /// `Windows`.
    Windows,
    /// `Mac` (also written `macOS`).
    Mac,
    /// `iPad`.
    IPad,
    /// `Unknown`: the platform itself does not know.
    Unknown,
    /// Any other value, kept as sent.
    Other(Cow<'a, str>),
}

impl<'a> Platform<'a> {
    /// Maps a wire value to a platform; never fails.
    pub fn from_wire(value: Cow<'a, str>) -> Self {
        match &*value {
            "RESTAPI" => Self::RestApi,
            "Web" => Self::Web,
            "Android" => Self::Android,
            "iOS" | "IOS" => Self::Ios,
            "Windows" => Self::Windows,
            "Mac" | "macOS" => Self::Mac,
            "iPad" => Self::IPad,
            "Unknown" => Self::Unknown,
            _ => Self::Other(value),
        }
    }

    /// Canonical spelling (`iOS`, `Mac`, ...); an unrecognised value as sent.
    pub fn as_str(&self) -> &str {
        match self {
            Self::RestApi => "RESTAPI",
            Self::Web => "Web",
            Self::Android => "Android",
            Self::Ios => "iOS",
            Self::Windows => "Windows",
            Self::Mac => "Mac",
            Self::IPad => "iPad",
            Self::Unknown => "Unknown",
            Self::Other(value) => value,
        }
    }

    /// Whether this is one of the documented platforms.
    pub fn is_known(&self) -> bool {
        !matches!(self, Self::Other(_))
    }

    /// The same platform, owning its text.
    pub fn into_owned(self) -> Platform<'static> {
        match self {
            Self::RestApi => Platform::RestApi,
            Self::Web => Platform::Web,
            Self::Android => Platform::Android,
            Self::Ios => Platform::Ios,
            Self::Windows => Platform::Windows,
            Self::Mac => Platform::Mac,
            Self::IPad => Platform::IPad,
            Self::Unknown => Platform::Unknown,
            Self::Other(value) => Platform::Other(owned(value)),
        }
    }
}

/// Raw values of the parameters friendgate reads, before interpretation.
#[derive(Default)]
struct RawParams<'a> {
    sdk_app_id: Option<Cow<'a, str>>,
    callback_command: Option<Cow<'a, str>>,
    content_type: Option<Cow<'a, str>>,
    client_ip: Option<Cow<'a, str>>,
    platform: Option<Cow<'a, str>>,
    request_time: Option<Cow<'a, str>>,
    sign: Option<Cow<'a, str>>,
}

impl<'a> CallbackQuery<'a> {
    /// Parses a raw query string (with or without its leading `?`).
    ///
    /// Values are percent-decoded; unknown parameters are ignored; a
    /// parameter friendgate reads may appear only once. `SdkAppid` and
    /// `CallbackCommand` are required and checked, `contenttype` is checked
    /// when present; whether
    /// `Sign` and `RequestTime` are required is for authentication to say.
    pub fn parse(raw: &'a str) -> Result<Self, CallbackError> {
        Self::parse_for(raw, CALLBACK_COMMAND)
    }

    /// [`parse`](Self::parse) for the callback whose command is `expected`
    /// (another command is `unexpected_command`).
    pub fn parse_for(raw: &'a str, expected: &'static str) -> Result<Self, CallbackError> {
        let query = Self::parse_any(raw)?;
        if query.callback_command != expected {
            return Err(CallbackError::unexpected_command(
                expected,
                &query.callback_command,
            ));
        }
        Ok(query)
    }

    /// [`parse`](Self::parse) for a callback of any command (the one
    /// callback URL receives them all): the command is kept as sent.
    pub fn parse_any(raw: &'a str) -> Result<Self, CallbackError> {
        let raw = raw.strip_prefix('?').unwrap_or(raw);
        // One scan of the whole query decides whether any value needs
        // decoding: the platform's queries usually need none.
        let plain = memchr::memchr2(b'%', b'+', raw.as_bytes()).is_none();
        let decode = |text| {
            if plain {
                Cow::Borrowed(text)
            } else {
                form_decode(text)
            }
        };
        let mut params = RawParams::default();
        for pair in pairs(raw) {
            // Keys are short: a plain loop beats a SIMD search's setup.
            let (key, value) = match pair.bytes().position(|b| b == b'=') {
                Some(at) => (&pair[..at], &pair[at + 1..]),
                None => (pair, ""),
            };
            let key = decode(key);
            let (name, slot) = match &*key {
                "SdkAppid" => ("SdkAppid", &mut params.sdk_app_id),
                "CallbackCommand" => ("CallbackCommand", &mut params.callback_command),
                "contenttype" => ("contenttype", &mut params.content_type),
                "ClientIP" => ("ClientIP", &mut params.client_ip),
                "OptPlatform" => ("OptPlatform", &mut params.platform),
                "RequestTime" => ("RequestTime", &mut params.request_time),
                "Sign" => ("Sign", &mut params.sign),
                _ => continue,
            };
            if slot.replace(decode(value)).is_some() {
                return Err(CallbackError::DuplicateParameter { name });
            }
        }
        Self::from_params(params)
    }

    fn from_params(params: RawParams<'a>) -> Result<Self, CallbackError> {
        // `let ... else` keeps the error values from being built (and
        // dropped) on the success path.
        let Some(sdk_app_id) = params.sdk_app_id else {
            return Err(missing("SdkAppid"));
        };
        let Some(sdk_app_id) = parse_decimal(&sdk_app_id) else {
            return Err(CallbackError::InvalidParameter {
                name: "SdkAppid",
                reason: "expected a decimal integer",
            });
        };
        let Some(callback_command) = params.callback_command else {
            return Err(missing("CallbackCommand"));
        };
        // An absent `contenttype` is accepted: refusing it would protect
        // nothing, and a refused callback is one the platform lets through.
        if let Some(content_type) = params.content_type.as_deref() {
            if content_type != CONTENT_TYPE {
                return Err(CallbackError::UnsupportedContentType {
                    got: quote(content_type),
                });
            }
        }
        let request_time = params
            .request_time
            .map(|text| match parse_decimal(&text) {
                Some(seconds) => Ok(RequestTime { text, seconds }),
                None => Err(CallbackError::InvalidParameter {
                    name: "RequestTime",
                    reason: "expected Unix time in seconds as a decimal integer",
                }),
            })
            .transpose()?;
        Ok(Self {
            sdk_app_id,
            callback_command,
            content_type: params.content_type,
            client_ip: params.client_ip.map(ClientIp::new),
            platform: params.platform.map(Platform::from_wire),
            request_time,
            sign: params.sign,
        })
    }
}

fn missing(name: &'static str) -> CallbackError {
    CallbackError::MissingParameter { name }
}

/// The non-empty `&`-separated pairs of `raw`, found with one SIMD scan.
fn pairs(raw: &str) -> impl Iterator<Item = &str> {
    let ends = memchr::memchr_iter(b'&', raw.as_bytes()).chain(std::iter::once(raw.len()));
    let mut start = 0;
    ends.filter_map(move |end| {
        // `&` is ASCII, so both ends are char boundaries.
        let pair = raw.get(start..end);
        start = end + 1;
        pair.filter(|pair| !pair.is_empty())
    })
}

/// Decodes one `application/x-www-form-urlencoded` key or value: `+` is a
/// space, `%XX` a byte, invalid UTF-8 becomes U+FFFD. Borrows when there is
/// nothing to decode, which is the case for everything the platform sends
/// but an IPv6 `ClientIP`.
fn form_decode(raw: &str) -> Cow<'_, str> {
    if memchr::memchr2(b'%', b'+', raw.as_bytes()).is_none() {
        return Cow::Borrowed(raw);
    }
    let spaced = raw.replace('+', " ");
    Cow::Owned(percent_decode_str(&spaced).decode_utf8_lossy().into_owned())
}

/// Parses ASCII digits only (no sign, no spaces), at most 20 of them.
fn parse_decimal(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "SdkAppid=1400000000&CallbackCommand=Sns.CallbackPrevFriendResponse&contenttype=json&ClientIP=127.0.0.1&OptPlatform=iOS";

    #[test]
    fn parses_the_platform_sample() {
        let query = CallbackQuery::parse(SAMPLE).unwrap();
        assert_eq!(query.sdk_app_id, 1_400_000_000);
        assert_eq!(query.platform, Some(Platform::Ios));
        let ip = query.client_ip.unwrap();
        assert_eq!(ip.as_str(), "127.0.0.1");
        assert_eq!(ip.addr(), Some("127.0.0.1".parse().unwrap()));
        assert!(query.sign.is_none() && query.request_time.is_none());
        assert!(matches!(query.callback_command, Cow::Borrowed(_)));
    }

    #[test]
    fn platform_spellings() {
        for (wire, platform) in [
            ("IOS", Platform::Ios),
            ("iOS", Platform::Ios),
            ("macOS", Platform::Mac),
            ("Mac", Platform::Mac),
            ("iPad", Platform::IPad),
            ("RESTAPI", Platform::RestApi),
        ] {
            assert_eq!(Platform::from_wire(wire.into()), platform);
        }
        let other = Platform::from_wire("HarmonyOS".into());
        assert!(!other.is_known());
        assert_eq!(other.as_str(), "HarmonyOS");
    }

    #[test]
    fn decodes_percent_and_ipv6() {
        let query = CallbackQuery::parse(&format!("?{SAMPLE}&ClientIP=%3A%3A1")).unwrap_err();
        assert_eq!(
            query,
            CallbackError::DuplicateParameter { name: "ClientIP" }
        );
        let raw = SAMPLE.replace("127.0.0.1", "%3A%3A1");
        let query = CallbackQuery::parse(&raw).unwrap();
        assert_eq!(
            query.client_ip.unwrap().addr(),
            Some("::1".parse().unwrap())
        );
    }

    #[test]
    fn form_decoding() {
        assert_eq!(form_decode("a%20b+c"), "a b c");
        assert_eq!(form_decode("%E5%A5%BD"), "好");
        assert_eq!(form_decode("%ff"), "\u{fffd}");
        assert_eq!(form_decode("%zz%"), "%zz%");
        assert!(matches!(form_decode("plain"), Cow::Borrowed("plain")));
        let raw = format!("{SAMPLE}&&=&Sign");
        let query = CallbackQuery::parse(&raw).unwrap();
        assert_eq!(query.sign.as_deref(), Some(""));
    }

    #[test]
    fn rejects_signs_and_spaces_in_numbers() {
        for bad in ["+1", " 1", "1e3", "", "-5", "99999999999999999999999"] {
            let raw = SAMPLE.replace("1400000000", bad);
            assert!(matches!(
                CallbackQuery::parse(&raw),
                Err(CallbackError::InvalidParameter {
                    name: "SdkAppid",
                    ..
                })
            ));
        }
    }

    #[test]
    fn unknown_parameters_are_ignored_and_non_ip_is_kept() {
        let raw = SAMPLE.replace("127.0.0.1", "not-an-ip") + "&Future=1&x";
        let query = CallbackQuery::parse(&raw).unwrap();
        let ip = query.client_ip.unwrap();
        assert_eq!(ip.as_str(), "not-an-ip");
        assert_eq!(ip.addr(), None);
    }
}
