//! The README's "Upgrading": rolling back to a binary older than the
//! database's migrations is refused at start, naming the migration the
//! binary does not know.

use sqlx::Connection;

use crate::helpers::*;

/// The version a newer roomcast would have applied.
const FUTURE: i64 = 9_999;

/// Records migration [`FUTURE`] as applied, as a newer binary would have.
async fn apply_a_future_migration(backend: Backend, url: &str) {
    let sql = "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
               VALUES ($1, 'from a newer roomcast', TRUE, $2, 0)";
    match backend {
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(url).await.expect("sqlite");
            sqlx::query(sql)
                .bind(FUTURE)
                .bind(vec![0u8; 48])
                .execute(&mut conn)
                .await
                .expect("insert");
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(url).await.expect("postgres");
            sqlx::query(sql)
                .bind(FUTURE)
                .bind(vec![0u8; 48])
                .execute(&mut conn)
                .await
                .expect("insert");
        }
    }
}

/// `roomcast serve` on `url` until it is listening (it has migrated), then killed.
async fn serve_once(url: &str) {
    let (mut child, _addr) = start_roomcast(
        roomcast_command()
            .args(["serve", "--listen", "127.0.0.1:0", "--database", url])
            .env("ROOMCAST_JWT_SECRET", SECRET),
    )
    .await;
    child.kill().await.expect("kill roomcast");
}

async fn an_older_binary_refuses_a_database_a_newer_one_migrated(backend: Backend) {
    let dir = tempfile::tempdir().expect("dir");
    let schema = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(crate::pg::PgSchema::create().await),
    };
    let url = match &schema {
        Some(s) => s.url.clone(),
        None => format!("sqlite://{}", dir.path().join("roomcast.db").display()),
    };
    // This binary makes and migrates the database, then stops; a newer one
    // (faked: its migration's row) ran on it since.
    serve_once(&url).await;
    apply_a_future_migration(backend, &url).await;
    let run = roomcast_command()
        .args(["serve", "--listen", "127.0.0.1:0", "--database", &url])
        .env("ROOMCAST_JWT_SECRET", SECRET)
        .stderr(std::process::Stdio::piped())
        .output();
    let out = tokio::time::timeout(WAIT, run)
        .await
        .expect("roomcast exited")
        .expect("run roomcast");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "started on a newer database:\n{stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "it said it was listening: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(stderr.contains(&format!("migration {FUTURE}")), "{stderr}");
}

crate::on_both_backends!(an_older_binary_refuses_a_database_a_newer_one_migrated);
