//! Answers one `Sns.CallbackPrevFriendResponse` callback from the command
//! line, through `friendgate_core::handle`.
//!
//! With no arguments it answers the platform's documented sample, signed with
//! the documented token, and rejects remarks containing "spam":
//!
//! ```text
//! cargo run -p friendgate-core --example answer
//! cargo run -p friendgate-core --example answer -- --query 'SdkAppid=...' --body body.json \
//!     --app-id 1400000000 --token-env FRIENDGATE_TOKEN --now 1669872112
//! ```

use std::error::Error;
use std::process::ExitCode;

use friendgate_core::{decider_fn, handle, testing, unix_now, Config, Decision, Token};

/// What the command line asked for.
struct Args {
    query: String,
    body: Vec<u8>,
    app_id: u64,
    token: Option<String>,
    now: u64,
}

fn parse_args() -> Result<Args, Box<dyn Error>> {
    let mut args = Args {
        query: testing::signed_query(
            testing::SAMPLE_APP_ID,
            testing::SAMPLE_TOKEN,
            testing::SAMPLE_REQUEST_TIME,
        ),
        body: testing::SAMPLE_BODY.as_bytes().to_vec(),
        app_id: testing::SAMPLE_APP_ID,
        token: Some(testing::SAMPLE_TOKEN.to_owned()),
        now: testing::SAMPLE_REQUEST_TIME,
    };
    let mut custom_query = false;
    let mut rest = std::env::args().skip(1);
    while let Some(flag) = rest.next() {
        let mut value = || rest.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--query" => {
                args.query = value()?;
                custom_query = true;
            }
            "--body" => args.body = std::fs::read(value()?)?,
            "--app-id" => args.app_id = value()?.parse()?,
            "--token-env" => args.token = Some(std::env::var(value()?)?),
            "--no-token" => args.token = None,
            "--now" => args.now = value()?.parse()?,
            "--help" | "-h" => {
                println!("usage: answer [--query Q] [--body FILE] [--app-id N] [--token-env VAR | --no-token] [--now UNIX_SECONDS]");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}; see --help").into()),
        }
    }
    if custom_query && args.now == testing::SAMPLE_REQUEST_TIME {
        args.now = unix_now();
    }
    Ok(args)
}

fn main() -> ExitCode {
    match run() {
        Ok(200) => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(2),
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<u16, Box<dyn Error>> {
    let args = parse_args()?;
    let mut config = Config::builder(args.app_id);
    if let Some(token) = args.token {
        config = config.token(Token::new(token)?);
    }
    let config = config.build()?;
    let decider = decider_fn(|_, _, item| {
        if item.remark.to_lowercase().contains("spam") {
            Ok(Decision::reject(38001, "remark not allowed")?)
        } else {
            Ok(Decision::allow())
        }
    });
    println!("POST /?{}", args.query);
    println!("{}", String::from_utf8_lossy(&args.body));
    let reply = handle(&config, &args.query, &args.body, args.now, &decider);
    println!();
    println!("HTTP {} ({})", reply.status, reply.content_type);
    println!("{}", String::from_utf8_lossy(&reply.body));
    if let Some(error) = &reply.error {
        eprintln!("refused: {} ({})", error.code(), error);
    }
    Ok(reply.status)
}
