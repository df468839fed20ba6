//! Settings: defaults < config file < environment < flags, on the real binary.

use std::path::Path;

use serde_json::json;
use tokio::process::{Child, Command};

use crate::helpers::*;

/// Starts `roomcast serve` with `args` and `env`, returns it and its address.
async fn serve(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (Child, String) {
    let mut cmd = roomcast_command();
    cmd.arg("serve")
        .args(args)
        .current_dir(dir)
        .env_remove("ROOMCAST_NO_REGISTRATION")
        .env_remove("ROOMCAST_CONFIG")
        .envs(env.iter().copied());
    start_roomcast(&mut cmd).await
}

/// Kills `server` and waits until it is gone (and its database lock with it).
async fn stop(mut server: Child) {
    server.kill().await.expect("kill");
}

async fn register_status(addr: &str, user: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("http://{addr}/api/register"))
        .json(&json!({"username": user, "password": "correct horse"}))
        .send()
        .await
        .expect("register")
        .status()
        .as_u16()
}

#[tokio::test]
async fn the_file_sets_what_env_and_flags_leave_alone_and_they_override_it() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("roomcast.toml");
    std::fs::write(
        &file,
        "listen = \"127.0.0.1:0\"\ndatabase = \"sqlite://from-file.db\"\nno-registration = true\n",
    )
    .expect("write config");
    let config = file.to_str().expect("path");

    // File only: it picks the listen address, the database and closes registration.
    let (s, addr) = serve(dir.path(), &["--config", config], &[]).await;
    assert_eq!(register_status(&addr, "ann").await, 403);
    assert!(dir.path().join("from-file.db").exists());
    // One server per SQLite file: each stops before the next starts.
    stop(s).await;

    // The environment beats the file (and ROOMCAST_CONFIG names it).
    let env = [
        ("ROOMCAST_CONFIG", config),
        ("ROOMCAST_NO_REGISTRATION", "false"),
    ];
    let (s, addr) = serve(dir.path(), &[], &env).await;
    assert_eq!(register_status(&addr, "bob").await, 201);
    stop(s).await;

    // A flag beats the environment.
    let (_s, addr) = serve(dir.path(), &["--no-registration"], &env).await;
    assert_eq!(register_status(&addr, "cat").await, 403);
}

#[tokio::test]
async fn a_config_file_with_an_unknown_key_is_refused_by_name() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, "listen = \"127.0.0.1:0\"\nlisten-port = 80\n").expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_roomcast"))
        .args(["serve", "--config"])
        .arg(&file)
        .current_dir(dir.path())
        .output()
        .await
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("listen-port"), "{err}");
}

#[tokio::test]
async fn every_setting_in_the_readme_table_is_in_serve_help_and_back() {
    let out = Command::new(env!("CARGO_BIN_EXE_roomcast"))
        .args(["serve", "--help"])
        .output()
        .await
        .expect("help");
    let help = String::from_utf8_lossy(&out.stdout).to_string();
    let flag_words = |text: &str| -> Vec<String> {
        text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .filter(|w| w.starts_with("--") && w.len() > 2)
            .map(str::to_owned)
            .collect()
    };
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    let table: Vec<String> = readme
        .lines()
        .filter(|l| l.starts_with("| `--"))
        .flat_map(flag_words)
        .collect();
    let in_help: Vec<String> = flag_words(&help)
        .into_iter()
        .filter(|f| f != "--help")
        .collect();
    for flag in &in_help {
        assert!(
            table.contains(flag),
            "{flag} is missing from the README table"
        );
    }
    for flag in &table {
        assert!(
            in_help.contains(flag),
            "{flag} is in the README but not in serve --help"
        );
    }
}

/// The handshake's open packet (`0{...}`) of a new polling session at `addr`.
async fn open_packet(addr: &str) -> serde_json::Value {
    let body = reqwest::get(format!("http://{addr}/socket.io/?EIO=4&transport=polling"))
        .await
        .expect("handshake")
        .text()
        .await
        .expect("body");
    let json = body.strip_prefix('0').unwrap_or_else(|| panic!("{body:?}"));
    serde_json::from_str(json).expect("open packet JSON")
}

#[tokio::test]
async fn the_ping_settings_reach_the_handshake_and_default_to_nodes() {
    let dir = tempfile::tempdir().expect("dir");
    let (s, addr) = serve(dir.path(), &["--listen", "127.0.0.1:0"], &[]).await;
    let open = open_packet(&addr).await;
    assert_eq!(open["pingInterval"], 25000, "{open}");
    assert_eq!(open["pingTimeout"], 20000, "{open}");
    stop(s).await;

    let flags = ["--listen", "127.0.0.1:0", "--ping-interval", "1234"];
    let env = [("ROOMCAST_PING_TIMEOUT", "567")];
    let (_s, addr) = serve(dir.path(), &flags, &env).await;
    let open = open_packet(&addr).await;
    assert_eq!(open["pingInterval"], 1234, "{open}");
    assert_eq!(open["pingTimeout"], 567, "{open}");
}

/// Runs `roomcast serve` with `args` (and the config file `toml`, if any)
/// and returns its stderr; it must refuse to start.
async fn refused(args: &[&str], toml: Option<&str>) -> String {
    let dir = tempfile::tempdir().expect("dir");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_roomcast"));
    cmd.args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .current_dir(dir.path())
        .env_remove("ROOMCAST_CONFIG")
        .kill_on_drop(true);
    if let Some(text) = toml {
        let file = dir.path().join("timers.toml");
        std::fs::write(&file, text).expect("write config");
        cmd.arg("--config").arg(file);
    }
    // A server that did start would never exit: the deadline fails the test.
    let out = tokio::time::timeout(WAIT, cmd.output())
        .await
        .expect("roomcast exited")
        .expect("run");
    assert!(!out.status.success(), "started with {args:?} {toml:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test]
async fn zero_or_overflowing_timers_are_refused_at_start_by_name() {
    for flag in ["--ping-interval", "--ping-timeout", "--connect-timeout"] {
        let err = refused(&[flag, "0"], None).await;
        assert!(err.contains(flag), "{flag} 0: {err}");
        let err = refused(&[flag, "2147483648"], None).await;
        assert!(err.contains(flag), "{flag} 2^31: {err}");
    }
    let err = refused(&[], Some("connect-timeout = 0\n")).await;
    assert!(err.contains("connect-timeout must be 1 to"), "{err}");
    let err = refused(&[], Some("ping-interval = 9223372036854775807\n")).await;
    assert!(err.contains("ping-interval must be 1 to"), "{err}");
    // Each fits; their sum, the client's one timer, does not.
    let flags = [
        "--ping-interval",
        "2000000000",
        "--ping-timeout",
        "2000000000",
    ];
    let err = refused(&flags, None).await;
    assert!(err.contains("ping-interval + ping-timeout"), "{err}");
}
