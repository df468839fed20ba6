//! What Engine.IO long-polling adds to the packets: its URLs, its open packet and its batched payloads.

use serde_json::Value;

/// The long-polling endpoint of `base` (`http://host:port`), without a session.
pub fn url(base: &str) -> String {
    format!("{base}/socket.io/?EIO=4&transport=polling")
}

/// The endpoint of session `sid`.
pub fn session_url(base: &str, sid: &str) -> String {
    format!("{}&sid={sid}", url(base))
}

/// The session id in the body of the handshake's answer (`0{"sid":...}`).
pub fn sid(open: &str) -> Option<String> {
    let json = open.strip_prefix('0')?;
    let v: Value = serde_json::from_str(json).ok()?;
    Some(v.get("sid")?.as_str()?.to_owned())
}

/// Packets batched into one request body (Engine.IO v4: separated by 0x1e).
pub fn payload<S: AsRef<str>>(packets: &[S]) -> String {
    let parts: Vec<&str> = packets.iter().map(AsRef::as_ref).collect();
    parts.join("\u{1e}")
}

/// The packets of one response body.
pub fn packets(body: &str) -> impl Iterator<Item = &str> {
    body.split('\u{1e}').filter(|p| !p.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes_polling_bodies() {
        assert_eq!(
            sid(r#"0{"sid":"abc","pingInterval":25000}"#).as_deref(),
            Some("abc")
        );
        assert_eq!(sid("40"), None);
        assert_eq!(payload(&["40", "2"]), "40\u{1e}2");
        assert_eq!(packets("40\u{1e}2").collect::<Vec<_>>(), ["40", "2"]);
        assert_eq!(
            session_url("http://h", "s"),
            "http://h/socket.io/?EIO=4&transport=polling&sid=s"
        );
    }
}
