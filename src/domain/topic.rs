//! A room's topic.

/// What a room's topic is set to: trimmed, at most 250 characters, no
/// control characters; empty clears it (docs/protocol.md §4 "Room topic,
/// members, deletion").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic(String);

impl Topic {
    pub const MAX_CHARS: usize = 250;

    pub fn parse(s: &str) -> Result<Self, String> {
        // Trimmed first: whitespace around it (a pasted line's newline
        // included) is no part of it; inside, a topic is one line.
        let trimmed = s.trim();
        if trimmed.chars().any(char::is_control) {
            return Err("topic must be one line without control characters".into());
        }
        // Characters, not bytes, as for messages.
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(format!(
                "topic is longer than {} characters",
                Self::MAX_CHARS
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The topic as notices and the store take it: `""` when cleared.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_are_trimmed_one_line_and_bounded() {
        assert_eq!(Topic::parse("  plans \t").map(|t| t.0), Ok("plans".into()));
        assert_eq!(Topic::parse("   ").map(|t| t.0), Ok(String::new()));
        assert!(Topic::parse(&"é".repeat(250)).is_ok());
        assert!(Topic::parse(&"é".repeat(251)).is_err());
        assert!(Topic::parse("two\nlines").is_err());
        assert_eq!(Topic::parse("pasted\r\n").map(|t| t.0), Ok("pasted".into()));
        assert!(Topic::parse("tab\tinside").is_err());
        assert!(Topic::parse("bell\u{7}").is_err());
        assert!(Topic::parse("c1\u{85}inside").is_err());
    }
}
