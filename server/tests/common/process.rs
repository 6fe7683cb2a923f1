//! A `friendgate serve` process, as users run it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use friendgate_core::testing::QueryBuilder;

use super::{APP, TOKEN};

/// A `friendgate serve` process with JSON logs; its port is read from the log.
pub struct Serving {
    pub child: Child,
    pub lines: std::sync::mpsc::Receiver<String>,
    /// The callback listener's address.
    pub addr: String,
    /// The admin listener's address.
    pub admin: String,
    /// Every log line read so far.
    pub seen: std::cell::RefCell<Vec<String>>,
}

impl Serving {
    pub fn start(config: &Path) -> Self {
        Self::spawn(Self::command(config))
    }

    /// `friendgate serve --config CONFIG`, not started yet.
    pub fn command(config: &Path) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_friendgate"));
        command.args(["serve", "--config", config.to_str().unwrap()]);
        command
    }

    /// Starts `command` (a `serve` with JSON logs), reading its log.
    pub fn spawn(mut command: Command) -> Self {
        let mut child = command.stdout(Stdio::piped()).spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (send, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = send.send(line);
            }
        });
        let mut serving = Self {
            child,
            lines,
            addr: String::new(),
            admin: String::new(),
            seen: std::cell::RefCell::default(),
        };
        let line = serving.wait_for("\"listening");
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        serving.addr = value["local_addr"].as_str().unwrap().to_owned();
        let line = serving.wait_for("admin listening");
        let value: serde_json::Value = serde_json::from_str(&line).unwrap();
        serving.admin = value["admin_addr"].as_str().unwrap().to_owned();
        serving
    }

    pub fn wait_for(&self, text: &str) -> String {
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(10))
                .expect("log line in time");
            self.seen.borrow_mut().push(line.clone());
            if line.contains(text) {
                return line;
            }
        }
    }

    /// The first log line read so far that contains `text`.
    pub fn seen(&self, text: &str) -> Option<String> {
        self.seen
            .borrow()
            .iter()
            .find(|l| l.contains(text))
            .cloned()
    }

    /// The resident memory of the process, in bytes.
    pub fn rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
        let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        kib * 1024
    }

    /// The admin listener's `/metrics`.
    pub fn metrics(&self) -> String {
        block_on(async {
            super::client()
                .get(format!("http://{}/metrics", self.admin))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        })
    }

    /// Stops the process with SIGTERM and checks it exits cleanly.
    pub fn stop(mut self) {
        self.signal("TERM");
        assert!(self.child.wait().unwrap().success());
    }

    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    pub fn post(&self, body: &str) -> String {
        self.post_command(friendgate_core::FRIEND_RESPONSE, body)
    }

    /// [`Serving::post`] for a callback of `command`.
    pub fn post_command(&self, command: &str, body: &str) -> String {
        let query = QueryBuilder::new(APP)
            .command(command)
            .signed(TOKEN, friendgate_core::unix_now())
            .build();
        block_on(async {
            let url = format!("http://{}/cb?{query}", self.addr);
            super::client()
                .post(url)
                .body(body.to_owned())
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        })
    }
}

impl Drop for Serving {
    /// A test that fails leaves no server behind.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `future` to completion on a runtime of its own (the tests that
/// drive a process are synchronous).
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

/// A child process killed when dropped, so a failing test leaves none behind.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
