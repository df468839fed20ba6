//! Who is at the other end of a request: the client's address and whether
//! it came over HTTPS, believing forwarded headers from trusted proxies only.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::auth::session;
use crate::config::{ProxyNet, SecureCookies, Settings};

/// What the server believes about forwarded headers (a request extension
/// set by [`super::router`]).
#[derive(Debug, Clone)]
pub struct Edge {
    trusted: Vec<ProxyNet>,
    secure_cookies: SecureCookies,
}

impl Edge {
    pub fn new(settings: &Settings) -> Arc<Self> {
        Arc::new(Self {
            trusted: settings.trusted_proxies.clone(),
            secure_cookies: settings.secure_cookies,
        })
    }

    fn trusts(&self, ip: &IpAddr) -> bool {
        self.trusted.iter().any(|n| n.contains(ip))
    }

    /// The client's address: the TCP peer, unless the peer is a trusted
    /// proxy; then each trusted hop's word is taken for the one before it,
    /// from the right of `X-Forwarded-For`, so the answer is the rightmost
    /// address that is not a trusted proxy. What an untrusted client wrote
    /// at the left is never reached. A malformed entry stops the walk at
    /// the last hop that could be read.
    pub fn client_addr(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = peer.to_canonical();
        let forwarded: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .collect();
        for hop in forwarded.iter().rev() {
            if !self.trusts(&client) {
                break;
            }
            match hop.trim().parse::<IpAddr>() {
                Ok(ip) => client = ip.to_canonical(),
                Err(_) => break,
            }
        }
        client
    }

    /// Whether the request reached the first trusted proxy over HTTPS, as
    /// that proxy says in `X-Forwarded-Proto` (its own value, the last one).
    pub fn came_over_https(&self, peer: IpAddr, headers: &HeaderMap) -> bool {
        self.trusts(&peer)
            && headers
                .get_all("x-forwarded-proto")
                .iter()
                .next_back()
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
    }

    fn secure_cookie(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> bool {
        match self.secure_cookies {
            SecureCookies::Always => true,
            SecureCookies::Never => false,
            SecureCookies::Auto => peer.is_some_and(|p| self.came_over_https(p, headers)),
        }
    }
}

fn peer_of(ext: &axum::http::Extensions) -> Option<IpAddr> {
    ext.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())
}

fn edge_of(ext: &axum::http::Extensions) -> Arc<Edge> {
    ext.get::<Arc<Edge>>().cloned().unwrap_or_else(|| {
        Arc::new(Edge {
            trusted: Vec::new(),
            secure_cookies: SecureCookies::Auto,
        })
    })
}

/// The client's address for every route that limits by address (`None`
/// when the app is served without connect info, as in some embeddings).
pub struct ClientAddr(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        let edge = edge_of(&parts.extensions);
        let addr = peer_of(&parts.extensions).map(|p| edge.client_addr(p, &parts.headers));
        Ok(Self(addr))
    }
}

/// Middleware of the account routes (register, login, logout): their
/// answers are never cached (they carry a token and the session cookie),
/// and the cookie they set or clear is `Secure` when `--secure-cookies`
/// says so. Done here rather than in each handler so the three agree.
pub(super) async fn account_answers(req: Request, next: Next) -> Response {
    let edge = edge_of(req.extensions());
    let secure = edge.secure_cookie(peer_of(req.extensions()), req.headers());
    let mut res = next.run(req).await;
    let headers = res.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if secure {
        let cookies: Vec<HeaderValue> = headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| HeaderValue::from_str(&session::with_secure(v)).ok())
            .collect();
        if !cookies.is_empty() {
            headers.remove(header::SET_COOKIE);
            for c in cookies {
                headers.append(header::SET_COOKIE, c);
            }
        }
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge(trusted: &[&str]) -> Edge {
        Edge {
            trusted: trusted.iter().map(|t| t.parse().expect("net")).collect(),
            secure_cookies: SecureCookies::Auto,
        }
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).expect("value"));
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn forwarded_addresses_are_believed_from_trusted_hops_only() {
        let e = edge(&["10.0.0.0/8", "::1"]);
        // Untrusted peer: its header is ignored.
        assert_eq!(
            e.client_addr(ip("203.0.113.9"), &xff(&["1.2.3.4"])),
            ip("203.0.113.9")
        );
        // Trusted peer: the rightmost address that is not a proxy; the
        // forged left part is never reached.
        let h = xff(&["6.6.6.6, 198.51.100.7", "10.1.2.3"]);
        assert_eq!(e.client_addr(ip("10.0.0.1"), &h), ip("198.51.100.7"));
        // A malformed hop stops at the last one read.
        assert_eq!(e.client_addr(ip("::1"), &xff(&["junk"])), ip("::1"));
        assert_eq!(
            e.client_addr(ip("::ffff:10.0.0.1"), &xff(&["5.5.5.5"])),
            ip("5.5.5.5")
        );
        assert_eq!(
            e.client_addr(ip("10.0.0.1"), &HeaderMap::new()),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn https_is_believed_from_a_trusted_proxy_only() {
        let e = edge(&["127.0.0.1"]);
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert!(e.came_over_https(ip("127.0.0.1"), &h));
        assert!(!e.came_over_https(ip("127.0.0.2"), &h));
        h.insert("x-forwarded-proto", HeaderValue::from_static("https, http"));
        assert!(!e.came_over_https(ip("127.0.0.1"), &h));
    }
}
