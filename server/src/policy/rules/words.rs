//! `words`: a word filter on an item's text fields (by default `Remark` and
//! `TagName` of a friend response, `Remark`, `GroupName` and `AddWording` of
//! a friend request), after normalization, optionally through confusable
//! skeletons.

use aho_corasick::AhoCorasick;

use super::Building;
use crate::config::files::SettingsError;
use crate::policy::normalize::{normalize, skeletons};
use crate::policy::spec::{RuleSpec, TextField};
use crate::policy::subject::Subject;

/// A `words` rule's automata and the fields it reads.
#[derive(Debug)]
pub(crate) struct WordFilter {
    pub(crate) matcher: AhoCorasick,
    /// The lower- and upper-case skeletons' automata (`confusables`).
    pub(crate) confusable: Option<[AhoCorasick; 2]>,
    /// The fields it reads; `None`: its command's defaults.
    pub(crate) fields: Option<Vec<TextField>>,
}

/// Builds a `words` rule's filter.
pub(crate) fn build(
    building: &mut Building<'_>,
    spec: &mut RuleSpec,
) -> Result<WordFilter, SettingsError> {
    let mut words: Vec<String> = spec.words.take().unwrap_or_default();
    if let Some(list) = spec.words_file.take() {
        words.extend(building.read_list("words_file", &list)?);
    }
    let words: Vec<String> = words
        .iter()
        .map(|w| normalize(w).trim().to_owned())
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        return Err(building.err(
            "words",
            "a words rule needs at least one word (`words` or `words_file`)",
        ));
    }
    let automaton = |words: &[String]| {
        AhoCorasick::new(words).map_err(|e| building.err("words", e.to_string()))
    };
    let matcher = automaton(&words)?;
    let confusable = if spec.confusables.unwrap_or(false) {
        let [lower, upper]: [Vec<String>; 2] =
            [0, 1].map(|case| words.iter().map(|w| skeletons(w)[case].clone()).collect());
        Some([automaton(&lower)?, automaton(&upper)?])
    } else {
        None
    };
    let fields = spec.fields.take();
    if fields.as_ref().is_some_and(Vec::is_empty) {
        return Err(building.err("fields", "names no field; leave it out for the defaults"));
    }
    Ok(WordFilter {
        matcher,
        confusable,
        fields,
    })
}

impl WordFilter {
    /// Whether any of its fields of `item` holds one of its words (or, with
    /// `confusables`, a word's skeleton).
    pub(crate) fn matches(&self, subject: &Subject<'_>) -> bool {
        let fields = match &self.fields {
            Some(fields) => fields.as_slice(),
            None => subject.command.default_word_fields(),
        };
        fields.iter().any(|field| {
            let Some(text) = subject.text(*field).filter(|text| !text.is_empty()) else {
                return false;
            };
            // Patterns were normalized the same way at load.
            let text = normalize(text);
            self.matcher.is_match(&*text)
                || self.confusable.as_ref().is_some_and(|[lower, upper]| {
                    let [l, u] = skeletons(&text);
                    lower.is_match(&l) || upper.is_match(&u)
                })
        })
    }
}
