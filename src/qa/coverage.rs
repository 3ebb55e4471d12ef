//! A coverage command's output → one total percentage.
//!
//! In order: coverage.py's `TOTAL   120   15   87%` row, lcov/genhtml's
//! `lines......: 81.2% (123 of 456 lines)`, and otherwise the last `NN.N%` printed (most
//! tools end with the total). Values outside 0–100 are ignored.

/// The total coverage percentage printed in `text`, if any.
pub fn parse_total_percent(text: &str) -> Option<f64> {
    let lines: Vec<&str> = text.lines().collect();
    let total = lines
        .iter()
        .rev()
        .find(|l| l.trim_start().starts_with("TOTAL"))
        .and_then(|l| percents(l).last().copied());
    let lcov = || {
        lines
            .iter()
            .rev()
            .find(|l| {
                let t = l.trim_start();
                t.starts_with("lines") && t.contains(':')
            })
            .and_then(|l| percents(l).first().copied())
    };
    let last = || lines.iter().rev().find_map(|l| percents(l).last().copied());
    total.or_else(lcov).or_else(last)
}

/// Every `N%` / `N.N%` in a line, in order.
fn percents(line: &str) -> Vec<f64> {
    let mut found = Vec::new();
    for (i, _) in line.match_indices('%') {
        let head = &line[..i];
        let start = head
            .rfind(|c: char| !(c.is_ascii_digit() || c == '.'))
            .map_or(0, |p| p + 1);
        if let Ok(value) = head[start..].parse::<f64>()
            && (0.0..=100.0).contains(&value)
        {
            found.push(value);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_py_total_row() {
        let text = "\
Name          Stmts   Miss  Cover
---------------------------------
app/cart.py      40      4    90%
app/util.py      80     11    86%
---------------------------------
TOTAL           120     15    87%";
        assert_eq!(parse_total_percent(text), Some(87.0));
    }

    #[test]
    fn lcov_summary_and_generic_last_percent() {
        let text = "Summary coverage rate:\n  lines......: 81.2% (123 of 456 lines)\n  functions..: 70.0% (7 of 10 functions)\n";
        assert_eq!(parse_total_percent(text), Some(81.2));
        assert_eq!(
            parse_total_percent("50% done\ncoverage: 63.5% of statements\n"),
            Some(63.5)
        );
    }

    #[test]
    fn nothing_or_nonsense() {
        assert_eq!(parse_total_percent(""), None);
        assert_eq!(parse_total_percent("% 1.2.3% 250%"), None);
        assert_eq!(parse_total_percent("TOTAL\n"), None);
    }
}
