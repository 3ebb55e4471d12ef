//! The target repository: its clone, one worktree per task, commits, merges and the
//! guardrails that judge what a coding engine did (DESIGN §6 "Target work", §7).
//!
//! # Layout
//!
//! ```text
//! workspace/target/          the clone (setup): origin = config/target.yaml `repo`
//! workspace/worktrees/T-0007 one git worktree per task, on branch agent/T-0007-<slug>
//! ```
//!
//! - [`git`]: the one way this module runs git — through [`crate::process`], with an
//!   explicit environment (credential helpers and SSH agents work for network commands,
//!   nothing prompts) and typed errors that carry the command, exit code, stderr and a fix;
//!   read-only questions (which commit, which remotes, what is dirty or staged, which
//!   worktrees) are answered in-process through git2.
//! - [`clone`]: [`setup`] clones or fetches and fast-forwards the base branch; idempotent.
//! - [`worktree`]: [`start_task`], [`remove`], [`clean_orphans`], [`prune_branches`].
//! - [`merge`]: [`commit`] (with a `Task:` trailer) and [`merge_into_base`] (fast-forward
//!   or merge commit, never a dirty merge, then push).
//! - [`locks`]: [`locks::clear_stale`] removes the `.lock` files a killed git left.
//! - [`guard`]: [`inspect`] a worktree against policy, [`rollback`] it; [`snapshot`]
//!   notices writes outside it.
//!
//! # Invariants
//!
//! - Network transport (clone, fetch, push) and every write are the git command; git2 only
//!   reads.
//! - The base branch is written only by [`setup`] (fast-forward to origin) and by
//!   [`merge_into_base`]; a failed push undoes the local merge.
//! - Hooks never run in dayshift's git calls, and no repository setting makes them run a
//!   program ([`git::SAFE_CONFIG`]); what is committed is the tree that was judged.
//! - Nothing here discards work it did not create: a dirty clone or an occupied worktree
//!   path is an error that says what to do, never a `reset`.
//! - The user's own checkout (a local `repo` path) is never written under its working tree:
//!   merges are pushed to it only when git would take them there ([`publish`]).

#![deny(clippy::unwrap_used, clippy::expect_used)]

pub mod clone;
pub mod git;
pub mod guard;
pub mod locks;
pub mod merge;
pub mod meta;
pub mod publish;
pub mod revert;
pub mod snapshot;
pub mod stamp;
pub mod tree;
pub mod update;
pub mod worktree;

use std::path::PathBuf;

pub use clone::{SetupOutcome, setup};
pub use git::Git;
pub use guard::{
    ChangeSet, ChangedFile, FileStatus, Violation, branch_change, inspect, patch, rollback,
    task_change, unchanged_since,
};
pub use merge::{Merged, commit, merge_into_base};
pub use meta::GitMeta;
pub use publish::{Publish, plan_for, publish_plan};
pub use snapshot::{Snapshot, escaped};
pub use worktree::{Worktree, clean_orphans, prune_branches, remove, start_task};

use crate::problem::IoError;

/// Everything that can go wrong with the target's git work. Each message names what failed
/// and what to do.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// A git command exited non-zero.
    #[error("`{command}` in {} failed ({}): {stderr}; {hint}", dir.display(), exit_text(*code))]
    Git {
        command: String,
        dir: PathBuf,
        code: Option<i32>,
        /// The last lines of its stderr, joined with ` / `.
        stderr: String,
        hint: String,
    },
    #[error("`{command}` in {} did not finish within {seconds} s and was stopped; {hint}", dir.display())]
    Timeout {
        command: String,
        dir: PathBuf,
        seconds: u64,
        hint: String,
    },
    #[error(
        "cannot read the repository at {}: {message}; check it with `git -C {} fsck`, or remove it and run `dayshift setup`",
        dir.display(), dir.display()
    )]
    Unreadable { dir: PathBuf, message: String },
    #[error("cannot run git: {0}; install git and make sure it is on PATH")]
    NoGit(#[source] crate::process::SpawnError),
    #[error(
        "config/target.yaml has no `repo`; set it to the target's git URL or local path, then run setup"
    )]
    NoRepo,
    #[error(
        "config/target.yaml: `repo: {repo}` names {}, which does not exist; fix the path (a relative path is read from the home) or use a git URL",
        path.display()
    )]
    RepoNotFound { repo: String, path: PathBuf },
    #[error(
        "branch `{branch}` does not exist on origin ({repo}){}; set `base_branch` in config/target.yaml to the target's main branch",
        one_of(available)
    )]
    MissingBaseBranch {
        branch: String,
        repo: String,
        available: Vec<String>,
    },
    #[error(
        "{} is a clone of {found}, but config/target.yaml says `repo: {expected}`; remove {} so setup can clone the new repo",
        path.display(), path.display()
    )]
    OtherClone {
        path: PathBuf,
        found: String,
        expected: String,
    },
    #[error(
        "{} exists but is not a git clone; move it away so setup can clone the target there",
        path.display()
    )]
    NotAClone { path: PathBuf },
    #[error(
        "{} has uncommitted changes ({}); dayshift never discards work: commit, stash or remove them and run again",
        path.display(), files.join(", ")
    )]
    Dirty { path: PathBuf, files: Vec<String> },
    #[error(
        "branch `{branch}` in {} has commits that origin/{branch} lacks, and origin has moved on; dayshift will not rewrite it: reconcile it by hand or remove the clone and run setup",
        path.display()
    )]
    Diverged { path: PathBuf, branch: String },
    #[error("`{slug}` is not a valid task slug; use lowercase letters, digits and single dashes")]
    BadSlug { slug: String },
    #[error(
        "{} is in use ({found}), not by task branch `{branch}`; remove it (`git worktree remove --force {}`) and run again",
        path.display(), path.display()
    )]
    WorktreeBusy {
        path: PathBuf,
        branch: String,
        found: String,
    },
    #[error(
        "nothing to commit in {}: the change is empty or touches only ignored files",
        path.display()
    )]
    NothingToCommit { path: PathBuf },
    #[error(
        "merging `{branch}` into `{base}` conflicts in {}; the merge was aborted and `{base}` is unchanged: update the task branch from `{base}` and try again, or merge by hand",
        files.join(", ")
    )]
    MergeConflict {
        branch: String,
        base: String,
        files: Vec<String>,
    },
    #[error(
        "{}: `.git` is not the file git wrote for this worktree, so git there cannot be trusted; remove the worktree and start the task again",
        path.display()
    )]
    WorktreeCorrupt { path: PathBuf },
    /// Fetching origin or pushing the merged base to it failed (network, credentials, push
    /// rights): nothing a person must decide about the task; the merge was undone.
    #[error("{0}")]
    Unpublished(Box<TargetError>),
    #[error(transparent)]
    Io(#[from] IoError),
}

fn exit_text(code: Option<i32>) -> String {
    code.map_or_else(|| "killed by a signal".into(), |c| format!("exit {c}"))
}

fn one_of(available: &[String]) -> String {
    if available.is_empty() {
        " (origin has no branches)".into()
    } else {
        format!(" (it has: {})", available.join(", "))
    }
}
