//! Files whose change matters whatever their lines say: CI configuration (it decides
//! what runs with the repository's secrets, and whether the checks run at all) and
//! lockfiles (a dependency resolved anew is code nobody on the team wrote).

use crate::review::{Finding, Layer};
use crate::tasks::Risk;

/// CI configuration, by path: a warning with risk High.
pub fn is_ci_config(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    path.starts_with(".github/workflows/")
        || path.starts_with(".github/actions/")
        || path.starts_with(".circleci/")
        || path == ".gitlab-ci.yml"
        || path.starts_with(".gitlab/ci/")
        || path == ".travis.yml"
        || path == "azure-pipelines.yml"
        || path == "bitbucket-pipelines.yml"
        || name == "Jenkinsfile"
}

/// Lockfiles, by file name, anywhere in the tree: a warning with risk Medium.
const LOCKFILES: &[&str] = &[
    "Cargo.lock",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lockb",
    "poetry.lock",
    "uv.lock",
    "Pipfile.lock",
    "pdm.lock",
    "go.sum",
    "Gemfile.lock",
    "composer.lock",
];

pub fn is_lockfile(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    LOCKFILES.contains(&name)
}

/// The finding for a changed CI file or lockfile, if `path` is one.
pub fn check(path: &str) -> Option<Finding> {
    if is_ci_config(path) {
        return Some(
            Finding::warn(
                Layer::Patterns,
                "patterns.ci.changed",
                Risk::High,
                "CI configuration changed: a person checks what now runs in CI (it can read the repository's secrets) and that no check was turned off",
            )
            .at(path, None),
        );
    }
    is_lockfile(path).then(|| {
        Finding::warn(
            Layer::Patterns,
            "patterns.lockfile.changed",
            Risk::Medium,
            "lockfile changed: dependencies were resolved anew; a person checks the new or changed packages",
        )
        .at(path, None)
    })
}
