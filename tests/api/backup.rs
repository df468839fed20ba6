//! `roomcast backup FILE`: a consistent copy of a live SQLite database that
//! a server can be started on.

use std::sync::{Arc, Mutex};

use sqlx::Connection;

use crate::admin::cli_on;
use crate::helpers::*;

/// The ids of room `r` in the SQLite file at `path`, in order.
async fn ids_in(path: &std::path::Path) -> Vec<i64> {
    let url = format!("sqlite://{}?mode=ro", path.display());
    let mut conn = sqlx::SqliteConnection::connect(&url)
        .await
        .expect("open copy");
    sqlx::query_scalar("SELECT id FROM messages WHERE room = 'r' ORDER BY id")
        .fetch_all(&mut conn)
        .await
        .expect("ids")
}

/// The ids of room `r`'s latest page as the server at `addr` serves it to ann.
async fn served_ids(addr: &str, query: &str) -> Vec<i64> {
    let page: serde_json::Value = reqwest::Client::new()
        .get(format!("http://{addr}/api/rooms/r/messages{query}"))
        .bearer_auth(token("ann", None))
        .send()
        .await
        .expect("history")
        .json()
        .await
        .expect("json");
    page["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["id"].as_i64().expect("id"))
        .collect()
}

#[tokio::test]
async fn a_backup_taken_during_chats_holds_every_acked_one_and_serves_its_history() {
    let app = spawn_app().await;
    let mut ann = app.client("ann").await;
    ann.join("r").await;
    let acked = Arc::new(Mutex::new(Vec::new()));
    let sender = {
        let acked = acked.clone();
        tokio::spawn(async move {
            for i in 0..1000 {
                let ack = ann.chat("r", &format!("m{i}")).await;
                let id = ack["id"].as_i64().expect("id");
                acked.lock().expect("acked").push(id);
            }
            ann
        })
    };
    // Once some chats are in, and while the rest are being sent.
    tokio::time::timeout(WAIT, async {
        while acked.lock().expect("acked").len() < 200 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("200 chats acked");
    let before: Vec<i64> = acked.lock().expect("acked").clone();
    let dir = tempfile::tempdir().expect("dir");
    let copy = dir.path().join("copy.db");
    let copy_arg = copy.display().to_string();
    let out = cli_on(&app.database_url(), &["backup", &copy_arg], "").await;
    assert!(out.ok, "backup failed: {}", out.stderr);
    assert!(out.stdout.contains(&copy_arg), "{}", out.stdout);
    let sender_still_busy = acked.lock().expect("acked").len() < 1000;
    sender.await.expect("sender").close().await;

    let original = ids_in(&app.db_path).await;
    assert_eq!(original.len(), 1000);
    let backed_up = ids_in(&copy).await;
    assert_eq!(
        backed_up[..],
        original[..backed_up.len()],
        "the copy is a prefix of the history"
    );
    for id in &before {
        assert!(
            backed_up.contains(id),
            "chat {id}, acked before the backup, is missing"
        );
    }
    eprintln!(
        "backup held {} of 1000 chats ({} acked when it began; sender still busy after: {sender_still_busy})",
        backed_up.len(),
        before.len()
    );

    // Restoring is starting a server on the copy: it serves the same history.
    let (mut server, addr) = start_roomcast(
        roomcast_command()
            .args(["serve", "--listen", "127.0.0.1:0", "--jwt-secret", SECRET])
            .arg("--database")
            .arg(format!("sqlite://{}", copy.display())),
    )
    .await;
    let served = served_ids(&addr, "?limit=100").await;
    let tail = &backed_up[backed_up.len().saturating_sub(100)..];
    assert_eq!(served, tail, "the restored server's latest page");
    sigterm(&server);
    let _ = server.wait().await;
}

#[tokio::test]
async fn backup_never_overwrites_and_names_what_it_cannot_copy() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().expect("dir");
    let taken = dir.path().join("taken.db");
    std::fs::write(&taken, b"keep me").expect("write");
    let out = cli_on(
        &app.database_url(),
        &["backup", &taken.display().to_string()],
        "",
    )
    .await;
    assert!(!out.ok);
    assert!(out.stderr.contains("already exists"), "{}", out.stderr);
    assert_eq!(std::fs::read(&taken).expect("read"), b"keep me");

    let missing = format!("sqlite://{}", dir.path().join("nowhere.db").display());
    let copy = dir.path().join("copy.db").display().to_string();
    let out = cli_on(&missing, &["backup", &copy], "").await;
    assert!(!out.ok);
    assert!(out.stderr.contains("no database at"), "{}", out.stderr);
    assert!(!dir.path().join("nowhere.db").exists(), "nothing created");

    let out = cli_on(
        "postgres://postgres@127.0.0.1:5432/test",
        &["backup", &copy],
        "",
    )
    .await;
    assert!(!out.ok);
    assert!(out.stderr.contains("pg_dump"), "{}", out.stderr);
    assert!(!dir.path().join("copy.db").exists());
}

/// The route the README gives for PostgreSQL: `pg_dump`, `pg_restore` into
/// an empty database, and a server started there serves the same history.
/// (The tests keep each server in a schema of its own, hence `--schema`.)
#[tokio::test]
async fn a_postgres_dump_restored_elsewhere_serves_the_same_history() {
    let app = spawn_app_on(Backend::Postgres, |_| {}).await;
    let mut ann = app.client("ann").await;
    ann.join("r").await;
    let mut sent = Vec::new();
    for i in 0..20 {
        sent.push(
            ann.chat("r", &format!("m{i}")).await["id"]
                .as_i64()
                .expect("id"),
        );
    }
    let url = app.database_url();
    let schema = url
        .rsplit("search_path]=")
        .next()
        .expect("schema")
        .to_owned();
    let dir = tempfile::tempdir().expect("dir");
    let dump = dir.path().join("dump");
    let status = tokio::process::Command::new("pg_dump")
        .args(["--format=custom", "--schema", &schema, "--file"])
        .arg(&dump)
        .arg(crate::pg::admin_url())
        .status()
        .await
        .expect("run pg_dump");
    assert!(status.success(), "pg_dump failed");

    let restored = format!("rc_restore_{:016x}", rand::random::<u64>());
    let mut admin = sqlx::PgConnection::connect(&crate::pg::admin_url())
        .await
        .expect("connect");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {restored}")))
        .execute(&mut admin)
        .await
        .expect("create database");
    let base = crate::pg::admin_url();
    let (server_part, _) = base.rsplit_once('/').expect("database in the URL");
    let restored_url = format!("{server_part}/{restored}");
    let status = tokio::process::Command::new("pg_restore")
        .arg("--dbname")
        .arg(&restored_url)
        .arg(&dump)
        .status()
        .await
        .expect("run pg_restore");
    assert!(status.success(), "pg_restore failed");

    let (mut server, addr) = start_roomcast(
        roomcast_command()
            .args(["serve", "--listen", "127.0.0.1:0", "--jwt-secret", SECRET])
            .arg("--database")
            .arg(format!("{restored_url}?options[search_path]={schema}")),
    )
    .await;
    let served = served_ids(&addr, "").await;
    sigterm(&server);
    let _ = server.wait().await;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE {restored} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await
    .expect("drop database");
    assert_eq!(
        served, sent,
        "the restored database serves the same history"
    );
}
