//! Text as the word filter compares it, so that spellings a reader takes
//! for the same word match the same pattern:
//!
//! - Unicode NFKC (fullwidth `ｓｐａｍ`, ligatures, compatibility forms);
//! - full case folding (`SPAM`, `Straße` = `strasse`), from ICU4X;
//! - default-ignorable code points removed (zero-width spaces and joiners,
//!   soft hyphens, variation selectors), from ICU4X's property data;
//! - every run of white space (any Unicode space) as one ASCII space.
//!
//! With a rule's `confusables` on, text and words are also compared by
//! their UTS #39 confusable skeletons (unicode-security), with combining
//! marks removed first (a mark stacked on a letter leaves it readable as
//! that letter): once in lower case (`rn` for `m`) and once in upper case,
//! where Cyrillic and Greek capitals share the Latin glyphs (`ѕрам` reads
//! as `SPAM`).
//!
//! Patterns and text go through the same function, so a word list and the
//! text it is matched against can never be normalized differently.

use std::borrow::Cow;

use icu_casemap::CaseMapper;
use icu_properties::props::DefaultIgnorableCodePoint;
use icu_properties::CodePointSetData;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;
use unicode_security::confusable_detection::skeleton;

/// `text` normalized for matching. Plain lower-case ASCII with single
/// spaces (most remarks) is returned as it is, without a copy.
pub(crate) fn normalize(text: &str) -> Cow<'_, str> {
    if is_normal_ascii(text) {
        return Cow::Borrowed(text);
    }
    let composed: String = text.nfkc().collect();
    let folded = CaseMapper::new().fold_string(&composed);
    let ignorable = CodePointSetData::new::<DefaultIgnorableCodePoint>();
    let mut out = String::with_capacity(folded.len());
    let mut in_space = false;
    for c in folded.chars() {
        if ignorable.contains(c) {
            continue;
        }
        if c.is_whitespace() {
            if !in_space {
                out.push(' ');
            }
            in_space = true;
        } else {
            in_space = false;
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Whether normalizing `text` would leave it as it is: ASCII with no upper
/// case, no control characters, and no white space but single spaces.
fn is_normal_ascii(text: &str) -> bool {
    let mut last_space = false;
    for b in text.bytes() {
        let space = b == b' ';
        if !b.is_ascii() || b.is_ascii_uppercase() || b.is_ascii_control() || (space && last_space)
        {
            return false;
        }
        last_space = space;
    }
    true
}

/// The lower- and upper-case confusable skeletons of normalized text.
pub(crate) fn skeletons(normalized: &str) -> [String; 2] {
    [
        unmarked_skeleton(normalized),
        unmarked_skeleton(&normalized.to_uppercase()),
    ]
}

fn unmarked_skeleton(text: &str) -> String {
    // ASCII has no marks to take off: skip the decomposition.
    if text.is_ascii() {
        return skeleton(text).collect();
    }
    let unmarked: String = text.nfd().filter(|c| !is_combining_mark(*c)).collect();
    skeleton(&unmarked).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_word_normalize_alike() {
        for text in [
            "spam",
            "SPAM",
            "ｓｐａｍ",
            "s\u{200b}pam",
            "spa\u{ad}m",
            "s\u{2060}p\u{fe0f}am",
        ] {
            assert_eq!(normalize(text), "spam", "{text:?}");
        }
        for text in [
            "free  money",
            "free\u{a0}money",
            "Free\t\n money",
            "free\u{3000}money",
        ] {
            assert_eq!(normalize(text), "free money", "{text:?}");
        }
        assert_eq!(normalize("Straße"), "strasse");
    }

    #[test]
    fn plain_text_is_not_copied() {
        assert!(matches!(normalize("hello there"), Cow::Borrowed(_)));
        assert!(matches!(normalize("hello  there"), Cow::Owned(_)));
        assert!(matches!(normalize("Hello"), Cow::Owned(_)));
    }

    #[test]
    fn look_alikes_share_a_skeleton() {
        let spam = skeletons(&normalize("spam"));
        for text in ["ѕрам", "ѕраm", "s\u{307}pam", "ṡpam", "sparn"] {
            let theirs = skeletons(&normalize(text));
            assert!(
                theirs[0] == spam[0] || theirs[1] == spam[1],
                "{text:?}: {theirs:?} against {spam:?}"
            );
        }
        let other = skeletons(&normalize("scam"));
        assert!(other[0] != spam[0] && other[1] != spam[1]);
    }
}
