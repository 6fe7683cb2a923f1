//! Runs the cases against the endpoint, one connection per case.

use std::time::Duration;

use friendgate_core::conformance::{
    judge, Case, Level, NoAnswer, Observed, Rules, Source, Target, Verdict,
};
use friendgate_core::unix_now;
use indicatif::ProgressBar;
use serde::Serialize;

use super::client::Endpoint;

/// How the cases are run and judged.
#[derive(Debug, Clone)]
pub struct SuiteSettings {
    /// How answers are judged.
    pub rules: Rules,
    /// Give up on an answer after this long.
    pub timeout: Duration,
    /// Families skipped on request.
    pub skip: Vec<String>,
    /// Run only cases whose name contains this.
    pub only: Option<String>,
}

/// How one case went.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    /// The case's name.
    pub name: String,
    /// Its family.
    pub family: &'static str,
    /// The `CallbackCommand` it sent.
    pub command: &'static str,
    /// `vectors/<file>` or `generated`.
    pub source: String,
    /// What it shows.
    pub description: String,
    /// What must come back.
    pub expected: String,
    /// What came back.
    pub got: String,
    /// Time to the whole answer (the slowest round), in milliseconds.
    pub latency_ms: Option<f64>,
    /// `pass`, `fail`, `warn`, `info` or `skip`.
    pub result: Outcome,
    /// Why it failed, warned, was noted or was skipped.
    pub reason: Option<String>,
    /// The rule the verdict rests on (a line of docs/protocol.md).
    pub rule: Option<&'static str>,
    /// The last request sent: method, query, body (shortened).
    pub sent: Option<String>,
    /// The answer to it: status, body (shortened).
    pub answer: Option<String>,
}

/// How much of a body a report shows.
const SHOWN_BYTES: usize = 2048;

/// `bytes` as text for a report, shortened to [`SHOWN_BYTES`].
fn shown(bytes: &[u8]) -> String {
    let mut text = String::from_utf8_lossy(&bytes[..bytes.len().min(SHOWN_BYTES)]).into_owned();
    if bytes.len() > SHOWN_BYTES {
        text.push_str(&format!("… ({} bytes in all)", bytes.len()));
    }
    text
}

/// A case's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The answer is what the protocol needs.
    Pass,
    /// The protocol or its security is broken.
    Fail,
    /// A hardening friendgate recommends is missing (the protocol is silent).
    Warn,
    /// An observation: refused otherwise than friendgate.
    Info,
    /// The case was not run.
    Skip,
}

/// Runs every case in order, showing progress on `progress`.
pub async fn run(
    endpoint: &Endpoint,
    target: &Target,
    cases: &[Case],
    settings: &SuiteSettings,
    progress: &ProgressBar,
) -> Vec<CaseResult> {
    let mut results = Vec::with_capacity(cases.len());
    let mut failed = 0;
    for case in cases {
        progress.set_message(format!("{failed} failed · {}", case.name));
        let result = run_case(endpoint, target, case, settings).await;
        if result.result == Outcome::Fail {
            failed += 1;
            let line = format!(
                "FAIL {}: {}",
                result.name,
                result.reason.as_deref().unwrap_or_default()
            );
            // A hidden bar (not a terminal) prints nothing, not even lines.
            if progress.is_hidden() {
                eprintln!("{line}");
            } else {
                progress.println(line);
            }
        }
        results.push(result);
        progress.inc(1);
    }
    progress.finish_and_clear();
    results
}

/// Whether `case` is selected by `--only` and not in a `--skip` family.
pub fn selected(case: &Case, settings: &SuiteSettings) -> bool {
    settings
        .only
        .as_deref()
        .map_or(true, |only| case.name.contains(only))
}

async fn run_case(
    endpoint: &Endpoint,
    target: &Target,
    case: &Case,
    settings: &SuiteSettings,
) -> CaseResult {
    let mut result = CaseResult {
        name: case.name.clone(),
        family: case.family,
        command: case.command,
        source: match &case.source {
            Source::Vector(file) => format!("vectors/{file}"),
            Source::Generated => "generated".to_owned(),
        },
        description: case.description.clone(),
        expected: String::new(),
        got: String::new(),
        latency_ms: None,
        result: Outcome::Skip,
        reason: None,
        rule: None,
        sent: None,
        answer: None,
    };
    if settings.skip.iter().any(|family| family == case.family) {
        result.reason = Some(format!("family `{}` skipped with --skip", case.family));
        return result;
    }
    if let Some(reason) = case.skipped() {
        result.reason = Some(reason.to_owned());
        return result;
    }
    let mut connection = None;
    let mut slowest = Duration::ZERO;
    for round in 1..=case.rounds {
        let Some(prepared) = case.prepare(target, unix_now()) else {
            break;
        };
        result.expected = prepared.expect.describe(&settings.rules);
        if case.rounds > 1 {
            result.expected = format!("{} × {} on one connection", result.expected, case.rounds);
        }
        if connection.is_none() {
            match endpoint.connect().await {
                Ok(opened) => connection = Some(opened),
                Err(reason) => {
                    let verdict = judge(
                        &prepared.expect,
                        Err(NoAnswer::Closed(reason)),
                        &settings.rules,
                    );
                    return finish(result, verdict, round, case.rounds, slowest);
                }
            }
        }
        let Some(open) = connection.as_mut() else {
            break;
        };
        result.sent = Some(format!(
            "{} ?{}\n\n{}",
            prepared.method.as_str(),
            prepared.query,
            shown(prepared.body)
        ));
        let answer = open
            .send(
                endpoint,
                prepared.method,
                &prepared.query,
                prepared.body,
                settings.timeout,
            )
            .await;
        let verdict = match answer {
            Ok(answer) => {
                slowest = slowest.max(answer.elapsed);
                result.answer = Some(format!("{}\n\n{}", answer.status, shown(&answer.body)));
                let observed = Observed {
                    status: answer.status,
                    body: &answer.body,
                    elapsed: answer.elapsed,
                };
                judge(&prepared.expect, Ok(observed), &settings.rules)
            }
            Err(NoAnswer::Closed(reason)) if round > 1 => Verdict::failed(
                format!("no answer: {reason}"),
                format!(
                    "the endpoint closed the connection after {} callback(s); the platform keeps connections alive",
                    round - 1
                ),
            ),
            Err(no_answer) => judge(&prepared.expect, Err(no_answer), &settings.rules),
        };
        if verdict.level != Level::Pass || round == case.rounds {
            return finish(result, verdict, round, case.rounds, slowest);
        }
    }
    result
}

fn finish(
    mut result: CaseResult,
    verdict: Verdict,
    round: usize,
    rounds: usize,
    slowest: Duration,
) -> CaseResult {
    result.got = verdict.got;
    if slowest > Duration::ZERO {
        result.latency_ms = Some(slowest.as_secs_f64() * 1000.0);
    }
    result.rule = Some(verdict.rule);
    result.result = match verdict.level {
        Level::Pass => Outcome::Pass,
        Level::Fail => Outcome::Fail,
        Level::Warn => Outcome::Warn,
        Level::Info => Outcome::Info,
    };
    if let Some(problem) = verdict.problem {
        result.reason = Some(if rounds > 1 {
            format!("callback {round} of {rounds}: {problem}")
        } else {
            problem
        });
    }
    result
}
