//! The scheduler daemon, through the real binary: real processes, real signals, temp homes.
//!
//! Each test makes its own home with a seconds-level schedule in Asia/Dhaka, starts a
//! daemon, and watches what it does through the SQLite store (opened read-only), the pid
//! file and the logs. Waits poll with a deadline; nothing asserts on how long a thing took.
//! Every daemon a test starts is SIGKILLed when the test ends, pass or fail.

use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use rusqlite::{Connection, OpenFlags};

const BIN: &str = env!("CARGO_BIN_EXE_dayshift");
/// morning every 2 s, wrapup every 3 s.
const FAST: &str =
    "timezone: Asia/Dhaka\njobs: {morning: \"*/2 * * * * *\", wrapup: \"*/3 * * * * *\"}\n";
/// wrapup at midnight on 1 January: nothing fires or is caught up during a test.
const RARE: &str = "timezone: Asia/Dhaka\njobs: {wrapup: \"0 0 1 1 *\"}\n";

struct Home {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Home {
    fn new(schedules: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().join("home");
        let home = Self { _dir: dir, root };
        home.ok(&["init", home.root.to_str().expect("utf-8 path")]);
        fs::write(home.root.join("config/schedules.yaml"), schedules)
            .expect("write schedules.yaml");
        home
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.arg("--home")
            .arg(&self.root)
            .args(args)
            .env_remove("DAYSHIFT_HOME")
            .env_remove("RUST_LOG");
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args)
            .stdin(Stdio::null())
            .output()
            .expect("run dayshift")
    }

    fn ok(&self, args: &[&str]) -> Output {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "`dayshift {}` failed: {}",
            args.join(" "),
            text(&out)
        );
        out
    }

    /// `dayshift start`, and a guard that kills the daemon when the test ends.
    fn start(&self) -> Daemon {
        self.ok(&["start"]);
        let pid = self
            .pid()
            .expect("`start` returned, so the pid file names the daemon");
        assert!(alive(pid), "the daemon {pid} runs");
        Daemon(pid)
    }

    fn pid(&self) -> Option<u32> {
        fs::read_to_string(self.root.join(".dayshift/pid"))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    fn db(&self) -> Option<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(self.root.join(".dayshift/state.db"), flags).ok()?;
        conn.busy_timeout(Duration::from_secs(5)).ok()?;
        Some(conn)
    }

    /// Runs of `job` that ended with `outcome`.
    fn runs(&self, job: &str, outcome: &str) -> i64 {
        let count = |c: Connection| {
            c.query_row(
                "SELECT count(*) FROM runs WHERE job = ?1 AND outcome = ?2",
                [job, outcome],
                |r| r.get(0),
            )
        };
        self.db().and_then(|c| count(c).ok()).unwrap_or(0)
    }

    fn open_runs(&self) -> i64 {
        let count = |c: Connection| {
            c.query_row("SELECT count(*) FROM runs WHERE ended IS NULL", [], |r| {
                r.get(0)
            })
        };
        self.db().and_then(|c| count(c).ok()).unwrap_or(0)
    }

    /// Everything in today's `logs/<name>.*.log` files.
    fn log(&self, name: &str) -> String {
        let Ok(entries) = fs::read_dir(self.root.join("logs")) else {
            return String::new();
        };
        entries
            .flatten()
            .filter(|e| {
                let file = e.file_name().to_string_lossy().to_string();
                file.starts_with(&format!("{name}.")) && file.ends_with(".log")
            })
            .map(|e| fs::read_to_string(e.path()).unwrap_or_default())
            .collect()
    }

    fn status_json(&self) -> serde_json::Value {
        let out = self.ok(&["status", "--json"]);
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("status --json is JSON ({e}): {}", text(&out)))
    }
}

/// A daemon this test started; SIGKILLed on drop if it still runs.
struct Daemon(u32);

impl Drop for Daemon {
    fn drop(&mut self) {
        if alive(self.0) {
            let _ = kill(Pid::from_raw(self.0 as i32), Signal::SIGKILL);
        }
    }
}

/// A foreground daemon, a child of the test; killed on drop.
struct Foreground(Child);

impl Drop for Foreground {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Whether `pid` is a live process (a zombie waiting to be reaped counts as gone).
fn alive(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X'])),
        Err(_) => false,
    }
}

/// Poll `check` until it returns `Some`, or fail with `what` after `limit`.
fn wait_for<T>(limit: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "gave up after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn until(limit: Duration, what: &str, mut check: impl FnMut() -> bool) {
    wait_for(limit, what, || check().then_some(()));
}

const SECS_30: Duration = Duration::from_secs(30);
const SECS_15: Duration = Duration::from_secs(15);

#[test]
fn scheduled_jobs_run_on_their_timers_and_are_recorded() {
    let home = Home::new(FAST);
    let daemon = home.start();
    // The catch-up at start runs `morning` at most once; a second one comes from the timer.
    until(SECS_30, "two ok morning runs", || {
        home.runs("morning", "ok") >= 2
    });
    until(SECS_30, "an ok wrapup run", || {
        home.runs("wrapup", "ok") >= 1
    });
    let conn = home.db().expect("the store exists");
    let pid: i64 = conn
        .query_row(
            "SELECT pid FROM runs WHERE job = 'morning' ORDER BY id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .expect("a morning run");
    assert_eq!(pid, i64::from(daemon.0), "the daemon ran it");
    let log = home.log("daemon");
    assert!(
        log.contains("catch-up: missed while the daemon was not running: morning"),
        "{log}"
    );
    assert!(
        log.contains("morning due (scheduled)") && log.contains("wrapup due (scheduled)"),
        "{log}"
    );
    let morning = home.log("morning");
    assert!(
        morning.contains("morning started") && !morning.contains("wrapup started"),
        "the job's own log: {morning}"
    );
    assert!(home.log("wrapup").contains("wrapup started"));
}

#[test]
fn status_shows_the_daemon_and_next_runs_in_the_configured_zone() {
    let home = Home::new(FAST);
    let stopped = home.status_json();
    assert_eq!(stopped["daemon"]["running"], false, "{stopped}");
    let daemon = home.start();
    let status = home.status_json();
    assert_eq!(status["daemon"]["running"], true, "{status}");
    assert_eq!(status["daemon"]["pid"], daemon.0, "{status}");
    let runs = status["next_runs"].as_array().expect("next_runs is a list");
    let jobs: Vec<&str> = runs.iter().filter_map(|r| r["job"].as_str()).collect();
    assert_eq!(jobs, ["morning", "wrapup"], "{status}");
    assert_eq!(runs[0]["cron"], "*/2 * * * * *");
    for run in runs {
        let next = run["next"].as_str().expect("a next time");
        assert!(
            next.ends_with("+06:00"),
            "next runs are in Asia/Dhaka: {next}"
        );
    }
}

#[test]
fn a_second_start_is_refused_while_one_runs() {
    let home = Home::new(FAST);
    let daemon = home.start();
    for args in [&["start"][..], &["start", "--foreground"][..]] {
        let out = home.run(args);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("already running") && err.contains(&daemon.0.to_string()),
            "{err}"
        );
    }
    assert_eq!(
        home.pid(),
        Some(daemon.0),
        "the running daemon's pid file is untouched"
    );
    assert!(alive(daemon.0));
}

#[test]
fn stop_ends_the_daemon_and_leaves_no_open_run() {
    let home = Home::new(FAST);
    let daemon = home.start();
    until(SECS_30, "an ok morning run", || {
        home.runs("morning", "ok") >= 1
    });
    let out = home.ok(&["stop"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&daemon.0.to_string()),
        "{}",
        text(&out)
    );
    until(SECS_15, "the daemon process to end", || !alive(daemon.0));
    assert!(
        !home.root.join(".dayshift/pid").exists(),
        "the pid file is removed"
    );
    assert_eq!(home.open_runs(), 0, "every run has an end");
    assert_eq!(home.status_json()["daemon"]["running"], false);
    assert!(home.log("daemon").contains("stopped"));
    let again = home.run(&["stop"]);
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("no daemon is running"),
        "{}",
        text(&again)
    );
}

#[test]
fn the_stop_file_pauses_every_job_and_removing_it_resumes() {
    let home = Home::new(FAST);
    let _daemon = home.start();
    until(SECS_30, "an ok morning run", || {
        home.runs("morning", "ok") >= 1
    });
    fs::write(home.root.join("STOP"), "").expect("create STOP");
    until(SECS_15, "a fire to be skipped as paused", || {
        home.log("daemon").contains("paused: STOP file present")
    });
    // A job that had already begun when STOP appeared finishes; wait until nothing moves.
    let mut last = (-1, -1);
    let before = wait_for(SECS_15, "the runs to settle", || {
        std::thread::sleep(Duration::from_millis(400));
        let now = (
            home.runs("morning", "ok") + home.runs("wrapup", "ok"),
            home.open_runs(),
        );
        let settled = now == last && now.1 == 0;
        last = now;
        settled.then_some(now.0)
    });
    std::thread::sleep(Duration::from_secs(4)); // two morning and one wrapup fire times
    let after = home.runs("morning", "ok") + home.runs("wrapup", "ok");
    assert_eq!(after, before, "no job ran while STOP existed");
    let skipped = home
        .log("daemon")
        .matches("skipped (scheduled): paused: STOP file present")
        .count();
    assert!(
        skipped >= 2,
        "each skipped fire is logged: {}",
        home.log("daemon")
    );
    fs::remove_file(home.root.join("STOP")).expect("remove STOP");
    until(SECS_15, "jobs to run again", || {
        home.runs("morning", "ok") + home.runs("wrapup", "ok") > after
    });
}

#[test]
fn a_stale_pid_file_or_a_killed_daemon_does_not_prevent_a_start() {
    let home = Home::new(FAST);
    let mut gone = Command::new("true").spawn().expect("spawn true");
    let dead_pid = gone.id();
    gone.wait().expect("wait true");
    fs::create_dir_all(home.root.join(".dayshift")).expect("state dir");
    fs::write(home.root.join(".dayshift/pid"), format!("{dead_pid}\n")).expect("write pid");
    fs::write(home.root.join(".dayshift/lock"), "").expect("write lock");
    assert_eq!(
        home.status_json()["daemon"]["running"],
        false,
        "a pid file alone is not a daemon"
    );
    let first = home.start();
    assert_ne!(first.0, dead_pid);

    // SIGKILL: the kernel drops the lock; the pid file stays behind and names a dead process.
    kill(Pid::from_raw(first.0 as i32), Signal::SIGKILL).expect("kill the daemon");
    until(SECS_15, "the killed daemon to end", || !alive(first.0));
    // Its threads may still be exiting (and holding the lock) after the main one is gone.
    until(SECS_15, "the lock to be released", || {
        home.status_json()["daemon"]["running"] == false
    });
    assert_eq!(
        home.pid(),
        Some(first.0),
        "a killed daemon leaves its pid file"
    );
    let second = home.start();
    assert_ne!(second.0, first.0);
    assert_eq!(home.status_json()["daemon"]["pid"], second.0);
}

#[test]
fn sigterm_sigint_and_sighup_stop_a_foreground_daemon_gracefully() {
    let home = Home::new(FAST);
    for signal in [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP] {
        let child = home
            .command(&["start", "--foreground"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn the daemon");
        let mut daemon = Foreground(child);
        let pid = daemon.0.id();
        until(SECS_15, "the foreground daemon to be ready", || {
            home.pid() == Some(pid)
        });
        until(SECS_30, "a job run by this daemon", || {
            home.db()
                .and_then(|c| {
                    c.query_row("SELECT count(*) FROM runs WHERE pid = ?1", [pid], |r| {
                        r.get::<_, i64>(0)
                    })
                    .ok()
                })
                .is_some_and(|n| n > 0)
        });
        kill(Pid::from_raw(pid as i32), signal).expect("signal the daemon");
        let status = wait_for(SECS_15, "the daemon to exit", || {
            daemon.0.try_wait().expect("try_wait")
        });
        assert_eq!(status.code(), Some(0), "{signal} is a graceful stop");
        assert!(!home.root.join(".dayshift/pid").exists());
        assert_eq!(home.open_runs(), 0, "the job in flight finished");
        let said = format!("{}: stopping", signal.as_str());
        assert!(home.log("daemon").contains(&said), "{}", home.log("daemon"));
    }
}

#[test]
fn an_edited_schedule_is_picked_up_without_a_restart() {
    let home = Home::new(RARE);
    let _daemon = home.start();
    let schedules = home.root.join("config/schedules.yaml");
    fs::write(
        &schedules,
        "timezone: Asia/Dhaka\njobs: {morning: \"*/1 * * * * *\"}\n",
    )
    .expect("edit schedules");
    // the re-arm first: a catch-up at start may run a job before the timers change
    until(SECS_30, "the timers to be re-armed", || {
        home.log("daemon")
            .contains("config/schedules.yaml changed: timers re-armed")
    });
    until(SECS_30, "morning to run on the new schedule", || {
        home.log("daemon").contains("morning due (scheduled)") && home.runs("morning", "ok") >= 1
    });
    fs::write(
        &schedules,
        "timezone: Mars/Olympus\njobs: {morning: \"*/1 * * * * *\"}\n",
    )
    .expect("break schedules");
    until(SECS_15, "the broken edit to be reported", || {
        home.log("daemon")
            .contains("unknown time zone `Mars/Olympus`")
    });
    // The timers stay; each job fails on the broken config and says so.
    let fires = |home: &Home| {
        home.log("daemon")
            .matches("morning due (scheduled)")
            .count()
    };
    let before = fires(&home);
    until(SECS_15, "the current timers to keep firing", || {
        fires(&home) > before
    });
    until(SECS_15, "the job to fail on the broken file", || {
        home.log("daemon")
            .lines()
            .any(|l| l.contains("morning failed: ") && l.contains("Mars/Olympus"))
    });
}

#[test]
fn a_task_moved_by_hand_is_mirrored_by_the_watcher() {
    // No job fires during the test, so only the watcher can sync the mirror.
    let home = Home::new(RARE);
    home.ok(&["day"]);
    let backlog = home.root.join("tasks/backlog");
    let task: PathBuf = fs::read_dir(&backlog)
        .expect("backlog")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "md"))
        .expect("`day` planned at least one task");
    let name = task.file_name().expect("file name").to_owned();
    let rel = |folder: &str| format!("tasks/{folder}/{}", name.to_string_lossy());
    let state_of = |home: &Home, path: &str| -> Option<String> {
        home.db()?
            .query_row("SELECT state FROM tasks WHERE path = ?1", [path], |r| {
                r.get(0)
            })
            .ok()
    };
    assert_eq!(state_of(&home, &rel("backlog")).as_deref(), Some("backlog"));
    let _daemon = home.start(); // `start` returns once the watcher is set up
    fs::rename(&task, home.root.join(rel("failed"))).expect("move the task by hand");
    let state = wait_for(SECS_15, "the mirror to see the move", || {
        state_of(&home, &rel("failed"))
    });
    assert_eq!(state, "failed");
    assert_eq!(
        state_of(&home, &rel("backlog")),
        None,
        "the old row is gone"
    );
    until(SECS_15, "the move to be logged", || {
        home.log("daemon")
            .contains("moved by hand: backlog → failed")
    });
    let audit = fs::read_to_string(home.root.join("logs/audit.jsonl")).expect("audit log");
    assert!(
        audit.contains("\"by\":\"hand\""),
        "the move is audited as a person's: {audit}"
    );
}

#[test]
fn a_config_error_at_start_is_shown_by_start() {
    let home = Home::new("timezone: Mars/Olympus\n");
    let out = home.run(&["start"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("schedules.yaml:1") && err.contains("Mars/Olympus"),
        "{err}"
    );
    assert!(!home.root.join(".dayshift/pid").exists());
    assert!(
        home.log("daemon").contains("Mars/Olympus"),
        "the daemon log says why it ended"
    );
}
