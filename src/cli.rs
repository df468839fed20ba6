//! Command line: `roomcast serve` and its flags, each with an environment variable.

use std::net::SocketAddr;

use clap::{Args, Parser, Subcommand};

use crate::config::Settings;

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
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on; port 0 picks a free port (the address is printed on start).
    #[arg(long, env = "ROOMCAST_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,

    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB (created or
    /// migrated on start). Several nodes share one PostgreSQL database.
    #[arg(
        long,
        env = "ROOMCAST_DATABASE",
        default_value = "sqlite://roomcast.db"
    )]
    pub database: String,

    /// Redis URL (redis://HOST:PORT): nodes on the same Redis and database act
    /// as one server (PROTOCOL §7).
    #[arg(long, env = "ROOMCAST_REDIS")]
    pub redis: Option<String>,

    /// HS256 secret that signs and checks JWTs. When absent, a random secret is
    /// generated once and kept in the database, so tokens survive restarts.
    #[arg(long, env = "ROOMCAST_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// Refuse `join` of a room that does not exist (`not_found`) instead of creating it.
    #[arg(long, env = "ROOMCAST_NO_AUTO_CREATE")]
    pub no_auto_create: bool,

    /// Refuse `POST /api/register`: only existing accounts and JWTs can connect.
    #[arg(long, env = "ROOMCAST_NO_REGISTRATION")]
    pub no_registration: bool,

    /// Lifetime in seconds of the JWTs and session cookies that login issues.
    #[arg(long, env = "ROOMCAST_SESSION_TTL", default_value_t = 7 * 24 * 3600)]
    pub session_ttl: u64,

    /// Packets that may wait for one slow client before it is disconnected
    /// (it then reconnects and replays what it missed with `join {since}`).
    #[arg(long, env = "ROOMCAST_SOCKET_BUFFER", default_value_t = 8192,
          value_parser = clap::value_parser!(u32).range(16..=1_000_000))]
    pub socket_buffer: u32,
}

impl From<ServeArgs> for Settings {
    fn from(a: ServeArgs) -> Self {
        Settings {
            listen: a.listen,
            database: a.database,
            redis: a.redis,
            jwt_secret: a.jwt_secret.map(crate::config::Secret),
            auto_create: !a.no_auto_create,
            registration: !a.no_registration,
            session_ttl_secs: a.session_ttl,
            socket_buffer: a.socket_buffer as usize,
        }
    }
}
