//! A PostgreSQL server of the test's own (`initdb` + `pg_ctl` in a temp
//! dir, on a port of its own), so a test can crash and restart it without
//! touching the machine's shared PostgreSQL that other tests use.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::process::Command;

use crate::ports::{Start, on_a_free_port};

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

/// The server log, which each start appends to.
fn read_log(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("log")).unwrap_or_default()
}

/// `pg_ctl start -w` on `port`: `Up` once the server accepts connections
/// (`-w` waits for that), `Taken` when the log of this start says the port
/// was in use.
async fn start_on(dir: &Path, port: u16) -> Start<()> {
    let opts = format!(
        // fsync=off: the tests crash PostgreSQL, never the machine, so
        // committed data is in the page cache either way.
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
        dir.display()
    );
    let before = read_log(dir).len();
    let mut start = as_postgres(&bin("pg_ctl"));
    start
        .args(["start", "-D"])
        .arg(dir.join("data"))
        .args(["-w", "-l"])
        .arg(dir.join("log"))
        .args(["-o", &opts]);
    let out = start.output().await.expect("pg_ctl start");
    if out.status.success() {
        return Start::Up(());
    }
    let log = read_log(dir);
    let this_start = log.get(before..).unwrap_or(&log);
    if this_start.contains("Address already in use") {
        return Start::Taken;
    }
    panic!(
        "pg_ctl start failed: {}\n{this_start}",
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
        let mut pg = Self { port: 0, dir };
        let mut initdb = as_postgres(&bin("initdb"));
        initdb
            .args(["--auth=trust", "--username=postgres", "--no-sync"])
            .args(initdb_flags)
            .arg("-D")
            .arg(pg.data());
        run(initdb, "initdb").await;
        let dir = pg.dir.path().to_owned();
        pg.port = on_a_free_port("PostgreSQL", async |port| {
            start_on(&dir, port).await.map_up(|()| port)
        })
        .await;
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

    /// Starts the server again (after [`crash`](Self::crash)) on its
    /// port: clients know only that one.
    pub async fn up(&self) {
        if let Start::Taken = start_on(self.dir.path(), self.port).await {
            panic!("port {} was taken while PostgreSQL was down", self.port);
        }
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

/// A port that some other process holds is reported taken: the log of that
/// start says so.
#[tokio::test]
async fn postgres_on_a_port_someone_holds_reports_it_taken() {
    let pg = PgServer::start().await;
    pg.crash().await;
    let holder = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = holder.local_addr().expect("addr").port();
    assert!(matches!(start_on(pg.dir.path(), port).await, Start::Taken));
}
