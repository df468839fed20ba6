//! Security headers on every response, unless the response set its own.

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::response::Response;

const DEFAULTS: [(HeaderName, &str); 4] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "same-origin"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; \
         form-action 'self'; object-src 'none'",
    ),
];

/// The `map_response` layer function.
pub(crate) async fn add(mut response: Response) -> Response {
    fill(response.headers_mut());
    response
}

/// Adds each default header the map does not have yet (pages may set a
/// stricter or looser policy of their own).
fn fill(headers: &mut HeaderMap) {
    for (name, value) in DEFAULTS {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_the_response_set_is_kept() {
        let mut h = HeaderMap::new();
        h.insert(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("SAMEORIGIN"),
        );
        fill(&mut h);
        assert_eq!(h[header::X_FRAME_OPTIONS], "SAMEORIGIN");
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(h.len(), 4);
    }
}
