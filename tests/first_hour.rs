//! The first hour of a new user: `make` acts on their home, output commands behave in a
//! pipe, help says what things do.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::{BIN, TestHome, stderr};

/// Run `dayshift --home <home> args` with its stdout's reader already gone (as in
/// `dayshift status | head -0`): every write it makes meets a closed pipe.
fn with_closed_stdout(home: &TestHome, args: &[&str]) -> std::process::Output {
    let mut child = Command::new(BIN)
        .arg("--home")
        .arg(&home.root)
        .args(args)
        .env_remove("DAYSHIFT_HOME")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    child.wait_with_output().unwrap()
}

#[test]
fn printing_commands_end_quietly_when_the_reader_goes_away() {
    let home = TestHome::new();
    home.ok(&["tasks", "list"]);
    for args in [
        &["status"][..],
        &["logs"],
        &["tasks", "list"],
        &["budget"],
        &["audit"],
    ] {
        let out = with_closed_stdout(&home, args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(0), "`{}`: {err}", args.join(" "));
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "{err}"
        );
    }
    // and through a shell's pipe, as a person types it
    let line = format!("{BIN} --home {} status | head -1", home.root.display());
    let out = Command::new("bash")
        .args(["-o", "pipefail", "-c", &line])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

fn make(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new("make");
    cmd.arg("--no-print-directory")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("DAYSHIFT_HOME")
        .env_remove("HOME_DIR")
        .env_remove("ALLOW_CHECKOUT_HOME")
        .env_remove("MAKEFLAGS");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[test]
fn make_targets_act_on_dayshift_home_and_never_start_on_the_checkout() {
    let dry = |args: &[&str], env: &[(&str, &str)]| {
        String::from_utf8_lossy(&make(&[&["-n"][..], args].concat(), env).stdout).into_owned()
    };
    for target in ["status", "budget", "doctor", "logs", "stop"] {
        let plan = dry(&[target], &[("DAYSHIFT_HOME", "/srv/agents")]);
        assert!(
            plan.contains("--home /srv/agents") && plan.contains("dayshift home: /srv/agents"),
            "make {target} with DAYSHIFT_HOME:\n{plan}"
        );
        let plan = dry(
            &[target, "HOME_DIR=/srv/other"],
            &[("DAYSHIFT_HOME", "/srv/agents")],
        );
        assert!(plan.contains("--home /srv/other"), "HOME_DIR wins:\n{plan}");
    }
    let checkout = Path::new(env!("CARGO_MANIFEST_DIR"));
    for target in ["start", "day"] {
        let out = make(&[target], &[]);
        let err = stderr(&out);
        assert_eq!(
            out.status.code(),
            Some(2),
            "make {target} on the checkout: {err}"
        );
        assert!(
            err.contains(&format!(
                "refusing to {target} on the source checkout ({}",
                checkout.display()
            )) && err.contains("DAYSHIFT_HOME"),
            "{err}"
        );
    }
    let plan = dry(&["start"], &[("ALLOW_CHECKOUT_HOME", "1")]);
    assert!(plan.contains("--home . start"), "asked for: {plan}");
}

#[test]
fn help_says_what_stop_and_day_do() {
    let help = |args: &[&str]| {
        let out = Command::new(BIN).args(args).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let stop = help(&["stop", "--help"]);
    assert!(
        stop.contains("a running coding tool or test run is stopped")
            && !stop.contains("finishes first"),
        "{stop}"
    );
    assert!(help(&["--help"]).contains("(morning, plan, work, wrapup)"));
    for args in [
        &["tasks", "list", "--help"][..],
        &["budget", "--help"],
        &["audit", "--help"],
    ] {
        let text = help(args);
        assert!(text.contains("Example"), "{args:?}: {text}");
        let options = text.split("Options:").nth(1).unwrap_or("");
        let options = options.split("Example").next().unwrap_or("");
        for line in options.lines().filter(|l| l.trim_start().starts_with('-')) {
            let words = line.split_whitespace().count();
            let takes_value = line.contains(" <");
            let short = line.trim_start().starts_with("-") && line.contains(", --");
            let bare = 1 + usize::from(takes_value) + usize::from(short);
            assert!(words > bare, "{args:?}: `{line}` says nothing");
        }
    }
}

#[test]
fn read_only_commands_work_with_a_broken_schedule_and_say_so() {
    let home = TestHome::new();
    let text = home.read("config/schedules.yaml");
    home.write(
        "config/schedules.yaml",
        &text.replace("morning: \"0 7 * * *\"", "mornin: \"0 7 * * *\""),
    );
    for args in [
        &["status"][..],
        &["tasks", "list"],
        &["tasks", "list", "--json"],
        &["budget"],
        &["audit"],
    ] {
        let out = home.run(args);
        let err = stderr(&out);
        assert!(out.status.success(), "`{}`: {err}", args.join(" "));
        assert!(
            err.contains("warning: ") && err.contains("schedules.yaml") && err.contains("doctor"),
            "`{}` warns: {err}",
            args.join(" ")
        );
    }
    let json = home.run(&["tasks", "list", "--json"]);
    assert!(serde_json::from_slice::<serde_json::Value>(&json.stdout).is_ok());
    // what acts on the home still refuses
    let out = home.run(&["run", "morning"]);
    assert!(!out.status.success() && stderr(&out).contains("schedules.yaml"));
}

#[test]
fn task_files_in_a_folder_that_is_no_state_are_reported_not_ignored() {
    let home = TestHome::new();
    for dir in ["tasks/done", "tasks/notes"] {
        std::fs::create_dir_all(home.path(dir)).unwrap();
    }
    home.write(
        "tasks/done/T-0001-x.md",
        "---\nid: T-0001\ntitle: \"x\"\ncreated: 2026-11-22T07:46:02+00:00\n---\n## Description\nx\n\n## Log\n",
    );
    home.write("tasks/loose.md", "# a note\n");
    home.write("tasks/notes/empty.txt", "not a task\n");
    let out = home.run(&["tasks", "list"]);
    let err = stderr(&out);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("tasks/done/ is not a state folder, so its 1 task file(s) are ignored")
            && err.contains("move them to tasks/completed/")
            && err.contains("tasks/loose.md is in no state folder"),
        "{err}"
    );
    assert!(
        !err.contains("notes"),
        "a folder without task files is left alone: {err}"
    );
    let doctor = String::from_utf8_lossy(&home.run(&["doctor"]).stdout).into_owned();
    assert!(
        doctor.contains("FAIL  ") && doctor.contains("tasks/done/"),
        "{doctor}"
    );
}

#[test]
fn setup_hands_the_machines_proxy_and_package_index_to_pip_and_nothing_else() {
    use std::os::unix::fs::PermissionsExt;
    let home = TestHome::new();
    let outer = home.root.parent().unwrap().to_path_buf();
    let remote = common::bare_remote(&outer, "t", &[("a.py", "x = 1\n")]);
    home.write(
        "config/target.yaml",
        &format!("repo: {}\nbase_branch: main\n", remote.display()),
    );
    // a python3 whose venv's pip records the environment it was given
    let bin = outer.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let seen = outer.join("pip-env.txt");
    let python = format!(
        "#!/bin/sh\nmkdir -p \"$3/bin\"\nprintf '#!/bin/sh\\nenv > {}\\nmkdir -p \"$(dirname \"$0\")\"\\nprintf \"#!/bin/sh\\\\n\" > \"$(dirname \"$0\")/aider\"\\nchmod +x \"$(dirname \"$0\")/aider\"\\n' > \"$3/bin/pip\"\nchmod +x \"$3/bin/pip\"\n",
        seen.display()
    );
    std::fs::write(bin.join("python3"), python).unwrap();
    std::fs::set_permissions(bin.join("python3"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let out = home
        .cmd()
        .arg("setup")
        .env("PATH", path)
        .env("HTTPS_PROXY", "http://proxy.internal:3128")
        .env("NO_PROXY", "localhost")
        .env("PIP_INDEX_URL", "https://pypi.mirror.internal/simple")
        .env("OPENAI_API_KEY", "sk-not-for-pip")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let env = std::fs::read_to_string(&seen).unwrap();
    for wanted in [
        "HTTPS_PROXY=http://proxy.internal:3128",
        "NO_PROXY=localhost",
        "PIP_INDEX_URL=https://pypi.mirror.internal/simple",
    ] {
        assert!(env.contains(wanted), "pip got {wanted}:\n{env}");
    }
    assert!(
        !env.contains("sk-not-for-pip"),
        "no key reaches pip:\n{env}"
    );
}

#[test]
fn init_says_how_to_run_what_comes_next() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("agents");
    let out = Command::new(BIN)
        .arg("init")
        .arg(&home)
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success());
    // dayshift is not on PATH here: the hints name the binary by its path
    for step in ["setup", "doctor", "day"] {
        assert!(
            text.contains(&format!("{BIN} --home {} {step}", home.display())),
            "{step}: {text}"
        );
    }
    assert!(text.contains("cargo install --path ."), "{text}");
}

#[test]
fn budget_shows_the_cap_a_bar_per_day_the_costliest_tasks_and_totals() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("demo");
    let out = Command::new(BIN).arg("demo").arg(&home).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = Command::new(BIN)
        .args(["--home", home.to_str().unwrap(), "budget"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{}", stderr(&out));
    // the demo ran on a fixed date: today is empty and that is said, not left a puzzle
    assert!(
        text.contains("nothing spent today (") && text.contains("the latest spend was on "),
        "{text}"
    );
    for part in [
        "per day",
        "OF CAP",
        "per agent",
        "by task",
        "T-0001",
        "total ",
    ] {
        assert!(text.contains(part), "{part}:\n{text}");
    }
    assert!(
        text.contains(['▏', '▎', '▍', '▌', '▋', '▊', '▉', '█']),
        "a bar: {text}"
    );
    let json = Command::new(BIN)
        .args(["--home", home.to_str().unwrap(), "budget", "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(v["per_day"][0]["of_cap"].as_f64().unwrap() > 0.0, "{v}");
    assert_eq!(v["top_tasks"].as_array().unwrap().len(), 4, "{v}");
}

#[test]
fn a_day_whose_morning_fails_still_reports_and_every_skip_says_why_everywhere() {
    let home = TestHome::new();
    // the orchestrator's model server is not there: the morning fails
    home.write(
        "config/agents.yaml",
        "providers:\n  local: {kind: openai, base_url: \"http://127.0.0.1:9/v1\", model: m}\ndefault_provider: local\nagents:\n  orchestrator: {provider: local}\n",
    );
    let out = home.run(&["day"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("morning: FAILED — ") && err.contains("research: skipped — "),
        "{err}"
    );
    let day = chrono::Utc::now().date_naive();
    let report = home.read(&format!("reports/daily/{day}.md"));
    let jobs = &report[report.find("## Jobs").expect("a Jobs section")..];
    for line in [
        "- morning: failed: ",
        "- plan: skipped: the day stopped: ",
        "- research: skipped: the researcher has no search provider",
        "- work: skipped: the target is not cloned yet",
        "- deploy: skipped: nothing to deploy with: config/target.yaml sets neither",
        "- monitor: skipped: not scheduled: give `monitor` a time in config/schedules.yaml",
    ] {
        assert!(jobs.contains(line), "{line}\n{report}");
    }
    let audit = home.read("logs/audit.jsonl");
    assert_eq!(audit.matches("\"job.skipped\"").count(), 5, "{audit}");
    let research_log = std::fs::read_dir(home.path("logs"))
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("research."))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .unwrap_or_default();
    assert!(
        research_log.contains("research skipped: "),
        "{research_log}"
    );
}
