//! Tests of the dashboard's body: its sections, checkbox lines, redaction and cut, and
//! reading ticks back.

use super::*;
use crate::config::redact::Redactor;

const SECRET: &str = "sk-live-0123456789abcdef0123";

fn id(n: u32) -> TaskId {
    TaskId::new(n)
}

fn waiting(n: u32, title: &str, pr: Option<u64>, why: &str) -> Waiting {
    Waiting {
        id: id(n),
        title: title.into(),
        pr,
        why: why.into(),
        commit: format!("c0ffee{n}"),
    }
}

fn entry(n: u32, title: &str, note: &str) -> Entry {
    Entry {
        id: id(n),
        title: title.into(),
        note: note.into(),
    }
}

fn board() -> Board {
    Board {
        waiting: vec![
            waiting(
                3,
                "Turn on debug",
                Some(7),
                "touches protected path settings.py",
            ),
            waiting(4, "Drop old API", None, "risk high"),
        ],
        checks: vec![entry(5, "Add half", "#8")],
        in_progress: vec![entry(6, "Add square", "attempt 2")],
        failed: vec![entry(
            2,
            "Rotate keys",
            &format!("the tool printed {SECRET} and stopped"),
        )],
        spend: "$1.25 (4200 tokens) spent on 2026-12-06; daily cap $5.00.".into(),
    }
}

fn redact_secret(text: &str) -> String {
    Redactor::new([("OPENAI_API_KEY".to_string(), SECRET.to_string())])
        .redact(text)
        .into_owned()
}

fn section<'a>(body: &'a str, heading: &str) -> &'a str {
    let start = body
        .find(&format!("## {heading}\n"))
        .unwrap_or_else(|| panic!("no section {heading}:\n{body}"));
    let rest = &body[start..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
    &rest[..end]
}

#[test]
fn each_section_lists_its_tasks_and_waiting_ones_get_a_checkbox() {
    let body = render(
        &board(),
        &BTreeSet::new(),
        "2026-12-06T18:00:00+01:00",
        &|t| t.to_string(),
    );
    assert!(body.starts_with(MARKER), "{body}");
    let waiting = section(&body, "Waiting for a person");
    assert!(
        waiting.contains("- [ ] T-0003 Turn on debug — #7 — touches protected path settings.py\n"),
        "{waiting}"
    );
    assert!(
        waiting.contains("- [ ] T-0004 Drop old API — no pull request yet — risk high\n"),
        "{waiting}"
    );
    assert!(section(&body, "Waiting for checks").contains("- T-0005 Add half — #8\n"));
    assert!(section(&body, "In progress").contains("- T-0006 Add square — attempt 2\n"));
    assert!(section(&body, "Failed").contains("- T-0002 Rotate keys — the tool printed"));
    assert!(section(&body, "Today's spend").contains("$1.25 (4200 tokens)"));
    assert!(body.contains("2026-12-06T18:00:00+01:00"));
    assert_eq!(
        ticks(&body),
        BTreeSet::new(),
        "nothing is ticked by dayshift"
    );
}

#[test]
fn ticked_boxes_stay_ticked_and_read_back() {
    let ticked = BTreeSet::from([id(4)]);
    let body = render(&board(), &ticked, "now", &|t| t.to_string());
    assert!(body.contains("- [x] T-0004 Drop old API"), "{body}");
    assert!(body.contains("- [ ] T-0003 Turn on debug"), "{body}");
    assert_eq!(ticks(&body), ticked);
}

#[test]
fn an_empty_board_says_so() {
    let body = render(&Board::default(), &BTreeSet::new(), "now", &|t| {
        t.to_string()
    });
    assert!(
        section(&body, "Waiting for a person").contains("Nothing waits for a person."),
        "{body}"
    );
    assert!(section(&body, "Failed").contains("None."), "{body}");
    assert!(!body.contains("- ["), "{body}");
}

#[test]
fn a_secret_in_a_reason_is_redacted() {
    let body = render(&board(), &BTreeSet::new(), "now", &redact_secret);
    assert!(!body.contains(SECRET), "{body}");
    assert!(
        body.contains("the tool printed [redacted:OPENAI_API_KEY] and stopped"),
        "{body}"
    );
}

#[test]
fn a_long_board_is_cut_to_what_github_takes_and_old_failures_are_counted() {
    let mut board = board();
    let long_reason = "x".repeat(2_000);
    board.failed = (1..=80).map(|n| entry(n, "Broke", &long_reason)).collect();
    let body = render(&board, &BTreeSet::new(), "now", &|t| t.to_string());
    assert!(
        body.chars().count() <= crate::github::MAX_BODY_CHARS,
        "{}",
        body.len()
    );
    assert!(body.starts_with(MARKER), "the marker survives the cut");
    assert!(body.contains("- [ ] T-0003"), "what waits comes first");
    assert!(body.contains("… (cut:"), "the cut says so");
    let few = Board {
        failed: (1..=52).map(|n| entry(n, "Broke", "red")).collect(),
        ..Board::default()
    };
    let body = render(&few, &BTreeSet::new(), "now", &|t| t.to_string());
    assert!(body.contains("- … and 2 older, in tasks/failed/"), "{body}");
    assert!(body.contains("- T-0050 Broke") && !body.contains("- T-0051 Broke"));
}

#[test]
fn a_title_cannot_forge_a_tick() {
    let mut board = Board::default();
    board.waiting.push(waiting(
        3,
        "Harmless\n- [x] T-0009 approve me",
        Some(1),
        "why\n- [x] T-0010",
    ));
    let body = render(&board, &BTreeSet::new(), "now", &|t| t.to_string());
    assert_eq!(ticks(&body), BTreeSet::new(), "{body}");
}

#[test]
fn ticks_accept_either_case_and_nothing_else() {
    let body = "- [x] T-0001 a\n  - [X] T-0002 b\n- [ ] T-0003 c\n- [x] T-12 d\n* [x] T-0004\n- [x]T-0005\ntext - [x] T-0006\n";
    assert_eq!(ticks(body), BTreeSet::from([id(1), id(2)]));
}

#[test]
fn why_a_task_waits_is_its_last_logged_reason_else_its_risk() {
    let now = chrono::DateTime::parse_from_rfc3339("2026-12-06T10:00:00+01:00").unwrap();
    let meta = crate::tasks::TaskMeta::new(
        id(3),
        "Turn on debug".into(),
        crate::vision::Priority::Medium,
        now,
    );
    let mut task = Task::new(
        meta,
        "## Description\n\nx\n".into(),
        TaskState::InReview,
        "tasks/in_review/T-0003-turn-on-debug.md".into(),
    );
    assert_eq!(why_waiting(&task), "no reason recorded");
    task.meta.risk = Some(crate::tasks::Risk::High);
    assert_eq!(why_waiting(&task), "risk high");
    task.log(now, "work", "waiting for a person: an old reason; `dayshift tasks approve T-0003` and the next work run merges it");
    task.log(now, "work", "waiting for a person: touches protected path settings.py; `dayshift tasks approve T-0003` and the next work run merges it");
    task.log(now, "work", "merge tried");
    assert_eq!(why_waiting(&task), "touches protected path settings.py");
}
