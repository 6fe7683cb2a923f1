//! The gateway's answer to a friend request against a friend response, in
//! process (no HTTP), under the example rules (`examples/friendgate.toml`,
//! rate limits raised so that every item takes the same path): what
//! deciding costs per command, without the network's noise.
//!
//! Run: `cargo bench -p friendgate-server --bench answer`

// Bench code: a failed expectation should stop with a message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use friendgate_core::testing::{signed_add_query, signed_query, SAMPLE_ADD_BODY, SAMPLE_BODY};
use friendgate_server::Gateway;

const NOW: u64 = 1_669_872_112;

/// The example configuration in a temporary folder, rate limits raised.
fn example(dir: &Path) -> Gateway {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    for file in ["demo.token", "blocklist.txt", "words.txt"] {
        std::fs::copy(examples.join(file), dir.join(file)).unwrap();
    }
    let text = std::fs::read_to_string(examples.join("friendgate.toml")).unwrap();
    let raised: String = text
        .lines()
        .map(|line| match line.split_once('#') {
            Some((setting, _)) if setting.trim_start().starts_with("max = ") => {
                "max = 100000000".to_owned()
            }
            _ => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let path = dir.join("friendgate.toml");
    std::fs::write(&path, raised).unwrap();
    Gateway::load(&path)
        .unwrap()
        .with_clock(std::sync::Arc::new(|| NOW))
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let gateway = example(dir.path());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let responses = signed_query(1_400_000_000, "xxxxyyyy", NOW);
    let requests = signed_add_query(1_400_000_000, "xxxxyyyy", NOW);
    let accepting = SAMPLE_BODY.replace("Response_Action_Reject", "Response_Action_Agree");
    let cases = [
        ("friend_response_sample", &responses, SAMPLE_BODY),
        (
            "friend_response_both_accept",
            &responses,
            accepting.as_str(),
        ),
        ("friend_request_sample", &requests, SAMPLE_ADD_BODY),
    ];
    for (name, query, body) in cases {
        let reply = runtime.block_on(gateway.answer(query, body.as_bytes(), NOW));
        assert_eq!(
            reply.status,
            200,
            "{name}: {}",
            String::from_utf8_lossy(&reply.body)
        );
    }
    let mut group = c.benchmark_group("gateway_answer");
    for (name, query, body) in cases {
        group.bench_function(name, |b| {
            b.iter(|| {
                runtime.block_on(gateway.answer(black_box(query), black_box(body.as_bytes()), NOW))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
