//! The built-in analyzer: the reviewer's own layers — secrets (gitleaks' rules), dangerous
//! patterns per language, syntax (tree-sitter) — run over whole files, as if every line
//! were added. It needs nothing installed, so a repository with no tools still gets a
//! useful scan. Rules that only mean something in a change (a CI file or lockfile changed,
//! a test deleted or skipped, an assertion removed) are left out.
//!
//! It stands on the tools people trust where they run: when ruff checks the Python files
//! of the same scan, its AST-based `S` rules (bandit's twins) and syntax errors replace
//! the built-in dangerous patterns and syntax for Python, and the built-in analyzer
//! reads those files for secrets only. Third-party code copied into the tree (a `vendor/`
//! folder, a minified bundle) is read for secrets only too: its patterns are its
//! upstream's to fix.

use std::ops::ControlFlow;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::cache::Tree;
use super::{Finding, Severity};
use crate::review::contents::OnDisk;
use crate::review::diff::Status;
use crate::review::{Diff, FileDiff, Language, Line, Verdict};
use crate::tasks::Risk;

/// Part of the built-in analyzer's cache key: bumped when its layers' rules or messages
/// change, so findings an earlier build cached are not reused (between two releases the
/// version alone does not say).
pub const REVISION: &str = "2";

/// Files larger than this are not read (a generated file, a bundle).
const MAX_FILE_BYTES: u64 = 1024 * 1024;
/// Folders never walked: version control, dependencies, build output, virtualenvs.
const SKIPPED_DIRS: [&str; 10] = [
    ".git",
    "node_modules",
    ".venv",
    "venv",
    "target",
    "build",
    "dist",
    "__pycache__",
    ".tox",
    ".mypy_cache",
];

/// Extensions of files that are never text: no analyzer reads them, so the walk leaves
/// them out (Django's compiled translations are half its bytes).
const BINARY_EXTENSIONS: [&str; 36] = [
    "7z", "a", "avi", "bmp", "bz2", "class", "dll", "dylib", "eot", "exe", "gif", "gz", "ico",
    "jar", "jpeg", "jpg", "mo", "mov", "mp3", "mp4", "o", "ogg", "otf", "pdf", "png", "pyc", "pyo",
    "so", "tgz", "ttf", "war", "wav", "webp", "whl", "woff", "woff2",
];

/// Folders of third-party code copied into a tree.
const THIRD_PARTY_DIRS: [&str; 4] = ["vendor", "third_party", "thirdparty", "bower_components"];

/// Third-party code copied into the tree — under a `vendor/` (or `third_party/`, …)
/// folder, or a minified bundle (`*.min.js`) — whose dangerous patterns and syntax are its
/// upstream's to fix, as semgrep's default ignore list has it. Its secrets still count.
pub fn third_party(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    let mut parts = lower.rsplit('/');
    let name = parts.next().unwrap_or(&lower);
    name.contains(".min.") || parts.any(|dir| THIRD_PARTY_DIRS.contains(&dir))
}

fn binary(name: &str) -> bool {
    name.rsplit_once('.')
        .is_some_and(|(_, ext)| BINARY_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()))
}

/// The files under `root` a scan reads, relative and `/`-separated, sorted: all but those
/// in [`SKIPPED_DIRS`] and the binary ones ([`BINARY_EXTENSIONS`]).
pub fn files_under(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let _ = walk(root, root, &mut |file| {
        out.push(file);
        ControlFlow::Continue(())
    });
    out.sort();
    out
}

/// Whether one of the files [`files_under`] lists is `wanted`: the walk stops at the first.
pub fn any_file_under(root: &Path, wanted: impl Fn(&str) -> bool) -> bool {
    let found = walk(root, root, &mut |file| {
        if wanted(&file) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    found.is_break()
}

/// Walk `dir` (under `root`), giving each file's relative name to `visit` until it breaks.
fn walk(
    root: &Path,
    dir: &Path,
    visit: &mut impl FnMut(String) -> ControlFlow<()>,
) -> ControlFlow<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return ControlFlow::Continue(());
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let name = entry.file_name().to_string_lossy().into_owned();
        if kind.is_dir() {
            if !SKIPPED_DIRS.contains(&name.as_str()) {
                walk(root, &path, visit)?;
            }
        } else if kind.is_file()
            && !binary(&name)
            && let Ok(rel) = path.strip_prefix(root)
        {
            visit(rel.to_string_lossy().replace('\\', "/"))?;
        }
    }
    ControlFlow::Continue(())
}

/// Files read into memory at a time: the scan's memory stays bounded by a chunk, not the
/// tree.
const CHUNK: usize = 64;

/// The built-in layers over `files` (of `tree`), a chunk of files at a time on each core.
/// Files in `checked_elsewhere` (languages whose dangerous patterns and syntax another
/// analyzer of this scan checks) and [`third_party`] files are read for secrets only.
pub fn scan(tree: &Tree, files: &[String], checked_elsewhere: &[Language]) -> Vec<Finding> {
    let chunks: Vec<&[String]> = files.chunks(CHUNK).collect();
    let next = AtomicUsize::new(0);
    let cores = crate::parallel::cores();
    let mut found: Vec<Finding> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..cores.min(chunks.len()))
            .map(|_| {
                scope.spawn(|| {
                    let mut found = Vec::new();
                    loop {
                        let at = next.fetch_add(1, Ordering::Relaxed);
                        let Some(chunk) = chunks.get(at) else { break };
                        found.extend(scan_chunk(tree, chunk, checked_elsewhere));
                    }
                    found
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| {
                w.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    found.sort_by(|a, b| (&a.file, a.start_line, &a.rule).cmp(&(&b.file, b.start_line, &b.rule)));
    found
}

fn scan_chunk(tree: &Tree, files: &[String], checked_elsewhere: &[Language]) -> Vec<Finding> {
    let secrets = crate::review::secrets::Scanner::shared();
    let mut found = Vec::new();
    let mut code = Vec::new();
    let mut bytes = Vec::new();
    for file in files {
        if !tree.read_into(file, MAX_FILE_BYTES, &mut bytes) {
            continue;
        }
        let Ok(text) = std::str::from_utf8(&bytes) else {
            continue;
        };
        found.extend(secrets.scan_text(file, text));
        let language = Language::of(file);
        let elsewhere = language.is_some_and(|l| checked_elsewhere.contains(&l));
        if !elsewhere && !third_party(file) {
            // a file in no language the layers read (a translation, a stylesheet) is
            // checked by its path alone: its lines would be split for nothing
            code.push(as_added(file, language.map(|_| text)));
        }
    }
    let diff = Diff { files: code };
    let contents = OnDisk::new(tree.root().to_path_buf(), &diff);
    found.extend(crate::review::patterns::check(&diff, false));
    found.extend(crate::review::syntax::check(&diff, &contents));
    found
        .into_iter()
        .filter(|f| f.verdict != Verdict::Pass && !only_in_a_change(&f.rule))
        .filter_map(|f| {
            let file = f.file.clone()?;
            let severity = match (f.risk, f.final_block) {
                (_, true) | (Risk::Critical, _) => Severity::Critical,
                (Risk::High, _) => Severity::High,
                (Risk::Medium, _) => Severity::Medium,
                (Risk::Low, _) => Severity::Low,
            };
            Some(Finding::at(
                "builtin",
                &f.rule,
                severity,
                &file,
                f.line.unwrap_or(1),
                f.message,
            ))
        })
        .collect()
}

/// Rules about what a change did, which a whole file cannot have.
fn only_in_a_change(rule: &str) -> bool {
    rule.starts_with("patterns.ci.")
        || rule.starts_with("patterns.lockfile.")
        || rule.contains("test-deleted")
        || rule.contains("test-skipped")
        || rule.contains("assert")
}

/// A file as a diff adding all the lines of `text` (none when it is not given: the layers
/// then check the file's path only).
fn as_added(file: &str, text: Option<&str>) -> FileDiff {
    FileDiff {
        path: file.to_string(),
        status: Status::Added,
        binary: false,
        added: text
            .unwrap_or_default()
            .lines()
            .enumerate()
            .map(|(i, l)| Line {
                number: i as u32 + 1,
                text: l.to_string(),
            })
            .collect(),
        removed: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_swapped_for_a_link_out_of_the_tree_after_the_walk_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let key = ["AKIA", "Z7Q4W3E2R1T5Y6U8"].concat();
        let outside = dir.path().join("home");
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("credentials"), format!("KEY = \"{key}\"\n")).unwrap();
        std::fs::write(outside.join("keys.py"), format!("KEY = \"{key}\"\n")).unwrap();
        let root = dir.path().join("tree");
        std::fs::create_dir_all(root.join("app")).unwrap();
        std::fs::create_dir_all(root.join("lib")).unwrap();
        std::fs::write(root.join("app/keys.py"), "KEY = None\n").unwrap();
        std::fs::write(root.join("lib/keys.py"), "KEY = None\n").unwrap();
        let tree = Tree::walk(&root);
        // while the scan runs, the tree's own code (a build script under clippy) makes a
        // walked file a link to the user's credentials, and a walked folder a link out
        std::fs::remove_file(root.join("app/keys.py")).unwrap();
        std::os::unix::fs::symlink(outside.join("credentials"), root.join("app/keys.py")).unwrap();
        std::fs::remove_dir_all(root.join("lib")).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("lib")).unwrap();
        assert_eq!(tree.files(), ["app/keys.py", "lib/keys.py"]);
        let found = scan(&tree, tree.files(), &[]);
        assert!(found.is_empty(), "read out of the tree: {found:?}");
        // nor are they hashed for the cache
        let hashed = tree.hashed(&crate::scan::cache::Matcher::every_file());
        assert!(hashed.is_empty(), "{hashed:?}");
    }

    #[test]
    fn a_tree_with_no_tool_installed_still_gets_its_findings() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("app")).unwrap();
        std::fs::create_dir_all(root.join("node_modules/x")).unwrap();
        std::fs::write(
            root.join("app/run.py"),
            "import subprocess\n\n\ndef run(cmd):\n    return subprocess.run(cmd, shell=True)\n",
        )
        .unwrap();
        std::fs::write(root.join("app/broken.py"), "def f(:\n    pass\n").unwrap();
        let key = ["AKIA", "Z7Q4W3E2R1T5Y6U8"].concat();
        std::fs::write(root.join("app/keys.py"), format!("KEY = \"{key}\"\n")).unwrap();
        // a file in no language the layers know: read for secrets, its code never checked
        let notes = format!("aws_key = \"{key}\"\nresult = eval(input())\n");
        std::fs::write(root.join("app/notes.txt"), notes).unwrap();
        std::fs::write(root.join("node_modules/x/bad.py"), "eval(input())\n").unwrap();
        std::fs::write(root.join("Cargo.lock"), "# a lockfile\n").unwrap();
        let tree = Tree::walk(root);
        assert!(
            !tree.files().iter().any(|f| f.starts_with("node_modules")),
            "{:?}",
            tree.files()
        );
        let found = scan(&tree, tree.files(), &[]);
        let got: Vec<(&str, &str, u32, Severity)> = found
            .iter()
            .map(|f| (f.file.as_str(), f.rule.as_str(), f.start_line, f.severity))
            .collect();
        assert!(
            got.iter()
                .any(|(file, rule, line, sev)| *file == "app/run.py"
                    && rule.contains("shell")
                    && *line == 5
                    && *sev == Severity::High),
            "{got:?}"
        );
        assert!(
            got.iter()
                .any(|(file, rule, line, _)| *file == "app/broken.py"
                    && rule.starts_with("syntax.")
                    && *line == 1),
            "{got:?}"
        );
        let secret = found.iter().find(|f| f.file == "app/keys.py").unwrap();
        assert_eq!(secret.severity, Severity::Critical);
        assert!(!secret.message.contains(&key[4..]), "{}", secret.message);
        assert!(!got.iter().any(|(f, ..)| *f == "Cargo.lock"), "{got:?}");
        let notes: Vec<_> = got.iter().filter(|(f, ..)| *f == "app/notes.txt").collect();
        assert_eq!(notes.len(), 1, "{got:?}");
        assert_eq!((notes[0].2, notes[0].3), (1, Severity::Critical), "{got:?}");
    }
}
