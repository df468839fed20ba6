//! PROTOCOL §2, the attacks `auth.rs` does not cover: other algorithms
//! (including RS256 with the secret used as an HMAC key), headers that name
//! other keys, numbers where claims want other types, and huge tokens.
//! Every one is refused as an invalid token, on sockets and on HTTP, and
//! the answer says nothing of which check failed.

use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};

use crate::helpers::*;

fn b64(v: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

/// A token with any `header`, HMAC-signed with `secret` using `mac`
/// (whatever the header claims).
fn forge(header: &Value, claims: &Value, secret: &str, mac: Algorithm) -> String {
    let signing_input = format!("{}.{}", b64(header), b64(claims));
    let key = EncodingKey::from_secret(secret.as_bytes()).expect("key");
    let sig = jsonwebtoken::crypto::sign(signing_input.as_bytes(), &key, mac).expect("sign");
    format!("{signing_input}.{sig}")
}

fn claims() -> Value {
    json!({"sub": "mallory", "exp": now() + 3600})
}

/// True if the token is accepted both as a socket's `auth.token` and as an
/// HTTP bearer; panics if the two disagree.
async fn accepted(app: &TestApp, token: &str) -> bool {
    let socket = match app.connect(Connect::token(token.to_owned())).await {
        Ok(c) => {
            c.close().await;
            true
        }
        Err(msg) => {
            let invalid = json!({ "message": crate::auth::INVALID_TOKEN }).to_string();
            assert!(msg.contains(&invalid), "refusal reason: {msg}");
            false
        }
    };
    let status = app.get("/api/rooms", Some(token)).await.status();
    assert_eq!(socket, status == 200, "socket and HTTP agree ({status})");
    if !socket {
        assert_eq!(status, 401);
    }
    socket
}

#[tokio::test]
async fn only_hs256_with_the_server_secret_is_accepted() {
    let app = spawn_app().await;
    let c = claims();
    let hs = |alg: &str| json!({"alg": alg, "typ": "JWT"});
    assert!(
        accepted(&app, &forge(&hs("HS256"), &c, SECRET, Algorithm::HS256)).await,
        "the control token is good"
    );
    let refused = [
        ("HS384", forge(&hs("HS384"), &c, SECRET, Algorithm::HS384)),
        ("HS512", forge(&hs("HS512"), &c, SECRET, Algorithm::HS512)),
        // Key confusion: an RS256 header over an HMAC made with the
        // secret, which a verifier keyed by "whatever the header says" takes.
        ("RS256", forge(&hs("RS256"), &c, SECRET, Algorithm::HS256)),
        ("ES256", forge(&hs("ES256"), &c, SECRET, Algorithm::HS256)),
        ("EdDSA", forge(&hs("EdDSA"), &c, SECRET, Algorithm::HS256)),
        ("None", forge(&hs("None"), &c, SECRET, Algorithm::HS256)),
        ("nOnE", format!("{}.{}.", b64(&hs("nOnE")), b64(&c))),
        (
            "no alg",
            forge(&json!({"typ": "JWT"}), &c, SECRET, Algorithm::HS256),
        ),
        // An HS256 header whose signature was made with HS512 and cut.
        ("truncated", {
            let t = forge(&hs("HS256"), &c, SECRET, Algorithm::HS512);
            t[..t.len() - 43].to_owned()
        }),
        ("empty signature", {
            let t = forge(&hs("HS256"), &c, SECRET, Algorithm::HS256);
            t[..=t.rfind('.').expect("dot")].to_owned()
        }),
    ];
    for (what, t) in refused {
        assert!(!accepted(&app, &t).await, "{what} must be refused");
    }
}

/// `kid`, `jku`, `jwk` and `x5u` may not pick the key: a token signed with
/// the attacker's key is refused whatever they say, and a token signed with
/// the server's secret is judged on its signature alone.
#[tokio::test]
async fn key_headers_cannot_choose_the_key() {
    let app = spawn_app().await;
    let c = claims();
    let attacker = "attacker-secret";
    let jwk = json!({"kty": "oct", "k": b64(&json!(attacker))});
    let headers = [
        json!({"alg": "HS256", "kid": "attacker"}),
        json!({"alg": "HS256", "kid": "../../../../dev/null"}),
        json!({"alg": "HS256", "kid": "' UNION SELECT 'attacker' --"}),
        json!({"alg": "HS256", "jku": "http://127.0.0.1:1/keys.json"}),
        json!({"alg": "HS256", "x5u": "http://127.0.0.1:1/cert.pem"}),
        json!({"alg": "HS256", "jwk": jwk}),
    ];
    for h in &headers {
        let evil = forge(h, &c, attacker, Algorithm::HS256);
        assert!(!accepted(&app, &evil).await, "{h} with the attacker's key");
        let good = forge(h, &c, SECRET, Algorithm::HS256);
        assert!(accepted(&app, &good).await, "{h} ignored for a good token");
    }
}

#[tokio::test]
async fn claims_of_the_wrong_type_are_refused() {
    let app = spawn_app().await;
    let exp = now() + 3600;
    let bad = [
        json!({"sub": "u", "exp": exp.to_string()}),
        json!({"sub": "u", "exp": null}),
        json!({"sub": 42, "exp": exp}),
        json!({"sub": "", "exp": exp}),
        json!({"sub": ["u"], "exp": exp}),
        json!({"sub": "u", "exp": exp, "rooms": "vip"}),
        json!({"sub": "u", "exp": exp, "nbf": "later"}),
    ];
    for claims in bad {
        let t = sign(&claims, SECRET);
        assert!(!accepted(&app, &t).await, "{claims} must be refused");
    }
}

/// A token of hundreds of kilobytes is refused like any bad token on a
/// socket (its signature check costs one hash over its bytes) and with 431
/// in an HTTP header; the server keeps answering everyone else.
#[tokio::test]
async fn huge_tokens_are_refused_and_cost_nothing_lasting() {
    let app = spawn_app().await;
    let mut bob = app.client("bob").await;
    bob.join("r").await;
    let padding = "x".repeat(200 * 1024);
    let fat = json!({"sub": "u", "exp": now() + 3600, "pad": padding});
    let forged = sign(&fat, "attacker-secret");
    for _ in 0..20 {
        let r = app.connect(Connect::token(forged.clone())).await;
        assert!(r.is_err_and(|m| m.contains("unauthorized")));
    }
    // Over HTTP it does not fit in a request head (docs/protocol.md §5d).
    let r = app.get("/api/rooms", Some(&forged)).await;
    assert_eq!(r.status(), 431);
    let garbage = "e".repeat(12 * 1024);
    let r = app.get("/api/rooms", Some(&garbage)).await;
    assert_eq!(r.status(), 401);
    bob.chat("r", "still here").await;
    assert_eq!(bob.next("chat").await["message"], "still here");
}
