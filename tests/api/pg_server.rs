//! A PostgreSQL server of the test's own (`initdb` + `pg_ctl` in a temp
//! dir, on a free port), so a test can crash and restart it without
//! touching the machine's shared PostgreSQL that other tests use.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::process::Command;

use crate::cluster_support::{free_port, wait_listening};

/// Debian keeps the server binaries out of PATH, one dir per version.
fn bin(name: &str) -> PathBuf {
    let newest = std::fs::read_dir("/usr/lib/postgresql")
        .ok()
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path().join("bin").join(name)))
        .filter(|p| p.exists())
        .max();
    newest.unwrap_or_else(|| PathBuf::from(name))
}

fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// PostgreSQL refuses to run as root: as root, run its tools as `postgres`.
fn as_postgres_std(program: &Path) -> std::process::Command {
    if is_root() {
        let mut c = std::process::Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        std::process::Command::new(program)
    }
}

fn as_postgres(program: &Path) -> Command {
    let mut cmd = Command::from(as_postgres_std(program));
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

async fn run(mut cmd: Command, what: &str) {
    let out = cmd.output().await.expect(what);
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub struct PgServer {
    pub port: u16,
    dir: tempfile::TempDir,
}

impl PgServer {
    /// Creates a cluster (trust auth) and starts it.
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// Like [`start`](Self::start), with more `initdb` flags (e.g. a locale).
    pub async fn start_with(initdb_flags: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        if is_root() {
            let chown = std::process::Command::new("chown")
                .arg("postgres")
                .arg(dir.path())
                .status();
            assert!(chown.is_ok_and(|s| s.success()), "chown postgres");
        }
        let pg = Self {
            port: free_port(),
            dir,
        };
        let mut initdb = as_postgres(&bin("initdb"));
        initdb
            .args(["--auth=trust", "--username=postgres", "--no-sync"])
            .args(initdb_flags)
            .arg("-D")
            .arg(pg.data());
        run(initdb, "initdb").await;
        pg.up().await;
        pg
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn pg_ctl(&self, verb: &str) -> Command {
        let mut cmd = as_postgres(&bin("pg_ctl"));
        cmd.args([verb, "-D"]).arg(self.data());
        cmd
    }

    /// Starts the server and waits until it accepts connections.
    pub async fn up(&self) {
        let opts = format!(
            // fsync=off: the tests crash PostgreSQL, never the machine, so
            // committed data is in the page cache either way.
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let mut start = self.pg_ctl("start");
        start
            .args(["-w", "-l"])
            .arg(self.dir.path().join("log"))
            .args(["-o", &opts]);
        run(start, "pg_ctl start").await;
        wait_listening(self.port).await;
    }

    /// PostgreSQL's crash: every backend dies at once, no clean shutdown,
    /// so the next start runs crash recovery.
    pub async fn crash(&self) {
        let mut stop = self.pg_ctl("stop");
        stop.args(["-m", "immediate", "-w"]);
        run(stop, "pg_ctl stop").await;
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        // Blocking is fine here: it returns as soon as the server is gone.
        let _ = as_postgres_std(&bin("pg_ctl"))
            .args(["stop", "-m", "immediate", "-D"])
            .arg(self.data())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}
