//! How long TODO, FIXME, XXX and HACK comments have waited: the date git blame gives the
//! line (its author time), for the marked lines only, of the tracked files that have
//! any. A tree that is not a git repository has no dates, so no findings; the error says
//! so. Lines not committed yet are as young as today.

use std::collections::BTreeSet;
use std::path::Path;

use chrono::{DateTime, NaiveDate};

use super::{ANALYZER, read_source};
use crate::fsx::Beneath;
use crate::review::Language;
use crate::scan::{Finding, Severity};
use crate::target::git::Git;

/// The words that mark a comment as work left to do.
pub const MARKERS: [&str; 4] = ["TODO", "FIXME", "XXX", "HACK"];

/// One `health/todo-age` (analyzer `health`, rule `todo-age`) finding (severity low) per marked comment in `files` whose line
/// was written more than `max_age_days` before `today`, ordered by file and line.
/// Untracked files are skipped. `Err` says why no age could be read: `root` is not in a
/// git repository, git is missing, or blame failed.
pub fn old_todos(
    root: &Path,
    files: &[String],
    max_age_days: u32,
    today: NaiveDate,
) -> Result<Vec<Finding>, String> {
    let git = Git::new(root);
    let inside = git
        .output_of(&["rev-parse", "--is-inside-work-tree"])
        .map_err(|e| format!("TODO age not read: {e}"))?;
    if !inside.success() {
        return Err(format!(
            "TODO age not read: {} is not in a git repository, so no TODO has a date",
            root.display()
        ));
    }
    let tracked: BTreeSet<String> = git
        .run(&["ls-files", "-z"], "check that the repository is intact")
        .map_err(|e| format!("TODO age not read: {e}"))?
        .split('\0')
        .filter(|f| !f.is_empty())
        .map(str::to_string)
        .collect();
    let mut wanted: Vec<&String> = files.iter().filter(|f| tracked.contains(*f)).collect();
    wanted.sort();
    wanted.dedup();
    let mut found = Vec::new();
    let tree = Beneath::new(root);
    for file in wanted {
        let Some(lang) = Language::of(file) else {
            continue;
        };
        let Some(text) = read_source(&tree, file) else {
            continue;
        };
        let marked = marked_lines(lang, &text);
        if marked.is_empty() {
            continue;
        }
        let mut args = vec!["blame".to_string(), "--line-porcelain".to_string()];
        for (line, _) in &marked {
            args.extend(["-L".to_string(), format!("{line},{line}")]);
        }
        args.extend(["--".to_string(), file.to_string()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let blame = git
            .run(&args, "check that the repository is intact")
            .map_err(|e| format!("TODO age not read for {file}: {e}"))?;
        for (line, written) in author_times(&blame) {
            let Some(marker) = marked.iter().find(|(l, _)| *l == line).map(|(_, m)| *m) else {
                continue;
            };
            let Some(date) = DateTime::from_timestamp(written, 0).map(|d| d.date_naive()) else {
                continue;
            };
            let age = (today - date).num_days();
            if age > i64::from(max_age_days) {
                found.push(Finding::at(
                    ANALYZER,
                    "todo-age",
                    Severity::Low,
                    file,
                    line,
                    format!(
                        "{marker} comment from {date}, {age} days old (the limit is {max_age_days}): do it, file it as a task, or remove it"
                    ),
                ));
            }
        }
    }
    found.sort_by(|a, b| (&a.file, a.start_line).cmp(&(&b.file, b.start_line)));
    Ok(found)
}

/// The 1-based lines of `text` with a marker word in a comment, and the marker.
pub fn marked_lines(lang: Language, text: &str) -> Vec<(u32, &'static str)> {
    // C-like languages also continue block comments on lines starting with `*`
    let (openers, starred): (&[&str], bool) = match lang {
        Language::Python | Language::Shell => (&["#"], false),
        _ => (&["//", "/*"], true),
    };
    text.lines()
        .enumerate()
        .filter_map(|(number, line)| {
            let trimmed = line.trim_start();
            let comment = openers
                .iter()
                .filter_map(|o| line.find(o))
                .min()
                .map(|at| &line[at..])
                .or_else(|| (starred && trimmed.starts_with('*')).then_some(trimmed))?;
            let marker = comment
                .split(|c: char| !c.is_alphanumeric() && c != '_')
                .find_map(|word| MARKERS.iter().find(|m| **m == word))?;
            Some((u32::try_from(number + 1).unwrap_or(u32::MAX), *marker))
        })
        .collect()
}

/// (final line, author time in seconds since the epoch) of each line of
/// `git blame --line-porcelain` output.
fn author_times(porcelain: &str) -> Vec<(u32, i64)> {
    let mut out = Vec::new();
    let (mut line, mut time) = (None, None);
    for row in porcelain.lines() {
        if row.starts_with('\t') {
            if let (Some(l), Some(t)) = (line.take(), time.take()) {
                out.push((l, t));
            }
        } else if let Some(seconds) = row.strip_prefix("author-time ") {
            time = seconds.trim().parse().ok();
        } else if line.is_none() {
            let mut words = row.split(' ');
            let sha = words.next().unwrap_or_default();
            if sha.len() >= 40 && sha.chars().all(|c| c.is_ascii_hexdigit()) {
                line = words.nth(1).and_then(|n| n.parse().ok());
            }
        }
    }
    out
}
