//! A real `redis-server` on a free loopback port with its own temporary
//! directory, stopped by process id when dropped. `make test` installs
//! Debian's `redis-server` when it is missing; a test that needs it fails
//! (never skips) without it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The binary: `$FRIENDGATE_REDIS_SERVER`, else `redis-server` on `PATH`.
fn binary() -> String {
    std::env::var("FRIENDGATE_REDIS_SERVER").unwrap_or_else(|_| "redis-server".to_owned())
}

/// One running `redis-server`.
pub struct Redis {
    child: Option<Child>,
    pub port: u16,
    dir: tempfile::TempDir,
    /// Arguments past the defaults (TLS, a password).
    extra: Vec<String>,
    /// What `redis-cli` needs to reach it.
    cli_args: Vec<String>,
    /// `redis` or `rediss`.
    scheme: &'static str,
    /// The TLS certificate and key.
    certs: Option<tempfile::TempDir>,
}

impl Redis {
    /// Starts a server on a free port, with an append-only file written at
    /// every change (so that a killed server comes back with its data).
    pub fn start() -> Self {
        Self::start_with(Vec::new(), Vec::new(), "redis")
    }

    /// A server that speaks TLS only, with a certificate for 127.0.0.1
    /// (written as `redis-ca.pem` into the returned directory's path) and
    /// `password` required.
    pub fn start_tls(password: &str) -> (Self, String) {
        let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
        let certs = tempfile::tempdir().unwrap();
        let cert = certs.path().join("cert.pem");
        let key = certs.path().join("key.pem");
        std::fs::write(&cert, certified.cert.pem()).unwrap();
        std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
        let path = |p: &PathBuf| p.to_str().unwrap().to_owned();
        let extra = vec![
            "--tls-port".to_owned(),
            "{port}".to_owned(),
            "--tls-cert-file".to_owned(),
            path(&cert),
            "--tls-key-file".to_owned(),
            path(&key),
            "--tls-ca-cert-file".to_owned(),
            path(&cert),
            "--tls-auth-clients".to_owned(),
            "no".to_owned(),
            "--requirepass".to_owned(),
            password.to_owned(),
        ];
        let cli_args = vec![
            "--tls".to_owned(),
            "--cacert".to_owned(),
            path(&cert),
            "--no-auth-warning".to_owned(),
            "-a".to_owned(),
            password.to_owned(),
        ];
        let mut redis = Self::start_with(extra, cli_args, "rediss");
        redis.certs = Some(certs);
        (redis, certified.cert.pem())
    }

    fn start_with(extra: Vec<String>, cli_args: Vec<String>, scheme: &'static str) -> Self {
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let mut redis = Self {
                child: None,
                port,
                dir: tempfile::tempdir().unwrap(),
                extra: extra.clone(),
                cli_args: cli_args.clone(),
                scheme,
                certs: None,
            };
            if redis.spawn() {
                return redis;
            }
        }
        panic!("redis-server did not start on a free port");
    }

    /// (Re)starts the process on `self.port` and waits for it to answer.
    fn spawn(&mut self) -> bool {
        let port = self.port.to_string();
        let extra: Vec<String> = self
            .extra
            .iter()
            .map(|arg| arg.replace("{port}", &port))
            .collect();
        let plain_port = if extra.is_empty() {
            port.clone()
        } else {
            "0".to_owned()
        };
        let child = Command::new(binary())
            .args([
                "--port",
                &plain_port,
                "--bind",
                "127.0.0.1",
                "--dir",
                self.dir.path().to_str().unwrap(),
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--daemonize",
                "no",
                "--enable-debug-command",
                "local",
            ])
            .args(&extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run {} ({e}); `make test` installs Debian's redis-server",
                    binary()
                )
            });
        self.child = Some(child);
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            if self.cli(&["PING"]).is_some_and(|out| out.trim() == "PONG") {
                return true;
            }
            if let Some(Ok(Some(_))) = self.child.as_mut().map(Child::try_wait) {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// `redis://127.0.0.1:PORT/0` (`rediss://` for TLS).
    pub fn url(&self) -> String {
        format!("{}://127.0.0.1:{}/0", self.scheme, self.port)
    }

    /// The data directory.
    pub fn dir(&self) -> PathBuf {
        self.dir.path().to_owned()
    }

    /// Runs `redis-cli` with `args`; its output, or `None` if it failed.
    pub fn cli(&self, args: &[&str]) -> Option<String> {
        let out = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(&self.cli_args)
            .args(args)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// How many times Redis ran `command` (from `INFO commandstats`), as
    /// counted by the server itself.
    pub fn calls(&self, command: &str) -> u64 {
        let info = self.cli(&["INFO", "commandstats"]).unwrap_or_default();
        info.lines()
            .find_map(|line| line.strip_prefix(&format!("cmdstat_{command}:calls=")))
            .and_then(|rest| rest.split(',').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }

    /// Kills the process (SIGKILL, as a crash would).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and directory.
    pub fn restart(&mut self) {
        self.kill();
        assert!(self.spawn(), "redis-server restarts on port {}", self.port);
    }

    /// Sends `signal` (`STOP`, `CONT`) to the process.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().unwrap().id().to_string();
        assert!(Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .unwrap()
            .success());
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        if let Some(child) = &self.child {
            // A paused server would keep its port until it runs again.
            let _ = Command::new("kill")
                .args(["-CONT", &child.id().to_string()])
                .status();
        }
        self.kill();
    }
}
