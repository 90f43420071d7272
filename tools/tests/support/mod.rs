//! Test support: the real `pinlog` binary as a child process ([`Broker`]) and librdkafka
//! clients for it ([`kafka`]).
//!
//! Each test starts its own broker on a free port of 127.0.0.1 with a fresh data directory on
//! the real disk: under `$PINLOG_TEST_DIR` when set, else cargo's `CARGO_TARGET_TMPDIR`
//! (never /tmp, which may be tmpfs, where O_DIRECT fails). The broker's stderr goes to a file
//! beside the data directory; when a test fails, the broker's drop prints it and keeps the
//! directory, so failure messages need not carry it.

// Every test file compiles this module and uses a different part of it.
#![allow(dead_code)]

pub mod cli;
pub mod client_checks;
pub mod groups;
pub mod kafka;
pub mod records;

use std::fs::{self, File};
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The line the broker prints on stdout once every shard listens.
const READY_PREFIX: &str = "pinlog listening on ";
/// Generous: a debug build on a busy two-core machine.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// Another process may take the port between our probe and the broker's bind.
const START_ATTEMPTS_MAX: u32 = 3;

/// A `pinlog serve` process. Killed on drop; its directory is removed unless the test failed.
pub struct Broker {
    name: String,
    shards: usize,
    listen: SocketAddr,
    root: PathBuf,
    /// The TOML file given with `--config`, if the test chose settings.
    config: Option<PathBuf>,
    child: Option<Child>,
    /// Runs so far, numbering the stderr files.
    runs: u32,
}

impl Broker {
    /// Starts a broker with `shards` shards for the test `name` (unique among the tests).
    pub fn start(name: &str, shards: usize) -> Broker {
        Broker::start_with_config(name, shards, None)
    }

    /// [`Broker::start`] with `config_toml` (BrokerConfig keys, e.g.
    /// `group_initial_rebalance_delay_ms = 0`) written to a file given with `--config`. The
    /// flags the harness passes (data directory, listen address, shards) win over the file.
    pub fn start_with_config(name: &str, shards: usize, config_toml: Option<&str>) -> Broker {
        Broker::start_under(&test_base_dir(), name, shards, config_toml)
    }

    /// [`Broker::start_with_config`] with its directory under `base` (a filesystem of the
    /// test's own, say) instead of the tests' base directory.
    pub fn start_under(
        base: &Path,
        name: &str,
        shards: usize,
        config_toml: Option<&str>,
    ) -> Broker {
        let root = base.join(format!("{name}-{}", std::process::id()));
        if root.exists() {
            fs::remove_dir_all(&root).expect("removing a stale test directory");
        }
        fs::create_dir_all(root.join("data")).expect("creating the data directory");
        let config = config_toml.map(|toml| {
            let path = root.join("broker.toml");
            fs::write(&path, toml).expect("writing the broker's config file");
            path
        });
        let mut broker = Broker {
            name: name.to_string(),
            shards,
            listen: free_local_port(),
            root,
            config,
            child: None,
            runs: 0,
        };
        for attempt in 1..=START_ATTEMPTS_MAX {
            match broker.spawn() {
                Ok(()) => return broker,
                Err(failure) if attempt < START_ATTEMPTS_MAX && broker.failed_to_bind() => {
                    eprintln!("{name}: port {} taken, retrying: {failure}", broker.listen);
                    broker.listen = free_local_port();
                }
                Err(failure) => panic!("{failure}"),
            }
        }
        unreachable!("the last attempt returns or panics")
    }

    /// `bootstrap.servers` for clients.
    pub fn bootstrap(&self) -> String {
        self.listen.to_string()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    pub fn shards(&self) -> usize {
        self.shards
    }

    /// SIGKILL, as a crash would.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("sending SIGKILL");
            child.wait().expect("waiting for the killed broker");
        }
    }

    /// SIGTERM, then waits for a clean exit (status 0).
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let pid = libc::pid_t::try_from(child.id()).expect("pid fits pid_t");
        // SAFETY: kill(2) on our own child, which has not been reaped (we hold its Child).
        let sent = unsafe { libc::kill(pid, libc::SIGTERM) };
        assert_eq!(sent, 0, "sending SIGTERM");
        match wait_timeout(&mut child, STOP_TIMEOUT) {
            Some(status) => assert!(
                status.success(),
                "{}: broker exited with {status} on SIGTERM",
                self.name
            ),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "{}: broker still running {STOP_TIMEOUT:?} after SIGTERM",
                    self.name
                );
            }
        }
    }

    /// Replaces the config file the next [`Broker::restart`] reads (a test switch turned off).
    pub fn rewrite_config(&mut self, config_toml: &str) {
        let path = self.root.join("broker.toml");
        fs::write(&path, config_toml).expect("writing the broker's config file");
        self.config = Some(path);
    }

    /// Stops the broker if it runs (SIGTERM) and starts it again on the same port and data.
    pub fn restart(&mut self) {
        self.stop();
        if let Err(failure) = self.spawn() {
            panic!("{failure}");
        }
    }

    /// The stderr of the current (or last) run, for failure messages.
    pub fn stderr(&self) -> String {
        let path = self.stderr_path();
        match fs::read_to_string(&path) {
            Ok(text) => format!("--- {} ---\n{text}--- end ---", path.display()),
            Err(error) => format!("(no broker stderr at {}: {error})", path.display()),
        }
    }

    /// The broker's bind error reads "binding <address>: ..." (BrokerError::Bind).
    fn failed_to_bind(&self) -> bool {
        let stderr = fs::read_to_string(self.stderr_path()).unwrap_or_default();
        stderr.contains(&format!("binding {}", self.listen))
    }

    fn stderr_path(&self) -> PathBuf {
        self.root.join(format!("broker-{}.stderr", self.runs))
    }

    /// Starts the process and waits for its ready line; the error says why it never came.
    fn spawn(&mut self) -> Result<(), String> {
        assert!(self.child.is_none(), "the broker already runs");
        self.runs += 1;
        let stderr = File::create(self.stderr_path()).expect("creating the stderr file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_pinlog"));
        command.arg("serve");
        if let Some(config) = &self.config {
            command.arg("--config").arg(config);
        }
        let mut child = command
            .arg("--data-dir")
            .arg(self.data_dir())
            .args(["--listen", &self.listen.to_string()])
            .args(["--shards", &self.shards.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("spawning pinlog");
        let ready = watch_stdout(&mut child);
        let outcome = match ready.recv_timeout(READY_TIMEOUT) {
            Ok(_line) => Ok(()),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                // stdout closed without the ready line: the process is exiting.
                let status = wait_timeout(&mut child, STOP_TIMEOUT)
                    .map_or_else(|| "still running".to_string(), |status| status.to_string());
                Err(format!(
                    "broker closed stdout before it was ready ({status})"
                ))
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                Err(format!("no ready line within {READY_TIMEOUT:?}"))
            }
        };
        match outcome {
            Ok(()) => {
                self.child = Some(child);
                Ok(())
            }
            Err(reason) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(format!("{}: {reason}", self.name))
            }
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let exited_early = self
            .child
            .as_mut()
            .and_then(|child| child.try_wait().ok().flatten());
        self.kill9();
        if std::thread::panicking() {
            eprintln!(
                "{}: test failed; kept {}\n{}",
                self.name,
                self.root.display(),
                self.stderr()
            );
            return;
        }
        if let Some(status) = exited_early {
            // A broker that died during a passing test is still a failure.
            panic!(
                "{}: the broker exited during the test ({status}); kept {}\n{}",
                self.name,
                self.root.display(),
                self.stderr()
            );
        }
        let _ = fs::remove_dir_all(&self.root);
    }
}

fn test_base_dir() -> PathBuf {
    let base = std::env::var_os("PINLOG_TEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")));
    base.join("pinlog-tools")
}

/// A port that was free a moment ago: bound, read, released.
fn free_local_port() -> SocketAddr {
    let probe = TcpListener::bind("127.0.0.1:0").expect("binding a probe socket");
    probe.local_addr().expect("the probe's address")
}

/// Reads the child's stdout on a thread: sends the ready line, then keeps draining so the
/// broker never blocks on a full pipe. The channel disconnects when stdout closes.
fn watch_stdout(child: &mut Child) -> mpsc::Receiver<String> {
    let stdout = child.stdout.take().expect("stdout is piped");
    let (ready_sender, ready) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line.starts_with(READY_PREFIX) {
                let _ = ready_sender.send(line);
            }
        }
    });
    ready
}

fn wait_timeout(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("polling the child") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs `command` with `stdin` as its input to completion, killing it after `timeout`: for
/// external tools such as kcat.
pub fn run_with_timeout(
    command: &mut Command,
    stdin: &[u8],
    timeout: Duration,
) -> std::process::Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("spawning {command:?}: {error}"));
    let mut input = child.stdin.take().expect("stdin is piped");
    let stdin = stdin.to_vec();
    // Written on a thread so that a child that stops reading cannot block the test; dropping
    // the pipe afterwards is the child's end of input.
    let writer = std::thread::spawn(move || input.write_all(&stdin));
    let stdout = read_all_on_thread(child.stdout.take().expect("stdout is piped"));
    let stderr = read_all_on_thread(child.stderr.take().expect("stderr is piped"));
    let status = match wait_timeout(&mut child, timeout) {
        Some(status) => status,
        None => {
            let _ = child.kill();
            child.wait().expect("waiting for the killed command")
        }
    };
    let _ = writer.join().expect("the stdin writer");
    std::process::Output {
        status,
        stdout: stdout.join().expect("the stdout reader"),
        stderr: stderr.join().expect("the stderr reader"),
    }
}

fn read_all_on_thread(
    mut pipe: impl std::io::Read + Send + 'static,
) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

/// True when `program` is found on PATH.
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|dir| is_executable(&dir.join(program)))
    })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}
