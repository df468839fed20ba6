//! `GET /metrics`: Prometheus text that follows what the server did.

use serde_json::json;

use crate::helpers::*;

/// The value of the sample line starting with `series ` (name and labels).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

async fn scrape(app: &TestApp) -> String {
    let r = app.get("/metrics", None).await;
    assert_eq!(r.status(), 200);
    let ct = r.headers()["content-type"].to_str().expect("ct").to_owned();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    r.text().await.expect("body")
}

#[tokio::test]
async fn metrics_count_sockets_rooms_messages_deliveries_and_errors() {
    let app = spawn_app().await;
    let before = scrape(&app).await;
    assert_eq!(sample(&before, "roomcast_connected_sockets"), Some(0.0));
    assert_eq!(sample(&before, "roomcast_messages_stored_total"), Some(0.0));

    let mut ann = app.client("ann").await;
    let mut bob = app.client("bob").await;
    ann.join("a").await;
    bob.join("a").await;
    bob.join("b").await;
    for i in 0..3 {
        ann.chat("a", &format!("m{i}")).await;
    }
    for _ in 0..3 {
        bob.next("chat").await;
    }
    let bad = ann.ack("chat", json!({"room": "b", "message": "x"})).await;
    assert_eq!(bad["error"], "not_in_room");
    let bad = ann.ack("join", json!({"room": 7})).await;
    assert_eq!(bad["error"], "invalid_payload");

    let text = scrape(&app).await;
    assert_eq!(sample(&text, "roomcast_connected_sockets"), Some(2.0));
    assert_eq!(sample(&text, "roomcast_rooms_with_sockets"), Some(2.0));
    assert_eq!(sample(&text, "roomcast_messages_stored_total"), Some(3.0));
    // Three chats, each to two sockets (sender included).
    assert_eq!(sample(&text, "roomcast_deliveries_total"), Some(6.0));
    let errors = |code: &str| {
        sample(
            &text,
            &format!("roomcast_event_errors_total{{code=\"{code}\"}}"),
        )
    };
    assert_eq!(errors("not_in_room"), Some(1.0));
    assert_eq!(errors("invalid_payload"), Some(1.0));
    // Every answered event is timed: 3 joins, 3 chats, 2 errors.
    assert_eq!(sample(&text, "roomcast_ack_seconds_count"), Some(8.0));
    assert!(sample(&text, "roomcast_db_commit_seconds_count").is_some_and(|n| n >= 1.0));
    assert_eq!(
        sample(&text, "roomcast_slow_client_evictions_total"),
        Some(0.0)
    );

    // Disconnects are counted down.
    ann.close().await;
    loop {
        if bob.next("leave").await["user"]["id"] == "ann" {
            break;
        }
    }
    let text = scrape(&app).await;
    assert_eq!(sample(&text, "roomcast_connected_sockets"), Some(1.0));
}

/// Events refused before they reach a handler (here: over `max_payload`,
/// answered by the socket's queue itself) count as errors and are timed
/// like every other answer.
#[tokio::test]
async fn refusals_by_the_event_queue_are_counted_and_timed() {
    let app = spawn_app_with(|s| s.max_payload = 1024).await;
    let mut ann = app.client("ann").await;
    ann.join("a").await;
    let big = "x".repeat(2000);
    let refused = ann.ack("chat", json!({"room": "a", "message": big})).await;
    assert_eq!(refused["ok"], false);
    assert_eq!(refused["error"], "invalid_payload");
    assert!(
        refused["message"]
            .as_str()
            .is_some_and(|m| m.contains("too large"))
    );
    let text = scrape(&app).await;
    assert_eq!(
        sample(
            &text,
            "roomcast_event_errors_total{code=\"invalid_payload\"}"
        ),
        Some(1.0)
    );
    // The join and the refused chat.
    assert_eq!(sample(&text, "roomcast_ack_seconds_count"), Some(2.0));
}
