//! `scripts/test-services`, the first half of the README's test command:
//! it finds what the tests need here, and pointed at a PostgreSQL that does
//! not answer it stops at once, naming it. Run with `--check`, so that a
//! test never installs, starts or `npm ci`s anything (other tests use
//! those node_modules).

use std::time::{Duration, Instant};

use tokio::process::Command;

use crate::helpers::WAIT;

/// `scripts/test-services --check` with `ROOMCAST_TEST_POSTGRES=postgres`:
/// did it succeed, its stderr, and how long it took.
async fn test_services(postgres: &str) -> (bool, String, Duration) {
    let mut cmd = Command::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scripts/test-services"
    ));
    cmd.arg("--check").env("ROOMCAST_TEST_POSTGRES", postgres);
    let started = Instant::now();
    let out = tokio::time::timeout(WAIT * 6, cmd.kill_on_drop(true).output())
        .await
        .expect("scripts/test-services finished")
        .expect("run scripts/test-services");
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.success(), said, started.elapsed())
}

#[tokio::test]
async fn test_services_finds_everything_here_and_names_a_postgres_that_does_not_answer() {
    let (ok, said, _) = test_services(&crate::pg::admin_url()).await;
    assert!(ok, "{said}");
    assert!(said.starts_with("scripts/test-services: ready: "), "{said}");

    // Port 1: nothing listens there, and the script must not try to start it.
    let url = "postgres://postgres@127.0.0.1:1/test";
    let (ok, said, took) = test_services(url).await;
    assert!(!ok, "{said}");
    assert_eq!(
        said.trim_end(),
        format!(
            "scripts/test-services: PostgreSQL does not answer at ROOMCAST_TEST_POSTGRES={url}"
        )
    );
    assert!(took < Duration::from_secs(10), "took {took:?}");
}
