//! The `Cookie` header a browser (or anyone) sends. Properties: a session
//! token is found only under the session cookie's name, is never empty,
//! and is a substring of the header; its stored hash is a fixed-size value
//! that differs for different tokens.
#![no_main]

use libfuzzer_sys::fuzz_target;
use roomcast::auth::session;

fuzz_target!(|header: &str| {
    let Some(token) = session::from_cookie_header(header) else {
        return;
    };
    assert!(!token.is_empty());
    assert!(header.contains(session::COOKIE));
    assert!(header.contains(token.as_str()));
    let hash = session::token_hash(&token);
    assert_eq!(hash.len(), 43, "SHA-256, base64 without padding");
    assert_ne!(hash, session::token_hash(&format!("{token}x")));
});
