//! Cross-site request forgery guard for everything the session cookie authenticates.
//!
//! The cookie is ambient: a browser attaches it to requests another site
//! makes. A bearer token is not, so requests carrying `Authorization` are
//! left alone. Otherwise a state-changing request (any method but
//! GET/HEAD/OPTIONS) is refused with `403 {"error":"forbidden"}` when the
//! browser says it comes from another origin (`Origin`, `Sec-Fetch-Site`),
//! or when it has a body that is not JSON (a cross-site HTML form can only
//! send form or text bodies). Login and register are covered too, so another
//! site cannot sign a visitor into its own account (login CSRF). A file
//! upload's body is the file: a form's type passes there only with `Origin`,
//! `Sec-Fetch-Site` or `X-Filename` (which no form can send), any other type
//! (which another site cannot send without a preflight) as it is.
//!
//! Socket.IO requests from another origin are not refused, since apps on
//! other origins connect with a JWT in the CONNECT packet, which HTTP
//! headers do not show. Their cookies are removed instead, so the session
//! cookie never authenticates a cross-origin socket (WebSocket hijacking).
//!
//! Origins listed in `--allowed-origins` are trusted like the server's own:
//! listing one is how an operator lets that app use the cookie (CORS with
//! credentials, and the Socket.IO origin check in `realtime`).

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::Origins;
use crate::error::AppError;

/// What to do with a request.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// Serve it, but without its cookies.
    StripCookies,
    /// Refuse it, for this reason.
    Refuse(&'static str),
}

/// The axum middleware (applied to the whole router by `app`).
pub async fn guard(State(origins): State<Origins>, mut req: Request, next: Next) -> Response {
    // HTTP/2 carries the host in the URI (`:authority`), not in `Host`.
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
        .unwrap_or("")
        .to_owned();
    if origins.lists(req.headers()) {
        return next.run(req).await;
    }
    match verdict(req.method(), req.uri().path(), req.headers(), &host) {
        Verdict::Pass => next.run(req).await,
        Verdict::StripCookies => {
            req.headers_mut().remove(header::COOKIE);
            next.run(req).await
        }
        Verdict::Refuse(why) => AppError::Forbidden(why.into()).into_response(),
    }
}

/// The guard's decision for a request sent to `host` (`name[:port]`).
pub fn verdict(method: &Method, path: &str, headers: &HeaderMap, host: &str) -> Verdict {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let cross_site = match get("sec-fetch-site") {
        Some(site) => !matches!(site, "same-origin" | "none"),
        None => false,
    };
    let cross_origin = match get(header::ORIGIN.as_str()) {
        Some(origin) => !same_origin(origin, host),
        None => false,
    };
    let foreign = cross_site || cross_origin;
    if path == "/socket.io" || path == "/socket.io/" {
        return if foreign {
            Verdict::StripCookies
        } else {
            Verdict::Pass
        };
    }
    let safe = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    if safe || headers.contains_key(header::AUTHORIZATION) {
        return Verdict::Pass;
    }
    if foreign {
        return Verdict::Refuse("cross-site request refused");
    }
    // An upload's body is the file, of any type (docs/protocol.md "Files").
    // Another site can send only a form's types without a CORS preflight;
    // such a body passes when the browser vouched for its origin (checked
    // above) or with `X-Filename`, a header no form can send.
    if is_upload(path) {
        let form_type = get(header::CONTENT_TYPE.as_str()).is_none_or(is_form_type);
        let vouched = [
            header::ORIGIN.as_str(),
            "sec-fetch-site",
            crate::http::FILENAME_HEADER,
        ]
        .iter()
        .any(|h| headers.contains_key(*h));
        return if form_type && !vouched {
            Verdict::Refuse("an upload with the session cookie needs Origin or X-Filename")
        } else {
            Verdict::Pass
        };
    }
    match get(header::CONTENT_TYPE.as_str()) {
        Some(ct) if !is_json(ct) => Verdict::Refuse("expected Content-Type: application/json"),
        _ => Verdict::Pass,
    }
}

/// Whether `Origin` (`scheme://host[:port]`) names the host the request was sent to.
fn same_origin(origin: &str, host: &str) -> bool {
    let authority = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    matches!(authority, Some(a) if !host.is_empty() && a.eq_ignore_ascii_case(host))
}

/// `/api/rooms/{room}/files` (a room name has no `/`).
fn is_upload(path: &str) -> bool {
    path.strip_prefix("/api/rooms/")
        .and_then(|rest| rest.strip_suffix("/files"))
        .is_some_and(|room| !room.is_empty() && !room.contains('/'))
}

/// The types an HTML form (or a `fetch` without a preflight) can send.
fn is_form_type(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    [
        "multipart/form-data",
        "application/x-www-form-urlencoded",
        "text/plain",
    ]
    .iter()
    .any(|t| essence.eq_ignore_ascii_case(t))
}

fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json")
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: &str = "chat.example:3000";

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().expect("header value"));
        }
        h
    }

    #[test]
    fn same_origin_posts_pass_and_forged_ones_do_not() {
        let ok = headers(&[
            ("origin", "http://chat.example:3000"),
            ("sec-fetch-site", "same-origin"),
            ("content-type", "application/json"),
        ]);
        assert_eq!(
            verdict(&Method::POST, "/api/rooms", &ok, HOST),
            Verdict::Pass
        );
        let forged = headers(&[("origin", "http://evil.example")]);
        assert!(matches!(
            verdict(&Method::POST, "/api/rooms", &forged, HOST),
            Verdict::Refuse(_)
        ));
        let form = headers(&[("content-type", "application/x-www-form-urlencoded")]);
        assert!(matches!(
            verdict(&Method::POST, "/api/login", &form, HOST),
            Verdict::Refuse(_)
        ));
        let bearer = headers(&[
            ("authorization", "Bearer x"),
            ("origin", "http://evil.example"),
        ]);
        assert_eq!(
            verdict(&Method::POST, "/api/rooms", &bearer, HOST),
            Verdict::Pass
        );
    }

    #[test]
    fn uploads_pass_from_the_page_and_not_from_a_form_elsewhere() {
        let path = "/api/rooms/general/files";
        let page = headers(&[
            ("sec-fetch-site", "same-origin"),
            ("content-type", "image/png"),
            ("x-filename", "a.png"),
        ]);
        assert_eq!(verdict(&Method::POST, path, &page, HOST), Verdict::Pass);
        let form_data = headers(&[
            ("origin", "http://chat.example:3000"),
            ("content-type", "multipart/form-data; boundary=x"),
        ]);
        assert_eq!(
            verdict(&Method::POST, path, &form_data, HOST),
            Verdict::Pass
        );
        // What an old browser's cross-site form sends: a form's type, no
        // Origin, no Sec-Fetch-Site, no custom header.
        for ct in [
            "multipart/form-data; boundary=x",
            "text/plain",
            "application/x-www-form-urlencoded",
        ] {
            let form = headers(&[("content-type", ct)]);
            assert!(matches!(
                verdict(&Method::POST, path, &form, HOST),
                Verdict::Refuse(_)
            ));
        }
        // A type no form can send needs a preflight from another site.
        let raw = headers(&[("content-type", "application/pdf")]);
        assert_eq!(verdict(&Method::POST, path, &raw, HOST), Verdict::Pass);
        let foreign = headers(&[
            ("origin", "http://evil.example"),
            ("content-type", "image/png"),
            ("x-filename", "a.png"),
        ]);
        assert!(matches!(
            verdict(&Method::POST, path, &foreign, HOST),
            Verdict::Refuse(_)
        ));
        // The exception is for uploads only.
        let elsewhere = headers(&[("content-type", "text/plain"), ("x-filename", "a")]);
        for other in ["/api/rooms", "/api/rooms/a/b/files", "/api/rooms//files"] {
            assert!(matches!(
                verdict(&Method::POST, other, &elsewhere, HOST),
                Verdict::Refuse(_)
            ));
        }
    }

    #[test]
    fn cross_origin_sockets_lose_their_cookies() {
        // A sibling port is same-site but not same-origin.
        let sibling = headers(&[("origin", "http://chat.example:8080")]);
        assert_eq!(
            verdict(&Method::GET, "/socket.io/", &sibling, HOST),
            Verdict::StripCookies
        );
        assert_eq!(verdict(&Method::GET, "/", &sibling, HOST), Verdict::Pass);
        let own = headers(&[("origin", "https://chat.example:3000")]);
        assert_eq!(
            verdict(&Method::POST, "/socket.io/", &own, HOST),
            Verdict::Pass
        );
    }
}
