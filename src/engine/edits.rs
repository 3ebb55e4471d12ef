//! Search/replace edit blocks — the `native` engine's hands.
//!
//! The model answers with blocks in Aider's "diff" format:
//!
//! ```text
//! path/to/file.py
//! <<<<<<< SEARCH
//! exact lines that are in the file now
//! =======
//! the lines that replace them
//! >>>>>>> REPLACE
//! ```
//!
//! An empty SEARCH creates a new file (or appends to an empty one). Every block is checked
//! before anything is written: the path must be relative and inside the work tree (never in
//! `.git`), and the SEARCH text must occur exactly once, byte for byte. One bad block
//! rejects the whole answer, so a file is never left half-edited; writes are atomic.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use crate::fsx;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditBlock {
    pub path: String,
    pub search: String,
    pub replace: String,
}

/// Why an answer's edits were refused; the text goes back to the model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error(
        "the answer has no edit block (a path line, then <<<<<<< SEARCH / ======= / >>>>>>> REPLACE)"
    )]
    NoBlocks,
    #[error("block {index}: {problem}")]
    Malformed { index: usize, problem: String },
    #[error("block {index}: `{path}` is not a path inside the repository")]
    OutsideTree { index: usize, path: String },
    #[error("block {index}: `{path}` does not exist; use an empty SEARCH to create it")]
    MissingFile { index: usize, path: String },
    #[error(
        "block {index}: the SEARCH text is not in `{path}` exactly as written; copy the current lines exactly"
    )]
    NoMatch { index: usize, path: String },
    #[error(
        "block {index}: the SEARCH text occurs {count} times in `{path}`; include more lines so it is unique"
    )]
    Ambiguous {
        index: usize,
        path: String,
        count: usize,
    },
    #[error("cannot write `{path}`: {detail}")]
    Write { path: String, detail: String },
}

const SEARCH: &str = "<<<<<<< SEARCH";
const DIVIDER: &str = "=======";
const REPLACE: &str = ">>>>>>> REPLACE";

/// Read every block of an answer. Text outside blocks (explanations, fences) is ignored.
pub fn parse(answer: &str) -> Result<Vec<EditBlock>, EditError> {
    let lines: Vec<&str> = answer.lines().collect();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim_end() != SEARCH {
            i += 1;
            continue;
        }
        let index = blocks.len() + 1;
        let path = lines[..i]
            .iter()
            .map(|l| l.trim())
            .rev()
            .find(|l| !l.is_empty() && !l.starts_with("```"))
            .map(|l| {
                l.trim_matches('`')
                    .trim_start_matches("# ")
                    .trim()
                    .to_string()
            })
            .ok_or(EditError::Malformed {
                index,
                problem: "no file path before <<<<<<< SEARCH".into(),
            })?;
        let divider = find(&lines, i + 1, DIVIDER).ok_or(EditError::Malformed {
            index,
            problem: "no ======= line".into(),
        })?;
        let end = find(&lines, divider + 1, REPLACE).ok_or(EditError::Malformed {
            index,
            problem: "no >>>>>>> REPLACE line".into(),
        })?;
        blocks.push(EditBlock {
            path,
            search: joined(&lines[i + 1..divider]),
            replace: joined(&lines[divider + 1..end]),
        });
        i = end + 1;
    }
    if blocks.is_empty() {
        Err(EditError::NoBlocks)
    } else {
        Ok(blocks)
    }
}

fn find(lines: &[&str], from: usize, marker: &str) -> Option<usize> {
    (from..lines.len()).find(|&j| lines[j].trim_end() == marker)
}

fn joined(lines: &[&str]) -> String {
    if lines.is_empty() {
        String::new()
    } else {
        format!("{}\n", lines.join("\n"))
    }
}

/// Check every block against the files under `root`, then write them all. Returns the
/// paths written (relative).
pub fn apply(root: &Path, blocks: &[EditBlock]) -> Result<Vec<String>, EditError> {
    let mut contents: BTreeMap<String, String> = BTreeMap::new();
    for (i, block) in blocks.iter().enumerate() {
        let index = i + 1;
        let rel = inside(&block.path).ok_or_else(|| EditError::OutsideTree {
            index,
            path: block.path.clone(),
        })?;
        let current = match contents.get(&block.path) {
            Some(text) => Some(text.clone()),
            None => std::fs::read_to_string(root.join(&rel)).ok(),
        };
        let updated = match (current, block.search.is_empty()) {
            (None, true) => block.replace.clone(),
            (Some(text), true) if text.trim().is_empty() => block.replace.clone(),
            (Some(text), true) => format!("{text}{}", block.replace),
            (None, false) => {
                return Err(EditError::MissingFile {
                    index,
                    path: block.path.clone(),
                });
            }
            (Some(text), false) => match text.matches(block.search.as_str()).count() {
                0 => {
                    return Err(EditError::NoMatch {
                        index,
                        path: block.path.clone(),
                    });
                }
                1 => text.replacen(block.search.as_str(), &block.replace, 1),
                count => {
                    return Err(EditError::Ambiguous {
                        index,
                        path: block.path.clone(),
                        count,
                    });
                }
            },
        };
        contents.insert(block.path.clone(), updated);
    }
    for (path, text) in &contents {
        let full = root.join(path);
        let write = || -> std::io::Result<()> {
            if let Some(dir) = full.parent() {
                std::fs::create_dir_all(dir)?;
            }
            fsx::write_atomic(&full, text.as_bytes())
        };
        write().map_err(|e| EditError::Write {
            path: path.clone(),
            detail: e.to_string(),
        })?;
    }
    Ok(contents.into_keys().collect())
}

/// The relative path, if it stays inside the tree and out of `.git`.
fn inside(path: &str) -> Option<PathBuf> {
    let p = Path::new(path);
    let normal = !path.is_empty()
        && p.is_relative()
        && p.components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    let in_git = p.components().any(|c| c.as_os_str() == ".git");
    (normal && !in_git).then(|| p.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANSWER: &str = "Here is the fix.\n\ncore/settings.py\n```python\n<<<<<<< SEARCH\nORIGINS = a + b\n=======\nORIGINS = [a, b]\n>>>>>>> REPLACE\n```\n\ncore/new.py\n<<<<<<< SEARCH\n=======\nNEW = 1\n>>>>>>> REPLACE\n";

    #[test]
    fn blocks_are_parsed_with_their_paths() {
        let blocks = parse(ANSWER).unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!(
            blocks[0],
            EditBlock {
                path: "core/settings.py".into(),
                search: "ORIGINS = a + b\n".into(),
                replace: "ORIGINS = [a, b]\n".into()
            }
        );
        assert_eq!(blocks[1].search, "");
        assert_eq!(parse("no blocks here"), Err(EditError::NoBlocks));
        assert!(matches!(
            parse("f.py\n<<<<<<< SEARCH\nx\n"),
            Err(EditError::Malformed { .. })
        ));
    }

    #[test]
    fn edits_apply_exactly_and_create_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("core")).unwrap();
        std::fs::write(
            dir.path().join("core/settings.py"),
            "import os\nORIGINS = a + b\n",
        )
        .unwrap();
        let written = apply(dir.path(), &parse(ANSWER).unwrap()).unwrap();
        assert_eq!(written, vec!["core/new.py", "core/settings.py"]);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("core/settings.py")).unwrap(),
            "import os\nORIGINS = [a, b]\n"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("core/new.py")).unwrap(),
            "NEW = 1\n"
        );
    }

    #[test]
    fn one_bad_block_rejects_all_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.py"), "x = 1\ny = 1\ny = 1\n").unwrap();
        let good = EditBlock {
            path: "a.py".into(),
            search: "x = 1\n".into(),
            replace: "x = 2\n".into(),
        };
        let cases = [
            (
                EditBlock {
                    path: "a.py".into(),
                    search: "x =  1\n".into(),
                    replace: String::new(),
                },
                "not in `a.py` exactly",
            ),
            (
                EditBlock {
                    path: "a.py".into(),
                    search: "y = 1\n".into(),
                    replace: String::new(),
                },
                "occurs 2 times",
            ),
            (
                EditBlock {
                    path: "../evil.py".into(),
                    search: String::new(),
                    replace: "x".into(),
                },
                "not a path inside",
            ),
            (
                EditBlock {
                    path: "/etc/passwd".into(),
                    search: String::new(),
                    replace: "x".into(),
                },
                "not a path inside",
            ),
            (
                EditBlock {
                    path: ".git/hooks/pre-commit".into(),
                    search: String::new(),
                    replace: "x".into(),
                },
                "not a path inside",
            ),
            (
                EditBlock {
                    path: "missing.py".into(),
                    search: "x\n".into(),
                    replace: "y\n".into(),
                },
                "does not exist",
            ),
        ];
        for (bad, words) in cases {
            let err = apply(dir.path(), &[good.clone(), bad]).unwrap_err();
            assert!(err.to_string().contains(words), "{err}");
            assert_eq!(
                std::fs::read_to_string(dir.path().join("a.py")).unwrap(),
                "x = 1\ny = 1\ny = 1\n"
            );
        }
        assert!(!dir.path().parent().unwrap().join("evil.py").exists());
    }
}
