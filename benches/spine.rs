//! `cargo bench --bench spine`: the spine's figures from issue #2, printed as a table.
//!
//! - `tasks list` and `run plan` on a home with 10,000 task files (goal: under 200 ms each),
//!   timed as whole commands (process start included), cold mirror and warm;
//! - the idle daemon's resident memory (goal: under 20 MB).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_dayshift");
const TASKS: usize = 10_000;
const RUNS: usize = 9;

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let home = dir.path().join("home");
    run(&home, &["init", home.to_str().unwrap()]);
    std::fs::write(
        home.join("config/agents.yaml"),
        "providers: {}\nmax_tasks_per_day: 50\n",
    )
    .unwrap();
    write_tasks(&home, TASKS);

    println!(
        "dayshift spine benchmark — {TASKS} task files, median of {RUNS} runs (whole command, process start included)\n"
    );
    let cold = time(&home, &["tasks", "list"]);
    let list: Vec<Duration> = (0..RUNS).map(|_| time(&home, &["tasks", "list"])).collect();
    let json: Vec<Duration> = (0..RUNS)
        .map(|_| time(&home, &["tasks", "list", "--json"]))
        .collect();
    run(&home, &["run", "morning"]);
    let first_plan = time(&home, &["run", "plan"]);
    let plan: Vec<Duration> = (0..RUNS).map(|_| time(&home, &["run", "plan"])).collect();
    let status: Vec<Duration> = (0..RUNS).map(|_| time(&home, &["status"])).collect();
    let (rss, hwm) = idle_daemon_memory(&home);

    let row = |name: &str, value: String, goal: &str| println!("{name:<44} {value:>12}   {goal}");
    row("measure", "value".into(), "goal");
    row("tasks list, cold mirror (first run)", ms(cold), "");
    row(
        "tasks list",
        ms(median(list.clone())),
        verdict(median(list), 200.0),
    );
    row("tasks list --json", ms(median(json)), "");
    row("run plan, creating the day's tasks", ms(first_plan), "");
    row(
        "run plan",
        ms(median(plan.clone())),
        verdict(median(plan), 200.0),
    );
    row("status", ms(median(status)), "");
    row(
        "idle daemon RSS (after 3 s)",
        format!("{:.1} MB", rss as f64 / 1024.0),
        mem_verdict(rss),
    );
    row(
        "idle daemon peak RSS",
        format!("{:.1} MB", hwm as f64 / 1024.0),
        "",
    );
}

fn verdict(d: Duration, goal_ms: f64) -> &'static str {
    if d.as_secs_f64() * 1000.0 < goal_ms {
        "under 200 ms: met"
    } else {
        "under 200 ms: NOT met"
    }
}

fn mem_verdict(kb: u64) -> &'static str {
    if kb < 20 * 1024 {
        "under 20 MB: met"
    } else {
        "under 20 MB: NOT met"
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn run(home: &Path, args: &[&str]) {
    let out = Command::new(BIN)
        .arg("--home")
        .arg(home)
        .args(args)
        .output()
        .expect("run dayshift");
    assert!(
        out.status.success() || args[0] == "init",
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn time(home: &Path, args: &[&str]) -> Duration {
    let started = Instant::now();
    let status = Command::new(BIN)
        .arg("--home")
        .arg(home)
        .args(args)
        .stdout(Stdio::null())
        .status()
        .expect("run dayshift");
    let elapsed = started.elapsed();
    assert!(status.success(), "{args:?} failed");
    elapsed
}

fn write_tasks(home: &Path, count: usize) {
    let states = [
        "completed",
        "completed",
        "completed",
        "backlog",
        "failed",
        "in_progress",
        "in_review",
        "completed",
    ];
    for n in 1..=count {
        let state = states[n % states.len()];
        let id = format!("T-{n:04}");
        let deps = if n > 1 && n % 10 == 0 {
            format!("[T-{:04}]", n - 1)
        } else {
            "[]".into()
        };
        let text = format!(
            "---\nid: {id}\ntitle: \"Benchmark task number {n}\"\npriority: {}\nsource: \"bench\"\nkind: code\nfiles: [\"src/module_{n}.rs\"]\ndepends_on: {deps}\nacceptance:\n  - \"tests pass\"\nattempts: 0\nbranch: \"agent/{id}-benchmark-task\"\npr: null\napproval: null\ncreated: 2026-11-20T07:46:02+00:00\n---\n## Description\nA task made for the benchmark.\n\n## Log\n- 2026-11-20T07:46:02+00:00 planner: created\n",
            ["critical", "high", "medium", "low"][n % 4]
        );
        std::fs::write(
            home.join(format!("tasks/{state}/{id}-benchmark-task.md")),
            text,
        )
        .unwrap();
    }
}

/// Start the daemon in the foreground, let it settle, read VmRSS and VmHWM (kB).
fn idle_daemon_memory(home: &Path) -> (u64, u64) {
    std::fs::write(
        home.join("config/schedules.yaml"),
        "timezone: UTC\njobs: {wrapup: \"0 23 * * *\"}\n",
    )
    .unwrap();
    let mut child = Command::new(BIN)
        .arg("--home")
        .arg(home)
        .args(["start", "--foreground"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start daemon");
    std::thread::sleep(Duration::from_secs(3));
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    let measured = (field("VmRSS:"), field("VmHWM:"));
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    );
    let _ = child.wait();
    measured
}
