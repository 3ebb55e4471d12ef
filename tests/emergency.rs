//! The emergency pause: tasks failing in a row pause the work loop with the reason in
//! `PAUSED` (and the people are told, urgently); every run refuses while it stands, the
//! daemon included across restarts; `status` shows it first; `dayshift resume` clears it.

mod common;

use std::time::{Duration, Instant};

use common::fake_discord::FakeDiscord;
use common::notify_home::{home, titles_and_pings};
use common::{stderr, stdout};

#[test]
fn three_failures_in_a_row_pause_the_loop_until_a_person_resumes() {
    let discord = FakeDiscord::start();
    let home = home(&discord, None);
    for n in 1..=3 {
        home.add_task(n, &format!("Crash number {n}"), "backlog", "");
    }
    home.add_task(4, "Protect calc", "backlog", "");
    home.ok(&["run", "work"]);
    for id in ["T-0001", "T-0002", "T-0003"] {
        assert_eq!(home.task(id)["state"], "failed", "{id}");
    }
    assert_eq!(
        home.task("T-0004")["state"],
        "backlog",
        "the loop paused before it"
    );
    let paused = home.read("PAUSED");
    assert!(
        paused.contains("3 tasks failed in a row (T-0001, T-0002, T-0003)"),
        "{paused}"
    );
    let told = titles_and_pings(&discord);
    let pause = told
        .iter()
        .find(|(t, _)| t == "dayshift paused the work loop")
        .unwrap_or_else(|| panic!("{told:?}"));
    assert_eq!(pause.1, ["<@&42>"], "urgent: the role is paged");

    let refused = home.run(&["run", "work"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("paused by dayshift since"),
        "{}",
        stderr(&refused)
    );
    let status = stdout(&home.ok(&["status"]));
    assert!(
        status.starts_with("PAUSED    paused by dayshift"),
        "{status}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&home.ok(&["status", "--json"]).stdout).unwrap();
    assert_eq!(json["pause"]["scope"], "work");

    let resumed = stdout(&home.ok(&["resume", "--by", "alice"]));
    assert!(resumed.contains("resumed by alice"), "{resumed}");
    assert!(!home.path("PAUSED").exists());
    home.ok(&["run", "work"]);
    assert_eq!(
        home.task("T-0004")["state"],
        "in_review",
        "work goes on after resume"
    );
    let audit = home.read("logs/audit.jsonl");
    assert!(audit.contains("\"pause.cleared\"") && audit.contains("\"by\":\"alice\""));
}

#[test]
fn the_daemon_honours_a_pause_across_restarts() {
    let discord = FakeDiscord::start();
    let home = home(&discord, None);
    home.write(
        "config/schedules.yaml",
        "timezone: UTC\njobs: {work: \"*/2 * * * * *\"}\nwork_until: \"24:00\"\n",
    );
    home.add_task(1, "Protect calc", "backlog", "");
    home.write(
        "PAUSED",
        "---\n{\"scope\":\"work\",\"since\":\"2026-12-06T10:00:00+00:00\",\"reason\":\"a test pause\"}\n---\n# paused\n",
    );
    let skipped = || {
        // the daemon may not have audited anything yet: no trail is no skip
        let audit = std::fs::read_to_string(home.path("logs/audit.jsonl")).unwrap_or_default();
        audit
            .lines()
            .filter(|l| l.contains("\"job.skipped\"") && l.contains("a test pause"))
            .count()
    };
    let wait_until = |what: &str, check: &dyn Fn() -> bool| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !check() {
            assert!(Instant::now() < deadline, "{what}");
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    home.ok(&["start"]);
    wait_until("a paused work run skipped", &|| skipped() >= 1);
    home.ok(&["stop"]);
    let before = skipped();
    home.ok(&["start"]);
    wait_until("still paused after a restart", &|| skipped() > before);
    assert_eq!(home.task("T-0001")["state"], "backlog");
    home.ok(&["resume"]);
    wait_until("work after resume", &|| {
        home.task("T-0001")["state"] == "in_review"
    });
    home.ok(&["stop"]);
}
