//! A reaction: exactly one emoji.

use unicode_segmentation::UnicodeSegmentation;

/// One extended grapheme cluster that is an emoji: a single emoji, a ZWJ
/// sequence, a skin-tone variant, a keycap or a flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Emoji(String);

impl Emoji {
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut clusters = s.graphemes(true);
        let (Some(one), None) = (clusters.next(), clusters.next()) else {
            return Err("emoji must be exactly one emoji".into());
        };
        // Digits, `#` and `*` are emoji only as keycaps (with U+20E3).
        if one.is_ascii() {
            return Err("emoji must be exactly one emoji".into());
        }
        // The emoji table lists fully-qualified forms; a client may send the
        // form without the variation selector (U+FE0F).
        let qualified = format!("{one}\u{fe0f}");
        let known = emojis::get(one).is_some()
            || emojis::get(&qualified).is_some()
            || emojis::get(&one.replace('\u{fe0f}', "")).is_some();
        if !known {
            return Err("emoji must be exactly one emoji".into());
        }
        Ok(Self(one.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_emoji_of_any_shape_is_accepted() {
        for ok in ["👍", "👍🏽", "👨‍👩‍👧", "🇫🇷", "❤️", "❤", "🏳️‍🌈", "1️⃣"]
        {
            assert!(Emoji::parse(ok).is_ok(), "{ok:?}");
        }
    }

    #[test]
    fn text_and_several_emoji_are_refused() {
        for bad in ["", "a", "ab", "👍👍", "👍 ", ":+1:", "1", "é"] {
            assert!(Emoji::parse(bad).is_err(), "{bad:?}");
        }
    }
}
