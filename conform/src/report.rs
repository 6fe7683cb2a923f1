//! What `friendgate conform` prints and writes: the table of cases, the
//! summary by family, and the JSON report.

use std::collections::BTreeMap;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, Color, ContentArrangement, Table};
use serde::Serialize;

use super::suite::{CaseResult, Outcome};

/// Counts of one family, or of the whole run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Cases that passed.
    pub passed: usize,
    /// Cases that failed.
    pub failed: usize,
    /// Cases that warned (a hardening missing).
    pub warned: usize,
    /// Cases with an observation.
    pub info: usize,
    /// Cases not run.
    pub skipped: usize,
}

impl Tally {
    fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Pass => self.passed += 1,
            Outcome::Fail => self.failed += 1,
            Outcome::Warn => self.warned += 1,
            Outcome::Info => self.info += 1,
            Outcome::Skip => self.skipped += 1,
        }
    }

    /// All cases counted.
    pub fn total(&self) -> usize {
        self.passed + self.failed + self.warned + self.info + self.skipped
    }
}

/// The machine-readable report (`--json`).
#[derive(Debug, Serialize)]
pub struct Report<'a> {
    /// Always `friendgate conform`.
    pub tool: &'static str,
    /// friendgate's version.
    pub version: &'static str,
    /// The endpoint's URL.
    pub url: &'a str,
    /// The app id sent.
    pub app_id: u64,
    /// Whether requests were signed.
    pub signed: bool,
    /// Whether refusals had to match friendgate's exactly.
    pub strict: bool,
    /// Whether the endpoint's TLS certificate went unverified (`--insecure`).
    pub insecure: bool,
    /// The latency budget, ms.
    pub latency_budget_ms: u64,
    /// When the run started, Unix seconds.
    pub started_at: u64,
    /// How long it took, ms.
    pub duration_ms: u64,
    /// Whether every case that ran passed.
    pub passed: bool,
    /// Counts over all cases.
    pub summary: Tally,
    /// Counts by family.
    pub families: BTreeMap<&'static str, Tally>,
    /// Every case.
    pub cases: &'a [CaseResult],
}

/// Counts by family, in the order families first appear, and the total.
pub fn tally(results: &[CaseResult]) -> (Vec<(&'static str, Tally)>, Tally) {
    let mut families: Vec<(&'static str, Tally)> = Vec::new();
    let mut total = Tally::default();
    for result in results {
        total.add(result.result);
        match families
            .iter_mut()
            .find(|(family, _)| *family == result.family)
        {
            Some((_, tally)) => tally.add(result.result),
            None => {
                let mut tally = Tally::default();
                tally.add(result.result);
                families.push((result.family, tally));
            }
        }
    }
    (families, total)
}

/// The table of cases (all, or only failures).
pub fn case_table(results: &[CaseResult], failures_only: bool) -> Table {
    let listed = |outcome| matches!(outcome, Outcome::Fail | Outcome::Warn);
    let mut table = Table::new();
    table
        .load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(["case", "family", "expected", "got", "ms", "result"]);
    for result in results {
        if failures_only && !listed(result.result) {
            continue;
        }
        let verdict = match (result.result, &result.reason) {
            (Outcome::Pass, _) => Cell::new("pass").fg(Color::Green),
            (Outcome::Fail, reason) => {
                Cell::new(format!("FAIL: {}", reason.as_deref().unwrap_or_default())).fg(Color::Red)
            }
            (Outcome::Warn, reason) => {
                Cell::new(format!("warn: {}", reason.as_deref().unwrap_or_default()))
                    .fg(Color::Yellow)
            }
            (Outcome::Info, reason) => {
                Cell::new(format!("info: {}", reason.as_deref().unwrap_or_default()))
                    .fg(Color::Blue)
            }
            (Outcome::Skip, reason) => {
                Cell::new(format!("skip: {}", reason.as_deref().unwrap_or_default()))
                    .fg(Color::Yellow)
            }
        };
        table.add_row(vec![
            Cell::new(&result.name),
            Cell::new(result.family),
            Cell::new(&result.expected),
            Cell::new(&result.got),
            Cell::new(
                result
                    .latency_ms
                    .map_or_else(String::new, |ms| format!("{ms:.1}")),
            ),
            verdict,
        ]);
    }
    table
}

/// The summary by family.
pub fn family_table(families: &[(&'static str, Tally)], total: Tally) -> Table {
    let mut table = Table::new();
    table
        .load_style(UTF8_FULL_CONDENSED)
        .set_header(["family", "passed", "failed", "warned", "info", "skipped"]);
    for (family, tally) in families.iter().copied().chain([("all", total)]) {
        table.add_row(vec![
            Cell::new(family),
            Cell::new(tally.passed),
            if tally.failed > 0 {
                Cell::new(tally.failed).fg(Color::Red)
            } else {
                Cell::new(tally.failed)
            },
            Cell::new(tally.warned),
            Cell::new(tally.info),
            Cell::new(tally.skipped),
        ]);
    }
    table
}
