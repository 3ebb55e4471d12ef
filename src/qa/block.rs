//! One failing test's block of output, and how it is cut to fit: the head (where the test
//! and the failing line are named) and every line that states what went wrong (an
//! assertion, an `Error:`, a panic) are kept; the middle goes, with a marker saying so.
//!
//! Shared by the parsers (which cap what they keep per test, so a test printing megabytes
//! cannot hold them all in memory) and by the feedback builder (which cuts each block to
//! its share of the budget).

/// Bytes a parser keeps of one test's block.
pub(crate) const BLOCK_CAP: usize = 16 * 1024;

/// Bytes kept of one line, however long it is (a minified file, a dumped blob).
const LINE_CAP: usize = 400;

/// The marker put where lines were cut.
const CUT: &str = "[… lines cut …]";

/// `lines` joined as one block, cut to [`BLOCK_CAP`].
pub(crate) fn join(lines: &[&str]) -> String {
    let start = lines.iter().position(|l| !l.trim().is_empty()).unwrap_or(0);
    let end = lines
        .iter()
        .rposition(|l| !l.trim().is_empty())
        .map_or(start, |i| i + 1);
    cut(&lines[start..end.max(start)].join("\n"), BLOCK_CAP)
}

/// Whether a line says what went wrong: an assertion, an error or exception, a panic, an
/// expected/actual pair. These survive every cut.
pub(crate) fn is_telling(line: &str) -> bool {
    let t = line.trim_start();
    const WORDS: [&str; 12] = [
        "Error",
        "error:",
        "Exception",
        "assert",
        "Assert",
        "panicked",
        "expected",
        "Expected",
        "Received",
        "received",
        "FAILED",
        "Traceback",
    ];
    t.starts_with("E ")
        || t.starts_with("E\t")
        || t.starts_with('>')
        || t.starts_with("left:")
        || t.starts_with("right:")
        || t.starts_with("want")
        || t.starts_with("got")
        || WORDS.iter().any(|w| t.contains(w))
}

/// `text` in at most `max` bytes: whole when it fits; else its head, the telling lines
/// after it (in order, each gap marked) and its last line. Always on char boundaries.
pub(crate) fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    if max < CUT.len() + 2 {
        return clip(text, max).to_string();
    }
    let lines: Vec<&str> = text.lines().map(|l| clip(l, LINE_CAP)).collect();
    let last = lines.len().saturating_sub(1);
    // what must stay besides the head: telling lines, then the last line, within half
    let mut keep: Vec<usize> = Vec::new();
    let mut kept_len = 0;
    let wanted = (0..lines.len()).filter(|&i| is_telling(lines[i]) || i == last);
    for i in wanted {
        let len = lines[i].len() + 1 + CUT.len() + 1;
        if kept_len + len > max / 2 {
            continue;
        }
        keep.push(i);
        kept_len += len;
    }
    // the head fills the rest
    let mut head_len = 0;
    let mut head = 0;
    while head < lines.len() && head_len + lines[head].len() + 1 + kept_len + CUT.len() < max {
        head_len += lines[head].len() + 1;
        head += 1;
    }
    let mut out = String::with_capacity(max);
    for line in &lines[..head] {
        out.push_str(line);
        out.push('\n');
    }
    let mut next = head;
    for i in keep.into_iter().filter(|&i| i >= head) {
        if i > next {
            out.push_str(CUT);
            out.push('\n');
        }
        out.push_str(lines[i]);
        out.push('\n');
        next = i + 1;
    }
    if next < lines.len() {
        out.push_str(CUT);
        out.push('\n');
    }
    let out = out.trim_end_matches('\n');
    clip(out, max).to_string()
}

/// The first `max` bytes of `text`, cut back to a char boundary; longer text ends in `…`.
pub(crate) fn clip(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_block_keeps_its_head_and_its_assertion() {
        let mut text =
            String::from("Traceback (most recent call last):\n  File \"t.py\", line 9\n");
        for i in 0..2000 {
            text.push_str(&format!("    noise line {i}\n"));
        }
        text.push_str("AssertionError: 503 != 200\n");
        for i in 0..500 {
            text.push_str(&format!("captured {i}\n"));
        }
        let cut = cut(&text, 1000);
        assert!(cut.len() <= 1000, "{}", cut.len());
        assert!(
            cut.starts_with("Traceback (most recent call last):\n"),
            "{cut}"
        );
        assert!(cut.contains("AssertionError: 503 != 200"), "{cut}");
        assert!(cut.contains(CUT), "{cut}");
        assert!(cut.ends_with("captured 499"), "{cut}");
        assert_eq!(super::cut("short", 1000), "short");
    }

    #[test]
    fn cuts_stay_on_char_boundaries_and_within_limits() {
        let text = "é".repeat(5000);
        for max in [0, 1, 3, 10, 17, 100, 999] {
            let c = cut(&text, max);
            assert!(c.len() <= max, "{max}: {}", c.len());
        }
        let lines = "ééé\n".repeat(1000);
        assert!(cut(&lines, 101).len() <= 101);
        assert_eq!(clip("aé", 2), "a");
    }

    #[test]
    fn join_drops_blank_edges() {
        assert_eq!(join(&["", "  a", "b", "", ""]), "  a\nb");
        assert_eq!(join(&["", ""]), "");
        assert_eq!(join(&[]), "");
    }
}
