//! The Python client (python-socketio, as the README shows it) against the real server.

use std::path::PathBuf;
use std::process::Command;

use crate::helpers::*;

/// A virtualenv under target/ with the pinned python-socketio, made on first use
/// so that `cargo test` alone works on a fresh machine.
fn python() -> PathBuf {
    let root = env!("CARGO_MANIFEST_DIR");
    let venv = PathBuf::from(root).join("target/py-venv");
    let py = venv.join("bin/python");
    let ready = venv.join(".installed");
    if !ready.exists() {
        let ok = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "python3 -m venv failed");
        let ok = Command::new(&py)
            .args(["-m", "pip", "install", "-q", "-r"])
            .arg(format!("{root}/tests/py/requirements.txt"))
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "pip install python-socketio failed");
        std::fs::write(&ready, b"").expect("mark venv ready");
    }
    py
}

#[tokio::test]
async fn the_readme_python_example_works() {
    let py = tokio::task::spawn_blocking(python).await.expect("venv");
    let app = spawn_app().await;
    let out = tokio::process::Command::new(py)
        .arg(format!(
            "{}/tests/py/example_client.py",
            env!("CARGO_MANIFEST_DIR")
        ))
        .arg(format!("http://{}", app.addr))
        .arg(token("py-user", None))
        .output()
        .await
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "python client failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("py-user name: hello from Python"),
        "{stdout}"
    );
    assert!(stdout.trim_end().ends_with("OK"), "{stdout}");
}
