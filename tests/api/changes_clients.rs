//! Edits, deletions, replies and reactions through the official clients:
//! socket.io-client 4.x (`tests/js/changes_client.cjs`) and python-socketio's
//! AsyncClient (`tests/py/changes_client.py`), on both stores.

use serde_json::{Value, json};

use crate::helpers::*;
use crate::py_client::python;

async fn the_js_client_edits_deletes_replies_and_reacts(backend: Backend) {
    let app = spawn_app_on(backend, |_| {}).await;
    let root = env!("CARGO_MANIFEST_DIR");
    let out = tokio::process::Command::new("node")
        .arg(format!("{root}/tests/js/changes_client.cjs"))
        .arg(format!("http://{}", app.addr))
        .arg(token("ann", None))
        .arg(token("bob", None))
        .env("NODE_PATH", format!("{root}/web/node_modules"))
        .kill_on_drop(true)
        .output()
        .await
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "node failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_str(stdout.trim()).expect("json line");
    let first = r["edit"]["id"].clone();
    assert_eq!(
        r["reply"]["reply_to"],
        json!({"id": first, "user": {"id": "ann", "name": "ann name"}, "excerpt": "first"})
    );
    assert_eq!(r["editAck"]["ok"], true);
    assert_eq!(r["edit"]["seq"], r["editAck"]["seq"]);
    assert_eq!(r["edit"]["message"], "first, edited");
    assert!(r["edit"]["edited"].is_i64());
    assert_eq!(
        r["reaction"]["reaction"],
        json!({"emoji": "👍🏽", "user": "bob", "added": true})
    );
    assert_eq!(r["reaction"]["seq"], r["reactAck"]["seq"]);
    assert!(r["unreaction"].get("reactions").is_none());
    assert_eq!(r["unreaction"]["reaction"]["added"], false);
    assert_eq!(r["forbidden"]["error"], "forbidden");
    assert_eq!(r["notEmoji"]["error"], "invalid_payload");
    assert_eq!(
        r["delete"]["deleted"]["by"], "ann",
        "the owner deletes bob's"
    );
    assert_eq!(r["delete"]["message"], "");
    let history = r["history"].as_array().expect("history");
    assert_eq!(history[0]["message"], "first, edited");
    assert_eq!(history[1]["deleted"]["by"], "ann");
}

async fn the_python_client_edits_reacts_and_deletes(backend: Backend) {
    let py = tokio::task::spawn_blocking(python).await.expect("venv");
    let app = spawn_app_on(backend, |_| {}).await;
    let out = tokio::process::Command::new(py)
        .arg(format!(
            "{}/tests/py/changes_client.py",
            env!("CARGO_MANIFEST_DIR")
        ))
        .arg(format!("http://{}", app.addr))
        .arg(token("py-user", None))
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(WAIT * 6, out)
        .await
        .expect("the python client finished")
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.trim_end().ends_with("OK"),
        "changes_client.py failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

crate::on_both_backends!(
    the_js_client_edits_deletes_replies_and_reacts,
    the_python_client_edits_reacts_and_deletes,
);
