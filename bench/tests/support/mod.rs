//! The real `pinlog` broker as a child process, for the workload tests (the minimal start and
//! stop of `tools/tests/support/mod.rs`).
//!
//! The binary is the one cargo built beside `pinlog-bench` (build it first:
//! `cargo build -p pinlog-tools --bin pinlog`). The data directory is on the real disk under
//! `$PINLOG_TEST_DIR` when set, else `CARGO_TARGET_TMPDIR`, never /tmp (tmpfs has no O_DIRECT); it is kept, with the broker's
//! stderr, when a test fails.

// Each test binary uses its own subset of this module.
#![allow(dead_code)]

use std::fs::{self, File};
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The line the broker prints once every shard listens.
const READY_PREFIX: &str = "pinlog listening on ";
/// Generous: a debug build on a busy two-core machine.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

pub struct Broker {
    root: PathBuf,
    bootstrap: String,
    child: Child,
}

impl Broker {
    /// Starts a one-shard broker for the test `name` (unique among the tests).
    pub fn start(name: &str) -> Broker {
        let root = std::env::var_os("PINLOG_TEST_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")))
            .join("pinlog-bench")
            .join(format!("{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(root.join("data")).expect("creating the data directory");
        let probe = TcpListener::bind("127.0.0.1:0").expect("binding a probe socket");
        let bootstrap = probe.local_addr().expect("the probe's address").to_string();
        drop(probe);
        let stderr = File::create(root.join("broker.stderr")).expect("creating the stderr file");
        let mut child = Command::new(pinlog_binary())
            .arg("serve")
            .arg("--data-dir")
            .arg(root.join("data"))
            .args(["--listen", &bootstrap, "--shards", "1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("spawning pinlog (build it with cargo build -p pinlog-tools --bin pinlog)");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (ready_sender, ready) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line.starts_with(READY_PREFIX) {
                    let _ = ready_sender.send(());
                }
            }
        });
        let broker = Broker {
            root,
            bootstrap,
            child,
        };
        if ready.recv_timeout(READY_TIMEOUT).is_err() {
            panic!("{name}: the broker did not get ready\n{}", broker.stderr());
        }
        broker
    }

    pub fn bootstrap(&self) -> &str {
        &self.bootstrap
    }

    /// A directory for the test's own files (reports), beside the broker's data.
    pub fn dir(&self) -> &PathBuf {
        &self.root
    }

    /// SIGKILL, as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn stderr(&self) -> String {
        fs::read_to_string(self.root.join("broker.stderr")).unwrap_or_default()
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!(
                "test failed; kept {}\n{}",
                self.root.display(),
                self.stderr()
            );
        } else {
            let _ = fs::remove_dir_all(&self.root);
        }
    }
}

/// `pinlog`, beside `pinlog-bench` in cargo's target directory.
fn pinlog_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_pinlog-bench")).with_file_name("pinlog")
}
