//! `deploy/roomcast.service`: systemd accepts it, and its `ExecStart` line
//! starts roomcast and stops it cleanly on the unit's `KillSignal`.

use std::path::Path;
use std::time::Duration;

use crate::helpers::*;

/// The unit as shipped.
fn unit() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/roomcast.service");
    std::fs::read_to_string(path).expect("deploy/roomcast.service")
}

/// The value of the unit's `KEY=` line.
fn setting<'a>(unit: &'a str, key: &str) -> &'a str {
    unit.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("{key}= in the unit"))
}

#[tokio::test]
async fn systemd_accepts_the_unit() {
    let unit = unit();
    // `verify` wants the binary to exist: the one this test built.
    let installed = setting(&unit, "ExecStart")
        .split_whitespace()
        .next()
        .expect("a command");
    let dir = tempfile::tempdir().expect("dir");
    let copy = dir.path().join("roomcast.service");
    std::fs::write(
        &copy,
        unit.replace(installed, env!("CARGO_BIN_EXE_roomcast")),
    )
    .expect("write unit");
    let out = tokio::process::Command::new("systemd-analyze")
        .arg("verify")
        .arg(&copy)
        .output()
        .await
        .expect("systemd-analyze (Debian package systemd) runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "systemd-analyze verify: {stderr}");
    assert!(stderr.trim().is_empty(), "warnings: {stderr}");
}

#[tokio::test]
async fn the_units_command_line_serves_and_stops_on_its_kill_signal() {
    let unit = unit();
    assert_eq!(setting(&unit, "KillSignal"), "SIGTERM");
    let stop_within: u64 = setting(&unit, "TimeoutStopSec").parse().expect("seconds");
    let mut args: Vec<String> = setting(&unit, "ExecStart")
        .split_whitespace()
        .skip(1)
        .map(str::to_owned)
        .collect();
    // The unit's config file, written here with a test's settings.
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("roomcast.toml");
    let database = format!("sqlite://{}", dir.path().join("roomcast.db").display());
    std::fs::write(
        &config,
        format!("listen = \"127.0.0.1:0\"\ndatabase = \"{database}\"\njwt-secret = \"{SECRET}\"\n"),
    )
    .expect("write config");
    let at = args
        .iter()
        .position(|a| a == "--config")
        .expect("the unit names a --config");
    args[at + 1] = config.display().to_string();
    let (mut server, addr) = start_roomcast(
        roomcast_command()
            .args(&args)
            .env_remove("ROOMCAST_DATABASE")
            .env_remove("ROOMCAST_LISTEN"),
    )
    .await;
    let health = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .expect("healthz");
    assert_eq!(health.status(), 200);
    sigterm(&server);
    let exit = tokio::time::timeout(Duration::from_secs(stop_within), server.wait())
        .await
        .expect("stopped within TimeoutStopSec")
        .expect("exit status");
    assert!(exit.success(), "graceful exit: {exit}");
}
