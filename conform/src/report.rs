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
    /// Counts by `CallbackCommand` sent.
    pub commands: BTreeMap<&'static str, Tally>,
    /// Every case.
    pub cases: &'a [CaseResult],
}

/// Counts by family, in the order families first appear, and the total.
pub fn tally(results: &[CaseResult]) -> (Vec<(&'static str, Tally)>, Tally) {
    let mut total = Tally::default();
    results.iter().for_each(|result| total.add(result.result));
    (group(results, |result| result.family), total)
}

/// Counts by the `CallbackCommand` each case sent, in the order they first
/// appear: the report's line per command.
pub fn by_command(results: &[CaseResult]) -> Vec<(&'static str, Tally)> {
    group(results, |result| result.command)
}

fn group(
    results: &[CaseResult],
    key: impl Fn(&CaseResult) -> &'static str,
) -> Vec<(&'static str, Tally)> {
    let mut groups: Vec<(&'static str, Tally)> = Vec::new();
    for result in results {
        let name = key(result);
        match groups.iter_mut().find(|(group, _)| *group == name) {
            Some((_, tally)) => tally.add(result.result),
            None => {
                let mut tally = Tally::default();
                tally.add(result.result);
                groups.push((name, tally));
            }
        }
    }
    groups
}

/// One line per command: `<command>: N passed, N failed, ...`.
pub fn command_lines(commands: &[(&'static str, Tally)]) -> String {
    commands
        .iter()
        .map(|(command, tally)| {
            format!(
                "{command}: {} passed, {} failed, {} warned, {} info, {} skipped\n",
                tally.passed, tally.failed, tally.warned, tally.info, tally.skipped
            )
        })
        .collect()
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

/// Text for HTML: `&`, `<`, `>` and quotes escaped (the five characters
/// that can change markup; a crate for this would be one function).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn verdict_name(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Pass => "pass",
        Outcome::Fail => "fail",
        Outcome::Warn => "warn",
        Outcome::Info => "info",
        Outcome::Skip => "skip",
    }
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}\
.pass{color:#17702a}.fail{color:#b00020;font-weight:bold}.warn{color:#9a6700}.info{color:#0550ae}.skip{color:#777}\
pre{white-space:pre-wrap;word-break:break-all;background:#f6f8fa;padding:.5em;margin:.3em 0;max-width:100em}";

/// The report as one self-contained HTML page (no script, no external
/// resource: it reads offline), written as well-formed XML so that any
/// parser takes it.
pub fn html(report: &Report<'_>) -> String {
    let mut out = String::with_capacity(4096 + report.cases.len() * 1024);
    let title = format!("friendgate conform: {}", report.url);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/><title>");
    out.push_str(&escape(&title));
    out.push_str("</title><style>");
    out.push_str(STYLE);
    out.push_str("</style></head><body>\n<h1>");
    out.push_str(&escape(&title));
    out.push_str("</h1>\n<p class=\"");
    out.push_str(if report.passed { "pass" } else { "fail" });
    out.push_str("\">");
    let summary = &report.summary;
    out.push_str(&escape(&format!(
        "{}: {} passed, {} failed, {} warned, {} info, {} skipped of {} cases",
        if report.passed { "PASS" } else { "FAIL" },
        summary.passed,
        summary.failed,
        summary.warned,
        summary.info,
        summary.skipped,
        summary.total()
    )));
    out.push_str("</p>\n<p>");
    out.push_str(&escape(&format!(
        "app id {}, {}{}{}; friendgate {}",
        report.app_id,
        if report.signed {
            "signed"
        } else {
            "unsigned: authentication not checked"
        },
        if report.strict { ", strict" } else { "" },
        if report.insecure {
            ", TLS certificate not verified (--insecure)"
        } else {
            ""
        },
        report.version
    )));
    out.push_str("</p>\n<table class=\"families\"><thead><tr><th>family</th><th>passed</th><th>failed</th><th>warned</th><th>info</th><th>skipped</th></tr></thead><tbody>\n");
    for (family, tally) in report
        .families
        .iter()
        .map(|(f, t)| (*f, *t))
        .chain([("all", *summary)])
    {
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            escape(family),
            tally.passed,
            if tally.failed > 0 { "fail" } else { "pass" },
            tally.failed,
            tally.warned,
            tally.info,
            tally.skipped
        ));
    }
    out.push_str("</tbody></table>\n<table class=\"cases\"><thead><tr><th>case</th><th>family</th><th>expected</th><th>got</th><th>verdict</th></tr></thead><tbody>\n");
    for case in report.cases {
        let verdict = verdict_name(case.result);
        out.push_str(&format!(
            "<tr class=\"case {verdict}\" id=\"case-{}\"><td>{}<br/><small>{}</small></td><td>{}</td><td>{}</td><td>{}</td><td class=\"{verdict}\">{verdict}",
            escape(&case.name),
            escape(&case.name),
            escape(&case.description),
            escape(case.family),
            escape(&case.expected),
            escape(&case.got),
        ));
        if let Some(reason) = &case.reason {
            out.push_str(": ");
            out.push_str(&escape(reason));
        }
        if let Some(rule) = case.rule.filter(|_| case.result != Outcome::Pass) {
            out.push_str(&format!(" <small>({})</small>", escape(rule)));
        }
        out.push_str("</td></tr>\n");
        if case.sent.is_some() || case.answer.is_some() {
            out.push_str("<tr class=\"exchange\"><td colspan=\"5\"><details><summary>request and answer</summary><pre>");
            out.push_str(&escape(case.sent.as_deref().unwrap_or("")));
            out.push_str("</pre><pre>");
            out.push_str(&escape(case.answer.as_deref().unwrap_or("(no answer)")));
            out.push_str("</pre></details></td></tr>\n");
        }
    }
    out.push_str("</tbody></table>\n</body></html>\n");
    out
}
