//! The built-in login's session cookie: a random token whose hash is stored.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// The cookie's name.
pub const COOKIE: &str = "roomcast_session";

/// A new random session token (256 bits, URL-safe).
pub fn new_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// What is stored for a token: a leaked database gives no usable cookie.
pub fn token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

/// The `Set-Cookie` value that starts a session.
pub fn set_cookie(token: &str, ttl_secs: u64) -> String {
    format!("{COOKIE}={token}; Path=/; Max-Age={ttl_secs}; HttpOnly; SameSite=Lax")
}

/// The `Set-Cookie` value that ends a session.
pub fn clear_cookie() -> String {
    format!("{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax")
}

/// A `Set-Cookie` value marked `Secure` (sent back over HTTPS only), for
/// deployments behind an HTTPS proxy (`--secure-cookies`).
pub fn with_secure(set_cookie: &str) -> String {
    let has = set_cookie
        .split(';')
        .any(|attr| attr.trim().eq_ignore_ascii_case("secure"));
    if has {
        set_cookie.to_owned()
    } else {
        format!("{set_cookie}; Secure")
    }
}

/// The session token in a `Cookie` request header, if any.
pub fn from_cookie_header(header: &str) -> Option<String> {
    cookie::Cookie::split_parse(header)
        .filter_map(Result::ok)
        .find(|c| c.name() == COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_session_among_other_cookies() {
        let h = format!("a=1; {COOKIE}=tok; b=2");
        assert_eq!(from_cookie_header(&h).as_deref(), Some("tok"));
        assert_eq!(from_cookie_header("a=1"), None);
        assert_ne!(token_hash("x"), token_hash("y"));
    }

    #[test]
    fn secure_is_added_once() {
        let c = with_secure(&set_cookie("t", 60));
        assert!(c.ends_with("; Secure"), "{c}");
        assert_eq!(with_secure(&c), c);
    }
}
