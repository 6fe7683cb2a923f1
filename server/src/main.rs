//! The `friendgate` command line.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use friendgate_conform::{self as conform, ConformArgs};
use friendgate_core::testing::SAMPLE_APP_ID;
use friendgate_core::unix_now;
use friendgate_server::{cli, Gateway, Settings};

/// mimalloc: a callback makes a dozen small, short-lived allocations (the
/// request, the answer, the log line's parts), which it serves in about half
/// the time of glibc's malloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// friendgate answers Tencent Cloud Chat's "before a friend request is
/// responded" callback (Sns.CallbackPrevFriendResponse): it checks the Sign
/// and the app id, validates the body, decides each response with your rules,
/// and answers within the platform's 2-second limit.
#[derive(Debug, Parser)]
#[command(name = "friendgate", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the gateway: listen for callbacks and answer them with the rules of the config file.
    ///
    /// Reloads the config on SIGHUP (a file that does not validate keeps the running one);
    /// stops gracefully on SIGTERM or Ctrl-C, finishing callbacks in flight.
    Serve {
        /// The TOML config file (see examples/friendgate.toml).
        #[arg(long, short, env = "FRIENDGATE_CONFIG", hide_env_values = true)]
        config: PathBuf,
        /// Listen on this address instead of the config's `server.listen`.
        #[arg(long, value_name = "ADDR")]
        listen: Option<std::net::SocketAddr>,
        /// Serve the admin listener on this address instead of the config's `admin.listen`.
        #[arg(long, value_name = "ADDR")]
        admin_listen: Option<std::net::SocketAddr>,
    },
    /// Check a config file and say exactly what is wrong (file, key, why).
    CheckConfig {
        /// The TOML config file.
        #[arg(long, short, env = "FRIENDGATE_CONFIG", hide_env_values = true)]
        config: PathBuf,
    },
    /// Print RequestTime and Sign as the platform computes them (for testing an endpoint).
    ///
    /// Sign = hex(SHA-256(Token ++ RequestTime)). Prefer --token-env: a token given with
    /// --token is visible to other users of this machine in the process list.
    Sign {
        /// The callback token (from the console).
        #[arg(
            long,
            conflicts_with = "token_env",
            required_unless_present = "token_env"
        )]
        token: Option<String>,
        /// Read the token from this environment variable instead.
        #[arg(long, value_name = "VAR")]
        token_env: Option<String>,
        /// RequestTime in Unix seconds (default: now).
        #[arg(long)]
        time: Option<u64>,
        /// Print a complete signed callback URL on this base URL (e.g. http://127.0.0.1:8080/).
        #[arg(long)]
        url: Option<String>,
        /// SdkAppid to put in the URL.
        #[arg(long, default_value_t = SAMPLE_APP_ID)]
        app_id: u64,
    },
    /// Answer one callback from the command line, through the same code as the server.
    ///
    /// Prints the HTTP status and the answer body. Exit code 0 for a 200 answer, 1 otherwise.
    Handle {
        /// The TOML config file.
        #[arg(long, short, env = "FRIENDGATE_CONFIG", hide_env_values = true)]
        config: PathBuf,
        /// The raw query string of the callback URL (after the `?`).
        #[arg(long)]
        query: String,
        /// File holding the raw request body (`-` for standard input).
        #[arg(long)]
        body: PathBuf,
        /// The time to check RequestTime against, Unix seconds (default: now).
        #[arg(long)]
        now: Option<u64>,
    },
    /// Test a callback endpoint as the platform would: send the conformance
    /// cases (the shared vectors, forged, stale and broken requests) and check
    /// every answer against the protocol.
    ///
    /// Prints a table of cases and a summary by family. Exit code 0 when every
    /// case passed, 1 when one failed, 2 for a usage or setup error.
    /// With --load, sends signed callbacks at a fixed rate instead and reports
    /// latency percentiles (loopback addresses only, unless --allow-remote).
    Conform(Box<ConformArgs>),
    /// Change the Redis set of an `accounts` rule (its `redis_set`, with `[state]`) and tell
    /// every replica at once (they also re-read it every `state.refresh_seconds`).
    Accounts {
        /// The TOML config file.
        #[arg(long, short, env = "FRIENDGATE_CONFIG", hide_env_values = true)]
        config: PathBuf,
        /// The name of the `accounts` rule whose set to change.
        #[arg(long)]
        rule: String,
        #[command(subcommand)]
        change: AccountsChange,
    },
}

#[derive(Debug, Subcommand)]
enum AccountsChange {
    /// Add accounts to the set.
    Add {
        /// The accounts.
        #[arg(required = true)]
        accounts: Vec<String>,
    },
    /// Remove accounts from the set.
    Remove {
        /// The accounts.
        #[arg(required = true)]
        accounts: Vec<String>,
    },
    /// Add every account of a list file (one per line, `#` comments), or with --replace make
    /// the set hold exactly the file's accounts.
    Load {
        /// The list file (`-` for standard input).
        file: PathBuf,
        /// Remove the accounts the file does not list.
        #[arg(long)]
        replace: bool,
        /// With --replace, allow the set to lose more than half of its accounts.
        #[arg(long, requires = "replace")]
        allow_shrink: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match execute(cli.command) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("friendgate: {error}");
            ExitCode::from(2)
        }
    }
}

fn execute(command: Command) -> Result<ExitCode, Box<dyn std::error::Error>> {
    match command {
        Command::Serve {
            config,
            listen,
            admin_listen,
        } => serve(&config, listen, admin_listen),
        Command::Accounts {
            config,
            rule,
            change,
        } => {
            println!("{}", cli::accounts::run(&config, &rule, change.into())?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Conform(args) => Ok(match conform::run(&args)? {
            true => ExitCode::SUCCESS,
            false => ExitCode::FAILURE,
        }),
        Command::CheckConfig { config } => {
            println!("{}", cli::check::run(&config)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Sign {
            token,
            token_env,
            time,
            url,
            app_id,
        } => {
            let token = match (token, token_env) {
                (Some(token), _) => token,
                (None, Some(var)) => std::env::var(&var)
                    .map_err(|_| format!("environment variable {var} is not set"))?,
                (None, None) => return Err("give --token or --token-env".into()),
            };
            let time = time.unwrap_or_else(unix_now);
            for line in cli::sign::lines(&token, time, url.as_deref(), app_id) {
                println!("{line}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Handle {
            config,
            query,
            body,
            now,
        } => {
            let reply = cli::handle::run(&config, &query, &body, now.unwrap_or_else(unix_now))?;
            println!("HTTP {}", reply.status);
            println!("{}", String::from_utf8_lossy(&reply.body));
            Ok(if reply.status == 200 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

/// `serve`: the config, with the addresses the command line overrides.
fn serve(
    config: &std::path::Path,
    listen: Option<std::net::SocketAddr>,
    admin_listen: Option<std::net::SocketAddr>,
) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let mut settings = Settings::load(config)?;
    if let Some(listen) = listen {
        settings.server.listen = listen;
    }
    if let (Some(listen), Some(admin)) = (admin_listen, settings.admin.as_mut()) {
        admin.listen = listen;
    }
    let gateway = Arc::new(Gateway::new(settings));
    let _guard = gateway.init_logging();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(cli::serve(gateway))?;
    Ok(ExitCode::SUCCESS)
}

impl From<AccountsChange> for cli::accounts::Change {
    fn from(change: AccountsChange) -> Self {
        match change {
            AccountsChange::Add { accounts } => Self::Add(accounts),
            AccountsChange::Remove { accounts } => Self::Remove(accounts),
            AccountsChange::Load {
                file,
                replace,
                allow_shrink,
            } => Self::Load {
                file,
                replace,
                allow_shrink,
            },
        }
    }
}
