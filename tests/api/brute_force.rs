//! Brute force and resource limits of the account routes (docs/protocol.md
//! §5a): nobody can lock a user out, refused attempts are not remembered,
//! and registrations can neither flood the hashing nor starve logins.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::helpers::*;

async fn login(app: &TestApp, from: &reqwest::Client, user: &str, password: &str) -> u16 {
    let r = from
        .post(app.url("/api/login"))
        .json(&json!({"username": user, "password": password}))
        .send()
        .await
        .expect("login request");
    r.status().as_u16()
}

async fn register(app: &TestApp, from: &reqwest::Client, user: &str) -> (u16, Value) {
    let r = from
        .post(app.url("/api/register"))
        .json(&json!({"username": user, "password": "correct horse"}))
        .send()
        .await
        .expect("register request");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// The `roomcast_limiter_keys` gauge of `limiter`, as `/metrics` shows it.
async fn limiter_keys(app: &TestApp, limiter: &str) -> u64 {
    let text = app
        .get("/metrics", None)
        .await
        .text()
        .await
        .expect("metrics");
    let line = format!("roomcast_limiter_keys{{limiter=\"{limiter}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&line))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {line} in /metrics"))
}

#[tokio::test]
async fn a_victim_logs_in_from_another_address_while_an_attacker_fails_twenty_times() {
    let app = spawn_app_with(|s| {
        s.login_attempts = 3;
        s.login_window = Duration::from_secs(3600);
    })
    .await;
    let (attacker, victim) = (client_from([127, 0, 0, 9]), client_from([127, 0, 0, 2]));
    assert_eq!(register(&app, &victim, "ann").await.0, 201);
    let mut statuses = Vec::new();
    for _ in 0..20 {
        statuses.push(login(&app, &attacker, "ann", "a guess").await);
    }
    assert_eq!(statuses[..3], [401, 401, 401]);
    assert!(statuses[3..].iter().all(|s| *s == 429), "{statuses:?}");
    assert_eq!(login(&app, &victim, "ann", "correct horse").await, 200);
    // The attacker's own address stays refused, even with the right password.
    assert_eq!(login(&app, &attacker, "ann", "correct horse").await, 429);
}

#[tokio::test]
async fn attempts_with_huge_or_refused_usernames_are_not_remembered() {
    let app = spawn_app_with(|s| {
        s.login_attempts = 3;
        s.login_window = Duration::from_secs(3600);
    })
    .await;
    let from = client_from([127, 0, 0, 3]);
    let huge = |i: usize| format!("{i}{}", "x".repeat(60_000));
    // 9 attempts (3 × 3 for the address) are wrong logins, then 429.
    for i in 0..9 {
        assert_eq!(login(&app, &from, &huge(i), "a guess").await, 401);
    }
    let mut refused = 0;
    for batch in 0..125 {
        let attempts = (0..16).map(|i| {
            let name = if i % 2 == 0 {
                huge(batch * 16 + i)
            } else {
                format!("valid-name-{batch}-{i}")
            };
            let (app, from) = (&app, &from);
            async move { login(app, from, &name, "a guess").await }
        });
        refused += join_all(attempts)
            .await
            .into_iter()
            .filter(|s| *s == 429)
            .count();
    }
    assert_eq!(
        refused, 2000,
        "every attempt after the address's were refused"
    );
    // Only the address was remembered: no username, no pair.
    assert_eq!(limiter_keys(&app, "login_address").await, 1);
    assert_eq!(limiter_keys(&app, "login_username").await, 0);
    assert_eq!(limiter_keys(&app, "login_pair").await, 0);
    // And another address still logs in as usual.
    let other = client_from([127, 0, 0, 4]);
    assert_eq!(register(&app, &other, "ann").await.0, 201);
    assert_eq!(login(&app, &other, "ann", "correct horse").await, 200);
    assert_eq!(limiter_keys(&app, "login_username").await, 1);
}

#[tokio::test]
async fn registrations_beyond_the_rate_from_one_address_get_429_and_create_nothing() {
    let app = spawn_app_with(|s| s.registration_rate = 2).await;
    let (here, there) = (client_from([127, 0, 0, 5]), client_from([127, 0, 0, 6]));
    assert_eq!(register(&app, &here, "ann").await.0, 201);
    assert_eq!(register(&app, &here, "bob").await.0, 201);
    let (status, body) = register(&app, &here, "carl").await;
    assert_eq!(status, 429);
    assert_eq!(body["error"], "rate_limited");
    // carl was not created: another address registers that name.
    assert_eq!(register(&app, &there, "carl").await.0, 201);
}

#[tokio::test]
async fn a_flood_of_registrations_neither_starves_logins_nor_hashes_without_bound() {
    let app = spawn_app().await;
    let here = client_from([127, 0, 0, 7]);
    assert_eq!(register(&app, &here, "ann").await.0, 201);
    let started = Instant::now();
    assert_eq!(login(&app, &here, "ann", "correct horse").await, 200);
    let alone = started.elapsed();

    // 32 registrations at once, each from its own address, and a login
    // among them: registrations hold at most half of the hashing permits.
    let flood = join_all((0..32u8).map(|i| {
        let app = &app;
        async move {
            let from = client_from([127, 0, 1, i + 1]);
            register(app, &from, &format!("flood{i}")).await
        }
    }));
    let during = async {
        let started = Instant::now();
        let status = login(&app, &here, "ann", "correct horse").await;
        (status, started.elapsed())
    };
    let (answers, (status, took)) = tokio::join!(flood, during);
    assert_eq!(status, 200);
    assert!(
        took < alone * 4 + Duration::from_secs(1),
        "a login took {took:?} during the flood, {alone:?} alone"
    );
    // Each registration was done or told to retry (503), none hashed beyond the bound.
    let mut created = 0;
    for (status, body) in &answers {
        match status {
            201 => created += 1,
            503 => assert_eq!(body["error"], "internal", "{body}"),
            other => panic!("registration answered {other}: {body}"),
        }
    }
    assert!(created >= 1, "some registrations went through");
}
