//! The state every request and socket shares, assembled once by `app::build`
//! and borrowed by `realtime`, `http` and `web`, which do not import each other.

use std::sync::Arc;

use crate::auth::{Auth, Origins};
use crate::cluster::{Bus, Crowds, Io};
use crate::files::Files;
use crate::limits::Limits;
use crate::metrics::Metrics;
use crate::monitor::Monitor;
use crate::rooms::Enlister;
use crate::shutdown::Gate;
use crate::store::{Store, Writer};
use crate::telemetry::RefusalLog;

/// The shared state. Each piece has one owner inside it: the store owns the
/// data, the writer the order of appends, the adapter (`io`, `bus`) who is
/// where, `limits` the rate and connection counters.
pub struct Ctx {
    pub io: Io,
    /// The adapter's pub/sub, for health checks.
    pub bus: Bus,
    pub store: Arc<dyn Store>,
    pub writer: Writer,
    /// Uploads' bytes, their limits and the work on them.
    pub files: Arc<Files>,
    pub auth: Auth,
    /// First joins into users' lists of rooms, batched.
    pub enlister: Enlister,
    /// `join` of a missing room creates it (`--no-auto-create` turns it off).
    pub auto_create: bool,
    /// The most users a `join` ack names (`--online-names`).
    pub online_names: usize,
    /// Big rooms' joins and leaves, coalesced (`--presence-batch-above`).
    pub crowds: Arc<Crowds>,
    pub limits: Arc<Limits>,
    /// Closed by graceful shutdown (see `app::App::run`).
    pub gate: Gate,
    pub metrics: Arc<Metrics>,
    /// Browser origins allowed besides the server's own.
    pub origins: Origins,
    /// What the Admin UI is told as it happens (counts, and the streams in
    /// development mode).
    pub monitor: Monitor,
    /// The log of refused connections, rate-limited (per node: it only
    /// spares this node's log).
    pub refusals: RefusalLog,
}

/// What handlers hold: the state is built once and never replaced.
pub type Shared = Arc<Ctx>;
