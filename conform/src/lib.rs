//! # friendgate-conform
//!
//! `friendgate conform`: a simulator of the Chat backend that tests any
//! callback endpoint over HTTP, in any language. The cases and the judge are
//! core's ([`friendgate_core::conformance`]); this crate sends them, shows
//! progress, and reports. The `friendgate` binary runs it as its `conform`
//! subcommand; the gateway library does not depend on it.

pub mod client;
pub mod load;
pub mod report;
pub mod suite;
mod trust;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;
use friendgate_core::conformance::{cases, Rules, Target};
use friendgate_core::{unix_now, Config, Token};
use indicatif::{ProgressBar, ProgressStyle};

use client::Endpoint;
use load::LoadSettings;
use report::{by_command, case_table, command_lines, family_table, tally, Report};
use suite::SuiteSettings;

/// `friendgate conform` options.
#[derive(Debug, Clone, Args)]
pub struct ConformArgs {
    /// The endpoint's callback URL (http:// or https://), as set in the console.
    #[arg(long)]
    pub url: String,
    /// The SdkAppid the endpoint accepts.
    #[arg(long, value_name = "ID")]
    pub app_id: u64,
    /// Sign every request with the token in this environment variable, as the
    /// platform does with callback authentication on. Without it requests go
    /// unsigned and the authentication cases are skipped (and listed).
    #[arg(long, value_name = "VAR")]
    pub token_env: Option<String>,
    /// The RequestTime window the endpoint accepts, in seconds.
    #[arg(long, default_value_t = 60, value_name = "S")]
    pub window_seconds: u64,
    /// Also require friendgate's exact HTTP status and ErrorCode for refused
    /// requests (for endpoints built on friendgate).
    #[arg(long)]
    pub strict: bool,
    /// Fail the run on warnings too (missing hardenings), not only on
    /// protocol failures.
    #[arg(long)]
    pub warnings_as_failures: bool,
    /// The endpoint sits at the app's one callback URL (the console's): also
    /// send signed callbacks of other documented commands, which must be
    /// answered 200 OK with ErrorCode 0, and forged, stale and foreign ones,
    /// which never may.
    #[arg(long)]
    pub one_url: bool,
    /// Skip a family of cases (repeat for more), e.g. `limits` for an endpoint
    /// with larger limits than friendgate's defaults.
    #[arg(long, value_name = "FAMILY")]
    pub skip: Vec<String>,
    /// Run only the cases whose name contains this text.
    #[arg(long, value_name = "TEXT")]
    pub only: Option<String>,
    /// The slowest acceptable answer, in milliseconds (the platform waits 2000).
    #[arg(long, default_value_t = 1000, value_name = "MS")]
    pub latency_budget_ms: u64,
    /// Give up waiting for an answer after this many milliseconds.
    #[arg(long, default_value_t = 5000, value_name = "MS")]
    pub timeout_ms: u64,
    /// First wait up to this many seconds for the endpoint to accept connections.
    #[arg(long, default_value_t = 0, value_name = "S")]
    pub wait: u64,
    /// Write a machine-readable report to this file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write a report to read in a browser, offline, to this file: the
    /// summary by family and verdict, and each case's request and answer.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// List only failed cases in the table.
    #[arg(long)]
    pub failures_only: bool,
    /// PEM certificates to trust for https://, besides the web's roots: as
    /// authorities, and each as itself whatever its CA flag (so a
    /// self-signed `openssl req -x509 -nodes` certificate works as given).
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// Do not verify the endpoint's certificate (development only; the
    /// report and the summary say so).
    #[arg(long)]
    pub insecure: bool,
    /// Instead of the cases, send signed callbacks at a fixed rate and report
    /// latency percentiles against the 2 s deadline (needs --rate and --duration).
    #[arg(long, requires_all = ["rate", "duration"])]
    pub load: bool,
    /// Callbacks per second, with --load.
    #[arg(long, requires = "load", value_parser = clap::value_parser!(u32).range(1..=200_000))]
    pub rate: Option<u32>,
    /// Seconds of load, with --load.
    #[arg(long, requires = "load", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub duration: Option<u64>,
    /// Connections kept open under --load (callbacks in flight at most).
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub connections: u16,
    /// Allow --load against addresses outside the loopback range (only for
    /// endpoints you run).
    #[arg(long)]
    pub allow_remote: bool,
}

/// Runs `friendgate conform`: Ok(true) when everything passed, Ok(false)
/// when something failed, Err for a usage or setup problem.
pub fn run(args: &ConformArgs) -> Result<bool, String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(run_async(args))
}

async fn run_async(args: &ConformArgs) -> Result<bool, String> {
    let endpoint = Endpoint::parse(&args.url, args.ca_cert.as_deref(), args.insecure)?;
    let target = target(args)?;
    if args.wait > 0 {
        endpoint
            .wait_until_up(Duration::from_secs(args.wait))
            .await?;
    }
    if args.load {
        run_load(args, &endpoint, &target).await
    } else {
        run_cases(args, &endpoint, &target).await
    }
}

fn target(args: &ConformArgs) -> Result<Target, String> {
    let mut config = Config::builder(args.app_id).window_seconds(args.window_seconds);
    if let Some(var) = &args.token_env {
        let secret = std::env::var(var)
            .map_err(|_| format!("--token-env: environment variable {var} is not set"))?;
        let token = Token::new(secret).map_err(|e| format!("--token-env {var}: {e}"))?;
        config = config.token(token);
    }
    let config = config.build().map_err(|e| e.to_string())?;
    Ok(Target::new(config))
}

fn progress_bar(len: u64, template: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

async fn run_cases(
    args: &ConformArgs,
    endpoint: &Endpoint,
    target: &Target,
) -> Result<bool, String> {
    let settings = SuiteSettings {
        rules: Rules {
            strict: args.strict,
            latency_budget: Duration::from_millis(args.latency_budget_ms),
            one_url: args.one_url,
        },
        timeout: Duration::from_millis(args.timeout_ms),
        skip: args.skip.clone(),
        only: args.only.clone(),
    };
    let mut all = cases(target)?;
    if args.one_url {
        all.extend(friendgate_core::conformance::one_url_cases(target));
    }
    let families = friendgate_core::conformance::families(&all);
    if let Some(unknown) = args
        .skip
        .iter()
        .find(|family| !families.contains(&family.as_str()))
    {
        return Err(format!(
            "--skip {unknown}: no such family (families: {})",
            families.join(", ")
        ));
    }
    let selected: Vec<_> = all
        .into_iter()
        .filter(|case| suite::selected(case, &settings))
        .collect();
    if selected.is_empty() {
        return Err("--only matches no case".to_owned());
    }
    eprintln!(
        "friendgate conform: {} cases against {} (app id {}, {}{})",
        selected.len(),
        endpoint.url(),
        target.app_id(),
        if target.signs() { "signed" } else { "unsigned" },
        match (args.strict, args.one_url) {
            (true, true) => ", strict, one URL",
            (true, false) => ", strict",
            (false, true) => ", one URL",
            (false, false) => "",
        }
    );
    let started_at = unix_now();
    let clock = Instant::now();
    let progress = progress_bar(
        selected.len() as u64,
        "{spinner} [{bar:30}] {pos}/{len} {msg}",
    );
    let results = suite::run(endpoint, target, &selected, &settings, &progress).await;
    let (by_family, total) = tally(&results);
    if args.failures_only && total.failed == 0 && total.warned == 0 {
        println!("no case failed or warned");
    } else {
        println!("{}", case_table(&results, args.failures_only));
    }
    println!("{}", family_table(&by_family, total));
    let commands = by_command(&results);
    print!("{}", command_lines(&commands));
    // Only protocol failures fail the run, unless warnings are asked to.
    let passed = total.failed == 0 && !(args.warnings_as_failures && total.warned > 0);
    println!(
        "{}: {} passed, {} failed, {} warned, {} info, {} skipped of {} cases against {}",
        if passed { "PASS" } else { "FAIL" },
        total.passed,
        total.failed,
        total.warned,
        total.info,
        total.skipped,
        total.total(),
        endpoint.url()
    );
    if total.warned > 0 {
        println!(
            "note: {} warning(s): hardenings friendgate recommends are missing (see docs/protocol.md){}",
            total.warned,
            if args.warnings_as_failures { "; --warnings-as-failures counts them as failures" } else { "" }
        );
    }
    if !target.signs() {
        println!("note: no --token-env given, so the endpoint's authentication was not checked");
    }
    if args.insecure && args.url.starts_with("https://") {
        println!("note: the endpoint's TLS certificate not verified (--insecure)");
    }
    if args.json.is_some() || args.html.is_some() {
        let report = Report {
            tool: "friendgate conform",
            version: env!("CARGO_PKG_VERSION"),
            url: endpoint.url(),
            app_id: target.app_id(),
            signed: target.signs(),
            strict: args.strict,
            insecure: args.insecure,
            latency_budget_ms: args.latency_budget_ms,
            started_at,
            duration_ms: u64::try_from(clock.elapsed().as_millis()).unwrap_or(u64::MAX),
            passed,
            summary: total,
            families: by_family.into_iter().collect(),
            commands: commands.into_iter().collect(),
            cases: &results,
        };
        if let Some(path) = &args.json {
            write_json(path, &report)?;
        }
        if let Some(path) = &args.html {
            std::fs::write(path, report::html(&report))
                .map_err(|e| format!("--html {}: {e}", path.display()))?;
        }
    }
    Ok(passed)
}

async fn run_load(
    args: &ConformArgs,
    endpoint: &Endpoint,
    target: &Target,
) -> Result<bool, String> {
    let addresses = endpoint.resolve().await?;
    if !args.allow_remote && !load::all_loopback(&addresses) {
        let shown: Vec<String> = addresses.iter().map(ToString::to_string).collect();
        return Err(format!(
            "refusing to load {} ({}): it is outside the loopback range; \
             add --allow-remote if you run that endpoint",
            endpoint.url(),
            shown.join(", ")
        ));
    }
    let settings = LoadSettings {
        rate: args.rate.unwrap_or(1),
        duration: Duration::from_secs(args.duration.unwrap_or(1)),
        connections: usize::from(args.connections),
        timeout: Duration::from_millis(args.timeout_ms),
    };
    let total = u64::from(settings.rate) * settings.duration.as_secs();
    eprintln!(
        "friendgate conform --load: {} callbacks/s for {} s ({} in all) on up to {} connections to {}",
        settings.rate,
        settings.duration.as_secs(),
        total,
        settings.connections,
        endpoint.url()
    );
    let progress = progress_bar(
        total,
        "{spinner} [{bar:30}] {pos}/{len} {per_sec} {elapsed}",
    );
    let report = load::run(endpoint, target, settings, &progress).await;
    let p = report.latency_ms;
    println!(
        "sent {}, ok {}, over 2 s {}, errors {}; {:.0} answers/s",
        report.sent,
        report.ok,
        report.over_deadline,
        report.errors.iter().map(|(_, count)| count).sum::<u64>(),
        report.achieved_rate
    );
    println!(
        "latency (ms): p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}  (the platform waits 2000)",
        p.p50, p.p90, p.p99, p.p999, p.max
    );
    for (kind, count) in &report.errors {
        println!("error ×{count}: {kind}");
    }
    println!("{}", if report.passed { "PASS" } else { "FAIL" });
    if let Some(path) = &args.json {
        write_json(path, &report)?;
    }
    Ok(report.passed)
}

fn write_json(path: &std::path::Path, report: &impl serde::Serialize) -> Result<(), String> {
    let text = serde_json::to_string_pretty(report).map_err(|e| e.to_string())?;
    std::fs::write(path, text + "\n").map_err(|e| format!("--json {}: {e}", path.display()))
}
