//! `roomcast user add|passwd|list|disable|enable|promote|demote`.

use std::io::{BufRead, IsTerminal};

use anyhow::Context;

use super::{open, print};
use crate::auth::Auth;
use crate::cli::UserCommand;
use crate::store::StoreError;

pub async fn user(cmd: UserCommand) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Add {
            username,
            admin,
            store,
        } => {
            let (settings, store) = open(store).await?;
            let password = read_password()?;
            let auth = Auth::new(&settings, store.clone()).await?;
            let user = auth.create_account(&username, &password).await?;
            if admin {
                store.set_admin(&user.id, true).await?;
                return print([format!("created user {} (admin)", user.id)]);
            }
            print([format!("created user {}", user.id)])
        }
        UserCommand::Passwd { username, store } => {
            let (settings, store) = open(store).await?;
            let password = read_password()?;
            let auth = Auth::new(&settings, store.clone()).await?;
            auth.set_password(store.as_ref(), &username, &password)
                .await?;
            print([format!("password of {username} changed")])
        }
        UserCommand::List { store } => {
            let (_, store) = open(store).await?;
            let users = store.users().await?;
            let app = store.app_users().await?;
            let accounts = users.into_iter().map(|a| {
                let state = if a.disabled { "disabled" } else { "active" };
                let admin = if a.admin { "\tadmin" } else { "" };
                format!("{}\t{}\t{state}{admin}", a.user.id, a.user.name)
            });
            // Users of the app, known from their first connect.
            let app = app.into_iter().map(|a| {
                let state = if a.disabled { "disabled" } else { "active" };
                format!("{}\t{}\t{state}\tapp", a.user.id, a.user.name)
            });
            print(accounts.chain(app))
        }
        UserCommand::Disable {
            username,
            app: true,
            store,
        } => set_app_disabled(username, store, true).await,
        UserCommand::Enable {
            username,
            app: true,
            store,
        } => set_app_disabled(username, store, false).await,
        UserCommand::Disable {
            username, store, ..
        } => set_disabled(username, store, true).await,
        UserCommand::Enable {
            username, store, ..
        } => set_disabled(username, store, false).await,
        UserCommand::Promote { username, store } => set_admin(username, store, true).await,
        UserCommand::Demote { username, store } => set_admin(username, store, false).await,
    }
}

async fn set_admin(
    username: String,
    store: crate::cli::StoreArgs,
    admin: bool,
) -> anyhow::Result<()> {
    let (_, store) = open(store).await?;
    let Some(id) = crate::auth::account_id(&username) else {
        anyhow::bail!("no user {username}");
    };
    match store.set_admin(&id, admin).await {
        Ok(()) => {
            let state = if admin { "may" } else { "may no longer" };
            print([format!("user {username} {state} use the Admin UI")])
        }
        Err(StoreError::NotFound) => anyhow::bail!("no user {username}"),
        Err(e) => Err(e.into()),
    }
}

async fn set_disabled(
    username: String,
    store: crate::cli::StoreArgs,
    disabled: bool,
) -> anyhow::Result<()> {
    let (_, store) = open(store).await?;
    let Some(id) = crate::auth::account_id(&username) else {
        anyhow::bail!("no user {username}");
    };
    match store.set_disabled(&id, disabled).await {
        Ok(()) => {
            let state = if disabled { "disabled" } else { "enabled" };
            print([format!("user {username} {state}")])
        }
        Err(StoreError::NotFound) => anyhow::bail!("no user {username}"),
        Err(e) => Err(e.into()),
    }
}

/// `user disable|enable --app SUB`: a user of the app, by its JWT `sub`.
async fn set_app_disabled(
    sub: String,
    store: crate::cli::StoreArgs,
    disabled: bool,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        !sub.is_empty()
            && !crate::domain::is_account_id(&sub)
            && !sub.starts_with(crate::domain::BOT_PREFIX),
        "--app takes the sub of your app's JWTs (not an acct: account or a bot: key)"
    );
    let (_, store) = open(store).await?;
    match store.set_app_disabled(&sub, disabled).await {
        Ok(()) => {
            let state = if disabled { "disabled" } else { "enabled" };
            print([format!("app user {sub} {state}")])
        }
        Err(StoreError::NotFound) => anyhow::bail!("no app user {sub}"),
        Err(e) => Err(e.into()),
    }
}

/// A password from a prompt (typed twice, not echoed) on a terminal, else
/// the first line of stdin: never from the command line, where other users
/// of the machine could read it.
fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Again: ")?;
        anyhow::ensure!(first == again, "the passwords differ");
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from stdin")?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    anyhow::ensure!(!password.is_empty(), "no password on stdin");
    Ok(password)
}
