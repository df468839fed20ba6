//! Which browser origins may use the server: its own, and the configured ones.
//!
//! CORS (for `fetch` from other origins) and the Socket.IO handshake (a
//! WebSocket is not subject to CORS, so a page elsewhere could otherwise
//! open a socket with the user's cookie) apply the same rule.

use axum::http::{HeaderMap, HeaderValue, Method, header};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The configured origins, like `https://app.example.com`.
#[derive(Debug, Clone, Default)]
pub struct Origins(Vec<String>);

impl Origins {
    pub fn new(list: &[String]) -> Self {
        Self(
            list.iter()
                .map(|o| o.trim().trim_end_matches('/').to_owned())
                .filter(|o| !o.is_empty())
                .collect(),
        )
    }

    /// Whether a request with these headers may proceed: no `Origin` (not a
    /// browser, or a same-origin navigation), the server's own origin (its
    /// host and port are the `Host` header), or a configured one.
    pub fn allows(&self, headers: &HeaderMap) -> bool {
        let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
            return headers.get(header::ORIGIN).is_none();
        };
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
        let authority = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"));
        (authority.is_some() && authority == host) || self.0.iter().any(|o| o == origin)
    }

    /// Whether the request's `Origin` is one of the configured origins, which
    /// are trusted like the server's own (the CSRF guard lets them use the cookie).
    pub fn lists(&self, headers: &HeaderMap) -> bool {
        let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
        matches!(origin, Some(o) if self.0.iter().any(|c| c == o))
    }

    /// The CORS layer for the configured origins; `None` leaves cross-origin
    /// requests without CORS headers, which browsers then refuse.
    pub fn cors(&self) -> Option<CorsLayer> {
        let values: Vec<HeaderValue> = self
            .0
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok())
            .collect();
        if values.is_empty() {
            return None;
        }
        Some(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(values))
                .allow_credentials(true)
                .allow_methods([Method::GET, Method::POST, Method::DELETE])
                .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION]),
        )
    }
}
