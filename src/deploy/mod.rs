//! DevOps' hands (DESIGN §6, issue 14): deploy one commit of the target and judge it.
//!
//! - [`checkout`]: a clean detached worktree of the target clone at the commit to deploy,
//!   `workspace/deploy/<short-sha>`, made fresh every time (nothing an earlier deploy or a
//!   coding tool left in a folder is built).
//! - [`run`]: the target's `build_command`, then its `deploy_command`, through the one
//!   process helper ([`crate::process::run`]): `sh -c`, a timeout each, the whole process
//!   group killed at the end, output capped, and an explicit environment — the base
//!   variables and the ones `deploy_env` names, nothing else. Both outputs are appended,
//!   redacted, to the deploy's log; the [`DeployOutcome`] says which step failed and how.
//! - [`health`]: the HTTP health checks of target.yaml, each with its retries, into a
//!   [`HealthReport`] a person can read as evidence.
//!
//! What to do with an unhealthy deploy (revert, redeploy, tell, pause) is the deploy job's
//! decision, not this module's.

pub mod checkout;
pub mod health;
pub mod run;

pub use checkout::{checkout_at, deploy_dir, remove};
pub use health::{CheckEvidence, HealthOptions, HealthReport, check};
pub use run::{DeployOutcome, DeploySpec, Step, StepRun, deploy};

use crate::problem::IoError;
use crate::target::TargetError;

/// What can stop a deploy before its commands have an outcome. A command that fails or
/// times out is not an error: it is a [`DeployOutcome`].
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error(
        "commit `{commit}` is not in the target clone at {} even after a fetch; check the commit named, or run `dayshift setup` to refresh the clone",
        clone.display()
    )]
    UnknownCommit {
        commit: String,
        clone: std::path::PathBuf,
    },
    #[error(
        "config/target.yaml has neither `build_command` nor `deploy_command`, so there is nothing to deploy with; set `deploy_command` (and `build_command` if the target needs a build)"
    )]
    NothingToRun,
    #[error("cannot start the {step} command: {source}; check that /bin/sh exists and PATH is set")]
    Spawn {
        step: Step,
        #[source]
        source: crate::process::SpawnError,
    },
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error(transparent)]
    Io(#[from] IoError),
}
