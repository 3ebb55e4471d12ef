//! Crash safety (issue #2): SIGKILL `dayshift day` at random moments over a 200-goal
//! VISION.md, at least 20 times across four days of edits, restarting each time. After every
//! kill the queue must still parse; at the end every goal has exactly one task, no task is in
//! two folders, no file is half-written and the store agrees with the folders.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{BIN, TestHome};

const GOALS: usize = 200;
const KILLS_PER_DAY: usize = 6;
const CHURN: usize = 40;
const DAYS: [&str; 4] = ["2026-11-19", "2026-11-20", "2026-11-21", "2026-11-22"];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Goal texts that are far apart from each other (pairwise similarity below 0.5 for the
/// first 320, checked offline), so no new goal reads as a rewording of a removed one — which
/// would rightly inherit that goal's task.
fn goal_text(n: usize) -> String {
    const SYLLABLES: [&str; 16] = [
        "ka", "zu", "mi", "ro", "te", "sa", "no", "li", "vu", "pe", "do", "ga", "fi", "bo", "xe",
        "ju",
    ];
    let mut x = (n as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut words = Vec::new();
    for _ in 0..8 {
        let mut word = String::new();
        for _ in 0..3 {
            x ^= x >> 29;
            x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
            word.push_str(SYLLABLES[(x % 16) as usize]);
        }
        words.push(word);
    }
    format!("{n} {}", words.join(" "))
}

fn vision(goals: &[usize]) -> String {
    let mut text = String::from("# Crash test vision\n");
    for (section, chunk) in ["CRITICAL", "HIGH", "MEDIUM", "LOW"]
        .iter()
        .zip(goals.chunks(goals.len().div_ceil(4)))
    {
        text.push_str(&format!("\n## Priority: {section}\n"));
        for n in chunk {
            text.push_str(&format!("- {}\n", goal_text(*n)));
        }
    }
    text.push_str("\n## Notes\n- Keep the public API stable\n");
    text
}

fn day_cmd(home: &TestHome, date: &str) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(["--home", home.root.to_str().unwrap(), "day", "--date", date])
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

#[test]
fn sigkill_at_random_moments_never_loses_duplicates_or_half_writes_anything() {
    let seed = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    println!("seed {seed}");
    let mut rng = Rng(seed);
    let home = TestHome::new();
    home.write(
        "config/agents.yaml",
        "providers: {}\nmax_tasks_per_day: 1000\n",
    );

    // how long an uninterrupted day takes here, on a throwaway home
    let probe = TestHome::new();
    probe.write(
        "config/agents.yaml",
        "providers: {}\nmax_tasks_per_day: 1000\n",
    );
    probe.write("VISION.md", &vision(&(0..GOALS).collect::<Vec<_>>()));
    let started = Instant::now();
    assert!(day_cmd(&probe, DAYS[0]).status().unwrap().success());
    let mut window = started.elapsed();
    println!("one uninterrupted day takes {window:?}");

    let mut goals: Vec<usize> = (0..GOALS).collect();
    let mut ever: BTreeSet<usize> = goals.iter().copied().collect();
    let mut next_goal = GOALS;
    let mut kills = 0;
    for (d, date) in DAYS.iter().enumerate() {
        if d > 0 {
            // each new day: forty goals leave VISION.md and forty new ones arrive
            for _ in 0..CHURN {
                let i = rng.below(goals.len() as u64) as usize;
                goals.remove(i);
            }
            for _ in 0..CHURN {
                goals.push(next_goal);
                ever.insert(next_goal);
                next_goal += 1;
            }
        }
        home.write("VISION.md", &vision(&goals));
        let mut killed_today = 0;
        let mut attempts = 0;
        while killed_today < KILLS_PER_DAY && attempts < 200 {
            attempts += 1;
            let started = Instant::now();
            let mut child = day_cmd(&home, date).spawn().unwrap();
            let delay = Duration::from_micros(rng.below(window.as_micros() as u64 + 1));
            std::thread::sleep(delay);
            if child.try_wait().unwrap().is_none() {
                child.kill().unwrap();
                killed_today += 1;
            } else {
                // the run finished first: aim the next kills within how long a run takes now
                window = started.elapsed();
            }
            let _ = child.wait();
            // at every crash point, every task file is whole and parses
            let out = home.run(&["tasks", "list"]);
            assert!(
                out.status.success(),
                "after a kill at {delay:?} (seed {seed}): {}",
                common::stderr(&out)
            );
        }
        kills += killed_today;
        let out = day_cmd(&home, date).output().unwrap();
        assert!(
            out.status.success(),
            "day {date} after crashes: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    println!("{kills} kills");
    assert!(
        kills >= 20,
        "only {kills} runs were killed mid-way (seed {seed})"
    );

    // every goal ever in VISION.md has exactly one task
    let tasks = home.tasks_json();
    let mut per_title: BTreeMap<String, usize> = BTreeMap::new();
    for t in &tasks {
        *per_title
            .entry(t["title"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    let expected: BTreeSet<String> = ever.iter().map(|n| goal_text(*n)).collect();
    let strays: Vec<&String> = per_title
        .keys()
        .filter(|t| !expected.contains(*t))
        .collect();
    for n in &ever {
        assert_eq!(
            per_title.get(&goal_text(*n)).copied(),
            Some(1),
            "goal {n} (seed {seed}); tasks with other titles: {strays:?}"
        );
    }
    assert_eq!(tasks.len(), ever.len(), "no task without a goal");
    let current: BTreeSet<String> = goals.iter().map(|n| goal_text(*n)).collect();
    for t in &tasks {
        let title = t["title"].as_str().unwrap();
        let expected = if current.contains(title) {
            "backlog"
        } else {
            "failed"
        };
        assert_eq!(t["state"], expected, "{title}");
    }

    // no task in two folders, no leftover or half-written file
    let mut ids = BTreeSet::new();
    for state in ["backlog", "in_progress", "in_review", "completed", "failed"] {
        for name in home.task_files(state) {
            assert!(
                ids.insert(name[..6].to_string()),
                "{name} is in two folders"
            );
        }
    }
    for (path, text) in home.files() {
        assert!(!path.contains(".dayshift-tmp."), "temp file left: {path}");
        if path.ends_with(".md") && !path.ends_with(".gitkeep") {
            assert!(text.ends_with('\n'), "{path} is cut short");
        }
    }
    assert!(
        home.read("DAILY_PLAN.md")
            .contains("## Notes for every agent\n\n- Keep the public API stable\n")
    );

    // the store agrees with the folders
    let db = rusqlite::Connection::open(home.path(".dayshift/state.db")).unwrap();
    let mut stmt = db
        .prepare("SELECT id, state, path FROM tasks ORDER BY id")
        .unwrap();
    let rows: Vec<(String, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), tasks.len());
    for (id, state, path) in rows {
        assert!(
            path.starts_with(&format!("tasks/{state}/{id}-")),
            "{path} vs {state}"
        );
        assert!(
            home.path(&path).is_file(),
            "{path} is in the store but not on disk"
        );
    }
    let interrupted: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM runs WHERE outcome = 'interrupted'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(interrupted > 0, "killed runs are recorded as interrupted");
    let open: i64 = db
        .query_row("SELECT COUNT(*) FROM runs WHERE ended IS NULL", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(open, 0);
}

/// `dayshift tasks list` while two other connections take turns holding write transactions
/// on the store (the daemon and a work run, say): it waits its turn and never fails with
/// "database is locked".
#[test]
fn tasks_list_succeeds_while_others_hold_write_transactions() {
    let home = TestHome::new();
    let task = |n: u32, note: &str| {
        format!(
            "---\nid: T-{n:04}\ntitle: \"Task {n}\"\npriority: high\ncreated: 2026-11-22T07:46:02+00:00\n---\n## Description\n{note}\n\n## Log\n"
        )
    };
    for n in 1..=20 {
        home.write(
            &format!("tasks/backlog/T-{n:04}-task-{n}.md"),
            &task(n, "first"),
        );
    }
    home.ok(&["tasks", "list"]);
    let db = home.path(".dayshift/state.db");
    assert!(db.exists(), "{}", db.display());
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..2)
        .map(|i| {
            let (db, stop) = (db.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut conn = rusqlite::Connection::open(&db).unwrap();
                conn.busy_timeout(Duration::from_secs(30)).unwrap();
                conn.execute_batch("CREATE TABLE IF NOT EXISTS busy_probe (writer INTEGER)")
                    .unwrap();
                let mut held = 0;
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    // the two writers contend with each other too: one that waited out its
                    // busy timeout (a slow machine) just tries again
                    let Ok(tx) =
                        conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                    else {
                        continue;
                    };
                    tx.execute("INSERT INTO busy_probe VALUES (?1)", [i])
                        .unwrap();
                    std::thread::sleep(Duration::from_millis(150));
                    tx.commit().unwrap();
                    held += 1;
                    std::thread::sleep(Duration::from_millis(5));
                }
                held
            })
        })
        .collect();
    for round in 0..6 {
        // a changed file makes the listing write its mirror
        let n = round + 1;
        home.write(
            &format!("tasks/backlog/T-{n:04}-task-{n}.md"),
            &task(n, &format!("round {round}")),
        );
        let out = home.run(&["tasks", "list"]);
        assert!(
            out.status.success(),
            "round {round}: {}",
            common::stderr(&out)
        );
        assert!(!common::stderr(&out).contains("locked"));
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for writer in writers {
        assert!(
            writer.join().unwrap() > 0,
            "the writers really held the lock"
        );
    }
}
