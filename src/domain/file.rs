//! An uploaded file as payloads show it, its id and its name (docs/protocol.md "Files").

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The most files one message may carry.
pub const MAX_FILES: usize = 10;

/// Characters of a file id: 128 random bits in base32 (RFC 4648, lower case, no padding).
const FILE_ID_CHARS: usize = 26;

/// What the served file's URL ends with for the thumbnail.
pub const THUMBNAIL: &str = "thumbnail";

/// A stored file as uploads answer and messages carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FileView {
    /// 26 characters, unguessable.
    pub id: String,
    /// Where it is served: `/files/{id}/{name}`.
    pub url: String,
    pub name: String,
    /// Bytes.
    pub size: i64,
    /// The stored type: sniffed from the bytes for PNG, JPEG, GIF and WebP,
    /// else as the uploader claimed it.
    #[serde(rename = "type")]
    pub kind: String,
    /// Pixels, for the four raster types only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// `/files/{id}/thumbnail`: at most 400 x 400, the ratio kept; for the four raster types only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail: Option<String>,
}

impl FileView {
    /// The URL of file `id` named `name`: the name percent-encoded, and a
    /// name that is `thumbnail` spelled so that it never reaches the
    /// thumbnail's route (the name segment is not read when serving).
    pub fn url_of(id: &str, name: &str) -> String {
        let mut encoded = percent_encode(name);
        if encoded == THUMBNAIL {
            encoded = format!("%74{}", &THUMBNAIL[1..]);
        }
        format!("/files/{id}/{encoded}")
    }

    /// The thumbnail's URL of file `id`.
    pub fn thumbnail_of(id: &str) -> String {
        format!("/files/{id}/{THUMBNAIL}")
    }
}

/// Whether `s` could be a file id (its length and alphabet); anything else
/// names no file and is never looked up.
pub fn is_file_id(s: &str) -> bool {
    s.len() == FILE_ID_CHARS && s.bytes().all(|b| matches!(b, b'a'..=b'z' | b'2'..=b'7'))
}

/// A new file id from 128 random bits.
pub fn new_file_id() -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let bits: u128 = rand::random();
    (0..FILE_ID_CHARS)
        .map(|k| {
            // 26 groups of 5 bits cover 130: the top group has 3 bits.
            let shift = 5 * (FILE_ID_CHARS - 1 - k);
            char::from(ALPHABET[((bits >> shift) & 31) as usize])
        })
        .collect()
}

/// The longest file name, in characters.
const MAX_NAME_CHARS: usize = 255;

/// A file's name as given (`X-Filename`, percent-decoded, or a multipart
/// filename), made safe to show and to put in a header: the part after
/// the last `/` or `\`, control characters removed, trimmed; `file` when
/// none was given. Empty after that, `.` or `..`, or over 255 characters
/// is refused.
pub fn file_name(given: Option<&str>) -> Result<String, String> {
    let Some(given) = given else {
        return Ok("file".into());
    };
    let last = given.rsplit(['/', '\\']).next().unwrap_or(given);
    let name: String = last.chars().filter(|c| !c.is_control()).collect();
    let name = name.trim();
    if name.is_empty() || name == "." || name == ".." {
        return Err("the file name is empty".into());
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(format!(
            "the file name is longer than {MAX_NAME_CHARS} characters"
        ));
    }
    Ok(name.to_owned())
}

/// `s` with every byte but `A-Z a-z 0-9 - . _ ~` percent-encoded (RFC 3986
/// unreserved characters), as a URL path segment and RFC 5987's
/// `filename*` take it.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `%XX` sequences decoded; `None` when they do not make UTF-8 (or a `%`
/// is not followed by two hex digits).
pub fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut k = 0;
    while k < bytes.len() {
        if bytes[k] == b'%' {
            let hex = s.get(k + 1..k + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            k += 3;
        } else {
            out.push(bytes[k]);
            k += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_26_base32_characters() {
        let a = new_file_id();
        assert!(is_file_id(&a), "{a}");
        assert_ne!(a, new_file_id());
        assert!(!is_file_id("ABCDEFGHIJKLMNOPQRSTUVWXYZ"));
        assert!(!is_file_id("short"));
    }

    #[test]
    fn names_lose_their_paths_and_controls() {
        assert_eq!(file_name(Some("../a/b.txt")).as_deref(), Ok("b.txt"));
        assert_eq!(file_name(Some("c:\\x\\y.png")).as_deref(), Ok("y.png"));
        assert_eq!(file_name(Some(" a\u{0}b\n ")).as_deref(), Ok("ab"));
        assert_eq!(file_name(None).as_deref(), Ok("file"));
        assert!(file_name(Some("a/")).is_err());
        assert!(file_name(Some("..")).is_err());
        assert!(file_name(Some(&"é".repeat(256))).is_err());
        assert!(file_name(Some(&"é".repeat(255))).is_ok());
    }

    #[test]
    fn names_round_trip_through_percent_encoding() {
        let name = "été 100%.txt";
        assert_eq!(percent_decode(&percent_encode(name)).as_deref(), Some(name));
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%C3"), None);
        assert_eq!(FileView::url_of("x", "thumbnail"), "/files/x/%74humbnail");
        assert_eq!(FileView::url_of("x", "a b"), "/files/x/a%20b");
    }
}
