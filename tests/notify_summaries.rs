//! The morning and nightly summaries (issue 13) built from a real home's store and sent to
//! a fake Discord over real HTTP on 127.0.0.1 that enforces every limit and mention rule:
//! a 30-task day (20 merged, 5 failed with 10,000-character reasons, 5 waiting) is
//! accepted and pings no one; mentions in a title are inert; an empty day reads sensibly;
//! a pull request is linked only with GitHub on.

mod common;

use std::time::Duration;

use chrono::NaiveDate;
use common::fake_discord::FakeDiscord;
use dayshift::context::Ctx;
use dayshift::home::Home;
use dayshift::jobs::daily_plan::{DailyPlan, PlannedGoal, Reasoning};
use dayshift::jobs::summary::{morning, nightly};
use dayshift::notify::Notice;
use dayshift::notify::discord::{DiscordWebhook, PayloadOptions, payloads};
use dayshift::tasks::queue::TaskDraft;
use dayshift::tasks::{Approval, TaskKind, TaskState};
use dayshift::vision::{GoalKind, Priority};
use serde_json::json;

const HOSTILE_TITLE: &str = "fix login @everyone <@123> **now**";

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 6).unwrap()
}

fn home() -> (tempfile::TempDir, Home) {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::init(dir.path().join("home"), "UTC").unwrap();
    (dir, home)
}

fn open(home: &Home, day: NaiveDate) -> Ctx {
    Ctx::open(home.clone(), Some(day)).unwrap()
}

/// A task in the backlog titled `title`.
fn task(ctx: &Ctx, title: &str) -> dayshift::tasks::Task {
    let draft = TaskDraft {
        title: title.into(),
        priority: Priority::High,
        goal: Some("g-login".into()),
        source: None,
        kind: TaskKind::Code,
        files: vec![],
        depends_on: vec![],
        acceptance: vec![],
        difficulty: None,
        description: "Do it.".into(),
        plan_key: None,
    };
    ctx.queue
        .create_all(vec![draft], "planner", ctx.now(), |_| Ok(()))
        .unwrap()
        .remove(0)
}

fn to_review(ctx: &Ctx, task: &mut dayshift::tasks::Task) {
    ctx.move_task(task, TaskState::InProgress, "coder", "started")
        .unwrap();
    ctx.move_task(task, TaskState::InReview, "coder", "committed")
        .unwrap();
}

/// On `day`: `merged` tasks merged (each with pull request 100+n), `failed` failed with a
/// 10,000-character reason, `waiting` waiting for approval on a protected path.
fn a_day(ctx: &Ctx, merged: usize, failed: usize, waiting: usize) {
    for n in 0..merged {
        let title = if n == 0 {
            HOSTILE_TITLE.to_string()
        } else {
            format!("merged task {n}")
        };
        let mut t = task(ctx, &title);
        t.meta.pr = Some(100 + n as u64);
        to_review(ctx, &mut t);
        ctx.move_task(&mut t, TaskState::Completed, "dayshift", "merged by policy")
            .unwrap();
    }
    let long_reason = format!(
        "tests failed @here: {}\nsecond line",
        (0..1500)
            .map(|n| format!("step{n}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    assert!(long_reason.len() >= 10_000);
    for n in 0..failed {
        let mut t = task(ctx, &format!("failed task {n}"));
        ctx.move_task(&mut t, TaskState::Failed, "dayshift", &long_reason)
            .unwrap();
    }
    for n in 0..waiting {
        let mut t = task(ctx, &format!("waiting task {n}"));
        to_review(ctx, &mut t);
        t.meta.approval = Some(Approval::Pending);
        let why = format!(
            "waiting for a person: touches the protected path `config/`; `dayshift tasks approve {}`",
            t.meta.id
        );
        ctx.save_task(&t, "dayshift", "task.escalated", json!({"why": why}))
            .unwrap();
    }
}

fn goal(id: &str, text: &str, line: u64) -> PlannedGoal {
    PlannedGoal {
        goal_id: id.into(),
        text: text.into(),
        priority: Priority::High,
        kind: GoalKind::Code,
        section: "Priority".into(),
        line,
    }
}

/// The stored plan of `day`: two goals today, one deferred by the model with its reason,
/// one over capacity.
fn store_plan(ctx: &Ctx, day: NaiveDate) {
    let plan = DailyPlan {
        day,
        title: None,
        diff: Default::default(),
        today: vec![
            goal("g-login", "Log in with _email_", 1),
            goal("g-cart", "A cart", 2),
        ],
        research: vec![],
        deferred: vec![goal("g-pay", "Payments", 3), goal("g-ads", "Ads <@&9>", 4)],
        waiting: vec![],
        done: vec![],
        notes: vec![],
        note_rules: Default::default(),
        capacity: 2,
        budget: String::new(),
        reasoning: Some(Reasoning {
            summary: "login first".into(),
            why: [(
                "g-pay".to_string(),
                "needs the cart first\nand more".to_string(),
            )]
            .into(),
            capacity: 2,
            capacity_why: "small day".into(),
        }),
        vision_sha256: None,
        proposals: vec![],
    };
    let json = serde_json::to_string(&plan).unwrap();
    ctx.store.save_plan(day, &json, ctx.now()).unwrap();
}

/// Send `notice` to a fake Discord that refuses any breach; every payload accepted, no ping.
fn accepted_by_discord(notice: &Notice) -> Vec<serde_json::Value> {
    let fake = FakeDiscord::start();
    let hook = DiscordWebhook::new(&fake.url(), "DISCORD_WEBHOOK_URL", Duration::from_secs(5))
        .unwrap()
        .with_retries(1, Duration::from_millis(10));
    let sent = payloads(notice, &PayloadOptions::default());
    for payload in &sent {
        hook.send(payload)
            .unwrap_or_else(|e| panic!("refused: {e}\n{payload:#}"));
    }
    let accepted = fake.accepted();
    assert_eq!(accepted.len(), sent.len());
    assert!(
        accepted.iter().all(|a| a.pings.is_empty()),
        "nobody is pinged"
    );
    sent
}

/// Everything Discord would show of the payloads, as one text.
fn shown(sent: &[serde_json::Value]) -> String {
    let mut text = String::new();
    for payload in sent {
        text.push_str(payload["content"].as_str().unwrap_or(""));
        for embed in payload["embeds"].as_array().unwrap() {
            for key in ["title", "description"] {
                text.push_str(embed[key].as_str().unwrap_or(""));
                text.push('\n');
            }
            for field in embed["fields"].as_array().into_iter().flatten() {
                text.push_str(&format!("{}: {}\n", field["name"], field["value"]));
            }
        }
    }
    text
}

/// The value of the field `name` of `notice`.
fn field_of(notice: &Notice, name: &str) -> String {
    let found = notice.fields.iter().find(|(n, _)| n == name);
    found.unwrap_or_else(|| panic!("no field {name}")).1.clone()
}

fn assert_inert(text: &str) {
    for raw in ["@everyone", "@here", "<@123>", "<@&9>"] {
        assert!(!text.contains(raw), "{raw} would ping in:\n{text}");
    }
}

#[test]
fn a_30_task_day_fits_discord_and_pings_no_one() {
    let (_dir, home) = home();
    a_day(&open(&home, day()), 20, 5, 5);
    let ctx = open(&home, day());
    let night = nightly(&ctx, day()).unwrap();
    assert_eq!(night.title, "Night, 2026-12-06: 20 merged, 5 failed");
    let field = |name: &str| field_of(&night, name);
    assert_eq!(
        (
            field("Merged"),
            field("Failed"),
            field("Waiting on a person")
        ),
        ("20".into(), "5".into(), "5".into())
    );
    assert_eq!(night.link.as_deref(), Some("reports/daily/2026-12-06.md"));
    assert!(
        night
            .summary
            .contains("… and 5 more (see reports/daily/2026-12-06.md)"),
        "20 merged: 15 listed, the rest linked:\n{}",
        night.summary
    );
    let reasons: Vec<&str> = night
        .summary
        .lines()
        .filter(|l| l.contains("failed task"))
        .collect();
    assert_eq!(reasons.len(), 5);
    for line in reasons {
        assert!(
            line.chars().count() < 300 && line.ends_with('…'),
            "one cut line: {line}"
        );
    }
    assert!(night.summary.contains("protected path"));
    assert!(night.summary.contains("`dayshift tasks approve T-"));
    assert_inert(&night.summary);
    assert!(
        night.summary.contains("\\*\\*now\\*\\*"),
        "a title's markdown is shown literally"
    );
    let sent = accepted_by_discord(&night);
    assert_inert(&shown(&sent));
    assert!(
        shown(&sent).contains("fix login"),
        "the title is there, made inert"
    );

    let next = day().succ_opt().unwrap();
    let ctx = open(&home, next);
    store_plan(&ctx, next);
    let morning = morning(&ctx, next).unwrap();
    assert_eq!(morning.title, "Morning, 2026-12-07: 2 goals planned");
    let field = |name: &str| field_of(&morning, name);
    assert_eq!(field("Merged yesterday"), "20");
    assert_eq!(field("Failed yesterday"), "5");
    assert_eq!(field("Waiting on a person"), "5");
    assert!(
        field("Spend yesterday").contains("nothing is spent"),
        "{}",
        field("Spend yesterday")
    );
    assert_eq!(morning.link.as_deref(), Some("DAILY_PLAN.md"));
    let s = &morning.summary;
    for (expected, what) in [
        (
            "1. Log in with \\_email\\_ (high)\n2. A cart (high)",
            "goals in order",
        ),
        (
            "Payments (high) — needs the cart first…",
            "the model's reason, one line",
        ),
        (
            "Ads <\u{200B}@\u{200B}&9> (high) — over today's capacity",
            "deferred for room",
        ),
    ] {
        assert!(s.contains(expected), "{what}: {s}");
    }
    assert!(s.contains("**Needs you now**"));
    assert_inert(s);
    assert_inert(&shown(&accepted_by_discord(&morning)));
}

#[test]
fn an_empty_day_says_nothing_happened() {
    let (_dir, home) = home();
    let ctx = open(&home, day());
    let night = nightly(&ctx, day()).unwrap();
    assert_eq!(night.title, "Night, 2026-12-06: nothing merged");
    assert!(
        night
            .summary
            .starts_with("Nothing merged and nothing failed this day.\n\n**The last 14 days**\n`Merged ▁▁▁▁▁▁▁▁▁▁▁▁▁▁ · Failed"),
        "{}",
        night.summary
    );
    let morning = morning(&ctx, day()).unwrap();
    assert_eq!(morning.title, "Morning, 2026-12-06: no plan was made");
    assert!(morning.summary.contains("`dayshift run morning`"));
    assert!(
        morning
            .summary
            .contains("Nothing: no change waits for your approval.")
    );
    accepted_by_discord(&night);
    accepted_by_discord(&morning);
}

#[test]
fn pull_requests_are_linked_only_with_github_on() {
    let (_dir, home) = home();
    a_day(&open(&home, day()), 1, 0, 0);
    let mut ctx = open(&home, day());
    assert!(
        !nightly(&ctx, day()).unwrap().summary.contains("100"),
        "no GitHub, no PR"
    );

    let github = |api: &str| {
        let yaml = format!("owner: acme\nrepo: shop\napi_url: {api}\n");
        Some(serde_saphyr::from_str(&yaml).unwrap())
    };
    ctx.config.target.github = github("https://api.github.com");
    let summary = nightly(&ctx, day()).unwrap().summary;
    assert!(
        summary.contains("— https://github.com/acme/shop/pull/100"),
        "{summary}"
    );
    ctx.config.target.github = github("http://127.0.0.1:9");
    let summary = nightly(&ctx, day()).unwrap().summary;
    assert!(
        summary.contains("— PR #100") && !summary.contains("http"),
        "{summary}"
    );
}

#[test]
fn a_day_the_budget_stopped_says_so() {
    let (_dir, home) = home();
    let ctx = open(&home, day());
    let run = ctx.store.start_run("work", day(), ctx.now()).unwrap();
    let error = "budget: the daily cap of $5.00 is reached ($5.02 spent)";
    let failed = dayshift::store::RunOutcome::Failed;
    ctx.store
        .finish_run(run, failed, "", Some(error), ctx.now())
        .unwrap();
    let other = ctx.store.start_run("plan", day(), ctx.now()).unwrap();
    ctx.store
        .finish_run(other, failed, "", Some("VISION.md has no goals"), ctx.now())
        .unwrap();
    let summary = nightly(&ctx, day()).unwrap().summary;
    assert!(
        summary.contains("**Work stopped early**\n- the daily budget ran out — work: budget: the daily cap of $5.00 is reached ($5.02 spent)"),
        "{summary}"
    );
    assert!(
        !summary.contains("VISION.md"),
        "a plain failure is no stop: {summary}"
    );
}
