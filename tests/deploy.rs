//! DevOps end to end, on real git with a bare remote and real HTTP on 127.0.0.1: the
//! target's deploy is a script writing a version file, its health check a tiny service
//! the test runs, answering 500 while the deployed version is "broken". A good merge is
//! deployed and stays; a bad one is reverted on the base, the previous version deployed
//! again and healthy, the task marked reverted, its goal paused, the people told; a revert
//! that cannot land pauses everything and pages; a merge that breaks the base's own tests
//! is reverted.

mod common;

use std::path::{Path, PathBuf};

use common::fake_discord::FakeDiscord;
use common::notify_home::titles_and_pings;
use common::{TestHome, git, stdout};

/// A coding tool: writes the word after "Ship" into app.txt ("Ship broken" breaks the
/// service).
const TOOL: &str = r#"#!/usr/bin/env python3
import json, pathlib, re, sys
prompt = sys.stdin.read()
version = re.search(r"Ship (\w+)", prompt).group(1)
pathlib.Path("app.txt").write_text(version + "\n")
print(json.dumps({"type": "result", "is_error": False, "result": "edited app.txt",
                  "usage": {"input_tokens": 100, "output_tokens": 20}}))
"#;

const TESTS: &str = "import unittest\n\n\nclass App(unittest.TestCase):\n    def test_app_exists(self):\n        self.assertTrue(open('app.txt').read())\n\n\nif __name__ == '__main__':\n    unittest.main()\n";

/// The service: answers 500 while the deployed version is "broken", else 200 with it.
struct Service {
    version: PathBuf,
}

impl wiremock::Respond for Service {
    fn respond(&self, _: &wiremock::Request) -> wiremock::ResponseTemplate {
        let version = std::fs::read_to_string(&self.version).unwrap_or_default();
        let status = if version.contains("broken") { 500 } else { 200 };
        wiremock::ResponseTemplate::new(status).set_body_string(format!("version {version}"))
    }
}

struct Deployed {
    home: TestHome,
    remote: PathBuf,
    service: PathBuf,
    discord: FakeDiscord,
    _server: (wiremock::MockServer, tokio::runtime::Runtime),
}

impl Deployed {
    /// A set-up home whose target deploys by copying app.txt to the service's folder
    /// (named by `deploy_env`), checked by a health check of the service.
    fn new(policy: &str) -> Self {
        let discord = FakeDiscord::start();
        let (home, remote) = common::home_with_tool(common::ToolHome {
            files: &[("app.txt", "v1\n"), ("test_app.py", TESTS)],
            tool: TOOL,
            coder: "attempts: 1, timeout_minutes: 1",
            agents_tail: "",
            policy,
        });
        let service = home.root.parent().unwrap().join("service");
        std::fs::create_dir_all(&service).unwrap();
        let server = common::serve(Service {
            version: service.join("version"),
        });
        home.write(
            "config/target.yaml",
            &format!(
                "repo: {}\nbase_branch: main\ntest_command: python3 -m unittest -v\n\
                 deploy_command: cp app.txt \"$SERVICE_DIR/version\" && echo deployed $(cat app.txt)\n\
                 deploy_env: [SERVICE_DIR]\nhealth_delay_s: 0\n\
                 health: [{{url: \"{}/health\", contains: version, retries: 0, timeout_s: 5}}]\n",
                remote.display(),
                server.0.uri()
            ),
        );
        home.write(
            "config/.env",
            &format!(
                "SERVICE_DIR={}\nDISCORD_WEBHOOK_URL={}\n",
                service.display(),
                discord.url()
            ),
        );
        home.write(
            "config/notify.yaml",
            "discord: {webhook_env: DISCORD_WEBHOOK_URL, events: [needs_person, stopped], mention: \"<@&42>\"}\n",
        );
        Self {
            home,
            remote,
            service,
            discord,
            _server: server,
        }
    }

    fn version(&self) -> String {
        std::fs::read_to_string(self.service.join("version"))
            .unwrap_or_default()
            .trim()
            .to_string()
    }

    /// app.txt on the remote's main.
    fn on_remote(&self) -> String {
        git(&self.remote, &["show", "main:app.txt"])
            .trim()
            .to_string()
    }

    fn audit(&self, action: &str) -> Vec<serde_json::Value> {
        self.home
            .read("logs/audit.jsonl")
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|e| e["action"] == action)
            .collect()
    }

    fn task_file(&self, id: &str) -> String {
        let task = self.home.task(id);
        self.home.read(task["path"].as_str().unwrap())
    }
}

#[test]
fn a_good_merge_stays_deployed_and_a_bad_one_is_reverted_and_the_previous_version_redeployed() {
    let d = Deployed::new("auto_merge: low\n");
    let doctor = stdout(&d.home.run(&["doctor", "--offline"]));
    assert!(
        doctor.contains(
            "ok    deploy: after every merge, within 10 min per command; 1 health check(s)"
        ),
        "{doctor}"
    );
    d.home
        .add_task(1, "Ship v2", "backlog", "goal: g-a\nfiles: [app.txt]\n");
    d.home.ok(&["run", "work"]);
    assert_eq!(d.home.task("T-0001")["state"], "completed");
    assert_eq!(d.version(), "v2", "the good merge is deployed");
    let released = d.audit("release.done");
    assert_eq!(released.len(), 1, "{released:?}");
    assert_eq!(released[0]["detail"]["verdict"], "healthy");
    let log = d.home.read(released[0]["detail"]["log"].as_str().unwrap());
    assert!(
        log.contains("deployed v2"),
        "the deploy's output is kept: {log}"
    );
    // the deploy job on its schedule finds nothing new
    let again = stdout(&d.home.ok(&["run", "deploy"]));
    assert!(again.contains("nothing new to deploy"), "{again}");

    d.home
        .add_task(2, "Ship broken", "backlog", "goal: g-b\nfiles: [app.txt]\n");
    d.home
        .add_task(3, "Ship v3", "backlog", "goal: g-b\nfiles: [app.txt]\n");
    d.home
        .add_task(4, "Ship v4", "backlog", "goal: g-c\nfiles: [app.txt]\n");
    d.home.ok(&["run", "work"]);

    // the bad merge is reverted on the base and the previous version is back, healthy
    assert_eq!(d.on_remote(), "v4", "T-0004 (another goal) went on");
    let bad = d.task_file("T-0002");
    assert_eq!(d.home.task("T-0002")["state"], "completed");
    assert!(bad.contains("\nreverted: \""), "{bad}");
    assert!(
        bad.contains("reason: \"reverted: the deploy of "),
        "the reason is in the front matter: {bad}"
    );
    assert!(bad.contains("## Reverted"), "{bad}");
    assert!(
        bad.contains("UNHEALTHY") && bad.contains("500"),
        "the evidence: {bad}"
    );
    let revert = d.audit("deploy.reverted");
    assert_eq!(revert.len(), 1, "{revert:?}");
    assert_eq!(revert[0]["task"], "T-0002");
    assert_eq!(revert[0]["detail"]["restored"]["verdict"], "healthy");
    let history: Vec<String> = git(&d.remote, &["log", "--format=%s", "main"])
        .lines()
        .map(str::to_string)
        .collect();
    assert!(
        history.iter().any(|s| s.starts_with("revert: T-0002")),
        "{history:?}"
    );
    // the goal waits; the others go on
    let held = d.home.task("T-0003");
    assert_eq!(held["state"], "backlog", "goal g-b waits");
    assert_eq!(held["ready"], false, "{held}");
    let listed = stdout(&d.home.ok(&["tasks", "list"]));
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with("T-0003") && l.contains(" held ")),
        "{listed}"
    );
    assert_eq!(d.home.task("T-0004")["state"], "completed");
    assert_eq!(d.version(), "v4");
    let paused = d.home.read("PAUSED");
    assert!(
        paused.contains("g-b") && paused.contains("T-0002 was reverted"),
        "{paused}"
    );
    let status = stdout(&d.home.ok(&["status"]));
    assert!(status.starts_with("PAUSED"), "{status}");
    // the people were told, urgently
    let told = titles_and_pings(&d.discord);
    let notice = told
        .iter()
        .find(|(t, _)| t.starts_with("T-0002 was reverted"))
        .unwrap_or_else(|| panic!("{told:?}"));
    assert_eq!(notice.1, ["<@&42>"]);
    // a person resumes: the goal's task is worked
    d.home.ok(&["resume", "--by", "alice"]);
    d.home.ok(&["run", "work"]);
    assert_eq!(d.home.task("T-0003")["state"], "completed");
    assert_eq!(d.version(), "v3");
    // a person's push to the base is deployed by the scheduled job
    let seed = d.remote.parent().unwrap().join("seed");
    git(&seed, &["pull", "-q", d.remote.to_str().unwrap(), "main"]);
    std::fs::write(seed.join("app.txt"), "v5\n").unwrap();
    git(&seed, &["commit", "-qam", "v5 by a person"]);
    git(
        &seed,
        &["push", "-q", d.remote.to_str().unwrap(), "HEAD:main"],
    );
    let scheduled = stdout(&d.home.ok(&["run", "deploy"]));
    assert!(scheduled.contains(": healthy"), "{scheduled}");
    assert_eq!(d.version(), "v5");
    // the day names devops with what it did
    d.home
        .write("VISION.md", "# Vision\n\n## Priority: HIGH\n- Ship v6\n");
    let whole_day = common::stderr(&d.home.ok(&["day"]));
    assert!(
        whole_day.contains("deploy: nothing new to deploy"),
        "{whole_day}"
    );
    assert_eq!(d.version(), "v6", "deployed after the day's merge");
    // every release was a run of its own, and the report has them
    let runs = d.audit("release.done").len();
    assert!(runs >= 6, "{runs}");
    let day = chrono::Utc::now().date_naive();
    let report = d.home.read(&format!("reports/daily/{day}.md"));
    let deploys = report
        .split("## Deploys")
        .nth(1)
        .unwrap_or_else(|| panic!("{report}"));
    assert!(deploys.contains(&format!("{runs} release(s)")), "{deploys}");
    assert!(deploys.contains("| unhealthy |"), "{deploys}");
    assert!(
        deploys.contains("T-0002 was reverted by T-0005"),
        "{deploys}"
    );
}

#[test]
fn a_revert_that_cannot_land_pauses_everything_and_pages() {
    let d = Deployed::new("auto_merge: low\n");
    d.home
        .add_task(1, "Ship v2", "backlog", "goal: g-a\nfiles: [app.txt]\n");
    d.home.ok(&["run", "work"]);
    assert_eq!(d.version(), "v2");
    // the remote now refuses reverts (a protected branch, say)
    refuse_pushes_mentioning(&d.remote, "revert:");
    d.home
        .add_task(2, "Ship broken", "backlog", "goal: g-b\nfiles: [app.txt]\n");
    d.home
        .add_task(3, "Ship v3", "backlog", "goal: g-c\nfiles: [app.txt]\n");
    d.home.run(&["run", "work"]);
    let paused = d.home.read("PAUSED");
    assert!(paused.contains("reverting T-0002 failed too"), "{paused}");
    assert!(paused.contains("\"scope\":\"all\""), "{paused}");
    assert_eq!(d.version(), "v2", "the previous version runs again");
    assert_eq!(
        d.home.task("T-0003")["state"],
        "backlog",
        "nothing more is worked"
    );
    let told = titles_and_pings(&d.discord);
    let page = told
        .iter()
        .find(|(t, _)| t == "dayshift paused everything")
        .unwrap_or_else(|| panic!("{told:?}"));
    assert_eq!(page.1, ["<@&42>"]);
    let refused = d.home.run(&["run", "plan"]);
    assert_eq!(refused.status.code(), Some(1), "nothing touches the target");
    // once resumed, the scheduled deploy does not deploy the known-bad head again
    d.home.ok(&["resume"]);
    let scheduled = stdout(&d.home.ok(&["run", "deploy"]));
    assert!(
        scheduled.contains("was unhealthy") && scheduled.contains("waiting for a new commit"),
        "{scheduled}"
    );
    assert_eq!(d.version(), "v2");
}

#[test]
fn a_merge_that_breaks_the_bases_own_tests_is_reverted() {
    let d = Deployed::new("auto_merge: low\nprotected_paths: [\"app.txt\"]\n");
    // no deploy: only the base's tests judge the merge
    let target = d.home.read("config/target.yaml");
    let kept: Vec<&str> = target
        .lines()
        .filter(|l| {
            l.starts_with("repo:")
                || l.starts_with("base_branch:")
                || l.starts_with("test_command:")
        })
        .collect();
    d.home
        .write("config/target.yaml", &(kept.join("\n") + "\n"));
    d.home
        .add_task(1, "Ship broken", "backlog", "goal: g-a\nfiles: [app.txt]\n");
    d.home.ok(&["run", "work"]);
    assert_eq!(
        d.home.task("T-0001")["state"],
        "in_review",
        "a protected path waits"
    );
    // meanwhile a person adds a test the waiting change breaks
    let seed = d.remote.parent().unwrap().join("seed");
    std::fs::write(
        seed.join("test_version.py"),
        "import unittest\n\n\nclass Version(unittest.TestCase):\n    def test_version_starts_with_v(self):\n        self.assertTrue(open('app.txt').read().startswith('v'))\n",
    )
    .unwrap();
    git(&seed, &["add", "test_version.py"]);
    git(&seed, &["commit", "-qm", "a test of the version"]);
    git(
        &seed,
        &["push", "-q", d.remote.to_str().unwrap(), "HEAD:main"],
    );
    d.home.ok(&["tasks", "approve", "T-0001"]);
    d.home.ok(&["run", "work"]);

    let file = d.task_file("T-0001");
    assert!(file.contains("reverted: the base's tests broke"), "{file}");
    assert!(
        file.contains("test_version_starts_with_v"),
        "the evidence names the test: {file}"
    );
    assert_eq!(d.on_remote(), "v1", "the merge is undone on the remote");
    assert!(
        git(&d.remote, &["show", "main:test_version.py"]).contains("startswith"),
        "the person's test stays"
    );
    let released = d.audit("release.done");
    assert_eq!(
        released[0]["detail"]["verdict"], "tests_broken",
        "{released:?}"
    );
    assert_eq!(released[0]["detail"]["deployed"], false);
}

/// A pre-receive hook on `remote` that refuses any push bringing a commit whose message
/// contains `word`.
fn refuse_pushes_mentioning(remote: &Path, word: &str) {
    use std::os::unix::fs::PermissionsExt;
    let hook = remote.join("hooks/pre-receive");
    std::fs::write(
        &hook,
        format!(
            "#!/bin/sh\nwhile read old new ref; do\n  if git log --format=%s \"$old..$new\" 2>/dev/null | grep -q '{word}'; then echo 'refused by policy' >&2; exit 1; fi\ndone\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_deploy_that_writes_into_the_home_is_put_back_and_its_merge_reverted() {
    let d = Deployed::new("auto_merge: low\n");
    // the deploy runs the target's code: here, code that rewrites policy when it can
    let target = d.home.read("config/target.yaml").replace(
        "deploy_command: cp app.txt",
        "deploy_command: grep -q evil app.txt && echo tampered >> ../../../config/policy.yaml; cp app.txt",
    );
    d.home.write("config/target.yaml", &target);
    let policy = d.home.read("config/policy.yaml");
    d.home
        .add_task(1, "Ship evil", "backlog", "goal: g-a\nfiles: [app.txt]\n");
    d.home.ok(&["run", "work"]);
    assert_eq!(d.home.read("config/policy.yaml"), policy, "put back");
    let released = d.audit("release.done");
    assert_eq!(released[0]["detail"]["verdict"], "failed", "{released:?}");
    let evidence = released[0]["detail"]["evidence"].as_str().unwrap();
    assert!(evidence.contains("config/policy.yaml"), "{evidence}");
    assert_eq!(d.on_remote(), "v1", "its merge is reverted");
    assert!(d.task_file("T-0001").contains("reverted: the deploy of "));
}
