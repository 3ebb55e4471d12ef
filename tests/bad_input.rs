//! Bad input (issue #2): each case gives one clear line on stderr naming the file and the
//! line, exits 1, and leaves every file as it was.

mod common;

use common::{TestHome, stderr};

const D1: &str = "2026-11-21";

/// A home after one good day, so there is a plan, tasks and a report to lose.
fn lived_in_home() -> TestHome {
    let home = TestHome::new();
    home.ok(&["day", "--date", D1]);
    home
}

/// Run `args`; insist on exit 1, a single stderr line that starts with `error: <file>:<line>`
/// (line given when `line` is Some) and contains `words`; and no file changed.
fn refuses(home: &TestHome, args: &[&str], file: &str, line: Option<u32>, words: &str) {
    let before = home.files();
    let out = home.run(args);
    let err = stderr(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "`{}` should exit 1; stderr: {err}",
        args.join(" ")
    );
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stderr, got: {err}");
    let at = match line {
        Some(line) => format!("{}:{line}:", home.path(file).display()),
        None => format!("{}", home.path(file).display()),
    };
    assert!(
        lines[0].starts_with(&format!("error: {at}")),
        "expected `error: {at}…`, got: {}",
        lines[0]
    );
    assert!(
        lines[0].contains(words),
        "expected `{words}` in: {}",
        lines[0]
    );
    assert_eq!(
        before,
        home.files(),
        "a file changed after `{}`",
        args.join(" ")
    );
}

#[test]
fn vision_with_no_goals() {
    let home = lived_in_home();
    home.write(
        "VISION.md",
        "# Vision\n\nJust prose, no goals.\n\n## Notes\n- be nice\n",
    );
    refuses(
        &home,
        &["run", "morning", "--date", "2026-11-22"],
        "VISION.md",
        Some(1),
        "no goals found",
    );
}

#[test]
fn vision_with_an_unknown_priority_word() {
    let home = lived_in_home();
    let text = home
        .read("VISION.md")
        .replace("## Priority: HIGH", "## Priority: SOMEDAY");
    let line = text.lines().position(|l| l.contains("SOMEDAY")).unwrap() as u32 + 1;
    home.write("VISION.md", &text);
    refuses(
        &home,
        &["run", "morning", "--date", "2026-11-22"],
        "VISION.md",
        Some(line),
        "unknown priority `SOMEDAY`",
    );
}

fn first_backlog_task(home: &TestHome) -> String {
    format!("tasks/backlog/{}", home.task_files("backlog")[0])
}

#[test]
fn a_task_file_with_broken_front_matter() {
    let home = lived_in_home();
    let rel = first_backlog_task(&home);
    let text = home.read(&rel).replace("kind: code", "kind: [code");
    let line = text.lines().position(|l| l.contains("[code")).unwrap() as u32 + 1;
    home.write(&rel, &text);
    refuses(&home, &["tasks", "list"], &rel, Some(line), "invalid YAML");
    refuses(
        &home,
        &["run", "plan", "--date", D1],
        &rel,
        Some(line),
        "planning waits",
    );
}

#[test]
fn a_task_id_not_of_the_form_t_nnnn() {
    let home = lived_in_home();
    let rel = first_backlog_task(&home);
    home.write(&rel, &home.read(&rel).replace("id: T-0001", "id: TASK-1"));
    refuses(
        &home,
        &["tasks", "list"],
        &rel,
        Some(2),
        "ids look like T-0007",
    );
}

#[test]
fn an_id_or_slug_that_tries_to_leave_its_folder() {
    let home = lived_in_home();
    let rel = first_backlog_task(&home);
    home.write(
        &rel,
        &home.read(&rel).replace("id: T-0001", "id: ../../T-0001"),
    );
    refuses(&home, &["tasks", "list"], &rel, Some(2), "not a task id");

    let home = lived_in_home();
    let rel = first_backlog_task(&home);
    let sneaky = "tasks/backlog/T-0001-..-..-etc.md";
    std::fs::rename(home.path(&rel), home.path(sneaky)).unwrap();
    refuses(
        &home,
        &["tasks", "list"],
        sneaky,
        Some(1),
        "not a task file name",
    );

    let out = home.run(&["tasks", "show", "../T-0001"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a bad id on the command line is bad usage"
    );
}

#[test]
fn invalid_yaml_in_each_config_file() {
    for file in [
        "target.yaml",
        "agents.yaml",
        "schedules.yaml",
        "policy.yaml",
    ] {
        let home = lived_in_home();
        let rel = format!("config/{file}");
        home.write(&rel, &format!("{}\nbroken: [unclosed\n", home.read(&rel)));
        let line = home.read(&rel).lines().count() as u32;
        let before = home.files();
        let out = home.run(&["day", "--date", D1]);
        assert_eq!(out.status.code(), Some(1), "{file}");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{file}: {err}");
        assert!(
            err.starts_with(&format!("error: {}:", home.path(&rel).display())),
            "{file}: {err}"
        );
        let reported: u32 = err
            .split(':')
            .nth(2)
            .and_then(|l| l.trim().parse().ok())
            .unwrap_or(0);
        assert!(
            reported >= line.saturating_sub(1) && reported <= line + 1,
            "{file}: line {reported}, expected about {line}: {err}"
        );
        assert_eq!(before, home.files(), "{file}: files changed");
    }
}

#[test]
fn an_unknown_config_key() {
    let home = lived_in_home();
    home.write(
        "config/policy.yaml",
        "auto_merge: low\nmax_file_changed: 3\n",
    );
    refuses(
        &home,
        &["day", "--date", D1],
        "config/policy.yaml",
        Some(2),
        "unknown field `max_file_changed`",
    );
}

#[test]
fn a_seven_field_cron() {
    let home = lived_in_home();
    home.write(
        "config/schedules.yaml",
        "timezone: UTC\njobs:\n  morning: \"0 0 7 * * * 2026\"\n",
    );
    refuses(
        &home,
        &["run", "morning", "--date", D1],
        "config/schedules.yaml",
        Some(3),
        "has 7 fields",
    );
    // a command that only reads goes on, and says what is wrong
    let out = home.run(&["status"]);
    assert!(out.status.success());
    assert!(stderr(&out).starts_with(&format!(
        "warning: {}:3:",
        home.path("config/schedules.yaml").display()
    )));
}

#[test]
fn an_unknown_time_zone() {
    let home = lived_in_home();
    home.write(
        "config/schedules.yaml",
        "timezone: Mars/Olympus\njobs: {morning: \"0 7 * * *\"}\n",
    );
    refuses(
        &home,
        &["day", "--date", D1],
        "config/schedules.yaml",
        Some(1),
        "unknown time zone `Mars/Olympus`",
    );
}

#[test]
fn a_malformed_env_file() {
    let home = lived_in_home();
    home.write(
        "config/.env",
        "ANTHROPIC_API_KEY=sk-ant-123456\nthis line has no equals sign\n",
    );
    refuses(
        &home,
        &["status"],
        "config/.env",
        Some(2),
        "expected NAME=value",
    );
}
