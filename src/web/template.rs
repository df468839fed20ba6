//! The HTML templates of `web/templates`, filled in one pass with escaped values.

static LAYOUT: &str = include_str!("../../web/templates/layout.html");

/// The pages, each a fragment of `web/templates` inside the layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Page {
    Login,
    Register,
    Logout,
    Lobby,
    Room,
    NotFound,
}

impl Page {
    fn fragment(self) -> &'static str {
        match self {
            Self::Login => include_str!("../../web/templates/login.html"),
            Self::Register => include_str!("../../web/templates/register.html"),
            Self::Logout => include_str!("../../web/templates/logout.html"),
            Self::Lobby => include_str!("../../web/templates/lobby.html"),
            Self::Room => include_str!("../../web/templates/room.html"),
            Self::NotFound => include_str!("../../web/templates/not_found.html"),
        }
    }

    /// The `data-page` the script dispatches on.
    fn name(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Register => "register",
            Self::Logout => "logout",
            Self::Lobby => "lobby",
            Self::Room => "room",
            Self::NotFound => "not-found",
        }
    }
}

/// Renders `page`; every `{{key}}` is replaced by the escaped value of `vars`
/// (unknown keys by nothing). One pass over the trusted template, so a value
/// that itself contains `{{…}}` is never expanded.
pub(super) fn render(page: Page, title: &str, vars: &[(&str, &str)]) -> String {
    let layout = LAYOUT.replacen("{{body}}", page.fragment(), 1);
    let lookup = |key: &str| -> &str {
        match key {
            "page" => page.name(),
            "title" => title,
            "v" => super::assets::VERSION,
            _ => vars.iter().find(|(k, _)| *k == key).map_or("", |(_, v)| v),
        }
    };
    let mut out = String::with_capacity(layout.len() + 256);
    let mut rest = layout.as_str();
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                escape_into(&mut out, lookup(&after[..end]));
                rest = &after[end + 2..];
            }
            None => {
                out.push_str("{{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// HTML-escapes text for element content and quoted attribute values.
fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_and_never_expanded() {
        let html = render(Page::Room, "x", &[("room", "<b>\"{{title}}\"</b>")]);
        assert!(html.contains("&lt;b&gt;&quot;{{title}}&quot;&lt;/b&gt;"));
        assert!(!html.contains("<b>"));
        assert!(html.contains("data-page=\"room\""));
    }
}
