//! `dayshift demo`: the whole day, offline, on the example bundled in `examples/demo/`.
//!
//! Everything the demo needs is embedded in the binary, so it runs from anywhere: a small
//! Python project with three real defects and its own tests (`examples/demo/target/`), a
//! VISION.md naming them, the home's config and a cassette of model answers. [`prepare`]
//! makes a fresh home of them — the project becomes a local git repository in the home
//! (`examples/demo/target`, which accepts pushes into its checkout), `dayshift setup`
//! clones it — and the demo runs `day` for [`DAY`] with the `replay` provider and the
//! `native` engine: the orchestrator, planner and coder answers come from the cassette,
//! everything else (git, branches, the guardrails, the project's tests, merges, the report)
//! is real.
//!
//! Replay matches each request byte for byte, so the demo home must make the same prompts
//! every time: the day is pinned to [`DAY`] (the orchestrator's prompt names it), the home
//! is fresh (no history, no spend, task ids from T-0001), and no prompt holds a path of the
//! temp folder. When a prompt template changes, record the cassette again:
//! `make demo-cassette` (tests/demo.rs, `record_the_demo_cassette`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use chrono::NaiveDate;

use super::run::{RunOptions, run_day};
use crate::error::{Error, IoContext, Result};
use crate::home::Home;
use crate::jobs::DayStep;
use crate::process::{self, Spec};
use crate::target::Git;
use crate::tasks::TaskState;

/// The day the cassette was recorded for; the demo always runs this day.
pub const DAY: &str = "2026-11-22";
/// Where the cassette goes in the demo home (agents.yaml names it).
pub const CASSETTE_PATH: &str = "examples/demo/cassette.jsonl";
/// Where the example project's repository goes in the demo home (target.yaml names it).
pub const TARGET_PATH: &str = "examples/demo/target";
/// The provider entry of the demo's agents.yaml; [`prepare`] can put another in its place.
pub const REPLAY_PROVIDER: &str = "{kind: replay, cassette: examples/demo/cassette.jsonl}";

/// The recorded answers.
const CASSETTE: &str = include_str!("../../examples/demo/cassette.jsonl");
const VISION: &str = include_str!("../../examples/demo/VISION.md");
/// The home's config files, by path relative to the home.
const CONFIG: [(&str, &str); 4] = [
    (
        "config/agents.yaml",
        include_str!("../../examples/demo/config/agents.yaml"),
    ),
    (
        "config/target.yaml",
        include_str!("../../examples/demo/config/target.yaml"),
    ),
    (
        "config/policy.yaml",
        include_str!("../../examples/demo/config/policy.yaml"),
    ),
    (
        "config/scan.yaml",
        include_str!("../../examples/demo/config/scan.yaml"),
    ),
];

/// Every file of the example project, by path relative to it.
pub const TARGET_FILES: [(&str, &str); 13] = [
    (
        ".gitignore",
        include_str!("../../examples/demo/target/.gitignore"),
    ),
    (
        "README.md",
        include_str!("../../examples/demo/target/README.md"),
    ),
    (
        "shop/__init__.py",
        include_str!("../../examples/demo/target/shop/__init__.py"),
    ),
    (
        "shop/cart.py",
        include_str!("../../examples/demo/target/shop/cart.py"),
    ),
    (
        "shop/pagination.py",
        include_str!("../../examples/demo/target/shop/pagination.py"),
    ),
    (
        "shop/prices.py",
        include_str!("../../examples/demo/target/shop/prices.py"),
    ),
    (
        "shop/slug.py",
        include_str!("../../examples/demo/target/shop/slug.py"),
    ),
    (
        "tests/__init__.py",
        include_str!("../../examples/demo/target/tests/__init__.py"),
    ),
    (
        "tests/fixtures/catalogue.json",
        include_str!("../../examples/demo/target/tests/fixtures/catalogue.json"),
    ),
    (
        "tests/test_cart.py",
        include_str!("../../examples/demo/target/tests/test_cart.py"),
    ),
    (
        "tests/test_pagination.py",
        include_str!("../../examples/demo/target/tests/test_pagination.py"),
    ),
    (
        "tests/test_prices.py",
        include_str!("../../examples/demo/target/tests/test_prices.py"),
    ),
    (
        "tests/test_slug.py",
        include_str!("../../examples/demo/target/tests/test_slug.py"),
    ),
];

/// The identity of the example project's first commit.
const AUTHOR: [&str; 4] = [
    "-c",
    "user.name=Corner Shop",
    "-c",
    "user.email=dev@corner-shop.invalid",
];
/// The identity the demo gives the clone when git has none configured.
const DEMO_NAME: &str = "dayshift demo";
const DEMO_EMAIL: &str = "demo@dayshift.invalid";

/// [`DAY`] as a date.
pub fn day() -> NaiveDate {
    NaiveDate::parse_from_str(DAY, "%Y-%m-%d").unwrap_or_default()
}

/// A demo home, ready for its day.
#[derive(Debug)]
pub struct Prepared {
    pub home: Home,
    /// The example project's repository (the target's origin).
    pub upstream: PathBuf,
    /// `workspace/target`.
    pub clone: PathBuf,
    /// The base branch's commit before the day.
    pub base_commit: String,
    /// The cassette the replay provider reads.
    pub cassette: PathBuf,
    /// True when the demo gave the clone its own git identity.
    pub identity_set: bool,
}

/// Make the demo home in `root` (a new or empty folder): the home, the example project as
/// a git repository, VISION.md, the config with `provider` as the `demo` provider (the
/// replay one: [`REPLAY_PROVIDER`]), the cassette, and the target's clone.
pub fn prepare(root: &Path, provider: &str) -> Result<Prepared> {
    preflight(root)?;
    let home = Home::init(root, "UTC")?;
    let write = |rel: &str, text: &str| -> Result<()> {
        let path = root.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).at_path(dir)?;
        }
        crate::fsx::write_atomic(&path, text.as_bytes()).at_path(&path)?;
        Ok(())
    };
    write("VISION.md", VISION)?;
    // the demo's day scans the example too: the template's monitor line, switched on
    let schedules = home.config_file("schedules.yaml");
    let text = std::fs::read_to_string(&schedules).at_path(&schedules)?;
    write(
        "config/schedules.yaml",
        &text.replacen("  # monitor:", "  monitor:", 1),
    )?;
    for (rel, text) in CONFIG {
        let text = if rel == "config/agents.yaml" {
            text.replace(REPLAY_PROVIDER, provider)
        } else {
            text.to_string()
        };
        write(rel, &text)?;
    }
    write(CASSETTE_PATH, CASSETTE)?;
    for (rel, text) in TARGET_FILES {
        write(&format!("{TARGET_PATH}/{rel}"), text)?;
    }
    let upstream = root.join(TARGET_PATH);
    make_repository(&upstream)?;

    let config = crate::config::Config::load(&home)?;
    let done = crate::target::setup(&home, &config.target)?;
    let identity_set = ensure_identity(&done.path)?;
    Ok(Prepared {
        cassette: root.join(CASSETTE_PATH),
        clone: done.path,
        base_commit: done.base_commit,
        upstream,
        home,
        identity_set,
    })
}

/// `root` must be new or empty, and `git` and `python3` must run; the errors say what to do.
fn preflight(root: &Path) -> Result<()> {
    let empty = match std::fs::read_dir(root) {
        Ok(mut entries) => entries.next().is_none(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
        Err(source) => {
            return Err(crate::error::IoError {
                path: root.to_path_buf(),
                source,
            }
            .into());
        }
    };
    if !empty {
        return Err(Error::Usage(format!(
            "{} is not empty; give `dayshift demo` a new or empty folder (or none, for a temp folder)",
            root.display()
        )));
    }
    check_tools()
}

/// `git` and `python3` must run; the error says what to install.
fn check_tools() -> Result<()> {
    for (program, why, brew) in [
        ("git", "the demo's project is a git repository", "git"),
        (
            "python3",
            "the demo's project is Python and QA runs its tests",
            "python",
        ),
    ] {
        let spec = Spec::new(program, &["--version"]).timeout(Duration::from_secs(30));
        if !process::run(&spec).is_ok_and(|o| o.success()) {
            return Err(Error::Refused(format!(
                "`dayshift demo` needs `{program}` ({why}); install {program} (e.g. `apt install {program}` or `brew install {brew}`) and run it again"
            )));
        }
    }
    Ok(())
}

/// `git init` the example project on `main`, one commit with a fixed identity; pushes
/// update its checkout (so a person sees the merged fixes there too).
fn make_repository(dir: &Path) -> Result<()> {
    let git = Git::new(dir);
    git.run(&["init", "--quiet"], "")?;
    git.run(&["symbolic-ref", "HEAD", "refs/heads/main"], "")?;
    git.run(
        &["config", "receive.denyCurrentBranch", "updateInstead"],
        "",
    )?;
    git.run(&["add", "--all"], "")?;
    let mut commit = AUTHOR.to_vec();
    commit.extend([
        "-c",
        "commit.gpgsign=false",
        "commit",
        "--quiet",
        "--no-verify",
        "-m",
        "corner-shop: the cart, the catalogue's pages and product URLs",
    ]);
    git.run(&commit, "")?;
    Ok(())
}

/// Give the clone a local identity when git has none (the work loop commits there).
fn ensure_identity(clone: &Path) -> Result<bool> {
    let git = Git::new(clone);
    if git.probe(&["config", "--get", "user.name"])?
        && git.probe(&["config", "--get", "user.email"])?
    {
        return Ok(false);
    }
    git.run(&["config", "user.name", DEMO_NAME], "")?;
    git.run(&["config", "user.email", DEMO_EMAIL], "")?;
    Ok(true)
}

/// `dayshift demo [DIR]`.
/// With `DISCORD_WEBHOOK_URL` in the environment, the demo's summaries and alerts go to
/// that webhook (config/notify.yaml names the variable; the URL stays in the environment).
fn tell_discord_if_set(home: &Home) -> Result<()> {
    if std::env::var("DISCORD_WEBHOOK_URL").is_ok_and(|u| !u.trim().is_empty()) {
        let path = home.config_file("notify.yaml");
        let text = "discord: {webhook_env: DISCORD_WEBHOOK_URL, username: dayshift demo}\n";
        crate::fsx::write_atomic(&path, text.as_bytes()).at_path(&path)?;
        eprintln!(
            "notifications: the morning and nightly summaries and the alerts go to the Discord webhook in $DISCORD_WEBHOOK_URL"
        );
    }
    Ok(())
}

pub fn demo(dir: Option<PathBuf>) -> Result<ExitCode> {
    let root = match dir {
        Some(dir) => crate::home::absolute(dir)?,
        None => {
            let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S");
            std::env::temp_dir().join(format!("dayshift-demo-{stamp}-{}", std::process::id()))
        }
    };
    preflight(&root)?;
    let cassette = root.join(CASSETTE_PATH);
    println!(
        "dayshift demo: no API key, no network. The model's answers are REPLAYED from {}: scripted for this example and recorded once, so every run is the same. Git, the example's tests and the merges are real.",
        cassette.display()
    );
    eprintln!("creating the example home in {}", root.display());
    let prepared = prepare(&root, REPLAY_PROVIDER)?;
    tell_discord_if_set(&prepared.home)?;
    eprintln!(
        "the example project: {} — a small Python shop library with 3 known defects (test command: python3 -m unittest -v); cloned into {}",
        prepared.upstream.display(),
        prepared.clone.display()
    );
    if prepared.identity_set {
        eprintln!(
            "git has no user.name/user.email here; the clone commits as \"{DEMO_NAME} <{DEMO_EMAIL}>\""
        );
    }
    let options = RunOptions {
        date: Some(day()),
        ..RunOptions::default()
    };
    let (_logs, ctx, steps) = run_day(prepared.home.clone(), &options, false).map_err(|e| {
        Error::Refused(format!(
            "{e} — the demo stopped; if the cassette no longer matches this build's prompts, record it again with `make demo-cassette`"
        ))
    })?;
    let tasks = ctx.store.tasks()?;
    let completed = tasks
        .iter()
        .filter(|t| t.state == TaskState::Completed)
        .count();
    let work_ran = steps
        .iter()
        .any(|s| matches!(s, DayStep::Ran(o) if o.job == crate::jobs::JobName::Work));
    print_summary(&prepared, &ctx, &tasks);
    let code_tasks = tasks
        .iter()
        .filter(|t| t.kind != crate::tasks::TaskKind::Research)
        .count();
    if !work_ran || completed == 0 || completed < code_tasks {
        return Err(Error::Refused(format!(
            "the demo's day did not go as recorded: {completed} of {} task(s) completed; see {} and the task files; if the cassette no longer matches this build's prompts, record it again with `make demo-cassette`",
            tasks.len(),
            ctx.home.root().join("logs").display()
        )));
    }
    Ok(ExitCode::SUCCESS)
}

fn print_summary(prepared: &Prepared, ctx: &crate::context::Ctx, tasks: &[crate::store::TaskRow]) {
    let root = ctx.home.root();
    let day = day();
    let clone = &prepared.clone;
    let git = Git::new(clone);
    let branches = git
        .run(
            &["branch", "--list", "--format=%(refname:short)", "agent/*"],
            "",
        )
        .unwrap_or_default();
    let base = &ctx.config.target.base_branch;
    let start = &prepared.base_commit[..prepared.base_commit.len().min(10)];
    let range = format!("{start}..{base}");
    let merged = git
        .run(&["log", "--oneline", "--no-decorate", &range], "")
        .unwrap_or_default();
    let report_path = ctx.home.daily_report(day);
    let report = std::fs::read_to_string(&report_path).unwrap_or_default();

    println!();
    println!("----- {} -----", ctx.home.display_path(&report_path));
    println!("{}", report.trim_end());
    println!("{}", "-".repeat(40));
    println!();
    println!("The day {day} is done. Where everything is:");
    println!("  home      {}", root.display());
    println!("  plan      {}", ctx.home.daily_plan().display());
    println!("  report    {}", report_path.display());
    println!("  progress  {}", ctx.home.progress().display());
    println!(
        "  tasks     {}/ — {}",
        ctx.home.tasks_dir().display(),
        tasks
            .iter()
            .map(|t| format!("{} {}", t.id, t.state))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "  branches  in {} (git branch --list 'agent/*'):",
        clone.display()
    );
    for b in branches.lines().filter(|l| !l.trim().is_empty()) {
        println!("              {}", b.trim());
    }
    println!(
        "  merged    into {base} (git log --oneline {range}), pushed to {}:",
        prepared.upstream.display()
    );
    for line in merged.lines().filter(|l| !l.trim().is_empty()) {
        println!("              {line}");
    }
    println!(
        "  answers   {} — replayed; no model was called",
        prepared.cassette.display()
    );
    println!();
    let bin = std::env::current_exe()
        .ok()
        .and_then(|exe| {
            let cwd = std::env::current_dir().ok()?;
            Some(exe.strip_prefix(cwd).unwrap_or(&exe).display().to_string())
        })
        .unwrap_or_else(|| "dayshift".to_string());
    let shown = root.display();
    println!("Try next:");
    println!(
        "  cd {} && python3 -m unittest     # the example's tests pass now",
        prepared.upstream.display()
    );
    println!("  {bin} --home {shown} tasks list");
    println!("  {bin} --home {shown} tasks show T-0001");
    println!("  {bin} --home {shown} budget");
    println!(
        "  with a real model: add a provider to {shown}/config/agents.yaml (docs/models.md), edit {shown}/VISION.md, then {bin} --home {shown} day"
    );
}
