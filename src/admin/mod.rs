//! `roomcast user|room|message|token`: administration straight on the database the
//! server uses (SQLite in WAL mode lets it run beside a live server).

mod keys;
mod messages;
mod rooms;
mod users;
mod webhooks;

use std::io::Write;
use std::sync::Arc;

use crate::auth::Auth;
use crate::cli::{BackupArgs, StoreArgs, TokenArgs};
use crate::config::Settings;
use crate::domain::{RoomName, User};
use crate::store::{self, Admin};

pub use keys::key;
pub use messages::message;
pub use rooms::room;
pub use users::user;
pub use webhooks::webhooks;

/// The settings and store the admin flags (or the environment, or the config
/// file) name. Says on stderr which database that is: with several servers
/// or directories around, a command run against the wrong one must show it.
async fn open(args: StoreArgs) -> anyhow::Result<(Settings, Arc<dyn Admin>)> {
    let settings = settings_of(args)?;
    let store = store::open_admin(&settings.database, settings.sqlite_sync).await?;
    Ok((settings, store))
}

/// The settings the admin flags name, after saying on stderr which database that is.
fn settings_of(args: StoreArgs) -> anyhow::Result<Settings> {
    let settings = Settings::load(args.into())?;
    let mut err = std::io::stderr().lock();
    writeln!(
        err,
        "roomcast: database {}",
        store::describe(&settings.database)
    )?;
    Ok(settings)
}

/// Writes `lines` to stdout.
fn print(lines: impl IntoIterator<Item = String>) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    for line in lines {
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    Ok(())
}

/// `roomcast backup FILE`: a consistent copy of a live SQLite database.
pub async fn backup(args: BackupArgs) -> anyhow::Result<()> {
    let settings = settings_of(args.store)?;
    store::backup(&settings.database, &args.file).await?;
    print([format!("backup written to {}", args.file.display())])
}

/// `roomcast token`: prints a JWT signed with the server's secret.
pub async fn token(args: TokenArgs) -> anyhow::Result<()> {
    let (settings, store) = open(args.store).await?;
    anyhow::ensure!(!args.sub.is_empty(), "--sub must not be empty");
    // Such a token would be refused: an `acct:` subject is a built-in
    // account, proven only by a login session (docs/protocol.md §2).
    anyhow::ensure!(
        !crate::domain::is_account_id(&args.sub),
        "--sub {:?} is a built-in account's id ({}...): accounts get their tokens from POST /api/login",
        args.sub,
        crate::domain::ACCOUNT_PREFIX
    );
    anyhow::ensure!(
        !args.sub.starts_with(crate::domain::BOT_PREFIX),
        "--sub {:?} is an API key's bot ({}...): bots authenticate with `roomcast key create`",
        args.sub,
        crate::domain::BOT_PREFIX
    );
    anyhow::ensure!(args.ttl > 0, "--ttl must be at least 1 second");
    for room in &args.rooms {
        RoomName::parse(room).map_err(|e| anyhow::anyhow!("--rooms: {e}"))?;
    }
    let auth = Auth::new(&settings, store).await?;
    let name = args.name.unwrap_or_else(|| args.sub.clone());
    let user = User::new(args.sub, name);
    let rooms = (!args.rooms.is_empty()).then_some(args.rooms);
    print([auth.keys().issue(&user, args.ttl, rooms, None)])
}
