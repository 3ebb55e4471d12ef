//! A unified diff (`git diff`, `git diff-tree -p`, `diff -u`) read into the files it
//! changes and their added and removed lines, each with its line number — what every
//! layer of the reviewer reads.
//!
//! Only the text of the diff is trusted: a path is the one in the `+++`/`---` lines (or
//! the `diff --git` line for a file with no hunk), unquoted the way git quotes
//! (`"a/\303\251.py"`); a file git calls binary has no lines.

use std::fmt;

/// How a file changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Added,
    Modified,
    Deleted,
}

/// The languages the reviewer's pattern and syntax layers know, by file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Python,
    JavaScript,
    TypeScript,
    /// TypeScript with JSX (`.tsx`): its own grammar.
    Tsx,
    Rust,
    Go,
    Shell,
}

impl Language {
    /// The language of `path` by its extension (or its name: `Makefile` is not a language
    /// the layers read, so it is `None`).
    pub fn of(path: &str) -> Option<Self> {
        let name = path.rsplit('/').next().unwrap_or(path);
        let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())?;
        Some(match ext.as_str() {
            "py" | "pyi" => Self::Python,
            "js" | "mjs" | "cjs" | "jsx" => Self::JavaScript,
            "ts" | "mts" | "cts" => Self::TypeScript,
            "tsx" => Self::Tsx,
            "rs" => Self::Rust,
            "go" => Self::Go,
            "sh" | "bash" => Self::Shell,
            _ => return None,
        })
    }

    /// Lower case, for rule ids: `patterns.python.eval`, `syntax.tsx`.
    pub fn id(self) -> &'static str {
        match self {
            Self::Python => "python",
            Self::JavaScript => "javascript",
            Self::TypeScript => "typescript",
            Self::Tsx => "tsx",
            Self::Rust => "rust",
            Self::Go => "go",
            Self::Shell => "shell",
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Python => "Python",
            Self::JavaScript => "JavaScript",
            Self::TypeScript => "TypeScript",
            Self::Tsx => "TSX",
            Self::Rust => "Rust",
            Self::Go => "Go",
            Self::Shell => "shell",
        })
    }
}

/// One line of a hunk: its number in the new file (added) or the old one (removed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub number: u32,
    pub text: String,
}

/// One file of the diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDiff {
    /// The path after the change (before it, for a deleted file), relative to the root.
    pub path: String,
    pub status: Status,
    /// Git said "Binary files … differ": no lines.
    pub binary: bool,
    pub added: Vec<Line>,
    pub removed: Vec<Line>,
}

impl FileDiff {
    pub fn language(&self) -> Option<Language> {
        Language::of(&self.path)
    }
}

/// A whole diff.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diff {
    pub files: Vec<FileDiff>,
}

impl Diff {
    /// Added plus removed lines over all files.
    pub fn lines_changed(&self) -> usize {
        self.files
            .iter()
            .map(|f| f.added.len() + f.removed.len())
            .sum()
    }

    /// Every added line with its file.
    pub fn added(&self) -> impl Iterator<Item = (&FileDiff, &Line)> {
        self.files
            .iter()
            .flat_map(|f| f.added.iter().map(move |l| (f, l)))
    }
}

/// Why a text is not a diff this reader understands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct DiffError {
    pub line: usize,
    pub problem: String,
}

/// Read a unified diff. Text before the first file header (a commit message, a mail
/// header) is skipped; a hunk that claims more lines than follow is an error, so a cut
/// diff is never judged as if whole.
pub fn parse(text: &str) -> Result<Diff, DiffError> {
    let mut files: Vec<FileDiff> = Vec::new();
    let mut lines = text.lines().enumerate().peekable();
    let err = |line: usize, problem: String| DiffError {
        line: line + 1,
        problem,
    };
    while let Some((at, line)) = lines.next() {
        if let Some(rest) = line.strip_prefix("diff --git ") {
            files.push(FileDiff {
                path: git_header_path(rest).unwrap_or_default(),
                status: Status::Modified,
                binary: false,
                added: Vec::new(),
                removed: Vec::new(),
            });
            continue;
        }
        if line.starts_with("new file mode") {
            if let Some(f) = files.last_mut() {
                f.status = Status::Added;
            }
            continue;
        }
        if line.starts_with("deleted file mode") {
            if let Some(f) = files.last_mut() {
                f.status = Status::Deleted;
            }
            continue;
        }
        if line.starts_with("Binary files ") || line == "GIT binary patch" {
            if let Some(f) = files.last_mut() {
                f.binary = true;
            }
            continue;
        }
        if let Some(old) = line.strip_prefix("--- ") {
            let Some((_, new_line)) = lines.next_if(|(_, l)| l.starts_with("+++ ")) else {
                continue;
            };
            let old = header_path(old);
            let new = header_path(&new_line[4..]);
            let (path, status) = match (old, new) {
                (None, Some(new)) => (new, Status::Added),
                (Some(old), None) => (old, Status::Deleted),
                (Some(_), Some(new)) => (new, Status::Modified),
                (None, None) => return Err(err(at, "both sides of the file are /dev/null".into())),
            };
            // `diff -u` has no `diff --git` line: the header starts the file
            let continues = files.last().is_some_and(|f| {
                f.added.is_empty() && f.removed.is_empty() && (f.path.is_empty() || f.path == path)
            });
            if !continues {
                files.push(FileDiff {
                    path: String::new(),
                    status,
                    binary: false,
                    added: Vec::new(),
                    removed: Vec::new(),
                });
            }
            let file = files.last_mut().expect("pushed above");
            file.path = path;
            if file.status == Status::Modified {
                file.status = status;
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("@@ ") {
            let Some(file) = files.last_mut() else {
                return Err(err(at, "a hunk before any file header".into()));
            };
            let (mut old_no, mut old_left, mut new_no, mut new_left) = hunk_header(rest)
                .ok_or_else(|| err(at, format!("`{line}` is not a hunk header")))?;
            while old_left > 0 || new_left > 0 {
                let Some((at, line)) = lines.next() else {
                    return Err(err(at, "the diff ends inside a hunk: it was cut".into()));
                };
                match line.as_bytes().first() {
                    Some(b'+') if new_left > 0 => {
                        file.added.push(Line {
                            number: new_no,
                            text: line[1..].to_string(),
                        });
                        new_no += 1;
                        new_left -= 1;
                    }
                    Some(b'-') if old_left > 0 => {
                        file.removed.push(Line {
                            number: old_no,
                            text: line[1..].to_string(),
                        });
                        old_no += 1;
                        old_left -= 1;
                    }
                    Some(b' ') | None if old_left > 0 && new_left > 0 => {
                        old_no += 1;
                        new_no += 1;
                        old_left -= 1;
                        new_left -= 1;
                    }
                    Some(b'\\') => {}
                    _ => {
                        return Err(err(
                            at,
                            format!(
                                "`{line}` does not fit the hunk's line counts: the diff is damaged"
                            ),
                        ));
                    }
                }
            }
            continue;
        }
    }
    files.retain(|f| !f.path.is_empty());
    Ok(Diff { files })
}

/// `-a,b +c,d` (counts default to 1): (old start, old count, new start, new count).
fn hunk_header(rest: &str) -> Option<(u32, u32, u32, u32)> {
    let mut parts = rest.split_whitespace();
    let range = |s: &str| -> Option<(u32, u32)> {
        match s.split_once(',') {
            Some((start, count)) => Some((start.parse().ok()?, count.parse().ok()?)),
            None => Some((s.parse().ok()?, 1)),
        }
    };
    let (old_start, old_count) = range(parts.next()?.strip_prefix('-')?)?;
    let (new_start, new_count) = range(parts.next()?.strip_prefix('+')?)?;
    Some((old_start, old_count, new_start, new_count))
}

/// The path of a `---`/`+++` line: `None` for /dev/null; git's `a/`/`b/` prefix dropped;
/// a tab-separated timestamp (`diff -u`) dropped.
fn header_path(raw: &str) -> Option<String> {
    let raw = raw.split('\t').next().unwrap_or(raw).trim_end();
    if raw == "/dev/null" {
        return None;
    }
    let path = unquote(raw);
    let path = path
        .strip_prefix("a/")
        .or_else(|| path.strip_prefix("b/"))
        .map(str::to_string)
        .unwrap_or(path);
    Some(path)
}

/// The new path of `a/x b/x` (a file with no hunk: binary, a mode change, empty).
fn git_header_path(rest: &str) -> Option<String> {
    if let Some(quoted) = rest.strip_prefix('"') {
        let end = quoted.find("\" ")?;
        return header_path(quoted[end + 2..].trim());
    }
    let half = rest.find(" b/")?;
    header_path(&rest[half + 1..])
}

/// Undo git's C-style quoting of a path (`"dir/\303\251 x.py"`); anything else as is.
fn unquote(raw: &str) -> String {
    let Some(inner) = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) else {
        return raw.to_string();
    };
    let mut bytes = Vec::with_capacity(inner.len());
    let mut it = inner.bytes().peekable();
    while let Some(b) = it.next() {
        if b != b'\\' {
            bytes.push(b);
            continue;
        }
        match it.next() {
            Some(b'n') => bytes.push(b'\n'),
            Some(b't') => bytes.push(b'\t'),
            Some(d @ b'0'..=b'7') => {
                let mut value = u32::from(d - b'0');
                for _ in 0..2 {
                    if let Some(&n @ b'0'..=b'7') = it.peek() {
                        value = value * 8 + u32::from(n - b'0');
                        it.next();
                    }
                }
                bytes.push(value as u8);
            }
            Some(other) => bytes.push(other),
            None => bytes.push(b'\\'),
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIT: &str = "diff --git a/app/x.py b/app/x.py\nindex 1..2 100644\n--- a/app/x.py\n+++ b/app/x.py\n@@ -1,3 +1,4 @@\n import os\n-a = 1\n+a = 2\n+b = eval(x)\n c = 3\ndiff --git a/new.rs b/new.rs\nnew file mode 100644\n--- /dev/null\n+++ b/new.rs\n@@ -0,0 +1,2 @@\n+fn main() {\n+}\n\\ No newline at end of file\ndiff --git a/old.txt b/old.txt\ndeleted file mode 100644\n--- a/old.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-gone\ndiff --git a/logo.png b/logo.png\nBinary files a/logo.png and b/logo.png differ\n";

    #[test]
    fn reads_files_lines_and_numbers() {
        let diff = parse(GIT).unwrap();
        let paths: Vec<_> = diff.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["app/x.py", "new.rs", "old.txt", "logo.png"]);
        let x = &diff.files[0];
        assert_eq!(x.status, Status::Modified);
        assert_eq!(
            x.added,
            [
                Line {
                    number: 2,
                    text: "a = 2".into()
                },
                Line {
                    number: 3,
                    text: "b = eval(x)".into()
                }
            ]
        );
        assert_eq!(
            x.removed,
            [Line {
                number: 2,
                text: "a = 1".into()
            }]
        );
        assert_eq!(diff.files[1].status, Status::Added);
        assert_eq!(diff.files[1].added.len(), 2);
        assert_eq!(diff.files[2].status, Status::Deleted);
        assert_eq!(diff.files[2].removed[0].text, "gone");
        assert!(diff.files[3].binary);
        assert_eq!(diff.lines_changed(), 6);
        assert_eq!(x.language(), Some(Language::Python));
    }

    #[test]
    fn reads_plain_diff_u_and_quoted_paths() {
        let plain =
            "--- a.py\t2026-01-01 10:00:00\n+++ a.py\t2026-01-02 10:00:00\n@@ -1 +1 @@\n-x\n+y\n";
        let diff = parse(plain).unwrap();
        assert_eq!(diff.files[0].path, "a.py");
        assert_eq!(diff.files[0].added[0].text, "y");
        let quoted = "diff --git \"a/caf\\303\\251.py\" \"b/caf\\303\\251.py\"\n--- \"a/caf\\303\\251.py\"\n+++ \"b/caf\\303\\251.py\"\n@@ -0,0 +1 @@\n+x\n";
        assert_eq!(parse(quoted).unwrap().files[0].path, "café.py");
    }

    #[test]
    fn a_cut_or_damaged_diff_is_an_error_with_its_line() {
        let cut = "--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\n";
        let e = parse(cut).unwrap_err();
        assert!(e.problem.contains("cut"), "{e}");
        let damaged = "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n+c\n";
        assert!(
            parse(damaged).is_ok(),
            "trailing text after a hunk is not part of it"
        );
        let bad = "--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n-a\n*b\n";
        assert_eq!(parse(bad).unwrap_err().line, 5);
        let header = "--- a/x\n+++ b/x\n@@ nonsense @@\n";
        assert_eq!(parse(header).unwrap_err().line, 3);
    }

    #[test]
    fn text_that_is_not_a_diff_has_no_files() {
        assert!(parse("hello\nworld\n").unwrap().files.is_empty());
    }
}
