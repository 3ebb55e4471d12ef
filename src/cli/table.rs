//! Plain-text tables for the terminal: columns padded to their widest cell, the last column
//! left ragged, long cells cut with an ellipsis.

use std::fmt::Write;

/// Render rows under headers. `max_width` caps every column but the last.
pub fn render(headers: &[&str], rows: &[Vec<String>], max_width: usize) -> String {
    let columns = headers.len();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate().take(columns) {
            widths[i] = widths[i].max(cell.chars().count().min(max_width));
        }
    }
    let mut out = String::with_capacity(rows.len() * 80);
    let line = |out: &mut String, cells: &mut dyn Iterator<Item = &str>| {
        for (i, cell) in cells.enumerate().take(columns) {
            if i + 1 == columns {
                out.push_str(cell);
            } else {
                let cut = cut(cell, widths[i]);
                let _ = write!(out, "{cut:<width$}  ", width = widths[i]);
            }
        }
        while out.ends_with(' ') {
            out.pop();
        }
        out.push('\n');
    };
    line(&mut out, &mut headers.iter().copied());
    for row in rows {
        line(&mut out, &mut row.iter().map(String::as_str));
    }
    out
}

fn cut(cell: &str, width: usize) -> std::borrow::Cow<'_, str> {
    if cell.chars().count() <= width {
        cell.into()
    } else {
        let mut s: String = cell.chars().take(width.saturating_sub(1)).collect();
        s.push('…');
        s.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_and_long_cells_are_cut() {
        let rows = vec![vec![
            "T-0001".into(),
            "a very long title indeed".into(),
            "x".into(),
        ]];
        let out = render(&["ID", "TITLE", "GOAL"], &rows, 10);
        assert_eq!(out, "ID      TITLE       GOAL\nT-0001  a very lo…  x\n");
    }
}
