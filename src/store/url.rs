//! What a database URL names, said for people: the file, or the URL without its password.

use super::sqlite;

/// The SQLite file a database URL names, as an absolute path; `None` for
/// PostgreSQL and in-memory SQLite.
pub fn sqlite_file(url: &str) -> anyhow::Result<Option<std::path::PathBuf>> {
    match url.split_once(':') {
        Some(("sqlite", _)) => sqlite::file_of(url),
        _ => Ok(None),
    }
}

/// The database a URL names, for a line on stderr: the absolute path of a
/// SQLite file, or the URL with any password left out.
pub fn describe(url: &str) -> String {
    match sqlite_file(url) {
        Ok(Some(file)) => format!("{url} ({})", file.display()),
        _ => redact_password(url),
    }
}

/// `scheme://user:secret@host/db` as `scheme://user:***@host/db`.
fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}{path}")
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_left_out_of_described_urls() {
        assert_eq!(
            describe("postgres://app:s3cret@db:5432/chat"),
            "postgres://app:***@db:5432/chat"
        );
        assert_eq!(describe("postgres://app@db/chat"), "postgres://app@db/chat");
        let sqlite = describe("sqlite://rel.db");
        assert!(sqlite.starts_with("sqlite://rel.db (/"), "{sqlite}");
        assert!(sqlite.ends_with("/rel.db)"), "{sqlite}");
    }
}
