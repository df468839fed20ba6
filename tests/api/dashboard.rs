//! `deploy/grafana-dashboard.json` queries exactly what a real server's
//! `/metrics` serves: every metric a panel names exists (after traffic, so
//! that labelled series and histograms appear), every label it groups by is
//! on that metric, and every metric the server exports is on some panel.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::helpers::*;

/// Sample names in a Prometheus text exposition, each with its label names.
fn samples(text: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let end = line.find(['{', ' ']).unwrap_or(line.len());
        let labels = out.entry(line[..end].to_owned()).or_default();
        if line[end..].starts_with('{') {
            labels.extend(label_names(&line[end + 1..]));
        }
    }
    out
}

/// The names of `name="value",...}`; values may hold `{`, `}`, `,` and `\"`.
fn label_names(mut rest: &str) -> Vec<String> {
    let mut names = Vec::new();
    while let Some((name, after)) = rest.split_once("=\"") {
        names.push(name.trim_start_matches(',').to_owned());
        let mut chars = after.char_indices();
        let mut close = after.len();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => {
                    close = i;
                    break;
                }
                _ => {}
            }
        }
        rest = &after[(close + 1).min(after.len())..];
        if rest.starts_with('}') {
            break;
        }
    }
    names
}

/// The metric families of `# TYPE` lines.
fn families(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# TYPE ")?.split(' ').next())
        .map(str::to_owned)
        .collect()
}

/// The `roomcast_…` names a PromQL expression reads.
fn metric_names(expr: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = expr;
    while let Some(at) = rest.find("roomcast_") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        names.insert(tail[..end].to_owned());
        rest = &tail[end..];
    }
    names
}

/// The label names of every `by (...)` in an expression.
fn grouped_by(expr: &str) -> BTreeSet<String> {
    expr.split("by (")
        .skip(1)
        .filter_map(|part| part.split(')').next())
        .flat_map(|labels| labels.split(',').map(|l| l.trim().to_owned()))
        .collect()
}

/// Every (panel title, expression) of the dashboard.
fn queries() -> Vec<(String, String)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/grafana-dashboard.json");
    let text = std::fs::read_to_string(path).expect("deploy/grafana-dashboard.json");
    let dashboard: Value = serde_json::from_str(&text).expect("the dashboard is JSON");
    let panels = dashboard["panels"].as_array().expect("panels");
    let mut out = Vec::new();
    for panel in panels {
        let title = panel["title"].as_str().expect("a panel title").to_owned();
        let targets = panel["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "panel {title} queries nothing");
        for target in targets {
            let expr = target["expr"].as_str().expect("expr").to_owned();
            out.push((title.clone(), expr));
        }
    }
    out
}

/// What makes every labelled series appear: chats, an event error, HTTP
/// requests, a good and a bad login.
async fn traffic(app: &TestApp) {
    let mut ann = app.client("dash-ann").await;
    ann.join("general").await;
    ann.chat("general", "hello").await;
    let bad = ann.ack("join", json!({"room": 7})).await;
    assert_eq!(bad["error"], "invalid_payload");
    app.register_and_login("dashboard").await;
    let wrong = app
        .post(
            "/api/login",
            json!({"username": "dashboard", "password": "not the password"}),
            None,
        )
        .await;
    assert_eq!(wrong.status(), 401);
    ann.close().await;
}

#[tokio::test]
async fn every_metric_the_dashboard_queries_is_served_and_every_served_one_is_on_it() {
    let app = spawn_app().await;
    traffic(&app).await;
    let text = app
        .get("/metrics", None)
        .await
        .text()
        .await
        .expect("metrics");
    let served = samples(&text);
    let queries = queries();

    let mut wrong = Vec::new();
    let mut queried = BTreeSet::new();
    for (title, expr) in &queries {
        let names = metric_names(expr);
        if names.is_empty() {
            wrong.push(format!("{title}: `{expr}` reads no roomcast_ metric"));
        }
        for name in &names {
            queried.insert(name.clone());
            if !served.contains_key(name) {
                wrong.push(format!("{title}: {name} is not in /metrics"));
            }
        }
        // `instance` is Prometheus's own label, `le` a histogram's buckets.
        for label in grouped_by(expr) {
            let on_one = names
                .iter()
                .any(|n| served.get(n).is_some_and(|l| l.contains(&label)));
            if label != "instance" && !on_one {
                wrong.push(format!("{title}: no metric of `{expr}` has label {label}"));
            }
        }
    }
    // A histogram family is on the dashboard when its _bucket, _sum or _count is.
    for family in families(&text) {
        let on_panel = ["", "_bucket", "_sum", "_count"]
            .iter()
            .any(|suffix| queried.contains(&format!("{family}{suffix}")));
        if !on_panel {
            wrong.push(format!(
                "{family} is served but on no panel of deploy/grafana-dashboard.json"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}\n/metrics:\n{text}", wrong.join("\n"));
    assert!(queries.len() >= 15, "{queries:?}");
}
