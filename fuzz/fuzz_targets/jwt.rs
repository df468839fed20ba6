//! JWTs: any string as a token, and any JSON as the claims of a token
//! signed with the server's secret. Properties: nothing unsigned or signed
//! with another key or algorithm is ever accepted; a signed token is
//! accepted only with a non-empty string `sub` and an `exp` not in the
//! past, and then the identity is exactly what the claims say. Anything not
//! signed with the key is refused as invalid, never as expired: the answer
//! says nothing about a forged token's times.
#![no_main]

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use libfuzzer_sys::fuzz_target;
use roomcast::auth::jwt::{Keys, TokenRefusal};
use serde_json::Value;

const SECRET: &[u8] = b"fuzz-secret-of-a-reasonable-length";
/// The clock allowance the keys are made with (the server's default).
const LEEWAY: u64 = 5;

fuzz_target!(|data: &[u8]| {
    let Ok(keys) = Keys::new(SECRET, LEEWAY) else {
        return;
    };
    // 1. The bytes as a token: nobody can forge the MAC, so never valid.
    if let Ok(token) = std::str::from_utf8(data) {
        assert!(
            matches!(keys.verify(token), Err(TokenRefusal::Invalid)),
            "forged token accepted: {token:?}"
        );
    }
    // 2. The bytes as claims, signed properly (HS256) and improperly.
    let Ok(claims) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let Ok(key) = EncodingKey::from_secret(SECRET) else {
        return;
    };
    for alg in [Algorithm::HS384, Algorithm::HS512] {
        if let Ok(t) = encode(&Header::new(alg), &claims, &key) {
            assert!(
                matches!(keys.verify(&t), Err(TokenRefusal::Invalid)),
                "{alg:?} accepted"
            );
        }
    }
    if let Ok(t) = encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(b"other").expect("key"),
    ) {
        assert!(
            matches!(keys.verify(&t), Err(TokenRefusal::Invalid)),
            "another key accepted"
        );
    }
    let Ok(token) = encode(&Header::new(Algorithm::HS256), &claims, &key) else {
        return;
    };
    let Ok(verified) = keys.verify(&token) else {
        return;
    };
    let id = verified.identity;
    assert_eq!(verified.sid.as_deref(), claims["sid"].as_str());
    let sub = claims["sub"].as_str().expect("sub is a string");
    assert!(!sub.is_empty());
    assert_eq!(id.user.id, sub);
    let name = claims["name"]
        .as_str()
        .filter(|n| !n.is_empty())
        .unwrap_or(sub);
    assert_eq!(id.user.name, name);
    let exp = claims["exp"].as_f64().expect("exp is a number");
    let now = jsonwebtoken::get_current_timestamp() as f64;
    let leeway = LEEWAY as f64;
    assert!(exp + leeway >= now, "expired token accepted");
    if let Some(nbf) = claims.get("nbf").and_then(Value::as_f64) {
        assert!(nbf <= now + leeway, "token used before nbf");
    }
    let rooms: Vec<&str> = claims
        .get("rooms")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert_eq!(
        id.rooms.len(),
        rooms
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    );
    assert!(rooms.iter().all(|r| id.rooms.contains(*r)));
});
