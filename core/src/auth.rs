//! Authentication of a parsed query: the app id is ours, and with tokens
//! configured, `Sign` is valid for one of them and `RequestTime` is fresh.
//!
//! Since the Sign covers only the token and the time, a captured signed URL can
//! be replayed with any body until the window closes: keep the window short.

use crate::config::Config;
use crate::error::CallbackError;
use crate::query::CallbackQuery;
use crate::sign::verify_sign;

/// Checks the app id, then (authentication on) the presence of `Sign` and
/// `RequestTime`, the Sign, and the window around `now` (Unix seconds).
/// A time exactly `window` seconds away is accepted.
pub fn authenticate(
    config: &Config,
    query: &CallbackQuery<'_>,
    now: u64,
) -> Result<(), CallbackError> {
    if !config.app_ids().contains(&query.sdk_app_id) {
        return Err(CallbackError::ForeignAppId {
            app_id: query.sdk_app_id,
        });
    }
    if !config.authentication_on() {
        return Ok(());
    }
    let Some(sign) = query.sign.as_deref() else {
        return Err(CallbackError::MissingSignature { name: "Sign" });
    };
    let Some(time) = query.request_time.as_ref() else {
        return Err(CallbackError::MissingSignature {
            name: "RequestTime",
        });
    };
    if !verify_sign(config.tokens(), time.as_str(), sign) {
        return Err(CallbackError::BadSignature);
    }
    check_window(time.seconds(), now, config.window_seconds())
}

/// Refuses a `RequestTime` more than `window` seconds before or after `now`.
fn check_window(request_time: u64, now: u64, window: u64) -> Result<(), CallbackError> {
    if request_time <= now {
        let age_seconds = now - request_time;
        if age_seconds > window {
            return Err(CallbackError::RequestTimeTooOld {
                age_seconds,
                window_seconds: window,
            });
        }
    } else {
        let ahead_seconds = request_time - now;
        if ahead_seconds > window {
            return Err(CallbackError::RequestTimeInFuture {
                ahead_seconds,
                window_seconds: window,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_edges() {
        assert!(check_window(1000, 1060, 60).is_ok());
        assert!(check_window(1060, 1000, 60).is_ok());
        assert_eq!(
            check_window(1000, 1061, 60),
            Err(CallbackError::RequestTimeTooOld {
                age_seconds: 61,
                window_seconds: 60
            })
        );
        assert_eq!(
            check_window(1061, 1000, 60).unwrap_err().code(),
            "request_time_in_future"
        );
        assert!(check_window(u64::MAX, 0, u64::MAX).is_ok());
        assert!(check_window(0, u64::MAX, 0).is_err());
    }
}
