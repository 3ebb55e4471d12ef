//! `setup`: the target's clone in `workspace/target`, kept fresh.
//!
//! First run: `git clone` into a temporary folder beside the final one, renamed into place
//! when complete, so a crash never leaves a half clone that looks whole. Later runs:
//! `git fetch --prune origin` and a fast-forward of the local base branch. Either way the
//! base branch must exist on origin, and `.aider*` is added to the clone's
//! `.git/info/exclude` (worktrees share it), so Aider's cache is never committed.
//!
//! A `repo` that is a local path is read from the home's folder and only ever read: the
//! clone is a separate repository with that path as its origin.

use std::fs;
use std::path::{Path, PathBuf};

use super::{Git, TargetError};
use crate::config::target::{TargetConfig, is_local_path};
use crate::home::Home;
use crate::problem::IoContext;

/// Lines setup keeps in `.git/info/exclude`.
const EXCLUDES: [&str; 1] = [".aider*"];

/// What [`setup`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupOutcome {
    /// `workspace/target`.
    pub path: PathBuf,
    /// True when this run made the clone; false when it fetched an existing one.
    pub cloned: bool,
    /// The base branch's commit after setup.
    pub base_commit: String,
    /// The base branch's commit before, when a fetch moved it.
    pub updated_from: Option<String>,
}

/// Clone the target (or fetch it) and leave the clone on a fresh base branch.
pub fn setup(home: &Home, target: &TargetConfig) -> Result<SetupOutcome, TargetError> {
    let repo = target.repo().ok_or(TargetError::NoRepo)?;
    let url = clone_url(home.root(), repo)?;
    let base = target.base_branch.as_str();
    let path = home.target_clone();
    let git = Git::new(&path);

    let cloned = !path.exists();
    if cloned {
        clone_into(&path, &url)?;
    } else {
        check_clone(&git, &path, &url)?;
        git.network(
            &["fetch", "--prune", "origin"],
            "check that the target repo is reachable and your git credentials work",
        )?;
    }
    ensure_excludes(&path)?;
    let remote_ref = format!("refs/remotes/origin/{base}");
    if !git.probe(&["rev-parse", "--verify", "--quiet", &remote_ref])? {
        return Err(TargetError::MissingBaseBranch {
            branch: base.to_string(),
            repo: repo.to_string(),
            available: remote_branches(&git)?,
        });
    }
    let updated_from = fast_forward_base(&git, base)?;
    let base_commit = git.run(&["rev-parse", "HEAD"], "")?.trim().to_string();
    Ok(SetupOutcome {
        path,
        cloned,
        updated_from: updated_from.filter(|old| *old != base_commit),
        base_commit,
    })
}

/// The URL git clones: a URL as written, or a local path made absolute from the home.
fn clone_url(home: &Path, repo: &str) -> Result<String, TargetError> {
    if !is_local_path(repo) {
        return Ok(repo.to_string());
    }
    let path = home.join(repo);
    match path.canonicalize() {
        Ok(abs) => Ok(abs.to_string_lossy().into_owned()),
        Err(_) => Err(TargetError::RepoNotFound {
            repo: repo.to_string(),
            path,
        }),
    }
}

fn clone_into(path: &Path, url: &str) -> Result<(), TargetError> {
    let workspace = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(workspace).at_path(workspace)?;
    let partial = workspace.join(".target.partial");
    if partial.exists() {
        fs::remove_dir_all(&partial).at_path(&partial)?;
    }
    let partial_arg = partial.to_string_lossy().into_owned();
    Git::new(workspace).network(
        &["clone", "--origin", "origin", "--", url, &partial_arg],
        "check `repo` in config/target.yaml, that it is reachable, and your git credentials",
    )?;
    fs::rename(&partial, path).at_path(path)?;
    Ok(())
}

/// An existing clone must be a git repository whose origin is the configured repo.
fn check_clone(git: &Git, path: &Path, url: &str) -> Result<(), TargetError> {
    if !path.join(".git").is_dir() {
        return Err(TargetError::NotAClone {
            path: path.to_path_buf(),
        });
    }
    let out = git.output_of(&["remote", "get-url", "origin"])?;
    let found = out.stdout.trim().to_string();
    let same = found == url
        || (is_local_path(&found)
            && Path::new(&found).canonicalize().ok() == Path::new(url).canonicalize().ok());
    if !out.success() || !same {
        return Err(TargetError::OtherClone {
            path: path.to_path_buf(),
            found: if found.is_empty() {
                "nothing (no origin)".into()
            } else {
                found
            },
            expected: url.to_string(),
        });
    }
    Ok(())
}

/// Check out the base branch and fast-forward it to origin's. Returns its commit before,
/// when it existed locally.
fn fast_forward_base(git: &Git, base: &str) -> Result<Option<String>, TargetError> {
    let dirty = git.dirty_files()?;
    if !dirty.is_empty() {
        return Err(TargetError::Dirty {
            path: git.dir().to_path_buf(),
            files: dirty,
        });
    }
    let local_ref = format!("refs/heads/{base}");
    let remote = format!("origin/{base}");
    if !git.probe(&["rev-parse", "--verify", "--quiet", &local_ref])? {
        git.run(
            &["checkout", "--quiet", "--no-track", "-b", base, &remote],
            "",
        )?;
        return Ok(None);
    }
    git.run(&["checkout", "--quiet", base], "")?;
    let before = git.run(&["rev-parse", "HEAD"], "")?.trim().to_string();
    if git.probe(&["merge-base", "--is-ancestor", "HEAD", &remote])? {
        git.run(&["merge", "--quiet", "--ff-only", &remote], "")?;
    } else if !git.probe(&["merge-base", "--is-ancestor", &remote, "HEAD"])? {
        return Err(TargetError::Diverged {
            path: git.dir().to_path_buf(),
            branch: base.to_string(),
        });
    }
    Ok(Some(before))
}

fn remote_branches(git: &Git) -> Result<Vec<String>, TargetError> {
    let out = git.run(
        &[
            "for-each-ref",
            "--format=%(refname:lstrip=3)",
            "refs/remotes/origin",
        ],
        "",
    )?;
    Ok(out
        .lines()
        .filter(|b| !b.is_empty() && *b != "HEAD")
        .map(str::to_string)
        .collect())
}

/// Add [`EXCLUDES`] to `.git/info/exclude` when missing.
fn ensure_excludes(clone: &Path) -> Result<(), TargetError> {
    let info = clone.join(".git").join("info");
    fs::create_dir_all(&info).at_path(&info)?;
    let file = info.join("exclude");
    let mut text = match fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => {
            return Err(crate::problem::IoError {
                path: file.clone(),
                source,
            }
            .into());
        }
    };
    let missing: Vec<&str> = EXCLUDES
        .iter()
        .copied()
        .filter(|x| !text.lines().any(|l| l.trim() == *x))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str("# added by dayshift: coding-tool caches are never committed\n");
    for x in missing {
        text.push_str(x);
        text.push('\n');
    }
    crate::fsx::write_atomic(&file, text.as_bytes()).at_path(&file)?;
    Ok(())
}
