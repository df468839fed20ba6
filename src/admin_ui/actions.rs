//! What a dashboard asks for: `join`, `leave`, `_disconnect` and (only with
//! `--admin-ui-emit`) `emit`, for one socket, a room's sockets or a whole
//! namespace, on every node; and the list of sockets `all_sockets` shows.
//!
//! The dashboard sends them without an ack; one that asks for an ack gets
//! `{ok: true}` or the refusal, as the chat events do. Joins and leaves made
//! here change only who is in the room (no `join`/`leave` notice, no
//! membership): the room's history and access rules are the chat's.

use std::sync::Arc;

use serde::ser::{Serialize, SerializeTuple, Serializer};
use serde_json::Value;
use socketioxide::extract::{AckSender, Event, TryData};
use socketioxide::socket::{RemoteSocket, Sid};

use super::{Options, dashboard};
use crate::cluster::{Adapter, Sock};
use crate::error::AppError;
use crate::monitor::describe;
use crate::protocol::admin_ui::{
    ActionArgs, AdminEvent, DisconnectAction, EmitAction, Filter, RoomAction, SerializedSocket,
};
use crate::protocol::{Ack, Done};
use crate::realtime;
use crate::state::Ctx;

type Operators = socketioxide::operators::BroadcastOperators<Adapter>;

/// Every event of a dashboard goes through [`handle`], known or not, so one
/// that asks for an ack always gets an answer.
pub(super) fn register(ctx: &Arc<Ctx>, options: &Arc<Options>, s: &Sock) {
    let (ctx, options) = (ctx.clone(), options.clone());
    s.on_fallback(
        move |s: Sock,
              Event(event): Event,
              TryData(args): TryData<ActionArgs>,
              ack: AckSender<Adapter>| {
            let (ctx, options) = (ctx.clone(), options.clone());
            async move {
                let args = args.unwrap_or_default();
                let answer = handle(&ctx, &options, &s, &event, args).await;
                if let Err(e) = &answer {
                    tracing::info!(sid = %s.id, event, error = %e, "admin ui action refused");
                }
                let _ = match answer {
                    Ok(done) => ack.send(&Ack::ok(done)),
                    Err(e) => ack.send(&e.to_ack()),
                };
            }
        },
    );
}

async fn handle(
    ctx: &Ctx,
    options: &Options,
    s: &Sock,
    event: &str,
    args: ActionArgs,
) -> Result<Done, AppError> {
    let who = dashboard(s).map(|(u, _)| u.id).unwrap_or_default();
    match AdminEvent::parse(event)? {
        AdminEvent::Join => {
            let a = RoomAction::parse(args)?;
            let room = a.room.to_string();
            for target in targets(ctx, &a.nsp, a.filter).await? {
                let id = target.data().id.to_string();
                target.join(room.clone()).await.map_err(unreachable)?;
                ctx.monitor.joined(&a.nsp, &room, &id);
            }
            tracing::info!(admin = %who, nsp = a.nsp, room, "admin ui: join");
        }
        AdminEvent::Leave => {
            let a = RoomAction::parse(args)?;
            let room = a.room.to_string();
            for target in targets(ctx, &a.nsp, a.filter).await? {
                let id = target.data().id.to_string();
                target.leave(room.clone()).await.map_err(unreachable)?;
                ctx.monitor.left(&a.nsp, &room, &id);
            }
            tracing::info!(admin = %who, nsp = a.nsp, room, "admin ui: leave");
        }
        AdminEvent::Disconnect => {
            let a = DisconnectAction::parse(args)?;
            let targets = targets(ctx, &a.nsp, a.filter).await?;
            tracing::info!(admin = %who, nsp = a.nsp, count = targets.len(), "admin ui: disconnect");
            for target in targets {
                // A socket gone meanwhile is what was asked for.
                let _ = target.disconnect().await;
            }
        }
        AdminEvent::Emit => {
            if !options.emit {
                return Err(AppError::Forbidden(
                    "emitting from the Admin UI is off (--admin-ui-emit turns it on)".into(),
                ));
            }
            let a = EmitAction::parse(args)?;
            tracing::info!(admin = %who, nsp = a.nsp, event = a.event, "admin ui: emit");
            for target in targets(ctx, &a.nsp, a.filter).await? {
                target
                    .emit(&a.event, &Spread(&a.args))
                    .await
                    .map_err(unreachable)?;
            }
        }
    }
    Ok(Done {})
}

fn unreachable<E: std::fmt::Display>(e: E) -> AppError {
    tracing::warn!(error = %e, "admin ui action did not reach every node");
    AppError::Unavailable("not every node could be reached".into())
}

fn namespace(ctx: &Ctx, nsp: &str) -> Result<Operators, AppError> {
    ctx.io
        .of(nsp)
        .ok_or_else(|| AppError::NotFound(format!("no namespace {nsp}")))
}

/// The sockets, on any node, that `filter` names in `nsp`: the one whose id
/// it is, else those in the room of that name; all without a filter.
async fn targets(
    ctx: &Ctx,
    nsp: &str,
    filter: Filter,
) -> Result<Vec<RemoteSocket<Adapter>>, AppError> {
    let ns = namespace(ctx, nsp)?;
    let Some(filter) = filter else {
        return ns.fetch_sockets().await.map_err(unreachable);
    };
    if let Ok(sid) = filter.parse::<Sid>() {
        let all = ns.clone().fetch_sockets().await.map_err(unreachable)?;
        let one: Vec<_> = all.into_iter().filter(|r| r.data().id == sid).collect();
        if !one.is_empty() {
            return Ok(one);
        }
    }
    ns.within(filter).fetch_sockets().await.map_err(unreachable)
}

/// `all_sockets`: this node's sockets of every namespace, described in
/// full. Other nodes' sockets reach the dashboard as they connect
/// (`socket_connected`, which every node broadcasts).
pub(super) async fn all_sockets(ctx: &Ctx) -> Vec<SerializedSocket> {
    let mut all = Vec::new();
    for ns in ctx.io.nsps() {
        for s in ns.local().sockets() {
            let known = realtime::who(&s).or_else(|| dashboard(&s));
            if let Some((user, at)) = known {
                all.push(describe(&s, Some(&user), at));
            }
        }
    }
    all
}

/// An emit's arguments as separate Socket.IO arguments (a tuple is what
/// socketioxide spreads), not as one array.
struct Spread<'a>(&'a [Value]);

impl Serialize for Spread<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut t = serializer.serialize_tuple(self.0.len())?;
        for v in self.0 {
            t.serialize_element(v)?;
        }
        t.end()
    }
}
