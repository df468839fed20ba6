//! The README's backend examples, run as they are: `examples/backend_post.py`
//! and the curl line with a token from `roomcast token`, against the real
//! `roomcast` binary.

use serde_json::json;
use tokio::process::Command;

use crate::examples::{Output, Roomcast, examples, python, roomcast, run};
use crate::helpers::*;

/// `examples/backend_post.py`: its message reaches a socket in the room as
/// a chat from "Deploy bot", with the id it printed; a room nobody made is
/// refused with the contract's error, and the script exits non-zero. Then
/// the README's curl line, with the token `roomcast token` makes, does the same.
async fn the_backend_post_example_reaches_the_room(backend: Backend) {
    let rc = roomcast(backend, None).await;
    let mut listener = TestClient::connect(&rc.url, Connect::token(token("listener", None)))
        .await
        .expect("connect");
    listener.join("general").await;
    let post = |room: &'static str| {
        let url = rc.url.clone();
        async move {
            run(Command::new(python().await)
                .arg(examples().join("backend_post.py"))
                .args([url.as_str(), room, "deploy finished"])
                .env("ROOMCAST_JWT_SECRET", SECRET))
            .await
        }
    };
    let posted = post("general").await;
    assert!(
        posted.ok,
        "backend_post.py failed:\n{}{}",
        posted.stdout, posted.stderr
    );
    let chat = listener.next("chat").await;
    assert_eq!(chat["user"]["name"], "Deploy bot");
    assert_eq!(chat["user"]["id"], "deploy-bot");
    assert_eq!(chat["message"], "deploy finished");
    assert_eq!(
        posted.stdout,
        format!("posted message {} to general\n", chat["id"])
    );

    let refused = post("nowhere").await;
    assert!(
        !refused.ok && refused.stdout.is_empty(),
        "{}",
        refused.stdout
    );
    assert!(
        refused.stderr.starts_with("refused: 404 not_found: "),
        "{}",
        refused.stderr
    );
    listener.none_before_ack("chat").await;

    let curled = readme_curl_post(&rc).await;
    assert!(curled.ok, "the README's curl failed: {}", curled.stderr);
    let chat = listener.next("chat").await;
    assert_eq!(
        (&chat["user"]["name"], &chat["message"]),
        (&json!("Deploy bot"), &json!("deploy finished"))
    );
    let answer: serde_json::Value = serde_json::from_str(&curled.stdout).expect("201 Message");
    assert_eq!(answer["id"], chat["id"]);
}

/// The README's curl line for a backend, with the token it names
/// (`roomcast token ...`) and this server's address for `localhost:3000`.
async fn readme_curl_post(rc: &Roomcast) -> Output {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let line = "With curl and a token from `roomcast token ";
    let after = readme
        .split(line)
        .nth(1)
        .expect("the README's curl example");
    let (args, rest) = after.split_once('`').expect("the token command");
    let curl = rest
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("the curl block");
    let args: Vec<String> = format!(" {args}")
        .split(" --")
        .skip(1)
        .flat_map(|a| {
            let (flag, value) = a.split_once(' ').unwrap_or((a, ""));
            [format!("--{flag}"), value.trim_matches('"').to_owned()]
        })
        .collect();
    let token = run(rc.command().arg("token").args(&args)).await;
    assert!(token.ok, "roomcast token {args:?}: {}", token.stderr);
    let addr = rc.url.trim_start_matches("http://");
    run(Command::new("sh")
        .args(["-c", &curl.replace("localhost:3000", addr)])
        .env("TOKEN", token.stdout.trim()))
    .await
}

crate::on_both_backends!(the_backend_post_example_reaches_the_room);
