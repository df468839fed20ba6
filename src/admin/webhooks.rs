//! `roomcast webhooks add|remove|list|failed|retry`: endpoints and the outbox.

use super::{open, print};
use crate::cli::WebhooksCommand;
use crate::store::{Admin, Endpoint, Origin};

/// The CLI leaves the settings file's endpoints alone: the next start would
/// undo what it did. `what` says what to do instead.
async fn not_from_the_file(store: &dyn Admin, name: &str, what: &str) -> anyhow::Result<()> {
    let file = store
        .endpoints()
        .await?
        .into_iter()
        .any(|e| e.name == name && e.origin == Origin::File);
    anyhow::ensure!(!file, "webhook {name} is in the settings file; {what}");
    Ok(())
}

pub async fn webhooks(cmd: WebhooksCommand) -> anyhow::Result<()> {
    match cmd {
        WebhooksCommand::Add {
            name,
            url,
            events,
            allow_private,
            secret,
            store,
        } => {
            let generated = secret.is_none();
            let secret = secret.unwrap_or_else(Endpoint::new_secret);
            let endpoint = Endpoint::new(
                &name,
                &url,
                &secret,
                events.as_deref(),
                allow_private,
                Origin::Cli,
            )
            .map_err(|e| anyhow::anyhow!(e))?;
            let (_, store) = open(store).await?;
            not_from_the_file(store.as_ref(), &name, "change it there").await?;
            store.put_endpoint(&endpoint).await?;
            if generated {
                print([secret])
            } else {
                print([format!("webhook {name} stored")])
            }
        }
        WebhooksCommand::Remove { name, store } => {
            let (_, store) = open(store).await?;
            not_from_the_file(
                store.as_ref(),
                &name,
                "remove it there (it goes at the next start)",
            )
            .await?;
            anyhow::ensure!(store.remove_endpoint(&name).await?, "no webhook {name}");
            print([format!("webhook {name} removed")])
        }
        WebhooksCommand::List { store } => {
            let (_, store) = open(store).await?;
            let endpoints = store.endpoints().await?;
            let backlog = store.backlog().await?;
            print(endpoints.into_iter().map(|e| {
                let events = match &e.events {
                    None => "*".to_owned(),
                    Some(list) => list
                        .iter()
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>()
                        .join(","),
                };
                let (pending, failed) = backlog
                    .iter()
                    .find(|b| b.endpoint == e.name)
                    .map_or((0, 0), |b| (b.pending, b.failed));
                let private = if e.allow_private {
                    "private allowed"
                } else {
                    "public only"
                };
                let origin = match e.origin {
                    Origin::File => "settings file",
                    Origin::Cli => "cli",
                };
                format!(
                    "{}\t{}\t{events}\t{private}\t{origin}\t{pending} pending\t{failed} failed",
                    e.name, e.url
                )
            }))
        }
        WebhooksCommand::Failed { endpoint, store } => {
            let (_, store) = open(store).await?;
            let failed = store.failed_deliveries(endpoint.as_deref()).await?;
            print(failed.into_iter().map(|d| {
                format!(
                    "{}\t{}\t{}\t{} attempts\t{}",
                    d.endpoint,
                    d.event_id,
                    d.kind,
                    d.attempts,
                    d.last_error.unwrap_or_default()
                )
            }))
        }
        WebhooksCommand::Retry { endpoint, store } => {
            let (_, store) = open(store).await?;
            let n = store.retry_failed(endpoint.as_deref()).await?;
            print([format!("{n} failed events pending again")])
        }
    }
}
