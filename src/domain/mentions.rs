//! `@name` mentions in a message's text (docs/protocol.md §4 "Mentions").

use super::ACCOUNT_PREFIX;

/// The most names one message may mention; the rest are plain text.
pub const MAX_MENTIONS: usize = 20;
/// The longest name a mention can carry (JWT subjects may be longer than
/// usernames; longer ones are not mentionable).
const MAX_NAME: usize = 64;

fn is_mention_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')
}

/// The distinct names written as `@name` in `text`, in order of first
/// appearance: `@` at the start or after a character that cannot be in a
/// name (so `a@b.example` is no mention), then name characters
/// (`A-Z a-z 0-9 _ - .`), a trailing full stop left out (`@bob.`).
pub fn mentioned_names(text: &str) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    let mut prev: Option<char> = None;
    for (at, c) in text.char_indices() {
        let starts = c == '@' && !prev.is_some_and(|p| is_mention_char(p) || p == '@');
        prev = Some(c);
        if !starts {
            continue;
        }
        let rest = &text[at + 1..];
        let end = rest
            .char_indices()
            .find(|(_, c)| !is_mention_char(*c))
            .map_or(rest.len(), |(i, _)| i);
        let name = rest[..end].trim_end_matches('.');
        if name.is_empty() || name.len() > MAX_NAME || names.contains(&name) {
            continue;
        }
        names.push(name);
        if names.len() == MAX_MENTIONS {
            break;
        }
    }
    names
}

/// The user ids a mentioned name may be: a built-in account's
/// (`acct:NAME`) and an app user's whose JWT subject is NAME.
pub fn candidate_ids(names: &[&str]) -> Vec<String> {
    names
        .iter()
        .flat_map(|n| [format!("{ACCOUNT_PREFIX}{n}"), (*n).to_owned()])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_found_where_a_person_wrote_them() {
        assert_eq!(mentioned_names("@bob hi"), ["bob"]);
        assert_eq!(mentioned_names("hi @bob, @carol."), ["bob", "carol"]);
        assert_eq!(mentioned_names("(@a.b-c_d)"), ["a.b-c_d"]);
        assert_eq!(mentioned_names("@bob @bob"), ["bob"]);
        assert!(mentioned_names("mail me at a@b.example").is_empty());
        assert!(mentioned_names("@@bob @ . @.").is_empty());
        assert_eq!(mentioned_names("é@bob"), ["bob"]);
        let many: String = (0..30).map(|i| format!("@u{i} ")).collect();
        assert_eq!(mentioned_names(&many).len(), MAX_MENTIONS);
        assert!(mentioned_names(&format!("@{}", "x".repeat(65))).is_empty());
    }
}
