//! The README's "Behind nginx with TLS": `deploy/nginx.conf` with its
//! `listen` line replaced by the README's TLS lines (a self-signed
//! certificate for 127.0.0.1 in place of the real one), in front of roomcast
//! run with `--trusted-proxies 127.0.0.1`: python-socketio chats over
//! HTTPS and WSS (its `Origin` naming the proxy's port, which nginx must
//! pass on in `Host`), and the session cookie a login sets is `Secure`.

use std::path::Path;
use std::process::Stdio;

use tokio::process::{Child, Command};

use crate::helpers::*;
use crate::nginx::{config, nginx_binary};
use crate::ports::{POLL, Start, on_a_free_port};

/// The README's ```nginx block, the certificate paths pointed at `dir`.
fn readme_tls_lines(port: u16, dir: &Path) -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let block = readme
        .split("```nginx\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the README's nginx block");
    block
        .lines()
        .map(|l| {
            let (key, _) = l.split_once(' ').unwrap_or((l, ""));
            match key {
                "listen" => {
                    assert_eq!(l, "listen 443 ssl;");
                    format!("listen 127.0.0.1:{port} ssl;")
                }
                "ssl_certificate" => format!("ssl_certificate {};", dir.join("cert.pem").display()),
                "ssl_certificate_key" => {
                    format!("ssl_certificate_key {};", dir.join("key.pem").display())
                }
                _ => l.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n        ")
}

/// A self-signed certificate for 127.0.0.1 in `dir` (cert.pem, key.pem).
async fn certificate(dir: &Path) {
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1"])
        .arg("-keyout")
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem"))
        .output()
        .await
        .expect("openssl (apt-get install openssl)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `curl` trusting only the test's certificate; returns the response head and body.
async fn curl(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("curl")
        .args(["-sS", "-i", "--max-time", "5", "--cacert"])
        .arg(dir.join("cert.pem"))
        .args(args)
        .output()
        .await
        .expect("curl");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// nginx with TLS on `port` in front of `upstream`: `Up` once its marker
/// answers over HTTPS, `Taken` once its log says the port is in use.
async fn start_on(dir: &Path, upstream: &str, port: u16) -> Start<Child> {
    let marker = format!("{:016x}", rand::random::<u64>());
    let plain = format!("listen 127.0.0.1:{port};");
    let conf = config(&[upstream], port, &marker).replace(&plain, &readme_tls_lines(port, dir));
    let conf_path = dir.join("nginx.conf");
    std::fs::write(&conf_path, conf).expect("write nginx.conf");
    let log = dir.join("error.log");
    let _ = std::fs::remove_file(&log);
    let mut child = Command::new(nginx_binary())
        .arg("-p")
        .arg(dir)
        .arg("-e")
        .arg(&log)
        .arg("-c")
        .arg(&conf_path)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("nginx (apt-get install nginx)");
    let probe = format!("https://127.0.0.1:{port}/.test-marker");
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let said = std::fs::read_to_string(&log).unwrap_or_default();
        if said.contains("Address already in use") {
            let _ = child.start_kill();
            let _ = child.wait().await;
            return Start::Taken;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("nginx exited ({status}): {said}");
        }
        if curl(dir, &[&probe]).await.ends_with(&marker) {
            return Start::Up(child);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "nginx did not start on {port}: {said}"
        );
        tokio::time::sleep(POLL).await;
    }
}

#[tokio::test]
async fn behind_nginx_with_tls_sockets_work_and_the_session_cookie_is_secure() {
    let dir = tempfile::tempdir().expect("dir");
    let prefix = dir.path().to_owned();
    std::fs::create_dir_all(prefix.join("tmp")).expect("tmp dir");
    certificate(&prefix).await;
    let (_node, addr) = start_roomcast(
        roomcast_command()
            .current_dir(&prefix)
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--trusted-proxies",
                "127.0.0.1",
            ])
            .env("ROOMCAST_JWT_SECRET", SECRET),
    )
    .await;
    let (port, _nginx) = on_a_free_port("nginx with TLS", async |port| {
        start_on(&prefix, &addr, port).await.map_up(|c| (port, c))
    })
    .await;
    let base = format!("https://127.0.0.1:{port}");

    // The session cookie over HTTPS through a trusted proxy is Secure, and
    // a write from a page of this origin (port included) is same-origin.
    let creds = r#"{"username":"tess","password":"correct horse"}"#;
    let origin = format!("origin: {base}");
    let json = [
        "-H",
        "content-type: application/json",
        "-H",
        &origin,
        "-d",
        creds,
    ];
    let registered = curl(
        &prefix,
        &[&[format!("{base}/api/register").as_str()], &json[..]].concat(),
    )
    .await;
    assert!(registered.starts_with("HTTP/1.1 201"), "{registered}");
    let login = curl(
        &prefix,
        &[&[format!("{base}/api/login").as_str()], &json[..]].concat(),
    )
    .await;
    assert!(login.starts_with("HTTP/1.1 200"), "{login}");
    let cookie = login
        .lines()
        .find(|l| {
            l.to_ascii_lowercase()
                .starts_with("set-cookie: roomcast_session=")
        })
        .unwrap_or_else(|| panic!("no session cookie: {login}"));
    assert!(cookie.contains("; Secure"), "{cookie}");

    // python-socketio on each transport, trusting the test's certificate
    // only: join, chat, its own broadcast, a refusal, a barrier.
    for transport in ["polling", "websocket"] {
        let stdout = sync_client_over_tls(&base, &prefix.join("cert.pem"), transport).await;
        assert!(
            stdout.contains(&format!("transport: {transport}")),
            "{stdout}"
        );
        assert!(
            stdout.contains("tls-user name: hello from Python"),
            "{stdout}"
        );
    }
}

/// `tests/py/sync_client.py` against `base` on `transport` alone; its stdout.
async fn sync_client_over_tls(base: &str, cert: &Path, transport: &str) -> String {
    let py = tokio::task::spawn_blocking(crate::py_client::python)
        .await
        .expect("venv");
    let out = Command::new(py)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/py/sync_client.py"
        ))
        .args([base, &token("tls-user", None), transport])
        .env("REQUESTS_CA_BUNDLE", cert)
        .env("SSL_CERT_FILE", cert)
        .env("WEBSOCKET_CLIENT_CA_BUNDLE", cert)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(WAIT * 3, out)
        .await
        .expect("the python client finished")
        .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() && stdout.trim_end().ends_with("OK"),
        "sync_client.py over TLS ({transport}) failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}
