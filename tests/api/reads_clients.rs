//! Read state through python-socketio's AsyncClient (`tests/py/reads_client.py`)
//! on both stores: three people, one on two devices; counts exact after a
//! scripted run of messages, mentions, an edit and reads; each device sees
//! the other's reads; bad reads change nothing.

use crate::helpers::*;
use crate::py_client::python;

async fn the_python_client_counts_reads_and_mentions_exactly(backend: Backend) {
    let py = tokio::task::spawn_blocking(python).await.expect("venv");
    let app = spawn_app_on(backend, |_| {}).await;
    let out = tokio::process::Command::new(py)
        .arg(format!(
            "{}/tests/py/reads_client.py",
            env!("CARGO_MANIFEST_DIR")
        ))
        .arg(format!("http://{}", app.addr))
        .arg(token("ann", None))
        .arg(token("bob", None))
        .arg(token("cid", None))
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(WAIT * 6, out)
        .await
        .expect("the python client finished")
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.trim_end().ends_with("OK"),
        "reads_client.py failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

crate::on_both_backends!(the_python_client_counts_reads_and_mentions_exactly);
