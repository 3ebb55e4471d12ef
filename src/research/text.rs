//! HTML (or plain text) to readable text: html2text renders the document (scripts,
//! styles and markup dropped), then whitespace is collapsed and the text capped at a word.

/// The most text kept of one page, in characters.
pub const MAX_TEXT_CHARS: usize = 20_000;

/// Lines wider than this are not wrapped by the renderer (the text is for a model).
const RENDER_WIDTH: usize = 10_000;

/// Readable text of an HTML document: no tags, no script or style, whitespace collapsed.
/// An HTML document the renderer cannot handle yields its bytes as text, collapsed.
pub fn html_to_text(html: &[u8]) -> String {
    let rendered = html2text::config::plain_no_decorate()
        .string_from_read(html, RENDER_WIDTH)
        .unwrap_or_else(|_| String::from_utf8_lossy(html).into_owned());
    collapse_whitespace(&rendered)
}

/// The document's `<title>`, as text; `None` when it has none (or an empty one).
pub fn html_title(html: &[u8]) -> Option<String> {
    let config = html2text::config::plain_no_decorate();
    let dom = config.parse_html(html).ok()?;
    let title = find_element(&dom.document, "title")?;
    let mut inner = Vec::new();
    for child in title.children.borrow().iter() {
        child.serialize(&mut inner).ok()?;
    }
    let mut paragraph = b"<p>".to_vec();
    paragraph.extend(inner);
    paragraph.extend(b"</p>");
    let text = html_to_text(&paragraph);
    (!text.is_empty()).then_some(text)
}

fn find_element(node: &html2text::Handle, tag: &str) -> Option<html2text::Handle> {
    if let html2text::Element { name, .. } = &node.data
        && &*name.local == tag
    {
        return Some(node.clone());
    }
    node.children
        .borrow()
        .iter()
        .find_map(|child| find_element(child, tag))
}

/// Runs of spaces and tabs become one space, lines are trimmed, and runs of blank lines
/// become one blank line.
pub fn collapse_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_pending = false;
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.is_empty() {
            blank_pending = !out.is_empty();
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank_pending { "\n\n" } else { "\n" });
        }
        blank_pending = false;
        out.push_str(&words.join(" "));
    }
    out
}

/// `text` cut to at most `max_chars` characters, at the last whitespace before the cap
/// (mid-word only when there is none); the second value says whether anything was cut.
pub fn cap_at_word(text: &str, max_chars: usize) -> (String, bool) {
    let Some((cut, _)) = text.char_indices().nth(max_chars) else {
        return (text.to_string(), false);
    };
    let head = &text[..cut];
    let end = head
        .rfind(char::is_whitespace)
        .filter(|&i| i > 0)
        .unwrap_or(cut);
    (head[..end].trim_end().to_string(), true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_styles_and_tags_are_dropped() {
        let html = b"<html><head><title>T &amp; U</title><style>p{color:red}</style></head><body><h1>Hello</h1><script>steal()</script><p>one   two\n\n\n\nthree</p></body></html>";
        let text = html_to_text(html);
        assert!(text.contains("Hello"), "{text}");
        assert!(
            text.contains("one two three") || text.contains("one two"),
            "{text}"
        );
        assert!(!text.contains("steal"), "{text}");
        assert!(!text.contains("color"), "{text}");
        assert!(!text.contains('<'), "{text}");
        assert_eq!(html_title(html).as_deref(), Some("T & U"));
    }

    #[test]
    fn a_page_without_title_has_none() {
        assert_eq!(html_title(b"<p>x</p>"), None);
    }

    #[test]
    fn whitespace_collapses_to_single_spaces_and_one_blank_line() {
        assert_eq!(collapse_whitespace("  a \t b \n\n\n\n c\n"), "a b\n\nc");
    }

    #[test]
    fn the_cap_cuts_at_a_word() {
        assert_eq!(
            cap_at_word("alpha beta gamma", 12),
            ("alpha beta".into(), true)
        );
        assert_eq!(cap_at_word("short", 12), ("short".into(), false));
        assert_eq!(cap_at_word("abcdefghij", 4), ("abcd".into(), true));
    }
}
