//! Profiling aid: runs `handle` on the signed sample in a loop.
//! `cargo build --release -p friendgate-core --example probe && perf record target/release/examples/probe`
use std::hint::black_box;

use friendgate_core::{decider_fn, handle, testing, Config, Decision, Token};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::builder(testing::SAMPLE_APP_ID)
        .token(Token::new(testing::SAMPLE_TOKEN)?)
        .build()?;
    let query = testing::signed_query(
        testing::SAMPLE_APP_ID,
        testing::SAMPLE_TOKEN,
        testing::SAMPLE_REQUEST_TIME,
    );
    let decider = decider_fn(|_, _, item| {
        if item.remark.contains("spam") {
            Ok(Decision::reject(38001, "spam")?)
        } else {
            Ok(Decision::allow())
        }
    });
    let rounds = 3_000_000u32;
    let started = std::time::Instant::now();
    for _ in 0..rounds {
        let body = black_box(testing::SAMPLE_BODY.as_bytes());
        black_box(handle(
            &config,
            black_box(&query),
            body,
            testing::SAMPLE_REQUEST_TIME,
            &decider,
        ));
    }
    println!("{:?} per callback", started.elapsed() / rounds);
    Ok(())
}
