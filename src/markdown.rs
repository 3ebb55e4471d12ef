//! Small helpers for the markdown dayshift writes (plans, reports, PROGRESS.md).

/// A GitHub-flavoured markdown table. Cells are escaped so a `|` or newline in user text
/// cannot break the table.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = format!(
        "| {} |\n|{}\n",
        headers.join(" | "),
        "---|".repeat(headers.len())
    );
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}

fn cell(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

/// A timestamp as dayshift writes it in markdown.
pub fn stamp(at: chrono::DateTime<chrono::FixedOffset>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cannot_break_the_table() {
        let t = table(&["a", "b"], &[vec!["x | y".into(), "two\nlines".into()]]);
        assert_eq!(t, "| a | b |\n|---|---|\n| x \\| y | two lines |\n");
    }
}
