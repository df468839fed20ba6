//! What `roomcast user|room|token` refuse, and that each says so and why.

use crate::admin::{cli, cli_on};
use crate::helpers::*;

#[tokio::test]
async fn admin_commands_refuse_a_missing_sqlite_file_and_create_none() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("elsewhere.db");
    let url = format!("sqlite://{}", file.display());
    let commands: [&[&str]; 4] = [
        &["token", "--sub", "x"],
        &["user", "list"],
        &["user", "add", "ann"],
        &["room", "create", "lobby", "--app-owner", "x"],
    ];
    for args in commands {
        let out = cli_on(&url, args, "a long password\n").await;
        assert!(!out.ok, "{args:?}: {}", out.stdout);
        let said = &out.stderr;
        assert!(
            said.contains(&format!("no database at {}", file.display())),
            "{args:?}: {said}"
        );
        for hint in ["--database", "ROOMCAST_DATABASE", "--config"] {
            assert!(said.contains(hint), "{args:?} names {hint}: {said}");
        }
        assert!(out.stdout.is_empty(), "{args:?} printed {}", out.stdout);
    }
    let left: Vec<_> = std::fs::read_dir(dir.path()).expect("ls").collect();
    assert!(left.is_empty(), "files made: {left:?}");
}

#[tokio::test]
async fn admin_commands_name_the_database_they_used() {
    let app = spawn_app().await;
    let out = cli(&app, &["room", "list"], "").await;
    assert!(out.ok, "{}", out.stderr);
    let path = app.database_url();
    let path = path.trim_start_matches("sqlite://");
    let line = format!("roomcast: database {} (", app.database_url());
    assert!(out.stderr.contains(&line), "{}", out.stderr);
    assert!(out.stderr.contains(path), "{}", out.stderr);
    // Only on stderr: stdout stays what scripts parse.
    assert_eq!(out.stdout, "");
}

#[tokio::test]
async fn room_create_refuses_an_owner_who_is_not_a_user() {
    let app = spawn_app().await;
    let out = cli(&app, &["room", "create", "staff", "--owner", "olga"], "").await;
    assert!(!out.ok);
    assert!(out.stderr.contains("no user \"olga\""), "{}", out.stderr);
    assert!(out.stderr.contains("--app-owner"), "{}", out.stderr);
    assert_eq!(cli(&app, &["room", "list"], "").await.stdout, "");

    // Once olga exists, both of her names make her the owner.
    assert!(
        cli(&app, &["user", "add", "olga"], "a long password\n")
            .await
            .ok
    );
    for (room, owner) in [("staff", "olga"), ("ops", "acct:olga")] {
        let out = cli(&app, &["room", "create", room, "--owner", owner], "").await;
        assert!(out.ok, "{owner}: {}", out.stderr);
    }
    assert_eq!(
        cli(&app, &["room", "list"], "").await.stdout,
        "ops\tpublic\tacct:olga\nstaff\tpublic\tacct:olga\n"
    );
}

#[tokio::test]
async fn room_create_refuses_an_account_id_as_app_owner_and_needs_an_owner() {
    let app = spawn_app().await;
    let out = cli(
        &app,
        &["room", "create", "r", "--app-owner", "acct:ann"],
        "",
    )
    .await;
    assert!(!out.ok);
    assert!(out.stderr.contains("use --owner"), "{}", out.stderr);
    let out = cli(&app, &["room", "create", "r"], "").await;
    assert!(!out.ok);
    assert!(out.stderr.contains("--owner"), "{}", out.stderr);
    let both = ["room", "create", "r", "--owner", "a", "--app-owner", "b"];
    assert!(!cli(&app, &both, "").await.ok);
    assert_eq!(cli(&app, &["room", "list"], "").await.stdout, "");
}

#[tokio::test]
async fn admin_commands_refuse_a_postgres_database_roomcast_never_migrated() {
    let schema = crate::pg::PgSchema::create().await;
    let out = cli_on(&schema.url, &["user", "list"], "").await;
    assert!(!out.ok, "{}", out.stdout);
    assert!(
        out.stderr.contains("has no roomcast tables"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--database"), "{}", out.stderr);
    // Nothing was made in it: the server's first start still migrates it.
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&schema.url)
        .await
        .expect("connect");
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()",
    )
    .fetch_one(&mut conn)
    .await
    .expect("count");
    assert_eq!(tables, 0);
}
