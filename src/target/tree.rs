//! The tree that is judged and committed: a worktree's files as a git tree object, built
//! with an index of dayshift's own.
//!
//! A coding tool controls the worktree's index: it can stage a file and then delete it,
//! or keep staging from a background process, so what `git commit` would take is not what
//! anyone looked at. Here the index is a fresh temporary file (`GIT_INDEX_FILE`): the base
//! commit's tree is read into it, the working tree is added on top (`add -A`, so
//! `.gitignore` is respected and deletions count; never a cache, see [`NEVER_ADDED`]), and
//! `write-tree` names the result. The guard judges exactly that tree against the base,
//! [`super::commit`] commits exactly that tree, and after the checks the tree is built
//! again to see whether test code changed the work.
//!
//! The temporary index lives in a private folder of its own under the system's temp dir,
//! outside the clone and the worktree (a sandboxed tool gets a private temp dir of its own).

use std::path::Path;

use super::{Git, TargetError};
use crate::problem::IoError;
use crate::sandbox::Scratch;

/// Pathspecs that keep caches out of every tree, at any depth, even in a target whose
/// `.gitignore` does not list them: the coding tool's (`.aider*`), and what running Python
/// checks leaves behind — so the tree built again after the checks is still the one judged.
/// A tracked file among them keeps its base version.
const NEVER_ADDED: [&str; 12] = [
    ":(exclude,glob)**/.aider*",
    ":(exclude,glob)**/.aider*/**",
    ":(exclude,glob)**/__pycache__/**",
    ":(exclude,glob)**/*.pyc",
    ":(exclude,glob)**/.pytest_cache/**",
    ":(exclude,glob)**/.mypy_cache/**",
    ":(exclude,glob)**/.ruff_cache/**",
    ":(exclude,glob)**/.hypothesis/**",
    ":(exclude,glob)**/.coverage",
    ":(exclude,glob)**/.coverage.*",
    ":(exclude,glob)**/coverage.xml",
    ":(exclude,glob)**/htmlcov/**",
];

/// The tree of the files in the worktree at `root`, as changed from commit `base`.
///
/// [`Built::EmbeddedRepository`] when a folder in it holds another git repository (it cannot
/// be added as files, and is never an agent's to create).
pub fn build(root: &Path, base: &str) -> Result<String, Built> {
    let scratch = Scratch::create("index").map_err(|source| {
        Built::Failed(
            IoError {
                path: std::env::temp_dir(),
                source,
            }
            .into(),
        )
    })?;
    let git = Git::with_index(root, &scratch.path().join("index"));
    git.run(&["read-tree", base], "")?;
    let others = git.run(&["ls-files", "-z", "--others", "--exclude-standard"], "")?;
    if let Some(nested) = others.split('\0').find(|p| p.ends_with('/')) {
        return Err(Built::EmbeddedRepository(
            nested.trim_end_matches('/').to_string(),
        ));
    }
    let mut add = vec!["add", "--all", "--", "."];
    add.extend(NEVER_ADDED);
    git.run(&add, "")?;
    Ok(git.run(&["write-tree"], "")?.trim().to_string())
}

/// Why [`build`] made no tree.
#[derive(Debug)]
pub enum Built {
    /// A folder (relative path) holds a git repository of its own.
    EmbeddedRepository(String),
    Failed(TargetError),
}

impl From<TargetError> for Built {
    fn from(e: TargetError) -> Self {
        Self::Failed(e)
    }
}

/// Paths that differ between two trees (or commits), `/`-separated.
pub fn changed_paths(root: &Path, from: &str, to: &str) -> Result<Vec<String>, TargetError> {
    let out = Git::new(root).run(
        &[
            "diff-tree",
            "-r",
            "-z",
            "--name-only",
            "--no-renames",
            from,
            to,
        ],
        "",
    )?;
    Ok(out
        .split('\0')
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect())
}

/// Paths the tool staged in the worktree's own index (index ≠ `HEAD`) whose staged content
/// is not what `tree` holds: staging dayshift ignored. In-process, read only.
pub fn staged_elsewhere(root: &Path, tree: &str) -> Result<Vec<String>, TargetError> {
    let unreadable = |e: git2::Error| TargetError::Unreadable {
        dir: root.to_path_buf(),
        message: e.message().to_string(),
    };
    let repo = git2::Repository::open(root).map_err(unreadable)?;
    let paths = (|| {
        let index = repo.index()?;
        let head = repo.head()?.peel_to_tree()?;
        let inspected = repo.find_tree(git2::Oid::from_str(tree)?)?;
        let staged = repo.diff_tree_to_index(Some(&head), Some(&index), None)?;
        let differs = repo.diff_tree_to_index(Some(&inspected), Some(&index), None)?;
        let names = |d: &git2::Diff| -> Vec<String> {
            d.deltas()
                .filter_map(|x| x.new_file().path().or(x.old_file().path()))
                .map(|p| p.to_string_lossy().into_owned())
                .collect()
        };
        let differs = names(&differs);
        Ok::<_, git2::Error>(
            names(&staged)
                .into_iter()
                .filter(|p| differs.contains(p))
                .collect::<Vec<_>>(),
        )
    })()
    .map_err(unreadable)?;
    Ok(paths)
}
