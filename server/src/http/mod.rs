//! HTTP plumbing shared by both listeners, knowing nothing of callbacks: the
//! accept loop (`accept`), the bound on connections (`connections`), the
//! idle watchdog and answer latency (`idle`), the lingering close
//! (`linger`), what a route knows of its connection (`peer`), answers
//! (`respond`), TLS (`tls`) and the source allowlist (`sources`).

pub(crate) mod accept;
pub(crate) mod connections;
pub(crate) mod idle;
pub(crate) mod linger;
pub(crate) mod peer;
pub(crate) mod respond;
pub mod sources;
pub(crate) mod tls;
