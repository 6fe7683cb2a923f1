//! The headers every host sends with an answer.

use friendgate_core::{reply_headers, CallbackError, Reply};

#[test]
fn a_405_says_allow_post_and_every_answer_is_json() {
    let refused = Reply::from_error(CallbackError::MethodNotAllowed {
        method: "GET".into(),
    });
    assert_eq!(refused.status, 405);
    assert_eq!(
        refused.headers(),
        [("Content-Type", "application/json"), ("Allow", "POST")]
    );
    assert_eq!(
        Reply::processed().headers(),
        [("Content-Type", "application/json")]
    );
    assert_eq!(reply_headers(401), [("Content-Type", "application/json")]);
}
