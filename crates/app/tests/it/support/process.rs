//! The real `leadrouter` binary as a child process: for the command line, signals, exit
//! codes and the log stream exactly as an operator sees them.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub fn binary() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_leadrouter"));
    cmd.env_clear();
    // On PostgreSQL without a secret key the binary refuses to start unless told; these
    // tests look at other things (the secret key has tests of its own).
    cmd.env("LEADROUTER_ALLOW_CLEARTEXT_SECRETS", "1");
    if let Ok(path) = std::env::var("PATH") {
        cmd.env("PATH", path);
    }
    cmd
}

/// Runs a command to completion with the given environment.
pub fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = binary();
    cmd.args(args).envs(env.iter().copied());
    cmd.output().expect("run leadrouter")
}

/// `leadrouter serve` running in the background, its stderr collected line by line.
pub struct Server {
    child: Child,
    pub base: String,
    log: Arc<Mutex<Vec<String>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Starts `serve` on an ephemeral port and waits (up to 60 s) until it says it listens.
    pub fn start(env: &[(&str, &str)], dir: &std::path::Path) -> Server {
        let mut cmd = binary();
        cmd.arg("serve")
            .env("PORT", "0")
            .env("LEADROUTER_BIND", "127.0.0.1")
            .envs(env.iter().copied())
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn leadrouter serve");
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let sink = Arc::clone(&log);
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("leadrouter listening") {
                    let addr = line
                        .split_whitespace()
                        .find_map(|w| w.strip_prefix("addr="))
                        .map(str::to_owned);
                    let _ = tx.send(addr);
                }
                sink.lock().unwrap().push(line);
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .ok()
            .flatten()
            .unwrap_or_else(|| {
                let _ = child.kill();
                panic!(
                    "server did not start; log:\n{}",
                    log.lock().unwrap().join("\n")
                )
            });
        Server {
            child,
            base: format!("http://{addr}"),
            log,
            reader: Some(reader),
        }
    }

    /// Kills the process outright (SIGKILL): no shutdown, no flushing; a crash.
    pub fn kill(&mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("wait");
    }

    /// Sends SIGTERM and waits for the exit; returns the exit code and the whole log.
    pub fn terminate(mut self) -> (Option<i32>, String) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        assert!(status.success());
        let exit = self.child.wait().expect("wait for server");
        if let Some(r) = self.reader.take() {
            r.join().unwrap();
        }
        let log = self.log.lock().unwrap().join("\n");
        (exit.code(), log)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
