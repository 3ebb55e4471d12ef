//! Measuring and cutting text for Discord's limits. Discord does not say what a
//! "character" is; counting UTF-16 units is never less than counting code points, so
//! every length here is in UTF-16 units. Text is cut at a paragraph, else a line, else a
//! word boundary, and only a single word longer than the whole limit is cut inside; a cut
//! inside a paragraph is marked with "…".

/// The mark at a cut.
pub(crate) const ELLIPSIS: char = '…';

/// The length of `text` as Discord may count it (UTF-16 units).
pub(crate) fn units(text: &str) -> usize {
    text.encode_utf16().count()
}

/// `text` whole if it fits in `max` units, else cut at a word boundary with "…"
/// (`true`: something was cut).
pub(crate) fn fit(text: &str, max: usize) -> (String, bool) {
    if units(text) <= max {
        return (text.to_string(), false);
    }
    let (head, _) = cut(text, max.saturating_sub(1));
    (format!("{}{ELLIPSIS}", head.trim_end()), true)
}

/// `text` in chunks of at most `max` units (`max` ≥ 2), cut at the best boundary; a chunk
/// cut inside a paragraph ends with "…".
pub(crate) fn chunks(text: &str, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text.trim();
    while units(rest) > max {
        let (head, at_paragraph) = cut(rest, max - 1);
        let head_len = head.len();
        let head = head.trim_end();
        if at_paragraph {
            out.push(head.to_string());
        } else {
            out.push(format!("{head}{ELLIPSIS}"));
        }
        rest = rest[head_len..].trim_start();
    }
    if !rest.is_empty() {
        out.push(rest.to_string());
    }
    out
}

/// The longest prefix of `text` within `max` units that ends at a paragraph break, else a
/// line break, else whitespace, else (one long word) at a character; with whether it
/// ended at a paragraph break. Never empty when `text` is not and `max` > 0.
fn cut(text: &str, max: usize) -> (&str, bool) {
    let end = byte_end_within(text, max);
    if end == text.len() {
        return (text, false);
    }
    // a boundary may start right at the end: the separator itself is not kept
    let boundary = |pattern: &str| {
        text.match_indices(pattern)
            .map(|(at, _)| at)
            .take_while(|&at| at <= end)
            .filter(|&at| !text[..at].trim_end().is_empty())
            .last()
    };
    if let Some(at) = boundary("\n\n") {
        return (&text[..at], true);
    }
    if let Some(at) = boundary("\n").or_else(|| boundary(" ")) {
        return (&text[..at], false);
    }
    (&text[..end], false)
}

/// The byte index where the longest prefix of `text` within `max` UTF-16 units ends.
fn byte_end_within(text: &str, max: usize) -> usize {
    let mut used = 0;
    for (at, ch) in text.char_indices() {
        used += ch.len_utf16();
        if used > max {
            return at;
        }
    }
    text.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_count_utf16() {
        assert_eq!(units("abc"), 3);
        assert_eq!(units("é"), 1);
        assert_eq!(units("🎉"), 2);
    }

    #[test]
    fn fit_cuts_at_a_word_with_an_ellipsis() {
        assert_eq!(fit("short", 10), ("short".to_string(), false));
        let (cut, was_cut) = fit("the quick brown fox", 12);
        assert!(was_cut);
        assert_eq!(cut, "the quick…");
        assert!(units(&cut) <= 12);
    }

    #[test]
    fn fit_cuts_one_long_word_inside_only_when_it_must() {
        let (cut, _) = fit(&"x".repeat(50), 10);
        assert_eq!(cut, format!("{}…", "x".repeat(9)));
        let (cut, _) = fit(&"🎉".repeat(10), 5);
        assert!(units(&cut) <= 5, "{cut}");
    }

    #[test]
    fn chunks_prefer_paragraphs_then_lines_then_words() {
        let text = "first paragraph here\n\nsecond one\nwith two lines";
        assert_eq!(
            chunks(text, 21),
            ["first paragraph here", "second one…", "with two lines"]
        );
        let words = chunks("alpha beta gamma delta", 12);
        assert_eq!(words, ["alpha beta…", "gamma delta"]);
    }

    #[test]
    fn chunks_are_within_the_limit_and_lose_no_word() {
        let text = (0..3000)
            .map(|n| format!("word{n}"))
            .collect::<Vec<_>>()
            .join(" ");
        let parts = chunks(&text, 1000);
        assert!(parts.iter().all(|p| units(p) <= 1000));
        let joined = parts.join(" ").replace('…', "");
        assert_eq!(joined.split_whitespace().count(), 3000);
    }
}
