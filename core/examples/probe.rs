//! Profiling aid: runs `handle` on the platform's signed sample in a loop and
//! prints the time per callback.
//!
//! ```text
//! cargo build --release -p friendgate-core --example probe
//! perf record target/release/examples/probe && perf report
//! ```
use std::hint::black_box;

use friendgate_core::{handle, testing, AllowAll, Config, Token};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::builder(testing::SAMPLE_APP_ID)
        .token(Token::new(testing::SAMPLE_TOKEN)?)
        .build()?;
    let query = testing::signed_query(
        testing::SAMPLE_APP_ID,
        testing::SAMPLE_TOKEN,
        testing::SAMPLE_REQUEST_TIME,
    );
    let body = testing::SAMPLE_BODY.as_bytes();
    let rounds = 3_000_000u32;
    let started = std::time::Instant::now();
    for _ in 0..rounds {
        let reply = handle(
            &config,
            black_box(&query),
            black_box(body),
            testing::SAMPLE_REQUEST_TIME,
            &AllowAll,
        );
        black_box(reply);
    }
    println!("{:?} per callback", started.elapsed() / rounds);
    Ok(())
}
