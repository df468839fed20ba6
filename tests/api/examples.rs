//! The README's "use it from your app" examples, run as they are in
//! `examples/`: the real `roomcast` binary started as the README's tour
//! starts it, the Flask and Express apps that sign tokens, the Python and
//! Node clients that take a token from them, the chat page they serve (in
//! Chromium), and the backend that posts over HTTP; each prints exactly what
//! the README says it prints.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command};

use crate::helpers::*;
use crate::pg::PgSchema;
use crate::ports::{Seen, Start, on_a_free_port, watch_log};

pub(crate) fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

/// `npm ci` in `examples/{dir}` unless its node_modules is newer than the
/// lock file (as `scripts/test-services` does), once at a time.
pub(crate) fn npm_ci(dir: &str) -> PathBuf {
    static INSTALL: Mutex<()> = Mutex::new(());
    let _one = INSTALL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = examples().join(dir);
    let modified = |p: PathBuf| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let installed = modified(dir.join("node_modules/.package-lock.json"));
    if installed.is_none() || installed < modified(dir.join("package-lock.json")) {
        let ok = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "npm ci --prefix {} failed", dir.display());
    }
    dir
}

/// The Python of the tests' virtualenv (Flask, PyJWT, python-socketio).
pub(crate) async fn python() -> PathBuf {
    tokio::task::spawn_blocking(crate::py_client::python)
        .await
        .expect("venv")
}

/// What a finished program printed.
pub(crate) struct Output {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

pub(crate) async fn run(cmd: &mut Command) -> Output {
    let out = cmd.stdin(Stdio::null()).kill_on_drop(true).output();
    let out = tokio::time::timeout(WAIT * 3, out)
        .await
        .expect("the example finished in time")
        .expect("run the example");
    Output {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// roomcast as the README's tour runs it: `roomcast serve` in a directory of
/// its own, the secret in `ROOMCAST_JWT_SECRET` (which the apps read too).
pub(crate) struct Roomcast {
    pub url: String,
    _child: Child,
    _dir: tempfile::TempDir,
    _schema: Option<PgSchema>,
}

pub(crate) async fn roomcast(backend: Backend, allowed_origin: Option<&str>) -> Roomcast {
    let dir = tempfile::tempdir().expect("dir");
    let schema = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(PgSchema::create().await),
    };
    let mut cmd = roomcast_command();
    cmd.current_dir(dir.path())
        .env("ROOMCAST_JWT_SECRET", SECRET)
        .args(["serve", "--listen", "127.0.0.1:0"]);
    if let Some(origin) = allowed_origin {
        cmd.args(["--allowed-origins", origin]);
    }
    if let Some(s) = &schema {
        cmd.env("ROOMCAST_DATABASE", &s.url);
    }
    let (child, addr) = start_roomcast(&mut cmd).await;
    Roomcast {
        url: format!("http://{addr}"),
        _child: child,
        _dir: dir,
        _schema: schema,
    }
}

impl Roomcast {
    /// `roomcast ARGS` on this server's database, as run beside it.
    pub(crate) fn command(&self) -> Command {
        let mut cmd = roomcast_command();
        cmd.current_dir(self._dir.path())
            .env("ROOMCAST_JWT_SECRET", SECRET)
            .stderr(Stdio::piped());
        if let Some(s) = &self._schema {
            cmd.env("ROOMCAST_DATABASE", &s.url);
        }
        cmd
    }
}

#[derive(Clone, Copy)]
pub(crate) enum App {
    Flask,
    Express,
}

/// An example app and the roomcast it signs tokens for (whose
/// `--allowed-origins` names the app's page, so both start per port).
pub(crate) struct Stack {
    pub roomcast: Roomcast,
    pub app_url: String,
    /// The app's first line on stdout.
    pub printed: String,
    _app: Child,
}

pub(crate) async fn stack(app: App, backend: Backend) -> Stack {
    let program = match app {
        App::Flask => {
            let py = python().await;
            let mut cmd = Command::new(py);
            cmd.arg(examples().join("flask/app.py"));
            cmd
        }
        App::Express => {
            let dir = tokio::task::spawn_blocking(|| npm_ci("express"))
                .await
                .expect("npm ci");
            let mut cmd = Command::new("node");
            cmd.arg(dir.join("app.js"));
            cmd
        }
    };
    let program = Arc::new(Mutex::new(program));
    on_a_free_port("example app", async |port| {
        let origin = format!("http://127.0.0.1:{port}");
        let roomcast = roomcast(backend, Some(&origin)).await;
        let mut child = {
            let mut cmd = program.lock().expect("command");
            cmd.env("ROOMCAST_JWT_SECRET", SECRET)
                .env("ROOMCAST_URL", &roomcast.url)
                .env("PORT", port.to_string())
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .expect("start the example app")
        };
        // Its stderr (a busy port's error, request logs) is kept, never left to fill a pipe.
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err = child.stderr.take().expect("stderr");
        let keep = stderr.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = err.read(&mut buf).await {
                let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                keep.lock().expect("stderr").push_str(&text);
            }
        });
        let stdout = child.stdout.take().expect("stdout");
        let (seen, lines) = watch_log(stdout, |l| {
            l.starts_with("chat page on ").then_some(Seen::Ready)
        })
        .await;
        match seen {
            Some(Seen::Ready) => Start::Up(Stack {
                roomcast,
                app_url: origin,
                printed: lines.last().cloned().unwrap_or_default(),
                _app: child,
            }),
            _ => {
                let _ = tokio::time::timeout(WAIT, child.wait()).await;
                let said = stderr.lock().expect("stderr").clone();
                if said.contains("Address already in use") || said.contains("EADDRINUSE") {
                    return Start::Taken;
                }
                panic!("the example app did not start: {lines:?}\n{said}");
            }
        }
    })
    .await
}

/// `examples/clients/client.py APP NAME TEXT`, as the README runs it.
pub(crate) async fn python_client(app_url: &str, name: &str, text: &str) -> Output {
    run(Command::new(python().await)
        .arg(examples().join("clients/client.py"))
        .args([app_url, name, text]))
    .await
}

/// `node examples/clients/client.js APP NAME TEXT`, after `npm ci` there.
async fn js_client(app_url: &str, name: &str, text: &str) -> Output {
    let dir = tokio::task::spawn_blocking(|| npm_ci("clients"))
        .await
        .expect("npm ci");
    run(Command::new("node")
        .arg(dir.join("client.js"))
        .args([app_url, name, text]))
    .await
}

/// The app says where its page is; the Python and the Node client, given a
/// token by it, each print the join and their own chat coming back; a name
/// the app will not sign for is refused by the app.
async fn the_app_signs_tokens_for_both_clients(app: App, backend: Backend) {
    let s = stack(app, backend).await;
    assert_eq!(
        s.printed,
        format!(
            "chat page on {} (roomcast at {})",
            s.app_url, s.roomcast.url
        )
    );
    let py = python_client(&s.app_url, "Ann", "hello from Python").await;
    assert!(py.ok, "client.py failed:\n{}{}", py.stdout, py.stderr);
    assert_eq!(py.stdout, "joined general\nAnn: hello from Python\n");
    let js = js_client(&s.app_url, "Bob", "hello from Node").await;
    assert!(js.ok, "client.js failed:\n{}{}", js.stdout, js.stderr);
    assert_eq!(js.stdout, "joined general\nBob: hello from Node\n");

    // Both chats are stored under the app's user ids and shown names.
    let history = reqwest::Client::new()
        .get(format!("{}/api/rooms/general/messages", s.roomcast.url))
        .bearer_auth(token("reader", None))
        .send()
        .await
        .expect("history")
        .json::<serde_json::Value>()
        .await
        .expect("json");
    let prefix = match app {
        App::Flask => "flask",
        App::Express => "express",
    };
    let shown: Vec<(String, String, String)> = history["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| {
            let field = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
            (
                field(&m["user"]["id"]),
                field(&m["user"]["name"]),
                field(&m["message"]),
            )
        })
        .collect();
    let row =
        |id: &str, name: &str, text: &str| (format!("{prefix}:{id}"), name.into(), text.into());
    assert_eq!(
        shown,
        vec![
            row("ann", "Ann", "hello from Python"),
            row("bob", "Bob", "hello from Node")
        ]
    );

    let refused = python_client(&s.app_url, "<script>", "x").await;
    assert!(
        !refused.ok && refused.stdout.is_empty(),
        "{}",
        refused.stdout
    );
    assert!(refused.stderr.contains("400"), "{}", refused.stderr);
}

async fn the_flask_example_signs_tokens_for_the_python_and_js_clients(backend: Backend) {
    the_app_signs_tokens_for_both_clients(App::Flask, backend).await;
}

async fn the_express_example_signs_tokens_for_the_python_and_js_clients(backend: Backend) {
    the_app_signs_tokens_for_both_clients(App::Express, backend).await;
}

crate::on_both_backends!(
    the_flask_example_signs_tokens_for_the_python_and_js_clients,
    the_express_example_signs_tokens_for_the_python_and_js_clients,
);

/// The README shows each example file whole, exactly as the tests run it.
#[test]
fn the_readme_shows_each_example_file_as_it_is() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    for (file, lang) in [
        ("flask/app.py", "python"),
        ("express/app.js", "js"),
        ("clients/client.py", "python"),
        ("clients/client.js", "js"),
        ("backend_post.py", "python"),
        ("webhooks/receiver.py", "python"),
        ("webhooks/receiver.js", "js"),
    ] {
        let text = std::fs::read_to_string(examples().join(file)).expect("example");
        let block = format!("```{lang}\n{}\n```\n", text.trim_end());
        assert!(
            readme.contains(&block),
            "README.md does not show examples/{file} as it is (copy the file into its code block)"
        );
    }
}
