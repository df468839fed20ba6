//! Command line: `roomcast serve` (its flags are `config::ServeArgs`) and the
//! administration commands `user`, `room`, `message`, `token`, `key`,
//! `webhooks` and `backup`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::ServeArgs;

/// roomcast: a self-hosted real-time rooms server speaking Socket.IO v5,
/// with users, private rooms and durable history.
#[derive(Debug, Parser)]
#[command(name = "roomcast", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (Socket.IO at /socket.io/, HTTP API at /api).
    // Boxed: the settings are most of the enum, and only `serve` has them.
    Serve(Box<ServeArgs>),
    /// Manage built-in accounts, directly in the database.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage rooms, directly in the database.
    #[command(subcommand)]
    Room(RoomCommand),
    /// Moderate stored messages, directly in the database.
    #[command(subcommand)]
    Message(MessageCommand),
    /// Print a JWT signed with the server's secret, for apps that connect
    /// users without writing JWT code.
    Token(TokenArgs),
    /// Manage the API keys of bots and backends, directly in the database.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Manage webhook endpoints and what they are owed, directly in the database.
    #[command(subcommand)]
    Webhooks(WebhooksCommand),
    /// Copy a SQLite database, consistently, while the server runs (for
    /// PostgreSQL, use pg_dump).
    Backup(BackupArgs),
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Where to write the copy; it must not exist yet.
    pub file: PathBuf,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// Where the admin commands find the database and the secret: the same
/// flags, environment and config file as `serve`.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// TOML config file (as for `serve`).
    #[arg(long, env = "ROOMCAST_CONFIG")]
    pub config: Option<PathBuf>,
    /// Database URL. [default: sqlite://roomcast.db]
    #[arg(long, env = "ROOMCAST_DATABASE")]
    pub database: Option<String>,
    /// JWT secret; when absent, the one kept in the database.
    #[arg(long, env = "ROOMCAST_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
}

impl From<StoreArgs> for ServeArgs {
    fn from(a: StoreArgs) -> Self {
        ServeArgs {
            config: a.config,
            database: a.database,
            jwt_secret: a.jwt_secret,
            ..ServeArgs::default()
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account; the password is read from stdin (or prompted for on a terminal).
    Add {
        username: String,
        /// Let the account log into the Socket.IO Admin UI at /admin/.
        #[arg(long)]
        admin: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Set an account's password, read from stdin (or prompted for).
    Passwd {
        username: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List accounts: id, name, active or disabled, and `admin` for those
    /// who may use the Admin UI.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Disable an account: it can no longer log in or connect (JWTs with
    /// its id included), and its sessions end. With --app, a user of your
    /// app: its JWTs are refused from the next connect or request on.
    /// Sockets already connected stay until they disconnect.
    Disable {
        username: String,
        /// USERNAME is a user of your app (the `sub` of its JWTs), known
        /// from its first connect or not yet.
        #[arg(long)]
        app: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Enable a disabled account (or, with --app, app user) again.
    Enable {
        username: String,
        #[arg(long)]
        app: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Let an account log into the Socket.IO Admin UI at /admin/.
    Promote {
        username: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Take the Admin UI away from an account. Dashboards already
    /// connected with it stay until they disconnect.
    Demote {
        username: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum RoomCommand {
    /// List rooms: name, visibility, owner.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Create a room.
    Create {
        name: String,
        /// The owner (who manages members of a private room): a built-in
        /// account, as `ann` or `acct:ann`, which must exist.
        #[arg(
            long,
            required_unless_present = "app_owner",
            conflicts_with = "app_owner"
        )]
        owner: Option<String>,
        /// Instead of --owner: a user of your app, as the `sub` of the JWTs
        /// it signs. Not checked: roomcast keeps no list of an app's users.
        #[arg(long, value_name = "SUB")]
        app_owner: Option<String>,
        /// Make it private: only the owner, invited members and tokens naming it.
        #[arg(long)]
        private: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Delete a room with its members and its whole history.
    Delete {
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Ban a user (a user id, as `acct:ann` or an app's `sub`) from a room,
    /// public or private, and remove their invitation. Sockets already in
    /// the room are refused at their next `chat`, and cannot join again.
    Ban {
        room: String,
        user: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Lift a user's ban from a room.
    Unban {
        room: String,
        user: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Mute a user in a room: they may read it but not post for N minutes.
    Mute {
        room: String,
        user: String,
        /// How long, 1 to 525,600 (a year).
        #[arg(long, value_parser = clap::value_parser!(i64).range(1..=525_600))]
        minutes: i64,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Lift a user's mute in a room.
    Unmute {
        room: String,
        user: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum MessageCommand {
    /// Delete a message: its text and reactions are removed from storage and
    /// a tombstone stays (deleted by `@admin`). Sockets in the room now are
    /// not told; they see the tombstone at their next join or history page.
    Delete {
        room: String,
        /// The message id.
        id: i64,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create a key and print it, once: only its SHA-256 is stored.
    Create {
        /// The key's name, and its bot's (user id `bot:NAME`): 1 to 32 of
        /// `A-Z a-z 0-9 _ - .`.
        #[arg(long)]
        name: String,
        /// Comma-separated rooms the key is limited to (and may enter when
        /// private). [default: every room]
        #[arg(long, value_delimiter = ',')]
        rooms: Vec<String>,
        /// Act as this user (an `acct:` account or an app user id) instead
        /// of as the bot.
        #[arg(long, value_name = "USER_ID")]
        as_user: Option<String>,
        /// Server scope: may act as any user over HTTP (`X-Roomcast-As`).
        #[arg(long)]
        server: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Revoke a key: refused from the next request on, and its open sockets
    /// disconnected within a second on every node.
    Revoke {
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List keys: name, user, rooms (`*` for all), scope, last use.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum WebhooksCommand {
    /// Add an endpoint (or replace one the CLI added) and print its secret;
    /// running servers send to it within a second.
    Add {
        /// 1 to 64 of `A-Z a-z 0-9 . - _`.
        #[arg(long)]
        name: String,
        /// http:// or https://.
        #[arg(long)]
        url: String,
        /// Comma-separated event types it receives. [default: every type]
        #[arg(long, value_delimiter = ',')]
        events: Option<Vec<String>>,
        /// May be sent to loopback and private addresses.
        #[arg(long)]
        allow_private: bool,
        /// `whsec_` and base64; read from ROOMCAST_WEBHOOK_SECRET. [default: a new random one]
        #[arg(long, env = "ROOMCAST_WEBHOOK_SECRET", hide_env_values = true)]
        secret: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Remove an endpoint added with `add`, and everything it is owed.
    Remove {
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List endpoints: name, url, events (`*` for all), private, origin,
    /// events pending and failed. Secrets are never shown.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List events kept as failed after their last attempt, oldest first.
    Failed {
        /// Only this endpoint's. [default: every endpoint's]
        #[arg(long)]
        endpoint: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Send failed events again (from a first attempt, in their order).
    Retry {
        /// Only this endpoint's. [default: every endpoint's]
        #[arg(long)]
        endpoint: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    /// User id (`sub` claim).
    #[arg(long)]
    pub sub: String,
    /// Display name (`name` claim). [default: the user id]
    #[arg(long)]
    pub name: Option<String>,
    /// Comma-separated private rooms the token may join (`rooms` claim).
    #[arg(long, value_delimiter = ',')]
    pub rooms: Vec<String>,
    /// Lifetime in seconds.
    #[arg(long, default_value_t = 3600)]
    pub ttl: u64,
    #[command(flatten)]
    pub store: StoreArgs,
}
