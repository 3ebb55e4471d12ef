//! Confinement of everything the agents run: the coding tool and the target's own commands
//! (lint, tests, coverage, on the change and on the base branch).
//!
//! A prompt-injected tool, or a test file it wrote and QA runs, is assumed hostile. On
//! Linux it runs under bubblewrap ([`confine`]): it sees the machine read-only, may write
//! only its task's worktree, a private `/tmp` and the paths policy grants, cannot see the
//! dayshift home (config/.env, tasks/, .dayshift/, other worktrees) or the user's
//! credentials, cannot write git's metadata, gets no network for the target's commands
//! (unless `sandbox.network: true`; the coding tool reaches its model's endpoint only,
//! through [`egress`] and [`relay`]), and dies with its run (PID namespace).
//!
//! `policy.sandbox.mode` decides what happens where bubblewrap does not work ([`detect`]):
//! `required` refuses to run work, `best_effort` (the default) runs unconfined with a
//! warning, and `off` never confines. The checks that do not need a sandbox (what is
//! committed, hooks, approvals, secrets) hold either way.
//!
//! ```text
//! Sandbox::new(policy.sandbox, home)   once per work run: detect, decide (or refuse)
//!   └─ for_task(worktree, clone)       → Confinement (no network; inactive when unconfined)
//!        ├─ engine: .with_network(true).with_write(private HOME) .wrap(spec)
//!        └─ QA:     .with_write(junit dir) .wrap(spec)
//! ```

pub mod confine;
pub mod detect;
pub mod egress;
pub mod relay;
pub mod scratch;
mod tool_git;

pub use tool_git::ToolRun;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

pub use confine::Confinement;
pub use egress::Egress;

pub use crate::config::Endpoint;
pub use scratch::Scratch;

use crate::config::policy::{SandboxMode, SandboxPolicy};

/// Why work may not run as configured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SandboxError {
    #[error(
        "sandbox.mode is required but confinement is unavailable here: {why}; install bubblewrap (`apt-get install bubblewrap`) or set sandbox.mode: best_effort in config/policy.yaml"
    )]
    Unavailable { why: String },
    #[error(
        "config/policy.yaml: `sandbox.{key}` entry {} would expose the dayshift home (config/.env, tasks/) to the agents; name a path outside {}",
        path.display(), home.display()
    )]
    ExposesHome {
        key: &'static str,
        path: PathBuf,
        home: PathBuf,
    },
}

/// What a work run got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Everything runs under this bwrap.
    Confined { bwrap: PathBuf },
    /// `best_effort` on a machine where confinement does not work.
    Unavailable { why: String },
    /// `sandbox.mode: off`.
    Off,
}

impl State {
    /// One line for the audit and the log.
    pub fn describe(&self) -> String {
        match self {
            State::Confined { .. } => "confined (bubblewrap)".into(),
            State::Unavailable { why } => format!("unconfined: {why}"),
            State::Off => "unconfined: sandbox.mode is off".into(),
        }
    }
}

/// The sandbox decision for one work run.
#[derive(Debug, Clone)]
pub struct Sandbox {
    state: State,
    policy: SandboxPolicy,
    home: PathBuf,
}

impl Sandbox {
    /// Detect bubblewrap (once per process) and apply `policy.mode`; warn (once per
    /// process) when agents will run unconfined for want of it.
    pub fn new(policy: &SandboxPolicy, home: &Path) -> Result<Self, SandboxError> {
        let found = match policy.mode {
            SandboxMode::Off => Err(String::new()),
            _ => detect::bubblewrap(),
        };
        let sandbox = Self::decide(policy, home, found)?;
        if let State::Unavailable { why } = &sandbox.state {
            static WARNED: AtomicBool = AtomicBool::new(false);
            if !WARNED.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    "the coding tool and the target's commands run unconfined: {why}; install bubblewrap (`apt-get install bubblewrap`) or see `dayshift doctor`"
                );
            }
        }
        Ok(sandbox)
    }

    /// [`new`](Self::new) with the detection's answer given (no warning).
    pub fn decide(
        policy: &SandboxPolicy,
        home: &Path,
        found: Result<PathBuf, String>,
    ) -> Result<Self, SandboxError> {
        let home = std::fs::canonicalize(home).unwrap_or_else(|_| home.to_path_buf());
        for (key, paths) in [("read", &policy.read), ("write", &policy.write)] {
            if let Some(path) = paths.iter().find(|p| overlaps(p, &home)) {
                return Err(SandboxError::ExposesHome {
                    key,
                    path: path.clone(),
                    home,
                });
            }
        }
        let state = match (policy.mode, found) {
            (SandboxMode::Off, _) => State::Off,
            (_, Ok(bwrap)) => State::Confined { bwrap },
            (SandboxMode::Required, Err(why)) => return Err(SandboxError::Unavailable { why }),
            (SandboxMode::BestEffort, Err(why)) => State::Unavailable { why },
        };
        Ok(Self {
            state,
            policy: policy.clone(),
            home,
        })
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// The confinement of one task's runs: write `worktree` only; the clone's git
    /// metadata readable, not writable; no network (an engine grants itself the host's).
    pub fn for_task(&self, worktree: &Path, clone: &Path) -> Confinement {
        let State::Confined { bwrap } = &self.state else {
            return Confinement::none();
        };
        let user_home = std::env::var_os("HOME").map(PathBuf::from);
        let mut confinement = Confinement::bubblewrap(
            bwrap.clone(),
            &self.home,
            worktree,
            &[clone.join(".git")],
            user_home.as_deref(),
        )
        .with_network(self.policy.network);
        for path in &self.policy.read {
            confinement = confinement.with_read(path);
        }
        for path in &self.policy.write {
            confinement = confinement.with_write(path);
        }
        confinement
    }
}

/// Whether granting `path` would grant (part of) the home: it is inside it, or contains it.
fn overlaps(path: &Path, home: &Path) -> bool {
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    path.starts_with(home) || home.starts_with(&path)
}
