//! The search query language (docs/protocol.md §4 "Search"): words,
//! prefixes, phrases, `from:` and `in:`, all of which must match. Parsed
//! here and translated to each engine's syntax from what was parsed, so no
//! syntax a user types ever reaches FTS5 or PostgreSQL as such.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::{ACCOUNT_PREFIX, RoomName};

/// A search as it was asked: valid once built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    terms: Vec<Term>,
    from: Option<String>,
    room: Option<RoomName>,
}

/// Words that must follow each other (one word is a phrase of one), the
/// last one only a prefix when `prefix` is set. Each word is lowercased
/// and holds only letters, digits and marks, so it is safe inside either
/// engine's quotes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Term {
    words: Vec<String>,
    prefix: bool,
}

impl SearchQuery {
    /// At most this many characters.
    pub const MAX_CHARS: usize = 256;
    /// At most this many terms (words, prefixes, phrases and filters).
    pub const MAX_TERMS: usize = 16;
    /// A prefix needs this many characters before its `*`: a shorter one
    /// would make both engines walk a large part of their index.
    pub const MIN_PREFIX: usize = 2;

    /// The query in `q`; the error says what is wrong in words a person reads.
    pub fn parse(q: &str) -> Result<Self, String> {
        if q.chars().count() > Self::MAX_CHARS {
            return Err(format!(
                "query is longer than {} characters",
                Self::MAX_CHARS
            ));
        }
        let mut query = Self {
            terms: Vec::new(),
            from: None,
            room: None,
        };
        let mut count = 0;
        for piece in pieces(q)? {
            count += 1;
            if count > Self::MAX_TERMS {
                return Err(format!("query has more than {} terms", Self::MAX_TERMS));
            }
            query.add(piece)?;
        }
        if query.terms.is_empty() {
            return Err(
                "query has nothing to search for: give a word, a prefix or a phrase".into(),
            );
        }
        Ok(query)
    }

    fn add(&mut self, piece: Piece<'_>) -> Result<(), String> {
        match piece {
            Piece::Phrase(text) => self.push(words(text), false),
            Piece::Bare(text) => {
                if let Some(user) = filter(text, "from:") {
                    return self.set_from(user);
                }
                if let Some(room) = filter(text, "in:") {
                    return self.set_room(room);
                }
                let (stem, prefix) = match text.strip_suffix('*') {
                    Some(stem) => (stem, true),
                    None => (text, false),
                };
                let found = words(stem);
                if prefix
                    && found
                        .last()
                        .is_some_and(|w| w.chars().count() < Self::MIN_PREFIX)
                {
                    return Err(format!(
                        "{text}: a prefix needs at least {} letters before *",
                        Self::MIN_PREFIX
                    ));
                }
                self.push(found, prefix)
            }
        }
    }

    /// Punctuation alone (`--`, `*`) searches for nothing and is left out.
    fn push(&mut self, words: Vec<String>, prefix: bool) -> Result<(), String> {
        if !words.is_empty() {
            self.terms.push(Term { words, prefix });
        }
        Ok(())
    }

    fn set_from(&mut self, user: &str) -> Result<(), String> {
        if user.is_empty() || user.len() > 256 {
            return Err("from: needs a username or a user id".into());
        }
        if self.from.replace(user.to_owned()).is_some() {
            return Err("query has more than one from:".into());
        }
        Ok(())
    }

    fn set_room(&mut self, room: &str) -> Result<(), String> {
        let name = RoomName::parse(room).map_err(|e| format!("in: {e}"))?;
        if self.room.replace(name).is_some() {
            return Err("query has more than one in:".into());
        }
        Ok(())
    }

    /// The room `in:` names.
    pub fn room(&self) -> Option<&RoomName> {
        self.room.as_ref()
    }

    /// The user ids `from:` may mean: a username's account (`acct:NAME`)
    /// and an app user of that id; an id with a `:` (`acct:ann`, `bot:ci`)
    /// only itself. Empty when there is no `from:`.
    pub fn authors(&self) -> Vec<String> {
        match &self.from {
            None => Vec::new(),
            Some(id) if id.contains(':') => vec![id.clone()],
            Some(name) => vec![format!("{ACCOUNT_PREFIX}{name}"), name.clone()],
        }
    }

    /// The text for FTS5's MATCH: every word in double quotes (so nothing
    /// is an FTS5 operator or column), terms joined by AND.
    pub fn fts5(&self) -> String {
        let terms: Vec<String> = self
            .terms
            .iter()
            .map(|t| {
                let quoted = format!("\"{}\"", t.words.join(" ").replace('"', "\"\""));
                if t.prefix { quoted + "*" } else { quoted }
            })
            .collect();
        terms.join(" AND ")
    }

    /// The text for PostgreSQL's `to_tsquery('simple', ..)`: every word a
    /// quoted lexeme, a phrase's words joined by `<->`, a prefix `:*`,
    /// terms joined by `&`.
    pub fn tsquery(&self) -> String {
        let terms: Vec<String> = self
            .terms
            .iter()
            .map(|t| {
                let last = t.words.len() - 1;
                let lexemes: Vec<String> = t
                    .words
                    .iter()
                    .enumerate()
                    .map(|(i, w)| {
                        let quoted = format!("'{}'", w.replace('\'', "''").replace('\\', "\\\\"));
                        if t.prefix && i == last {
                            quoted + ":*"
                        } else {
                            quoted
                        }
                    })
                    .collect();
                format!("({})", lexemes.join(" <-> "))
            })
            .collect();
        terms.join(" & ")
    }

    /// Where the query's words, prefixes and phrases occur in `text`:
    /// `[start, end)` ranges counted in characters (code points), sorted,
    /// overlapping ones merged. Case and diacritics are folded as the
    /// engines fold them (lowercase, combining marks dropped).
    pub fn highlights(&self, text: &str) -> Vec<[usize; 2]> {
        let tokens = tokens(text);
        let mut ranges: Vec<[usize; 2]> = Vec::new();
        for term in &self.terms {
            let want: Vec<String> = term.words.iter().map(|w| fold(w)).collect();
            let n = want.len();
            for run in tokens.windows(n) {
                let hit = run.iter().zip(&want).enumerate().all(|(i, (tok, w))| {
                    if term.prefix && i == n - 1 {
                        tok.folded.starts_with(w.as_str())
                    } else {
                        tok.folded == *w
                    }
                });
                if hit {
                    ranges.push([run[0].start, run[n - 1].end]);
                }
            }
        }
        ranges.sort_unstable();
        let mut merged: Vec<[usize; 2]> = Vec::with_capacity(ranges.len());
        for r in ranges {
            match merged.last_mut() {
                Some(last) if r[0] < last[1] => last[1] = last[1].max(r[1]),
                _ => merged.push(r),
            }
        }
        merged
    }
}

/// A piece of the query between spaces, or in quotes.
enum Piece<'a> {
    Bare(&'a str),
    Phrase(&'a str),
}

/// The query cut at whitespace and quotes; an unclosed quote is an error.
fn pieces(q: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = q;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return Ok(out);
        }
        if let Some(inner) = rest.strip_prefix('"') {
            let end = inner
                .find('"')
                .ok_or("a quote is not closed: phrases go in pairs of double quotes")?;
            out.push(Piece::Phrase(&inner[..end]));
            rest = &inner[end + 1..];
        } else {
            let end = rest
                .find(|c: char| c.is_whitespace() || c == '"')
                .unwrap_or(rest.len());
            out.push(Piece::Bare(&rest[..end]));
            rest = &rest[end..];
        }
    }
}

/// The value after `key` (any case) when `text` is that filter.
fn filter<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let head = text.get(..key.len())?;
    head.eq_ignore_ascii_case(key).then(|| &text[key.len()..])
}

/// Letters, digits and combining marks make words, as for FTS5's
/// `unicode61` tokenizer; everything else separates them.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_combining_mark(c)
}

/// The words of `text`, lowercased.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !is_word_char(c))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Lowercase with combining marks dropped (after canonical decomposition).
fn fold(s: &str) -> String {
    s.nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// A word of a message and where it is, in characters.
struct Token {
    start: usize,
    end: usize,
    folded: String,
}

fn tokens(text: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut start = 0;
    for (i, c) in text.chars().enumerate() {
        if is_word_char(c) {
            if word.is_empty() {
                start = i;
            }
            word.push(c);
        } else if !word.is_empty() {
            out.push(Token {
                start,
                end: i,
                folded: fold(&word),
            });
            word.clear();
        }
    }
    if !word.is_empty() {
        out.push(Token {
            start,
            end: text.chars().count(),
            folded: fold(&word),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> SearchQuery {
        match SearchQuery::parse(s) {
            Ok(q) => q,
            Err(e) => panic!("{s:?}: {e}"),
        }
    }

    #[test]
    fn words_prefixes_and_phrases_become_quoted_engine_terms() {
        let query = q(r#"Deploy deplo* "build failed" from:ann in:ops"#);
        assert_eq!(query.fts5(), r#""deploy" AND "deplo"* AND "build failed""#);
        assert_eq!(
            query.tsquery(),
            "('deploy') & ('deplo':*) & ('build' <-> 'failed')"
        );
        assert_eq!(query.authors(), ["acct:ann", "ann"]);
        assert_eq!(query.room().map(RoomName::as_str), Some("ops"));
    }

    #[test]
    fn engine_syntax_from_the_user_is_only_words() {
        for (input, fts, ts) in [
            (
                "NEAR(a b)",
                r#""near a" AND "b""#,
                "('near' <-> 'a') & ('b')",
            ),
            ("col:x", r#""col x""#, "('col' <-> 'x')"),
            (
                "') OR 1=1 --",
                r#""or" AND "1 1""#,
                "('or') & ('1' <-> '1')",
            ),
            ("a&b|!c", r#""a b c""#, "('a' <-> 'b' <-> 'c')"),
            ("it's", r#""it s""#, "('it' <-> 's')"),
        ] {
            let query = q(input);
            assert_eq!(query.fts5(), fts, "{input}");
            assert_eq!(query.tsquery(), ts, "{input}");
        }
    }

    #[test]
    fn bad_queries_say_why() {
        for (input, says) in [
            ("", "nothing to search for"),
            ("*", "nothing to search for"),
            ("-- )", "nothing to search for"),
            ("from:ann", "nothing to search for"),
            ("\"unclosed", "not closed"),
            ("a*", "prefix needs"),
            ("x from:a from:b", "more than one from:"),
            ("x in:a in:b", "more than one in:"),
            ("x in:", "in: room name"),
            ("x from:", "from: needs"),
        ] {
            match SearchQuery::parse(input) {
                Ok(_) => panic!("{input:?} parsed"),
                Err(e) => assert!(e.contains(says), "{input:?}: {e}"),
            }
        }
        let long = "a".repeat(SearchQuery::MAX_CHARS + 1);
        assert!(SearchQuery::parse(&long).is_err());
        assert!(SearchQuery::parse(&"a".repeat(SearchQuery::MAX_CHARS)).is_ok());
        let many = vec!["w"; SearchQuery::MAX_TERMS + 1].join(" ");
        assert!(SearchQuery::parse(&many).is_err());
        assert!(SearchQuery::parse(&many[2..]).is_ok());
    }

    #[test]
    fn an_id_with_a_colon_is_taken_as_it_is() {
        assert_eq!(q("x from:bot:ci").authors(), ["bot:ci"]);
        assert_eq!(q("x FROM:acct:ann").authors(), ["acct:ann"]);
        assert!(q("x").authors().is_empty());
    }

    #[test]
    fn highlights_count_characters_and_fold_case_and_accents() {
        // "é" precomposed and "🚀" (two UTF-16 units) each count once.
        let text = "🚀 Déployé: Deploy deployed, build  failed";
        assert_eq!(q("deploy").highlights(text), [[11, 17]]);
        assert_eq!(q("deplo*").highlights(text), [[2, 9], [11, 17], [18, 26]]);
        assert_eq!(q("deploye").highlights(text), [[2, 9]]);
        assert_eq!(q("\"build failed\"").highlights(text), [[28, 41]]);
        assert_eq!(q("failed fail*").highlights(text), [[35, 41]]);
        assert!(q("missing").highlights(text).is_empty());
    }

    #[test]
    fn overlapping_matches_merge() {
        assert_eq!(q("\"a b\" \"b c\"").highlights("a b c"), [[0, 5]]);
        assert_eq!(q("ab ab").highlights("ab ab"), [[0, 2], [3, 5]]);
    }
}
