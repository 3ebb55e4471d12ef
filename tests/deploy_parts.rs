//! DevOps' parts on real git and real HTTP: a clean checkout of a temp target at a commit,
//! its build and deploy commands (a script writing a version file) through the one process
//! helper, and health checks against a tiny server on 127.0.0.1 whose answers the test
//! scripts.

mod common;
#[path = "deploy_parts/health_server.rs"]
mod health_server;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{bare_remote, git};
use dayshift::config::Secrets;
use dayshift::config::deploy::HealthCheck;
use dayshift::deploy::{
    self, DeployOutcome, DeploySpec, HealthOptions, Step, checkout_at, deploy_dir,
};
use health_server::HealthServer;

const DEPLOY_VERSION: &str = "echo $(git rev-parse HEAD) > \"$OUT/version\"";

/// A target: its bare remote, dayshift's clone of it in `workspace/target`, and a folder
/// (`out`) standing for the deployed service.
struct Target {
    dir: tempfile::TempDir,
    clone: PathBuf,
    out: PathBuf,
}

impl Target {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let remote = bare_remote(dir.path(), "shop", &[("app.txt", "v1\n")]);
        let workspace = dir.path().join("workspace");
        std::fs::create_dir_all(&workspace).unwrap();
        git(
            &workspace,
            &["clone", "-q", remote.to_str().unwrap(), "target"],
        );
        let out = dir.path().join("service");
        std::fs::create_dir_all(&out).unwrap();
        let clone = workspace.join("target");
        Self { dir, clone, out }
    }

    fn head(&self) -> String {
        git(&self.clone, &["rev-parse", "HEAD"]).trim().to_string()
    }

    /// A new commit on the remote's main (made in the seed and pushed), which the clone
    /// has not fetched.
    fn commit_on_remote(&self, text: &str) -> String {
        let seed = self.dir.path().join("seed");
        std::fs::write(seed.join("app.txt"), text).unwrap();
        git(&seed, &["commit", "-qam", "next"]);
        let remote = self.dir.path().join("shop.git");
        git(
            &seed,
            &["push", "-q", remote.to_str().unwrap(), "HEAD:main"],
        );
        git(&seed, &["rev-parse", "HEAD"]).trim().to_string()
    }

    /// Secrets with OUT (where the service lives) and `extra` as the environment.
    fn secrets(&self, extra: &[(&str, &str)]) -> Secrets {
        let mut env = vec![("OUT".to_string(), self.out.display().to_string())];
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Secrets::load_with_env(&self.dir.path().join("no.env"), env).unwrap()
    }

    fn log(&self) -> PathBuf {
        self.dir.path().join("logs/deploy.log")
    }

    /// Check out `commit` and run `build` then `deploy` there with `secrets`, OUT and
    /// `names` visible.
    fn deploy(
        &self,
        commit: &str,
        build: Option<&str>,
        deploy: &str,
        secrets: &Secrets,
        names: &[&str],
        timeout: Duration,
    ) -> DeployOutcome {
        let dir = deploy_dir(&self.clone, commit);
        checkout_at(&self.clone, &dir, commit).unwrap();
        let mut env_names = vec!["OUT".to_string()];
        env_names.extend(names.iter().map(|n| n.to_string()));
        let spec = DeploySpec {
            dir,
            build_command: build.map(str::to_string),
            deploy_command: Some(deploy.to_string()),
            env_names,
            secrets,
            timeout,
            log: self.log(),
        };
        deploy::deploy(&spec).unwrap()
    }

    fn deployed_version(&self) -> String {
        std::fs::read_to_string(self.out.join("version"))
            .unwrap_or_default()
            .trim()
            .to_string()
    }
}

const MINUTE: Duration = Duration::from_secs(60);

#[test]
fn a_checkout_at_a_commit_deploys_that_commit_and_is_made_fresh_each_time() {
    let target = Target::new();
    let secrets = target.secrets(&[]);
    let a = target.head();
    let outcome = target.deploy(
        &a,
        Some("test -f app.txt"),
        DEPLOY_VERSION,
        &secrets,
        &[],
        MINUTE,
    );
    assert!(outcome.succeeded(), "{outcome:?}");
    assert!(outcome.ran(Step::Build) && outcome.ran(Step::Deploy));
    assert_eq!(target.deployed_version(), a);

    // B is only on the remote: the checkout fetches it
    let b = target.commit_on_remote("v2\n");
    let outcome = target.deploy(&b, None, DEPLOY_VERSION, &secrets, &[], MINUTE);
    assert!(outcome.succeeded(), "{outcome:?}");
    assert_eq!(target.deployed_version(), b);
    let dir_b = deploy_dir(&target.clone, &b);
    assert_eq!(
        dir_b.parent().unwrap(),
        target.dir.path().join("workspace/deploy")
    );
    assert_eq!(
        std::fs::read_to_string(dir_b.join("app.txt")).unwrap(),
        "v2\n"
    );

    // a second checkout at the same place starts clean
    std::fs::write(dir_b.join("left-by-a-build"), "x").unwrap();
    checkout_at(&target.clone, &dir_b, &b).unwrap();
    assert!(!dir_b.join("left-by-a-build").exists());
    assert!(git(&dir_b, &["status", "--porcelain"]).is_empty());

    deploy::remove(&target.clone, &dir_b).unwrap();
    assert!(!dir_b.exists());
    let listed = git(&target.clone, &["worktree", "list"]);
    assert!(!listed.contains(&b[..12]), "{listed}");
    deploy::remove(&target.clone, &dir_b).unwrap();

    let log = std::fs::read_to_string(target.log()).unwrap();
    assert!(log.contains("== build: test -f app.txt"), "{log}");
    assert_eq!(log.matches("== deploy: ").count(), 2, "{log}");
}

#[test]
fn an_unknown_commit_is_an_error_that_says_what_to_do() {
    let target = Target::new();
    let dir = deploy_dir(&target.clone, "0123456789abcdef");
    let err = checkout_at(
        &target.clone,
        &dir,
        "0123456789abcdef0123456789abcdef01234567",
    )
    .unwrap_err();
    let message = err.to_string();
    assert!(message.contains("is not in the target clone"), "{message}");
    assert!(message.contains("dayshift setup"), "{message}");
    assert!(!dir.exists());
}

#[test]
fn a_failed_build_stops_the_deploy_and_says_so() {
    let target = Target::new();
    let secrets = target.secrets(&[]);
    let build = "echo compiling; echo broken >&2; exit 3";
    let outcome = target.deploy(
        &target.head(),
        Some(build),
        DEPLOY_VERSION,
        &secrets,
        &[],
        MINUTE,
    );
    assert!(!outcome.succeeded());
    let failed = outcome.failed_step().unwrap();
    assert_eq!(failed.step, Step::Build);
    assert_eq!(failed.exit_code, Some(3));
    assert!(!failed.timed_out);
    assert_eq!(failed.tail, "compiling\nbroken");
    assert!(
        failed.summary().contains("failed with exit code 3"),
        "{}",
        failed.summary()
    );
    assert!(
        !outcome.ran(Step::Deploy),
        "the deploy ran after a failed build"
    );
    assert_eq!(target.deployed_version(), "", "nothing was deployed");
    let log = std::fs::read_to_string(target.log()).unwrap();
    assert!(log.contains("compiling") && log.contains("broken"), "{log}");
    assert!(!log.contains("== deploy"), "{log}");
}

#[test]
fn a_hanging_deploy_is_killed_at_its_timeout_with_its_group() {
    let target = Target::new();
    let secrets = target.secrets(&[]);
    let hang = "sleep 600 & echo $! > \"$OUT/child\"; wait";
    let started = Instant::now();
    let outcome = target.deploy(
        &target.head(),
        None,
        hang,
        &secrets,
        &[],
        Duration::from_secs(1),
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let failed = outcome.failed_step().unwrap();
    assert_eq!(failed.step, Step::Deploy);
    assert!(failed.timed_out, "{failed:?}");
    assert_eq!(failed.exit_code, None);
    assert!(
        failed.summary().contains("timed out"),
        "{}",
        failed.summary()
    );
    let child = std::fs::read_to_string(target.out.join("child")).unwrap();
    let proc = Path::new("/proc").join(child.trim());
    let deadline = Instant::now() + Duration::from_secs(3);
    let alive =
        || std::fs::read_to_string(proc.join("stat")).is_ok_and(|stat| !stat.contains(") Z "));
    while alive() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !alive(),
        "the deploy's child sleep {} outlived the timeout",
        child.trim()
    );
}

#[test]
fn only_the_variables_deploy_env_names_reach_the_commands_and_secrets_are_redacted() {
    let target = Target::new();
    let secrets = target.secrets(&[
        ("DEPLOY_REGION", "eu-west"),
        ("HIDDEN_VALUE", "must-not-leak"),
        ("FLY_API_TOKEN", "fly-secret-123"),
    ]);
    let show = "echo \"[$DEPLOY_REGION][$HIDDEN_VALUE][$FLY_API_TOKEN]\" | tee \"$OUT/env\"";
    let outcome = target.deploy(
        &target.head(),
        None,
        show,
        &secrets,
        &["DEPLOY_REGION", "FLY_API_TOKEN"],
        MINUTE,
    );
    assert!(outcome.succeeded(), "{outcome:?}");
    let seen = std::fs::read_to_string(target.out.join("env")).unwrap();
    assert_eq!(seen, "[eu-west][][fly-secret-123]\n");
    let log = std::fs::read_to_string(target.log()).unwrap();
    assert!(!log.contains("fly-secret-123"), "{log}");
    assert!(log.contains("[eu-west][]["), "{log}");
    assert!(!outcome.steps[0].tail.contains("fly-secret-123"));
}

fn options() -> HealthOptions {
    HealthOptions {
        delay: Duration::ZERO,
        pause: Duration::from_millis(20),
    }
}

fn health(url: &str, contains: Option<&str>, retries: u32) -> HealthCheck {
    HealthCheck {
        contains: contains.map(str::to_string),
        retries,
        ..HealthCheck::new(url)
    }
}

#[test]
fn a_500_is_unhealthy_with_evidence_after_every_try() {
    let server = HealthServer::start(&[(500, "database down")]);
    let report = deploy::check(&[health(&server.url, Some("ok"), 2)], &options());
    assert!(!report.healthy());
    let evidence = &report.checks[0];
    assert_eq!(evidence.tries, 3);
    assert_eq!(server.hits(), 3);
    assert_eq!(evidence.status, Some(500));
    assert_eq!(evidence.snippet, "database down");
    assert_eq!(evidence.error.as_deref(), Some("expected status 200"));
    let text = report.to_string();
    assert!(text.contains("UNHEALTHY: GET http://127.0.0.1:"), "{text}");
    assert!(
        text.contains("after 3 tries, status 500: expected status 200; body: \"database down\""),
        "{text}"
    );
}

#[test]
fn a_service_that_recovers_within_its_retries_is_healthy() {
    let server = HealthServer::start(&[(503, "starting"), (503, "starting"), (200, "all ok")]);
    let report = deploy::check(&[health(&server.url, Some("ok"), 3)], &options());
    assert!(report.healthy(), "{report}");
    assert_eq!(report.checks[0].tries, 3);
    assert_eq!(server.hits(), 3, "no try after the healthy one");
    assert_eq!(report.checks[0].error, None);
    assert!(
        report.to_string().starts_with("- healthy: GET "),
        "{report}"
    );
}

#[test]
fn a_body_without_the_expected_text_is_unhealthy() {
    let server = HealthServer::start(&[(200, "maintenance mode")]);
    let report = deploy::check(&[health(&server.url, Some("ok"), 0)], &options());
    assert!(!report.healthy());
    assert_eq!(report.checks[0].status, Some(200));
    assert_eq!(
        report.checks[0].error.as_deref(),
        Some("the answer does not contain \"ok\"")
    );
    // no text expected: the status alone decides
    let report = deploy::check(&[health(&server.url, None, 0)], &options());
    assert!(report.healthy(), "{report}");
}

#[test]
fn a_service_that_does_not_listen_is_unhealthy_and_every_check_is_reported() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/health", closed.local_addr().unwrap());
    drop(closed);
    let good = HealthServer::start(&[(200, "ok")]);
    let report = deploy::check(
        &[health(&good.url, Some("ok"), 0), health(&url, None, 1)],
        &options(),
    );
    assert!(!report.healthy());
    assert!(report.checks[0].healthy);
    let down = &report.checks[1];
    assert_eq!((down.tries, down.status), (2, None));
    assert!(
        down.error.as_deref().unwrap().contains("cannot connect"),
        "{down:?}"
    );
    assert!(
        deploy::check(&[], &options()).healthy(),
        "nothing to check is healthy"
    );
}
