//! What the end-to-end benches share: the JWT secret and tokens, numbers
//! from the environment, and a fresh PostgreSQL schema per run.

#![allow(dead_code)] // each bench uses its own part

use jsonwebtoken::{EncodingKey, Header, encode};
use serde_json::json;

pub(crate) const SECRET: &str = "bench-secret-of-a-reasonable-length";

pub(crate) fn env_num<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v.trim().parse().unwrap_or_else(|_| {
            eprintln!("{name}={v:?} is not a number; using the default");
            default
        }),
        Err(_) => default,
    }
}

pub(crate) fn token(sub: &str) -> String {
    let claims = json!({
        "sub": sub,
        "name": format!("{sub} (bench)"),
        "exp": jsonwebtoken::get_current_timestamp() + 3600,
    });
    let key = EncodingKey::from_secret(SECRET.as_bytes()).expect("HS256 key");
    encode(&Header::default(), &claims, &key).expect("sign JWT")
}

/// A fresh PostgreSQL schema for one bench run (left for inspection; named
/// `bench_<random>`).
pub(crate) struct PgBenchSchema {
    pub(crate) url: String,
}

impl PgBenchSchema {
    pub(crate) async fn create(admin: String) -> Result<Self, String> {
        use sqlx::Connection;
        let name = format!("bench_{:016x}", rand::random::<u64>());
        let mut conn = sqlx::postgres::PgConnection::connect(&admin)
            .await
            .map_err(|e| format!("connect {admin}: {e}"))?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}")))
            .execute(&mut conn)
            .await
            .map_err(|e| format!("create schema: {e}"))?;
        let sep = if admin.contains('?') { '&' } else { '?' };
        eprintln!("PostgreSQL schema {name} (drop it when done)");
        Ok(Self {
            url: format!("{admin}{sep}options[search_path]={name}"),
        })
    }
}
