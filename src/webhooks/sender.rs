//! Sends what the outbox holds (docs/protocol.md "Webhooks").
//!
//! One task per node watches the endpoints (once a second) and runs one
//! task per endpoint. An endpoint's task holds a lease on it in the
//! database, so one node at a time sends to it; a node that dies stops
//! renewing, and another takes over once the lease has run out. It sends
//! the endpoint's events one after the other, oldest first: a failure
//! backs the head off (exponentially, up to `backoff_max`) and nothing
//! behind it overtakes it, so the receiver gets them in the order they
//! were written. Rows are deleted after the 2xx, so a node killed between
//! the two sends that event again: delivery is at least once, with the
//! same `webhook-id` each time.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderValue, USER_AGENT};
use serde::Serialize;
use serde_json::value::RawValue;
use standardwebhooks::Webhook;
use tokio::task::JoinHandle;

use super::address::{PublicOnly, is_public};
use crate::domain::now_ms;
use crate::metrics::Metrics;
use crate::store::{Delivery, Endpoint, Store};

/// How long a lease lasts, and how long before its end it is renewed: a
/// node renews every few seconds (a write, kept off the busy path), and
/// one that died is replaced within [`LEASE_MS`].
const LEASE_MS: i64 = 15_000;
const RENEW_BEFORE_MS: i64 = 10_000;
/// How often an endpoint with nothing to send looks again.
const POLL: Duration = Duration::from_millis(200);
/// Events read per round; sent one at a time.
const BATCH: i64 = 100;
/// The most of a response body read (then dropped): enough to keep the
/// connection for the next request, never a large download.
const RESPONSE_CAP: usize = 64 * 1024;
/// The most of an error kept as `last_error`.
const ERROR_CAP: usize = 300;

/// The sender's settings (`--webhook-*`).
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Per attempt, connecting included.
    pub timeout: Duration,
    /// The longest wait between two attempts of one event.
    pub backoff_max: Duration,
    /// Attempts before an event is kept as failed.
    pub attempts: u32,
}

/// Starts this node's sender; it runs as long as the process. `node`
/// names it in the leases (`lease_node`): the node's name on the Admin UI
/// (`HOSTNAME:PORT`, or `--admin-ui-server-id`), which no other live node
/// has, so a node restarted under its name takes its endpoints back at
/// once instead of waiting for its old lease to run out.
pub fn spawn(
    store: Arc<dyn Store>,
    options: Options,
    metrics: Arc<Metrics>,
    node: &str,
) -> anyhow::Result<Sender> {
    let clients = Clients::new(options.timeout)?;
    let task = tokio::spawn(supervise(
        store.clone(),
        options,
        metrics,
        clients,
        node.to_owned(),
    ));
    Ok(Sender {
        task,
        store,
        node: node.to_owned(),
    })
}

/// This node's running sender.
pub struct Sender {
    task: JoinHandle<()>,
    store: Arc<dyn Store>,
    node: String,
}

impl Sender {
    /// Stops sending (at shutdown, after the last commit) and gives this
    /// node's leases back, so another node (or this one, restarted under
    /// another name) goes on at once instead of when they run out. An
    /// attempt cut off here is sent again: at least once.
    pub async fn stop(self) {
        self.task.abort();
        // Ends once the supervisor, and with it every endpoint's task, is dropped.
        let _ = self.task.await;
        if let Err(e) = self.store.release_leases(&self.node).await {
            tracing::warn!(error = %e, "could not give the webhook leases back");
        }
    }
}

/// Two HTTP clients: one whose resolver refuses private addresses, one
/// for endpoints with `allow-private`. Neither follows redirects.
#[derive(Clone)]
struct Clients {
    public: reqwest::Client,
    any: reqwest::Client,
}

impl Clients {
    fn new(timeout: Duration) -> anyhow::Result<Self> {
        let build = |guarded: bool| {
            let b = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(timeout)
                .connect_timeout(timeout)
                .pool_max_idle_per_host(1);
            let b = if guarded {
                b.dns_resolver(Arc::new(PublicOnly))
            } else {
                b
            };
            b.build()
        };
        Ok(Self {
            public: build(true)?,
            any: build(false)?,
        })
    }
}

/// Aborts its task when dropped (an endpoint removed or changed).
struct Running {
    endpoint: Endpoint,
    task: JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn supervise(
    store: Arc<dyn Store>,
    options: Options,
    metrics: Arc<Metrics>,
    clients: Clients,
    node: String,
) {
    let mut running: HashMap<String, Running> = HashMap::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match store.endpoints().await {
            Ok(endpoints) => {
                running.retain(|name, r| {
                    endpoints
                        .iter()
                        .any(|e| e == &r.endpoint && &e.name == name)
                });
                for endpoint in endpoints {
                    if running.contains_key(&endpoint.name) {
                        continue;
                    }
                    let signer = match Webhook::new(&endpoint.secret) {
                        Ok(s) => s,
                        Err(_) => {
                            // Checked when stored; only a hand-edited row gets here.
                            tracing::warn!(endpoint = %endpoint.name, "webhook secret is not whsec_ and base64; not sending");
                            continue;
                        }
                    };
                    let task = tokio::spawn(send_loop(
                        store.clone(),
                        endpoint.clone(),
                        signer,
                        clients.clone(),
                        node.clone(),
                        options,
                        metrics.clone(),
                    ));
                    running.insert(endpoint.name.clone(), Running { endpoint, task });
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not read the webhook endpoints"),
        }
        match store.backlog().await {
            Ok(backlog) => metrics.set_webhook_backlog(&backlog),
            Err(e) => tracing::warn!(error = %e, "could not count the webhook outbox"),
        }
    }
}

/// Sends one endpoint's events in order while this node holds its lease.
async fn send_loop(
    store: Arc<dyn Store>,
    endpoint: Endpoint,
    signer: Webhook,
    clients: Clients,
    node: String,
    options: Options,
    metrics: Arc<Metrics>,
) {
    let client = if endpoint.allow_private {
        &clients.any
    } else {
        &clients.public
    };
    let name = endpoint.name.as_str();
    let mut held_until = 0_i64;
    loop {
        let now = now_ms();
        if held_until - now < RENEW_BEFORE_MS {
            match store.lease(name, &node, now, now + LEASE_MS).await {
                Ok(true) => held_until = now + LEASE_MS,
                Ok(false) => {
                    held_until = 0;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
                Err(e) => {
                    tracing::warn!(endpoint = name, error = %e, "could not take the webhook lease");
                    held_until = 0;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            }
        }
        let due = match store.next_deliveries(name, BATCH).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(endpoint = name, error = %e, "could not read the webhook outbox");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let Some(head) = due.first() else {
            tokio::time::sleep(POLL).await;
            continue;
        };
        if head.next_at > now {
            let wait = (head.next_at - now).clamp(1, 1000) as u64;
            tokio::time::sleep(Duration::from_millis(wait)).await;
            continue;
        }
        let mut sent = Vec::new();
        for d in &due {
            // Renew before the lease could run out mid-send; and a later
            // event never goes before an earlier one that failed.
            if held_until - now_ms() < RENEW_BEFORE_MS || d.next_at > now_ms() {
                break;
            }
            match attempt(client, &endpoint, &signer, d).await {
                Ok(()) => {
                    metrics.webhook_attempt(true);
                    sent.push(d.row);
                }
                Err(error) => {
                    metrics.webhook_attempt(false);
                    let attempts = d.attempts + 1;
                    let next_at = (attempts < i64::from(options.attempts))
                        .then(|| now_ms() + backoff(attempts, options.backoff_max));
                    if next_at.is_none() {
                        tracing::warn!(endpoint = name, event = %d.event_id, %error, "webhook failed for good; kept for `roomcast webhooks retry`");
                    }
                    if let Err(e) = store.attempt_failed(d.row, attempts, next_at, &error).await {
                        tracing::warn!(endpoint = name, error = %e, "could not record a webhook attempt");
                    }
                    break;
                }
            }
        }
        if !sent.is_empty()
            && let Err(e) = store.delivered(&sent).await
        {
            // They will be sent again: at least once, never lost.
            tracing::warn!(endpoint = name, error = %e, "could not remove delivered webhooks");
        }
    }
}

/// The wait after the `attempts`th failure: 1 s, 2 s, 4 s, .. up to `max`,
/// with up to a tenth more at random so that retries spread out.
fn backoff(attempts: i64, max: Duration) -> i64 {
    let max = i64::try_from(max.as_millis()).unwrap_or(i64::MAX).max(1);
    let base = 1000_i64
        .checked_shl(u32::try_from(attempts - 1).unwrap_or(u32::MAX).min(40))
        .unwrap_or(i64::MAX)
        .min(max);
    base + rand::random_range(0..=base / 10)
}

/// The body of a delivery (docs/protocol.md "Webhooks").
#[derive(Serialize)]
struct Body<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    /// When the change was committed, RFC 3339 in UTC.
    timestamp: String,
    data: &'a RawValue,
}

/// One POST of one event: `Ok` on a 2xx, else what went wrong (no secret in it).
async fn attempt(
    client: &reqwest::Client,
    endpoint: &Endpoint,
    signer: &Webhook,
    d: &Delivery,
) -> Result<(), String> {
    let url = reqwest::Url::parse(&endpoint.url).map_err(|e| format!("bad url: {e}"))?;
    if !endpoint.allow_private {
        // An address in the URL is never resolved, so the resolver's
        // check does not see it.
        let literal = url.host_str().and_then(|h| {
            h.trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .ok()
        });
        if let Some(ip) = literal
            && !is_public(ip)
        {
            return Err(format!(
                "{ip} is a private address (set allow-private for this endpoint)"
            ));
        }
    }
    let data = RawValue::from_string(d.data.clone()).map_err(|e| format!("stored data: {e}"))?;
    let timestamp = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(d.ts) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    let body = serde_json::to_vec(&Body {
        id: &d.event_id,
        kind: &d.kind,
        timestamp,
        data: &data,
    })
    .map_err(|e| format!("encoding: {e}"))?;
    let signed_at = now_ms() / 1000;
    let signature = signer
        .sign(&d.event_id, signed_at, &body)
        .map_err(|e| format!("signing: {e}"))?;
    let response = client
        .post(url)
        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
        .header(
            USER_AGENT,
            HeaderValue::from_static(concat!("roomcast/", env!("CARGO_PKG_VERSION"))),
        )
        .header("webhook-id", d.event_id.as_str())
        .header("webhook-timestamp", signed_at.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await
        .map_err(|e| cap(describe(e)))?;
    let status = response.status();
    drain(response).await;
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("HTTP {status}"))
    }
}

/// Reads a little of a response so its connection can be used again.
async fn drain(mut response: reqwest::Response) {
    let mut read = 0;
    while read < RESPONSE_CAP {
        match response.chunk().await {
            Ok(Some(chunk)) => read += chunk.len(),
            _ => return,
        }
    }
}

/// An error with its causes, without the URL's query (which could hold a token).
fn describe(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn cap(mut s: String) -> String {
    if s.len() > ERROR_CAP {
        let mut end = ERROR_CAP;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let max = Duration::from_secs(3600);
        for (attempts, base) in [
            (1, 1000),
            (2, 2000),
            (3, 4000),
            (12, 2_048_000),
            (13, 3_600_000),
            (40, 3_600_000),
            (500, 3_600_000),
        ] {
            let b = backoff(attempts, max);
            assert!((base..=base + base / 10).contains(&b), "{attempts}: {b}");
        }
        // 40 attempts at the default cap span more than a day.
        let total: i64 = (1..40)
            .map(|a| {
                1000_i64
                    .checked_shl(a - 1)
                    .unwrap_or(i64::MAX)
                    .min(3_600_000)
            })
            .sum();
        assert!(total > 86_400_000, "{total}");
    }
}
