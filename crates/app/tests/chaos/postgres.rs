//! A PostgreSQL server of the test's own, which it may stop and start: the shared test
//! server cannot be taken down under the other tests. Made with the installed server's
//! `initdb` and `pg_ctl` (as the `postgres` user when the tests run as root), on a free
//! port, in a directory deleted afterwards.

use std::path::PathBuf;
use std::process::Command;

pub struct OwnPostgres {
    bindir: PathBuf,
    dir: tempfile::TempDir,
    pub port: u16,
}

/// The newest installed server's binaries.
fn bindir() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| Some(e.ok()?.path().join("bin")))
        .filter(|d| d.join("initdb").exists() && d.join("pg_ctl").exists())
        .collect();
    dirs.sort_by_key(|d| {
        d.parent()
            .and_then(|v| v.file_name()?.to_str()?.parse::<u32>().ok())
            .unwrap_or(0)
    });
    dirs.pop()
}

fn as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

impl OwnPostgres {
    /// A fresh server, started; `None` where no PostgreSQL is installed (said on stderr,
    /// and a failure under `LEADROUTER_TEST_REQUIRE_POSTGRES=1`).
    pub fn start() -> Option<OwnPostgres> {
        let Some(bindir) = bindir() else {
            assert!(
                std::env::var("LEADROUTER_TEST_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "no PostgreSQL server binaries under /usr/lib/postgresql, but LEADROUTER_TEST_REQUIRE_POSTGRES=1"
            );
            eprintln!("SKIPPED: no PostgreSQL server binaries under /usr/lib/postgresql");
            return None;
        };
        let dir = tempfile::Builder::new()
            .prefix("leadrouter-chaos-pg")
            .tempdir()
            .expect("temp dir");
        if as_root() {
            let ok = Command::new("chown")
                .args(["postgres"])
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(ok.success(), "chown postgres {}", dir.path().display());
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let pg = OwnPostgres { bindir, dir, port };
        pg.run(
            "initdb",
            &[
                "-D",
                &pg.data(),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        pg.up();
        Some(pg)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let exe = self.bindir.join(tool);
        let mut cmd = if as_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        let out = cmd.args(args).output().expect("run a PostgreSQL tool");
        assert!(
            out.status.success(),
            "{tool} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts the server and waits until it takes connections (fsync on: a real server).
    pub fn up(&self) {
        let log = self.dir.path().join("server.log").display().to_string();
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200",
            self.port,
            self.dir.path().display()
        );
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-l",
                &log,
                "-w",
                "-t",
                "60",
                "-o",
                &options,
                "start",
            ],
        );
    }

    /// Stops the server at once, as a crash would (`-m immediate`: no checkpoint, every
    /// connection cut; the next start recovers from the log).
    pub fn crash(&self) {
        self.run(
            "pg_ctl",
            &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
        );
    }

    /// The admin URL (`postgres` database).
    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let exe = self.bindir.join("pg_ctl");
        let data = self.data();
        let args = ["-D", data.as_str(), "-m", "immediate", "stop"];
        let _ = if as_root() {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&exe)
                .args(args)
                .output()
        } else {
            Command::new(&exe).args(args).output()
        };
    }
}
