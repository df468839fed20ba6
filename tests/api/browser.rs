//! The web pages in a real browser: `tests/browser/chat.cjs` drives Chromium
//! (playwright-core) against the real binary, and this test restarts that
//! binary when the script asks, then checks the pages against the database.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

use crate::helpers::*;

const CHROMIUM: &str = "/usr/bin/chromium";
/// The whole browser scenario, restart included.
const SCENARIO: Duration = Duration::from_secs(300);

/// The real `roomcast` binary on `listen`; returns once it is accepting.
async fn start_server(db: &Path, listen: &str) -> (Child, String) {
    start_roomcast(
        roomcast_command()
            .args(["serve", "--listen", listen, "--jwt-secret", SECRET])
            // The scenario posts 120 messages at once to have history to scroll.
            .args(["--message-rate", "1000", "--message-burst", "1000"])
            .arg("--database")
            .arg(format!("sqlite://{}", db.display())),
    )
    .await
}

async fn stop(server: &mut Child) {
    server.start_kill().expect("kill -9");
    server.wait().await.expect("reaped");
}

/// Posted while the pages are cut off. More than the 50 a plain `join`
/// returns, so a page that did not ask for everything after its last id
/// (`join {since}`) would show a gap.
const CAUGHT_UP: usize = 60;

/// While the pages are cut off: a second server on the same database
/// stores messages they can only get by catching up.
async fn post_while_away(db: &Path) {
    let (mut server, addr) = start_server(db, "127.0.0.1:0").await;
    let http = reqwest::Client::new();
    let carol = token("carol", None);
    for i in 1..=CAUGHT_UP {
        let r = http
            .post(format!("http://{addr}/api/rooms/design/messages"))
            .bearer_auth(&carol)
            .json(&json!({"message": format!("while you were away {i}")}))
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 201);
    }
    stop(&mut server).await;
}

/// The ids the database holds for `room`, oldest first.
async fn stored_ids(addr: &str, room: &str) -> Vec<i64> {
    let r = reqwest::Client::new()
        .get(format!("http://{addr}/api/rooms/{room}/messages?limit=100"))
        .bearer_auth(token("auditor", None))
        .send()
        .await
        .expect("history");
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["more"], false, "the room fits one page");
    let messages = body["messages"].as_array().expect("messages");
    messages.iter().filter_map(|m| m["id"].as_i64()).collect()
}

#[tokio::test]
async fn two_people_chat_in_chromium_and_survive_a_restart() {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: `apt-get install chromium` (.ci/run does)"
    );
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("browser.db");
    // Port 0, and the restart takes the port the first server printed: the
    // pages reconnect to that URL.
    let (mut server, addr) = start_server(&db, "127.0.0.1:0").await;
    let listen = addr.clone();

    let root = env!("CARGO_MANIFEST_DIR");
    let mut node = Command::new("node")
        .arg(format!("{root}/tests/browser/chat.cjs"))
        .arg(format!("http://{addr}"))
        .arg(format!("{root}/target/screenshots"))
        .env("NODE_PATH", format!("{root}/web/node_modules"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("run node (Node.js is needed for the tests)");
    let mut to_node = node.stdin.take().expect("stdin");
    let mut lines = BufReader::new(node.stdout.take().expect("stdout")).lines();
    let mut stderr = node.stderr.take().expect("stderr");
    let errors = tokio::spawn(async move {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s).await;
        s
    });

    let mut result = None;
    let scenario = async {
        while let Some(line) = lines.next_line().await.expect("read node") {
            match line.as_str() {
                "KILL" => {
                    stop(&mut server).await;
                    to_node.write_all(b"KILLED\n").await.expect("tell node");
                }
                "DOWN" => {
                    post_while_away(&db).await;
                    server = start_server(&db, &listen).await.0;
                    to_node.write_all(b"RESTARTED\n").await.expect("tell node");
                }
                other => match other.strip_prefix("RESULT ") {
                    Some(json) => result = Some(serde_json::from_str::<Value>(json).expect("json")),
                    None => println!("node: {other}"),
                },
            }
        }
    };
    let finished = tokio::time::timeout(SCENARIO, scenario).await;
    if finished.is_err() {
        let _ = node.start_kill();
    }
    let status = node.wait().await.expect("node exit");
    let errors = errors.await.expect("stderr");
    assert!(finished.is_ok(), "browser scenario timed out\n{errors}");
    assert!(status.success(), "browser scenario failed:\n{errors}");

    let result = result.expect("the script reports what the pages show");
    assert_eq!(
        result["problems"],
        json!([]),
        "CSP violations, script errors or dialogs"
    );
    let stored = stored_ids(&addr, "design").await;
    assert!(
        stored.len() >= 20,
        "the conversation was stored: {stored:?}"
    );
    for who in ["ann", "bob"] {
        let shown: Vec<i64> = serde_json::from_value(result[who].clone()).expect("ids");
        assert_eq!(
            shown, stored,
            "{who}'s page shows every message once, in order"
        );
    }
    stop(&mut server).await;
}

#[tokio::test]
async fn signing_in_with_a_hostile_next_stays_on_this_origin() {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: `apt-get install chromium` (.ci/run does)"
    );
    let dir = tempfile::tempdir().expect("dir");
    let (mut server, addr) = start_server(&dir.path().join("redirect.db"), "127.0.0.1:0").await;
    let root = env!("CARGO_MANIFEST_DIR");
    let run = Command::new("node")
        .arg(format!("{root}/tests/browser/redirect.cjs"))
        .arg(format!("http://{addr}"))
        .env("NODE_PATH", format!("{root}/web/node_modules"))
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(SCENARIO, run)
        .await
        .expect("the redirect scenario finished in time")
        .expect("run node (Node.js is needed for the tests)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "redirect scenario failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: Value = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .map(|j| serde_json::from_str(j).expect("json"))
        .expect("the script reports where each sign-in landed");
    assert_eq!(result["problems"], json!([]), "script errors or dialogs");
    let results = result["results"].as_array().expect("results");
    assert_eq!(results.len(), 9);
    for r in results {
        assert_eq!(r["left"], json!([]), "requests to another host: {r}");
        let landed = r["landed"].as_str().expect("landed");
        let want = match r["next"].as_str() {
            // Resolves to this server's own path `//evil.example/d`.
            Some("/.//evil.example/d") => format!("http://{addr}//evil.example/d"),
            _ => format!("http://{addr}/"),
        };
        assert_eq!(landed, want, "{r}");
    }
    stop(&mut server).await;
}

/// The Socket.IO Admin UI in Chromium (`tests/browser/admin.cjs`): refused
/// to a non-admin; the admin sees the sockets and rooms opened here, and a
/// disconnect clicked on the sockets page ends that socket.
#[tokio::test]
async fn the_admin_ui_counts_sockets_and_disconnects_one_in_chromium() {
    use crate::admin::cli_on;
    use crate::admin_ui::Chat;
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: `apt-get install chromium` (.ci/run does)"
    );
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("admin.db");
    let (mut server, addr) = start_roomcast(
        roomcast_command()
            .args(["serve", "--listen", "127.0.0.1:0", "--jwt-secret", SECRET])
            .args(["--admin-ui-mode", "development"])
            .arg("--database")
            .arg(format!("sqlite://{}", db.display())),
    )
    .await;
    let database = format!("sqlite://{}", db.display());
    let out = cli_on(
        &database,
        &["user", "add", "--admin", "root"],
        "admin password\n",
    )
    .await;
    assert!(out.ok, "{}", out.stderr);
    let out = cli_on(&database, &["user", "add", "ann"], "correct horse\n").await;
    assert!(out.ok, "{}", out.stderr);

    // Three sockets in two rooms.
    let mut chats = Vec::new();
    for (sub, room) in [("u1", "design"), ("u2", "design"), ("u3", "ops")] {
        let mut c = Chat::connect(&addr, sub).await;
        c.join(room, 1).await;
        chats.push(c);
    }
    let sids: Vec<String> = chats.iter().map(|c| c.sid.clone()).collect();
    let victim = sids[1].clone();

    let root = env!("CARGO_MANIFEST_DIR");
    let shots = format!("{root}/target/screenshots");
    std::fs::create_dir_all(&shots).expect("screenshot dir");
    let mut node = Command::new("node")
        .arg(format!("{root}/tests/browser/admin.cjs"))
        .arg(format!("http://{addr}"))
        .arg(&shots)
        .arg(sids.join(","))
        .arg("design,ops")
        .arg(&victim)
        .env("NODE_PATH", format!("{root}/web/node_modules"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("run node (Node.js is needed for the tests)");
    let mut to_node = node.stdin.take().expect("stdin");
    let mut lines = BufReader::new(node.stdout.take().expect("stdout")).lines();
    let mut stderr = node.stderr.take().expect("stderr");
    let errors = tokio::spawn(async move {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s).await;
        s
    });
    let mut result = None;
    let mut ended = None;
    let scenario = async {
        while let Some(line) = lines.next_line().await.expect("read node") {
            if line == "DISCONNECT_CLICKED" {
                // The click's effect, seen by the client itself.
                ended = Some(chats[1].ended().await);
                to_node.write_all(b"ENDED\n").await.expect("tell node");
            } else if let Some(json) = line.strip_prefix("RESULT ") {
                result = Some(serde_json::from_str::<Value>(json).expect("json"));
            } else {
                println!("node: {line}");
            }
        }
    };
    let finished = tokio::time::timeout(SCENARIO, scenario).await;
    if finished.is_err() {
        let _ = node.start_kill();
    }
    let status = node.wait().await.expect("node exit");
    let errors = errors.await.expect("stderr");
    assert!(finished.is_ok(), "admin ui scenario timed out\n{errors}");
    assert!(status.success(), "admin ui scenario failed:\n{errors}");
    let result = result.expect("the script reports what the dashboard shows");
    assert_eq!(
        result["problems"],
        json!([]),
        "CSP violations, script errors or dialogs"
    );
    assert_eq!(result["refused"], true);
    assert_eq!(result["sockets"], 3, "{result}");
    assert_eq!(result["rooms"], 2, "{result}");
    assert_eq!(result["servers"], 1, "{result}");
    assert_eq!(
        ended,
        Some(true),
        "the disconnected client saw its socket end"
    );
    assert_eq!(result["socketsAfter"], 2, "{result}");
    assert_eq!(result["victimShown"], 0, "{result}");
    // The others are still served.
    for i in [0, 2] {
        let frame = format!("4277{}", json!(["rooms", {}]));
        let v = roomcast::wire_client::ws::call(&mut chats[i].ws, &frame, 77, WAIT)
            .await
            .expect("still connected");
        assert_eq!(v["ok"], true);
    }
    stop(&mut server).await;
}

#[tokio::test]
async fn a_moderator_mutes_and_bans_in_chromium() {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: `apt-get install chromium` (.ci/run does)"
    );
    let dir = tempfile::tempdir().expect("dir");
    let (mut server, addr) = start_server(&dir.path().join("moderation.db"), "127.0.0.1:0").await;
    let root = env!("CARGO_MANIFEST_DIR");
    let run = Command::new("node")
        .arg(format!("{root}/tests/browser/moderation.cjs"))
        .arg(format!("http://{addr}"))
        .arg(format!("{root}/target/screenshots"))
        .env("NODE_PATH", format!("{root}/web/node_modules"))
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(SCENARIO, run)
        .await
        .expect("the moderation scenario finished in time")
        .expect("run node (Node.js is needed for the tests)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "moderation scenario failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: Value = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .map(|j| serde_json::from_str(j).expect("json"))
        .expect("the script reports what the pages showed");
    assert_eq!(
        result["problems"],
        json!([]),
        "CSP violations, script errors or dialogs"
    );
    assert!(
        result["state"]
            .as_str()
            .is_some_and(|s| s.starts_with("You are muted until")),
        "{result}"
    );
    stop(&mut server).await;
}

/// A big room in the web chat: `presence` batches keep the online list
/// right and a partly named list says how many more (tests/browser/crowd.cjs).
#[tokio::test]
async fn a_big_rooms_online_list_follows_presence_batches() {
    let app = spawn_app_with(|s| {
        s.presence_batch_above = 1;
        s.online_names = 2;
    })
    .await;
    crate::browser_changes::run_page_script(&app, "crowd.cjs").await;
}
