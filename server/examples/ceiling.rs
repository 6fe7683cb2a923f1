//! The ceiling of the load benchmark: a minimal warp handler that answers
//! every POST with the platform sample's fixed answer, on warp's own server.
//!
//! `cargo run --release -p friendgate-server --example ceiling -- 127.0.0.1:18081`

use std::net::SocketAddr;

use warp::Filter;

const ANSWER: &str = r#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","ResultItem":[{"To_Account":"id1","ResultCode":0,"ResultInfo":""},{"To_Account":"id2","ResultCode":0,"ResultInfo":""}]}"#;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18081".to_owned())
        .parse()?;
    let route = warp::post()
        .and(warp::body::bytes())
        .map(|_body: bytes::Bytes| {
            warp::reply::with_header(ANSWER, "content-type", "application/json")
        });
    warp::serve(route).run(addr).await;
    Ok(())
}
