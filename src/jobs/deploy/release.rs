//! One release of one commit of the base: in a clean checkout at that commit, the base's
//! own tests when the merge made a tree QA never ran, then the build and deploy commands
//! (with the home guard: a deploy script is the target's code and may not write into the
//! home), then the health checks. Every release is a run (`runs`, job `deploy`) whose
//! output is kept in `logs/deploy/<day>-<commit>.log`, and a `release.done` audit event
//! with its verdict and evidence — what the next release compares with, and what the
//! report's Deploys section reads.

use std::path::PathBuf;
use std::time::Duration;

use crate::context::Ctx;
use crate::deploy::{self, DeploySpec, HealthOptions};
use crate::error::Result;
use crate::home::guard::HomeGuard;
use crate::qa::{self, Baseline, QaCommands};
use crate::sandbox::Sandbox;
use crate::store::{Event, RunOutcome};
use crate::target::Git;

/// How long the base's tests may take after a merge (as long as QA's).
const TESTS_TIMEOUT: Duration = Duration::from_secs(20 * 60);
/// Characters of a commit in names and messages.
pub const SHORT: usize = 10;

/// What a release found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Deployed, and every health check passed (or none is configured).
    Healthy,
    /// Deployed, and a health check failed.
    Unhealthy,
    /// The build or the deploy command failed, timed out, or wrote into the home.
    Failed,
    /// The base's own tests fail at this commit where they passed before the merge.
    TestsBroken,
    /// Nothing to deploy with; the base's tests passed (or the tree was QA's already).
    Checked,
}

impl Verdict {
    /// Whether the merge that made this commit must be undone.
    pub fn is_bad(self) -> bool {
        matches!(
            self,
            Verdict::Unhealthy | Verdict::Failed | Verdict::TestsBroken
        )
    }

    pub fn word(self) -> &'static str {
        match self {
            Verdict::Healthy => "healthy",
            Verdict::Unhealthy => "unhealthy",
            Verdict::Failed => "failed",
            Verdict::TestsBroken => "tests broken",
            Verdict::Checked => "checked",
        }
    }
}

/// A release's end: the verdict, and the evidence a person reads in the task and the
/// notification.
#[derive(Debug, Clone)]
pub struct Release {
    pub commit: String,
    pub verdict: Verdict,
    pub evidence: String,
    /// Whether the deploy command ran (the service may now run this commit).
    pub deployed: bool,
    pub log: PathBuf,
}

/// What to do in one release.
#[derive(Debug, Clone, Copy)]
pub struct Steps {
    /// Run the base's tests first, against the commit's first parent.
    pub tests: bool,
    /// Build, deploy and check health.
    pub deploy: bool,
}

/// Release `commit` as `steps` say, recorded as a run and a `release.done` event (with
/// `task`, the merge it is judged for, if any; `why` says why it was released).
pub fn release(
    ctx: &Ctx,
    commit: &str,
    task: Option<crate::tasks::TaskId>,
    steps: Steps,
    why: &str,
) -> Result<Release> {
    let clone = ctx.home.target_clone();
    let short = &commit[..commit.len().min(SHORT)];
    let day = ctx.today();
    let log = ctx
        .home
        .logs_dir()
        .join("deploy")
        .join(format!("{day}-{short}.log"));
    let run = ctx.store.start_run("deploy", day, ctx.now())?;
    tracing::info!("releasing {short}: {why}");
    let result = judge(ctx, &clone, commit, steps, &log);
    let now = ctx.now();
    let release = match result {
        Ok((verdict, evidence, deployed)) => Release {
            commit: commit.to_string(),
            verdict,
            evidence: ctx.redact(&evidence),
            deployed,
            log,
        },
        Err(e) => {
            let message = ctx.redact(&e.to_string());
            ctx.store
                .finish_run(run, RunOutcome::Failed, "", Some(&message), now)?;
            return Err(e);
        }
    };
    let summary = format!("{short}: {}", release.verdict.word());
    let (outcome, error) = if release.verdict.is_bad() {
        (RunOutcome::Failed, Some(release.evidence.as_str()))
    } else {
        (RunOutcome::Ok, None)
    };
    ctx.store.finish_run(run, outcome, &summary, error, now)?;
    let mut event = Event::new(now, "devops", "release.done").detail(serde_json::json!({
        "verdict": release.verdict,
        "deployed": release.deployed,
        "evidence": release.evidence,
        "why": why,
        "log": ctx.home.display_path(&release.log).to_string(),
        "run": run,
    }));
    if let Some(task) = task {
        event = event.task(task);
    }
    event.commit = Some(commit.to_string());
    ctx.audit(event)?;
    Ok(release)
}

/// The verdict, its evidence, and whether the deploy command ran.
fn judge(
    ctx: &Ctx,
    clone: &std::path::Path,
    commit: &str,
    steps: Steps,
    log: &std::path::Path,
) -> Result<(Verdict, String, bool)> {
    let dir = deploy::deploy_dir(clone, commit);
    deploy::checkout_at(clone, &dir, commit)?;
    if steps.tests
        && let Some(broken) = broken_tests(ctx, clone, &dir, commit)?
    {
        let _ = deploy::remove(clone, &dir);
        return Ok((Verdict::TestsBroken, broken, false));
    }
    if !steps.deploy {
        let _ = deploy::remove(clone, &dir);
        return Ok((Verdict::Checked, "the base's tests pass".into(), false));
    }
    let target = &ctx.config.target;
    let spec = DeploySpec {
        dir: dir.clone(),
        build_command: target.build_command.clone(),
        deploy_command: target.deploy_command.clone(),
        env_names: target.deploy_env_names(),
        secrets: &ctx.config.secrets,
        timeout: target.deploy_timeout(),
        log: log.to_path_buf(),
    };
    // the deploy runs the target's code unconfined (it must reach the service): what it
    // changes in the home is put back, and the deploy counts as failed
    let guard = HomeGuard::new(&ctx.home, false).map_err(|e| {
        crate::Error::Refused(format!("cannot record the home before the deploy: {e}"))
    })?;
    let outcome = deploy::deploy(&spec)?;
    if let Err(tampered) = guard.verify(&ctx.home) {
        return Ok((Verdict::Failed, format!("the deploy: {tampered}"), true));
    }
    if let Some(step) = outcome.failed_step() {
        let evidence = format!("{}\n{}", step.summary(), step.tail);
        return Ok((Verdict::Failed, evidence, outcome.ran(deploy::Step::Deploy)));
    }
    let health = deploy::check(&target.health_checks(), &HealthOptions::of(target));
    let verdict = if health.healthy() {
        remove_others(ctx, clone, &dir);
        Verdict::Healthy
    } else {
        Verdict::Unhealthy
    };
    Ok((verdict, health.to_string(), true))
}

/// The base's tests at `commit` (checked out in `dir`) against its first parent's: the new
/// failures, in words, when there are any.
fn broken_tests(
    ctx: &Ctx,
    clone: &std::path::Path,
    dir: &std::path::Path,
    commit: &str,
) -> Result<Option<String>> {
    let commands = QaCommands::from_target(&ctx.config.target);
    if commands.test.is_none() {
        return Ok(None);
    }
    let Some(parent) = Git::new(clone).commit_of(&format!("{commit}^1"))? else {
        return Ok(None);
    };
    let sandbox = Sandbox::new(&ctx.config.policy.sandbox, ctx.home.root())
        .map_err(|e| crate::Error::Refused(e.to_string()))?;
    let cache = ctx.home.state_dir().join("qa");
    let parent_dir = deploy::deploy_dir(clone, &parent);
    let mut checkout_failed = None;
    let before = Baseline::get_or_run(&cache, &parent, &commands, || {
        // a checkout that could not be made is no directory: QA says so, and why is kept
        if let Err(e) = deploy::checkout_at(clone, &parent_dir, &parent) {
            checkout_failed = Some(e);
        }
        let confine = sandbox.for_task(&parent_dir, clone);
        let run = qa::run_checks_confined(&parent_dir, &commands, TESTS_TIMEOUT, &confine);
        let _ = deploy::remove(clone, &parent_dir);
        run
    });
    let before = match (before, checkout_failed) {
        (Ok(before), _) => before,
        (Err(_), Some(e)) => return Err(e.into()),
        (Err(e), None) => {
            return Err(crate::Error::Refused(format!(
                "the base's tests before the merge could not run: {e}"
            )));
        }
    };
    let confine = sandbox.for_task(dir, clone);
    let after = qa::run_checks_confined(dir, &commands, TESTS_TIMEOUT, &confine).map_err(|e| {
        crate::Error::Refused(format!(
            "the base's tests after the merge could not run: {e}"
        ))
    })?;
    let verdict = qa::verdict(Some(&before), &after);
    if verdict.new_failures.is_empty() && verdict.removed.is_empty() {
        return Ok(None);
    }
    let mut words = Vec::new();
    if !verdict.new_failures.is_empty() {
        words.push(qa::name_list(
            "tests that passed before the merge and fail after it",
            verdict.new_failures.iter(),
            300,
        ));
    }
    if !verdict.removed.is_empty() {
        words.push(qa::name_list(
            "tests no longer run",
            verdict.removed.iter(),
            300,
        ));
    }
    Ok(Some(words.join("; ")))
}

/// After a healthy deploy, the checkouts of earlier releases go (the one now deployed
/// stays: a service may run from it).
fn remove_others(ctx: &Ctx, clone: &std::path::Path, keep: &std::path::Path) {
    let Some(parent) = keep.parent() else { return };
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path != keep
            && let Err(e) = deploy::remove(clone, &path)
        {
            tracing::warn!(
                "could not remove the old deploy checkout {}: {e}",
                ctx.home.display_path(&path)
            );
        }
    }
}
