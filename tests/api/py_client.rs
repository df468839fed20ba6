//! The Python clients (python-socketio's `Client` and its `AsyncClient`) against the real server.

use std::path::PathBuf;
use std::process::Command;

use crate::helpers::*;

/// A virtualenv under target/ with the pinned requirements, made on first use
/// so that `cargo test` alone works on a fresh machine, and remade when the
/// requirements change (the marker holds the text it was installed from).
pub(crate) fn python() -> PathBuf {
    // Both tests ask at once; one installs while the other waits.
    static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = INSTALL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let root = env!("CARGO_MANIFEST_DIR");
    let venv = PathBuf::from(root).join("target/py-venv");
    let py = venv.join("bin/python");
    let ready = venv.join(".installed");
    let requirements = format!("{root}/tests/py/requirements.txt");
    let wanted = std::fs::read(&requirements).expect("tests/py/requirements.txt");
    if std::fs::read(&ready).ok().as_ref() != Some(&wanted) {
        if !py.exists() {
            let ok = Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "python3 -m venv failed");
        }
        let ok = Command::new(&py)
            .args(["-m", "pip", "install", "-q", "-r"])
            .arg(&requirements)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "pip install -r tests/py/requirements.txt failed");
        std::fs::write(&ready, &wanted).expect("mark venv ready");
    }
    py
}

/// Runs `tests/py/{script}` against a new server as `user`; returns its
/// stdout after checking it exited 0 and ended with `OK`.
pub(crate) async fn run_python(script: &str, user: &str) -> String {
    let py = tokio::task::spawn_blocking(python).await.expect("venv");
    let app = spawn_app().await;
    let out = tokio::process::Command::new(py)
        .arg(format!("{}/tests/py/{script}", env!("CARGO_MANIFEST_DIR")))
        .arg(format!("http://{}", app.addr))
        .arg(token(user, None))
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(WAIT * 6, out)
        .await
        .expect("the python client finished")
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{script} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.trim_end().ends_with("OK"), "{stdout}");
    stdout
}

#[tokio::test]
async fn the_python_sync_client_joins_chats_and_gets_its_broadcast() {
    let stdout = run_python("sync_client.py", "py-user").await;
    assert!(
        stdout.contains("py-user name: hello from Python"),
        "{stdout}"
    );
}

#[tokio::test]
async fn the_python_asyncio_client_joins_chats_with_an_ack_and_gets_the_broadcast() {
    let stdout = run_python("async_client.py", "py-async").await;
    assert!(
        stdout.contains("py-async name: hello from asyncio"),
        "{stdout}"
    );
}
