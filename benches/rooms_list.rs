//! How long the `rooms` answer takes for a user whose list holds many big
//! rooms, end to end over real Socket.IO (docs/protocol.md §4 "Your rooms
//! and read state": counts are a subtraction of post numbers, not a scan).
//!
//! The server is built in-process on a temporary SQLite file (or, with
//! `BENCH_DATABASE=postgres://…`, a fresh schema there). The history is
//! written straight into the database (the writer would take minutes for
//! ten million posts): `BENCH_ROOMS` public rooms (1,000) of
//! `BENCH_MESSAGES` messages each (10,000), interleaved as they would be
//! posted, one in a hundred mentioning the user. The user has every room
//! in the list: the even ones read up to nothing (the worst case: every
//! message unread), the odd ones half read. Then one socket asks `rooms`
//! `BENCH_CALLS` times (50) in a row, after one untimed call.
//!
//! Run: `cargo bench --bench rooms_list`
//! e.g. `BENCH_DATABASE=postgres://postgres@127.0.0.1/test cargo bench --bench rooms_list`
//!
//! Prints p50, p99 and max; exits non-zero when an answer is refused or a
//! count is not what the seeded history says.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use roomcast::config::{Secret, Settings};
use roomcast::wire_client::{packet, ws};
use serde_json::{Value, json};
use sqlx::AssertSqlSafe;

mod common;
use common::{PgBenchSchema, SECRET, env_num, token};

const WAIT: Duration = Duration::from_secs(60);
const USER: &str = "reader";

/// The statements that write the history: (SQLite, PostgreSQL) texts where
/// they differ. `{R}` rooms, `{N}` messages in each; message `i` (from 1)
/// is in room `(i - 1) % R` and is that room's post number `(i - 1) / R + 1`.
fn seed(rooms: i64, per_room: i64, postgres: bool) -> Vec<String> {
    let total = rooms * per_room;
    let series = if postgres {
        format!("generate_series(1, {total}) AS s(i)")
    } else {
        format!(
            "(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {total}) \
             SELECT i FROM s) AS s"
        )
    };
    let name = |col: &str| {
        if postgres {
            format!("'r' || lpad((({col} - 1) % {rooms})::text, 5, '0')")
        } else {
            format!("printf('r%05d', ({col} - 1) % {rooms})")
        }
    };
    let mention = if postgres {
        "'@' || '{USER}'"
    } else {
        "'@{USER}'"
    }
    .replace("{USER}", USER);
    let mut sql = vec![
        format!(
            "INSERT INTO rooms (name, visibility, owner, created_at) \
             SELECT {}, 'public', 'owner', 0 FROM {series} WHERE s.i <= {rooms}",
            name("s.i")
        ),
        format!(
            "INSERT INTO messages (id, seq, room, user_id, user_name, body, ts, n, mentions) \
             SELECT s.i, s.i, {}, 'author', 'Author', \
                    CASE WHEN s.i % 100 = 0 THEN {mention} || ' message ' || s.i \
                         ELSE 'message number ' || s.i END, \
                    s.i, (s.i - 1) / {rooms} + 1, \
                    CASE WHEN s.i % 100 = 0 THEN '[\"{USER}\"]' END \
             FROM {series}",
            name("s.i")
        ),
        format!(
            "INSERT INTO mentions (user_id, room, message) \
             SELECT '{USER}', {}, s.i FROM {series} WHERE s.i % 100 = 0",
            name("s.i")
        ),
        // Even rooms: nothing read (no post number: the list looks up the
        // room's first). Odd rooms: read up to their middle post, with its
        // number, as `read` writes it.
        format!(
            "INSERT INTO members (room, user_id, read_id, read_n) \
             SELECT {}, '{USER}', CASE WHEN (s.i - 1) % 2 = 0 THEN 0 \
                                       ELSE (({per_room} / 2) - 1) * {rooms} + s.i END, \
                    CASE WHEN (s.i - 1) % 2 = 0 THEN NULL ELSE {per_room} / 2 END \
             FROM {series} WHERE s.i <= {rooms}",
            name("s.i")
        ),
    ];
    if postgres {
        sql.push(format!("SELECT setval('message_ids', {total})"));
        sql.push("ANALYZE".into());
    } else {
        sql.push(format!("UPDATE stream SET last = {total}"));
        sql.push("ANALYZE".into());
    }
    sql
}

async fn write_history(url: &str, rooms: i64, per_room: i64) -> Result<(), String> {
    use sqlx::Connection;
    let postgres = url.starts_with("postgres");
    let started = Instant::now();
    if postgres {
        let mut conn = sqlx::postgres::PgConnection::connect(url)
            .await
            .map_err(|e| e.to_string())?;
        for q in seed(rooms, per_room, true) {
            sqlx::query(AssertSqlSafe(q))
                .execute(&mut conn)
                .await
                .map_err(|e| format!("seed: {e}"))?;
        }
    } else {
        let mut conn = sqlx::sqlite::SqliteConnection::connect(url)
            .await
            .map_err(|e| e.to_string())?;
        for q in seed(rooms, per_room, false) {
            sqlx::query(AssertSqlSafe(q))
                .execute(&mut conn)
                .await
                .map_err(|e| format!("seed: {e}"))?;
        }
    }
    eprintln!(
        "wrote {} messages in {rooms} rooms in {:.1} s",
        rooms * per_room,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// What `rooms` must say of room `k` (0-based) after the seeding.
fn expected(k: i64, rooms: i64, per_room: i64) -> (i64, i64) {
    let mentions_in = |from_post: i64| {
        // Posts of room k numbered from_post..=per_room whose id is a multiple of 100.
        (from_post..=per_room)
            .filter(|n| ((n - 1) * rooms + k + 1) % 100 == 0)
            .count() as i64
    };
    if k % 2 == 0 {
        (per_room, mentions_in(1))
    } else {
        let read = per_room / 2;
        (per_room - read, mentions_in(read + 1))
    }
}

fn quantile(sorted: &[Duration], q: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn bench() -> Result<bool, String> {
    let rooms: i64 = env_num("BENCH_ROOMS", 1000i64).max(1);
    let per_room: i64 = env_num("BENCH_MESSAGES", 10_000i64).max(2);
    let calls: usize = env_num("BENCH_CALLS", 50usize).max(1);
    let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let schema = match std::env::var("BENCH_DATABASE") {
        Ok(url) if url.starts_with("postgres") => Some(PgBenchSchema::create(url).await?),
        _ => None,
    };
    let db_url = match &schema {
        Some(s) => s.url.clone(),
        None => format!("sqlite://{}", dir.path().join("bench.db").display()),
    };
    let mut settings = Settings::new(db_url.clone());
    settings.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    settings.jwt_secret = Some(Secret(SECRET.into()));
    let app = roomcast::app::build(settings)
        .await
        .map_err(|e| format!("build server: {e:#}"))?;
    let addr = app.local_addr().map_err(|e| e.to_string())?;
    write_history(&db_url, rooms, per_room).await?;
    let server = tokio::spawn(app.run());

    let token = token(USER);
    let auth = packet::to_value(packet::TokenAuth { token: &token });
    let mut socket = ws::open(ws::url(addr), addr, None).await?;
    ws::handshake(&mut socket, Some(&auth), WAIT).await?;
    let ask = |id: u64| packet::event(Some(id), "rooms", &[json!({})]);
    // The first call warms the caches of both stores; it is not timed.
    let first = ws::call(&mut socket, &ask(1), 1, WAIT).await?;
    let mut ok = true;
    let listed: Vec<&Value> = first["rooms"]
        .as_array()
        .map(|a| a.iter().filter(|r| r["member"] == true).collect())
        .unwrap_or_default();
    if listed.len() as i64 != rooms {
        eprintln!(
            "listed {} rooms, not {rooms}: {}",
            listed.len(),
            packet::clip(&first.to_string())
        );
        ok = false;
    }
    for (k, r) in listed.iter().enumerate().take(4) {
        let want = expected(k as i64, rooms, per_room);
        let got = (
            r["unread"].as_i64().unwrap_or(-1),
            r["mentions"].as_i64().unwrap_or(-1),
        );
        if got != want {
            eprintln!("room {}: unread, mentions {got:?}, not {want:?}", r["name"]);
            ok = false;
        }
    }
    let mut times = Vec::with_capacity(calls);
    for i in 0..calls {
        let id = 2 + i as u64;
        let started = Instant::now();
        let ack = ws::call(&mut socket, &ask(id), id, WAIT).await?;
        times.push(started.elapsed());
        if ack["ok"] != true {
            eprintln!("rooms refused: {}", packet::clip(&ack.to_string()));
            ok = false;
            break;
        }
    }
    times.sort();
    println!(
        "rooms_list: {} rooms x {per_room} messages on {}: `rooms` p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms over {} calls",
        rooms,
        if schema.is_some() {
            "postgres"
        } else {
            "sqlite"
        },
        quantile(&times, 0.5).as_secs_f64() * 1e3,
        quantile(&times, 0.99).as_secs_f64() * 1e3,
        times.last().map_or(0.0, |t| t.as_secs_f64() * 1e3),
        times.len(),
    );
    server.abort();
    Ok(ok)
}

fn main() -> ExitCode {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    match rt.block_on(bench()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("rooms_list: {e}");
            ExitCode::FAILURE
        }
    }
}
