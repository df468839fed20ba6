//! The README's deployment: `deploy/nginx.conf` run for real by Debian's
//! nginx in front of two nodes, with clients on polling (upgrading to
//! WebSocket) and WebSocket going through it.

use std::process::Stdio;

use rust_socketio::TransportType;
use tokio::process::{Child, Command};

use crate::cluster_support::*;
use crate::helpers::*;
use crate::ports::{POLL, Start, on_a_free_port};

/// nginx with `deploy/nginx.conf`, its listen port and upstreams rewritten,
/// as a child process with everything under a temporary prefix.
struct Nginx {
    port: u16,
    _child: Child,
    _prefix: tempfile::TempDir,
}

impl Nginx {
    async fn start(upstreams: &[&str]) -> Self {
        let prefix = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(prefix.path().join("tmp")).expect("tmp dir");
        let dir = prefix.path().to_owned();
        let (port, child) = on_a_free_port("nginx", async |port| {
            start_on(&dir, upstreams, port).await.map_up(|c| (port, c))
        })
        .await;
        Self {
            port,
            _child: child,
            _prefix: prefix,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }
}

/// `deploy/nginx.conf` for `upstreams`, listening on `port`, with one
/// extra location answering `marker`: only this nginx can say it.
pub(crate) fn config(upstreams: &[&str], port: u16, marker: &str) -> String {
    let conf = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/nginx.conf"))
        .expect("deploy/nginx.conf");
    let servers: String = upstreams
        .iter()
        .map(|a| format!("server {a};\n        "))
        .collect();
    conf.lines()
        .filter(|l| !l.trim_start().starts_with("server 127.0.0.1:300"))
        .map(|l| match l.trim() {
            "hash $remote_addr consistent;" => format!("{l}\n        {servers}"),
            "listen 127.0.0.1:8080;" => format!(
                "        listen 127.0.0.1:{port};\n        \
                 location = /.test-marker {{ return 200 \"{marker}\"; }}"
            ),
            // One process: killing it on drop leaves no orphaned workers.
            "daemon off;" => format!("{l}\nmaster_process off;"),
            _ => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// nginx under `prefix` on `port`: `Up` once this nginx answers there (its
/// marker, so not another process on the port), `Taken` once its log says
/// it could not bind.
async fn start_on(prefix: &std::path::Path, upstreams: &[&str], port: u16) -> Start<Child> {
    let marker = format!("{:016x}", rand::random::<u64>());
    let conf_path = prefix.join("nginx.conf");
    std::fs::write(&conf_path, config(upstreams, port, &marker)).expect("write nginx.conf");
    let log = prefix.join("error.log");
    let _ = std::fs::remove_file(&log);
    let mut child = Command::new(nginx_binary())
        .arg("-p")
        .arg(prefix)
        .arg("-e")
        .arg(&log)
        .arg("-c")
        .arg(&conf_path)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("nginx (apt-get install nginx)");
    let probe = format!("http://127.0.0.1:{port}/.test-marker");
    // Another process on the port may accept and never answer.
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_millis(500))
        .build()
        .expect("client");
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        // "bind() to 127.0.0.1:PORT failed (98: Address already in use)",
        // logged at once; nginx would retry for a while before exiting.
        let said = std::fs::read_to_string(&log).unwrap_or_default();
        if said.contains("Address already in use") {
            let _ = child.start_kill();
            let _ = child.wait().await;
            return Start::Taken;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("nginx exited ({status}): {said}");
        }
        if let Ok(r) = http.get(&probe).send().await
            && r.text().await.is_ok_and(|body| body == marker)
        {
            return Start::Up(child);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "nginx did not start on {port}: {said}"
        );
        tokio::time::sleep(POLL).await;
    }
}

pub(crate) fn nginx_binary() -> &'static str {
    if std::path::Path::new("/usr/sbin/nginx").exists() {
        "/usr/sbin/nginx"
    } else {
        "nginx"
    }
}

#[tokio::test]
async fn two_nodes_behind_the_deploy_nginx_config_act_as_one() {
    let cluster = Cluster::start(2).await;
    let nginx = Nginx::start(&[&cluster.nodes[0].addr, &cluster.nodes[1].addr]).await;
    let url = nginx.url();
    let through = |sub: &str, t: TransportType| {
        let how = Connect::token(token(sub, None)).transport(t);
        let url = url.clone();
        async move { TestClient::connect(&url, how).await }
    };
    let mut polling = through("polly", TransportType::Any)
        .await
        .expect("polling via nginx");
    let mut ws = through("wanda", TransportType::Websocket)
        .await
        .expect("websocket via nginx");
    let mut direct0 = cluster.nodes[0].client("dora").await;
    let mut direct1 = cluster.nodes[1].client("dirk").await;
    for c in [&mut polling, &mut ws, &mut direct0, &mut direct1] {
        c.join("edge").await;
    }
    let sent = polling.chat("edge", "through nginx").await;
    for c in [&mut ws, &mut direct0, &mut direct1, &mut polling] {
        assert_eq!(c.next("chat").await["id"], sent["id"]);
    }
    let back = direct1.chat("edge", "and back").await;
    for c in [&mut polling, &mut ws] {
        assert_eq!(c.next("chat").await["id"], back["id"]);
    }
    let health = reqwest::get(format!("{}healthz", nginx.url()))
        .await
        .expect("healthz via nginx");
    assert_eq!(health.status(), 200);
}

/// A client whose connections come from `ip` (any 127.x address reaches nginx).
fn client_from(ip: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(std::net::IpAddr::from(ip))
        .build()
        .expect("client")
}

async fn login_status(from: &reqwest::Client, base: &str, password: &str) -> u16 {
    let r = from
        .post(format!("{base}api/login"))
        .json(&serde_json::json!({"username": "ann", "password": password}))
        .send()
        .await
        .expect("login via nginx");
    r.status().as_u16()
}

#[tokio::test]
async fn behind_the_deploy_nginx_config_login_limits_count_each_client() {
    let schema = crate::pg::PgSchema::create().await;
    let redis = RedisServer::start().await;
    // As the README says to run the nodes behind it.
    let flags = ["--trusted-proxies", "127.0.0.1", "--login-attempts", "2"];
    let node = Node::start_with(&schema.url, &redis.url(), &flags).await;
    let nginx = Nginx::start(&[&node.addr]).await;
    let base = nginx.url();
    let (attacker, victim) = (client_from([127, 0, 0, 2]), client_from([127, 0, 0, 3]));
    let creds = serde_json::json!({"username": "ann", "password": "correct horse"});
    let r = victim
        .post(format!("{base}api/register"))
        .json(&creds)
        .send()
        .await
        .expect("register via nginx");
    assert_eq!(r.status(), 201);
    for _ in 0..2 {
        assert_eq!(login_status(&attacker, &base, "a guess").await, 401);
    }
    assert_eq!(login_status(&attacker, &base, "correct horse").await, 429);
    // Another client behind the same nginx is not locked out with it.
    assert_eq!(login_status(&victim, &base, "correct horse").await, 200);
}

/// A port that some other process holds is reported taken, even though
/// something answers there.
#[tokio::test]
async fn nginx_on_a_port_someone_holds_reports_it_taken() {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = holder.local_addr().expect("addr").port();
    let prefix = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(prefix.path().join("tmp")).expect("tmp dir");
    let started = start_on(prefix.path(), &["127.0.0.1:9"], port).await;
    assert!(matches!(started, Start::Taken));
}
