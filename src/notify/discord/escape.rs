//! Escaping for text dayshift did not write (model answers, issue bodies, file names from
//! the repository) before it goes into a Discord message.
//!
//! Two layers: [`mentions`] makes every mention inert (a zero-width space after each `@`,
//! and after `<` where it opens a user, role, channel or command mention), so nothing
//! pings even if `allowed_mentions` were wrong; [`markdown`] also backslash-escapes the
//! markdown that would change how the text reads (emphasis, code, spoilers, quotes,
//! headings, lists, masked links).

/// The zero-width space that breaks a mention without changing how the text looks.
pub const ZERO_WIDTH_SPACE: char = '\u{200B}';

/// `text` with every mention made inert: `@everyone`, `@here`, `<@123>`, `<@!123>`,
/// `<@&123>`, `<#123>` and `</cmd:1>` no longer parse. Idempotent.
pub fn mentions(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        out.push(ch);
        let next = chars.peek().copied();
        let opens_mention = ch == '<' && matches!(next, Some('@' | '#' | '/'));
        if (ch == '@' || opens_mention) && next != Some(ZERO_WIDTH_SPACE) {
            out.push(ZERO_WIDTH_SPACE);
        }
    }
    out
}

/// `text` shown literally: markdown escaped with backslashes and mentions made inert.
pub fn markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for (n, line) in text.split('\n').enumerate() {
        if n > 0 {
            out.push('\n');
        }
        escape_line(line, &mut out);
    }
    mentions(&out)
}

/// Characters that format wherever they are.
const INLINE: &[char] = &['\\', '*', '_', '~', '`', '|', '[', ']'];

/// Characters that format at the start of a line (quotes, headings, lists).
const LINE_START: &[char] = &['>', '#', '-', '+'];

fn escape_line(line: &str, out: &mut String) {
    let body = line.trim_start();
    out.push_str(&line[..line.len() - body.len()]);
    if body.starts_with(LINE_START) {
        out.push('\\');
    } else if let Some(digits) = ordered_list_marker(body) {
        out.push_str(&body[..digits]);
        out.push('\\');
        escape_inline(&body[digits..], out);
        return;
    }
    escape_inline(body, out);
}

/// The length of the digits of a `12. item` line start.
fn ordered_list_marker(body: &str) -> Option<usize> {
    let digits = body.bytes().take_while(u8::is_ascii_digit).count();
    (digits > 0 && body[digits..].starts_with(". ")).then_some(digits)
}

fn escape_inline(text: &str, out: &mut String) {
    for ch in text.chars() {
        if INLINE.contains(&ch) {
            out.push('\\');
        }
        out.push(ch);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const Z: char = ZERO_WIDTH_SPACE;

    #[test]
    fn mentions_of_everyone_users_roles_and_channels_are_inert() {
        let text = "hey @everyone and @here, <@123> <@!45> <@&67> <#89> </deploy:1>";
        let safe = mentions(text);
        for raw in [
            "@everyone",
            "@here",
            "<@123>",
            "<@!45>",
            "<@&67>",
            "<#89>",
            "</deploy",
        ] {
            assert!(!safe.contains(raw), "{raw} still in {safe:?}");
        }
        assert_eq!(
            safe.replace(Z, ""),
            text,
            "only zero-width spaces were added"
        );
        assert!(safe.contains(&format!("<{Z}@{Z}&67>")));
    }

    #[test]
    fn mentions_is_idempotent_and_leaves_plain_text_alone() {
        let once = mentions("mail me@example.com <@1>");
        assert_eq!(mentions(&once), once);
        assert_eq!(mentions("a < b, 3 > 2"), "a < b, 3 > 2");
    }

    #[test]
    fn markdown_is_escaped_inline_and_at_line_starts() {
        let text = "**bold** _it_ ~~gone~~ `code` ||spoiler|| [site](https://x.test)\n> quote\n# head\n  - item\n3. third\nplain - dash";
        let want = "\\*\\*bold\\*\\* \\_it\\_ \\~\\~gone\\~\\~ \\`code\\` \\|\\|spoiler\\|\\| \\[site\\](https://x.test)\n\\> quote\n\\# head\n  \\- item\n3\\. third\nplain - dash";
        assert_eq!(markdown(text), want);
    }

    #[test]
    fn markdown_escapes_backslashes_and_neutralises_mentions() {
        assert_eq!(markdown(r"a\*b"), r"a\\\*b");
        let safe = markdown("@everyone look");
        assert!(!safe.contains("@everyone"));
    }
}
