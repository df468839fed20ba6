//! The text of a chat message.

/// A message body: trimmed, 1 to 4000 characters (PROTOCOL §4 `chat`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageText(String);

impl MessageText {
    pub const MAX_CHARS: usize = 4000;

    pub fn parse(s: &str) -> Result<Self, String> {
        let trimmed = s.trim();
        if trimmed.is_empty() {
            return Err("message is empty".into());
        }
        // Characters, not bytes: the contract counts what a person typed.
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(format!(
                "message is longer than {} characters",
                Self::MAX_CHARS
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_trimmed_and_bounded() {
        assert_eq!(MessageText::parse("  hi \n").map(|m| m.0), Ok("hi".into()));
        assert!(MessageText::parse(" \t\n").is_err());
        assert!(MessageText::parse(&"é".repeat(4000)).is_ok());
        assert!(MessageText::parse(&"é".repeat(4001)).is_err());
    }
}
