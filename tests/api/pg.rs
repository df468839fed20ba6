//! A fresh PostgreSQL schema per test, dropped afterwards, so tests and CI
//! runs sharing one database never see each other's rows.

use sqlx::Connection;
use sqlx::postgres::PgConnection;

/// The database the tests use; `ROOMCAST_TEST_POSTGRES` overrides it.
pub fn admin_url() -> String {
    std::env::var("ROOMCAST_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

pub struct PgSchema {
    pub name: String,
    /// A database URL whose connections use only this schema.
    pub url: String,
}

impl PgSchema {
    pub async fn create() -> Self {
        let name = format!("rc_test_{:016x}", rand::random::<u64>());
        let mut conn = PgConnection::connect(&admin_url())
            .await
            .expect("PostgreSQL at ROOMCAST_TEST_POSTGRES (default 127.0.0.1:5432, db test)");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}")))
            .execute(&mut conn)
            .await
            .expect("create schema");
        let _ = conn.close().await;
        let sep = if admin_url().contains('?') { '&' } else { '?' };
        // Named after the schema, so that dropping it can end the
        // connections of its servers (below).
        let url = format!(
            "{}{sep}application_name={name}&options[search_path]={name}",
            admin_url()
        );
        Self { name, url }
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let sql = format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name);
        let name = self.name.clone();
        // Drop runs inside a test's runtime, which cannot block on itself.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut conn = PgConnection::connect(&admin_url()).await.ok()?;
                // An in-process server outlives its test: its state holds
                // itself (the Socket.IO handle and the handlers that hold
                // the context), so its pool is never dropped and would keep
                // its connections until the test binary exits, and a whole
                // suite would run out of PostgreSQL's `max_connections`.
                sqlx::query(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE application_name = $1 AND pid <> pg_backend_pid()",
                )
                .bind(&name)
                .execute(&mut conn)
                .await
                .ok()?;
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .execute(&mut conn)
                    .await
                    .ok()?;
                conn.close().await.ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(()))) {
            eprintln!("could not drop test schema {}", self.name);
        }
    }
}
