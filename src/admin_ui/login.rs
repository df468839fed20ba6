//! Who may open a dashboard: an admin account's username and password,
//! checked with the HTTP login's password verification and limits, or the
//! session an earlier login opened; from an origin the pages allow.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::ConnectInfo;
use serde_json::Value;
use socketioxide::socket::DisconnectReason;

use super::{Dashboard, Options, actions};
use crate::cluster::Sock;
use crate::domain::{User, Username, now_ms};
use crate::error::AppError;
use crate::protocol::admin_ui::AdminAuth;
use crate::state::Ctx;
use crate::telemetry::Quoted;

/// The connect middleware of `/admin`: refuses anyone but an admin, and
/// registers the dashboard's actions before CONNECT is answered (so an
/// action sent right after it finds them).
pub(super) async fn admit(
    ctx: Arc<Ctx>,
    options: Arc<Options>,
    s: Sock,
    auth: Option<Value>,
) -> Result<(), AppError> {
    let (user, session) = identify(&ctx, &options, &s, auth)
        .await
        .inspect_err(|e| ctx.refusals.refused(&s.id, None, e))?;
    tracing::info!(sid = %s.id, user = %Quoted(&user.id), "admin ui connected");
    let connected_at = now_ms();
    ctx.monitor.connected(&s, Some(&user), connected_at);
    s.extensions.insert(Arc::new(Dashboard {
        user,
        session,
        connected_at,
    }));
    actions::register(&ctx, &options, &s);
    let c = ctx.clone();
    s.on_disconnect(move |s: Sock, reason: DisconnectReason| {
        let ctx = c.clone();
        async move { ctx.monitor.disconnected(&s, reason) }
    });
    Ok(())
}

async fn identify(
    ctx: &Ctx,
    options: &Options,
    s: &Sock,
    auth: Option<Value>,
) -> Result<(User, Option<String>), AppError> {
    if ctx.gate.is_closing() {
        return Err(AppError::Unavailable("server is shutting down".into()));
    }
    if !ctx.origins.allows(&s.req_parts().headers) {
        return Err(AppError::Forbidden("origin not allowed".into()));
    }
    match AdminAuth::parse(auth) {
        AdminAuth::Password { username, password } => {
            let answer = password_login(ctx, options, s, &username, &password).await;
            ctx.metrics.login(answer.as_ref().err().map(AppError::code));
            let (user, session) = answer?;
            Ok((user, Some(session)))
        }
        AdminAuth::Session(token) => Ok((ctx.auth.admin_session(&token).await?, None)),
        AdminAuth::None => Err(AppError::Unauthorized("invalid credentials".into())),
    }
}

/// As `POST /api/login` does it (`http::api`): the same limits, in the same
/// order, then the password and the admin flag.
async fn password_login(
    ctx: &Ctx,
    options: &Options,
    s: &Sock,
    username: &str,
    password: &str,
) -> Result<(User, String), AppError> {
    let addr = client_addr(options, s);
    let Ok(name) = Username::parse(username) else {
        ctx.limits.invalid_login(addr)?;
        return Err(AppError::Unauthorized("invalid credentials".into()));
    };
    ctx.limits.login(&name, addr).await?;
    let _hashing = ctx.limits.passwords.login().await?;
    ctx.auth.admin_login(name.as_str(), password).await
}

/// The client's address as the HTTP routes see it (trusted proxies' word
/// believed, nobody else's).
fn client_addr(options: &Options, s: &Sock) -> Option<IpAddr> {
    let parts = s.req_parts();
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>()?.0.ip();
    Some(options.edge.client_addr(peer, &parts.headers))
}
