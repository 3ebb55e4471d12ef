//! `cargo bench --bench work`: dayshift's own overhead per task in the work loop (issue #4;
//! goal: median under 100 ms).
//!
//! 100 tasks on a target behind a bare remote, worked by `dayshift run work` with a no-op
//! engine (a shell script that appends one line; the `command` engine) and `true` as the
//! test command. Each task's `task.worked` audit event says how long it took and how much
//! of that was the engine and the checks; the rest — queue, task-file moves, work tree,
//! snapshots, guardrails, commit, merge and push, audit — is dayshift's overhead. The whole
//! run's overhead per task (wall time minus engine and checks, over the task count, process
//! start and the loop's own bookkeeping included) is printed beside it, and how the engine
//! and tests were confined (bubblewrap where it works; `DAYSHIFT_BWRAP=none` to compare).

use std::path::Path;
use std::process::Command;
use std::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_dayshift");
const TASKS: usize = 100;

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    let home = root.join("home");
    run(BIN, root, &["init", home.to_str().unwrap()]);
    let remote = make_target(root);
    let engine = root.join("noop-engine.sh");
    std::fs::write(
        &engine,
        "#!/bin/sh\necho \"$(date +%s%N)\" >> changes.txt\n",
    )
    .unwrap();
    run("chmod", root, &["+x", engine.to_str().unwrap()]);
    write(
        &home,
        "config/target.yaml",
        &format!(
            "repo: {}\nbase_branch: main\ntest_command: \"true\"\n",
            remote.display()
        ),
    );
    write(
        &home,
        "config/agents.yaml",
        &format!(
            "providers: {{}}\nagents:\n  coder: {{engine: command, command: [\"{}\"], attempts: 1}}\n",
            engine.display()
        ),
    );
    write(&home, "config/policy.yaml", "auto_merge: low\n");
    dayshift(&home, &["setup", "--no-aider"]);
    for n in 1..=TASKS {
        write(
            &home,
            &format!("tasks/backlog/T-{n:04}-note-{n}.md"),
            &format!(
                "---\nid: T-{n:04}\ntitle: Note {n}\npriority: medium\nfiles: [changes.txt]\ncreated: 2026-11-22T08:00:00+00:00\n---\n## Description\nAppend a line.\n"
            ),
        );
    }

    let started = Instant::now();
    dayshift(&home, &["run", "work"]);
    let wall_ms = started.elapsed().as_secs_f64() * 1000.0;

    let audit = std::fs::read_to_string(home.join("logs/audit.jsonl")).unwrap();
    let worked: Vec<serde_json::Value> = audit
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["action"] == "task.worked")
        .map(|e| e["detail"].clone())
        .collect();
    let completed = worked.iter().filter(|d| d["ended"] == "completed").count();
    assert_eq!(completed, TASKS, "every task should complete: {worked:?}");
    let field = |name: &str| -> Vec<f64> {
        worked
            .iter()
            .map(|d| d[name].as_f64().unwrap_or(0.0))
            .collect()
    };
    let overhead = field("overhead_ms");
    let outside: f64 =
        field("engine_ms").iter().sum::<f64>() + field("checks_ms").iter().sum::<f64>();
    let per_task_run = (wall_ms - outside) / TASKS as f64;

    println!(
        "dayshift work-loop benchmark — {TASKS} tasks, no-op engine, `true` as the tests, bare remote\n"
    );
    let row = |name: &str, value: String, goal: &str| println!("{name:<52} {value:>10}   {goal}");
    row("measure", "value".into(), "goal");
    let median = percentile(&overhead, 0.5);
    row(
        "overhead per task, median (pickup → merged)",
        format!("{median:.1} ms"),
        if median < 100.0 {
            "under 100 ms: met"
        } else {
            "under 100 ms: NOT met"
        },
    );
    row(
        "overhead per task, p90",
        format!("{:.1} ms", percentile(&overhead, 0.9)),
        "",
    );
    row(
        "overhead per task, whole run (wall − engine − tests)",
        format!("{per_task_run:.1} ms"),
        "",
    );
    row(
        "engine per task, median",
        format!("{:.1} ms", percentile(&field("engine_ms"), 0.5)),
        "",
    );
    row(
        "tests per task, median",
        format!("{:.1} ms", percentile(&field("checks_ms"), 0.5)),
        "",
    );
    row("whole run", format!("{:.2} s", wall_ms / 1000.0), "");
    // how the engine and the tests ran (the audit of each attempt says so)
    let confinement = audit
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["action"] == "task.attempt")
        .and_then(|e| e["detail"]["sandbox"].as_str().map(str::to_string))
        .unwrap_or_else(|| "unknown".into());
    row("engine and tests ran", confinement, "");
}

/// A target with one file, pushed to a bare remote.
fn make_target(root: &Path) -> std::path::PathBuf {
    let seed = root.join("seed");
    std::fs::create_dir_all(&seed).unwrap();
    std::fs::write(seed.join("changes.txt"), "start\n").unwrap();
    for args in [
        &["init", "-q", "-b", "main"][..],
        &["add", "."],
        &[
            "-c",
            "user.name=bench",
            "-c",
            "user.email=bench@example.invalid",
            "commit",
            "-q",
            "-m",
            "start",
        ],
    ] {
        run("git", &seed, args);
    }
    let remote = root.join("target.git");
    run(
        "git",
        root,
        &[
            "clone",
            "-q",
            "--bare",
            seed.to_str().unwrap(),
            remote.to_str().unwrap(),
        ],
    );
    remote
}

fn percentile(values: &[f64], p: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn write(home: &Path, rel: &str, text: &str) {
    std::fs::write(home.join(rel), text).unwrap();
}

fn dayshift(home: &Path, args: &[&str]) {
    let mut all = vec!["--home", home.to_str().unwrap()];
    all.extend_from_slice(args);
    run(BIN, home, &all);
}

fn run(program: &str, dir: &Path, args: &[&str]) {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.invalid")
        .env("GIT_COMMITTER_NAME", "bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.invalid")
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{program} {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
