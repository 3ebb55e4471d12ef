//! The files a goal names, for a model-free task's `files:`.
//!
//! A person writes "the Dockerfile", "`src/app/views.py`" or "views.py". Words alone lose
//! the first (no slash, no extension) and a pattern cannot tell a file from a word, so the
//! candidates — every word and every backticked span, punctuation trimmed — are resolved
//! against the target's tracked files (`git ls-files` in the clone): a full path that is
//! tracked, or a bare name that is the basename of tracked files (unique → that path;
//! several → each, up to [`MAX_SAME_NAME`]). A candidate that looks like a path (a slash or
//! an extension) but is not tracked is kept as a file to create. A bare name without an
//! extension is only looked up when it is backticked or not all lower case (`Makefile`,
//! `LICENSE`), so everyday words ("build", "test") never turn into files.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use crate::process::{self, Spec};

/// The most tracked files one bare name resolves to (`views.py` in five apps).
pub const MAX_SAME_NAME: usize = 5;

/// The target's tracked files (`git ls-files`), or none when it is not cloned or git
/// fails — then names are kept only when they look like paths.
pub fn tracked_files(clone: &Path) -> Vec<String> {
    if !clone.join(".git").exists() {
        return Vec::new();
    }
    let out = process::run(
        &Spec::new("git", &["-c", "core.quotePath=false", "ls-files"])
            .own_tool()
            .cwd(clone)
            .timeout(Duration::from_secs(30)),
    );
    let Ok(out) = out else {
        return Vec::new();
    };
    if !out.status.is_some_and(|s| s.success()) {
        return Vec::new();
    }
    let mut files: Vec<String> = out.stdout.lines().map(str::to_string).collect();
    if out.truncated {
        // the output was cut at the cap: its last line may be half a path
        files.pop();
    }
    files
}

/// The files `text` names, in the order it names them, each once.
pub fn files_named_in(text: &str, tracked: &[String]) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (token, backticked) in candidates(text) {
        for path in resolve(token, backticked, tracked) {
            if seen.insert(path.clone()) {
                out.push(path);
            }
        }
    }
    out
}

/// The tracked directories `text` names, in the order it names them, each once, without a
/// trailing slash: a word with a slash (`integrations/n8n`, `docs/`) that is a directory of
/// tracked files, or the tail of one (`n8n/` → `integrations/n8n`, at most
/// [`MAX_SAME_NAME`]); a bare name only when backticked (`` `migrations` ``).
pub fn dirs_named_in(text: &str, tracked: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (token, backticked) in candidates(text) {
        let name = token.trim_end_matches('/');
        if name.is_empty() || !(backticked || token.contains('/')) {
            continue;
        }
        let top = format!("{name}/");
        let inner = format!("/{name}/");
        let mut found: Vec<String> = Vec::new();
        for path in tracked {
            let dir = if path.starts_with(&top) {
                Some(name.to_string())
            } else {
                path.find(&inner)
                    .map(|i| path[..i + inner.len() - 1].to_string())
            };
            if let Some(dir) = dir
                && !found.contains(&dir)
            {
                found.push(dir);
            }
        }
        if found.iter().any(|d| d == name) {
            found.retain(|d| d == name);
        }
        for dir in found.into_iter().take(MAX_SAME_NAME) {
            if !out.contains(&dir) {
                out.push(dir);
            }
        }
    }
    out
}

/// Words and backticked spans (each word of a span with spaces), punctuation trimmed;
/// `true` for those inside backticks.
fn candidates(text: &str) -> Vec<(&str, bool)> {
    text.split('`')
        .enumerate()
        .flat_map(|(i, segment)| {
            // odd segments sit between a pair of backticks
            let backticked = i % 2 == 1;
            segment
                .split_whitespace()
                .map(move |w| (trim(w), backticked))
        })
        .filter(|(w, _)| !w.is_empty())
        .filter(|(w, _)| !w.contains("://") && !w.starts_with('/') && !w.contains(".."))
        .collect()
}

fn trim(word: &str) -> &str {
    let word = word
        .trim_matches(|c: char| "'\"(),;:!?[]{}<>*".contains(c))
        .trim_end_matches('.');
    word.strip_prefix("./").unwrap_or(word)
}

fn resolve(token: &str, backticked: bool, tracked: &[String]) -> Vec<String> {
    let bare_word = !token.contains('/')
        && !has_extension(token)
        && !backticked
        && !token.chars().any(|c| c.is_uppercase());
    if bare_word {
        return Vec::new();
    }
    if tracked.iter().any(|t| t == token) {
        return vec![token.to_string()];
    }
    let same_name: Vec<String> = if token.contains('/') {
        // `app/views.py` for the tracked `src/app/views.py`
        let suffix = format!("/{token}");
        tracked
            .iter()
            .filter(|t| t.ends_with(&suffix))
            .take(MAX_SAME_NAME)
            .cloned()
            .collect()
    } else {
        tracked
            .iter()
            .filter(|t| t.rsplit('/').next() == Some(token))
            .take(MAX_SAME_NAME)
            .cloned()
            .collect()
    };
    if !same_name.is_empty() {
        return same_name;
    }
    if looks_like_path(token) {
        return vec![token.to_string()];
    }
    Vec::new()
}

/// `name.ext` with a short alphanumeric extension that is not all digits (not `v1.2`).
fn has_extension(word: &str) -> bool {
    word.rsplit_once('.').is_some_and(|(stem, ext)| {
        stem.len() >= 2
            && (1..=5).contains(&ext.len())
            && ext.chars().all(|c| c.is_ascii_alphanumeric())
            && ext.chars().any(|c| c.is_ascii_alphabetic())
    })
}

/// A name to keep even when nothing tracked has it: a path with a slash, or a file name
/// with an extension and a lower-case letter (not an abbreviation like `E.G`).
fn looks_like_path(word: &str) -> bool {
    word.contains('/') && word.len() > 2
        || has_extension(word) && word.chars().any(|c| c.is_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::{self, Spec};

    fn git(dir: &Path, args: &[&str]) {
        let out = process::run(&Spec::new("git", args).own_tool().cwd(dir)).unwrap();
        assert!(
            out.status.is_some_and(|s| s.success()),
            "git {args:?}: {}",
            out.stderr
        );
    }

    /// A real repository with these files committed; returns what `tracked_files` reads.
    fn repo(files: &[&str]) -> (tempfile::TempDir, Vec<String>) {
        let dir = tempfile::tempdir().unwrap();
        git(dir.path(), &["init", "-q"]);
        for f in files {
            let path = dir.path().join(f);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, "x\n").unwrap();
        }
        git(dir.path(), &["add", "."]);
        git(dir.path(), &["commit", "-q", "-m", "seed"]);
        let tracked = tracked_files(dir.path());
        (dir, tracked)
    }

    #[test]
    fn names_without_slash_or_extension_and_backticked_paths_resolve_to_tracked_files() {
        let (_dir, tracked) = repo(&[
            "Dockerfile",
            "Makefile",
            "LICENSE",
            "src/app/views.py",
            "src/app/models.py",
            "core/settings.py",
            "build",
        ]);
        assert_eq!(tracked.len(), 7, "{tracked:?}");
        assert_eq!(
            files_named_in(
                "Run Gunicorn from the Dockerfile, add a `make serve` target to the Makefile.",
                &tracked
            ),
            vec!["Dockerfile", "Makefile"]
        );
        assert_eq!(
            files_named_in("Fix the 500 in `src/app/views.py` (see LICENSE)", &tracked),
            vec!["src/app/views.py", "LICENSE"]
        );
        assert_eq!(
            files_named_in("Cache the list in views.py; speed up the build", &tracked),
            vec!["src/app/views.py"],
            "a unique basename is its path; the word `build` is not the file"
        );
        assert_eq!(
            files_named_in("Speed up `build` and app/models.py", &tracked),
            vec!["build", "src/app/models.py"],
            "backticked, a bare name is looked up; a partial path matches its tail"
        );
    }

    #[test]
    fn several_files_of_one_name_are_all_listed_capped_and_untracked_paths_stay_new_files() {
        let many: Vec<String> = (0..8).map(|i| format!("app{i}/views.py")).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        let (_dir, tracked) = repo(&refs);
        let found = files_named_in("Log every request in views.py", &tracked);
        assert_eq!(found.len(), MAX_SAME_NAME, "{found:?}");
        assert!(found.iter().all(|f| f.ends_with("/views.py")), "{found:?}");

        assert_eq!(
            files_named_in(
                "Add docs/deploy.md and a Procfile; see https://x.io/a, v1.2 and ../etc/passwd",
                &tracked
            ),
            vec!["docs/deploy.md"],
            "an untracked path is a new file; a Procfile nobody tracks is a word"
        );
    }

    #[test]
    fn without_a_clone_names_are_kept_only_when_they_look_like_paths() {
        assert!(tracked_files(Path::new("/nonexistent/clone")).is_empty());
        assert_eq!(
            files_named_in("Fix the CSRF bug in core/settings.py.", &[]),
            vec!["core/settings.py"]
        );
        assert_eq!(
            files_named_in("Update `README.md` and docs/ and the Dockerfile", &[]),
            vec!["README.md", "docs/"]
        );
    }
}
