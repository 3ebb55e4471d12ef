//! The command line: parse arguments, open the home, call the library, print results.
//!
//! stdout carries results (tables, or JSON with `--json`); progress and errors go to
//! stderr. Exit codes: 0 ok, 1 a failure the message explains, 2 bad usage.

pub mod askpass;
mod budget;
pub mod demo;
mod doctor;
mod improve;
mod logs;
mod notify;
mod readiness;
mod rollback;
mod run;
mod scan;
mod scanners;
mod status;
mod table;
mod tasks;
mod validate;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::error::Result;
use crate::home::Home;
use crate::jobs::JobName;

const EXAMPLES: &str = "\
Examples:
  dayshift init ~/acme-agents          create a home with example files
  dayshift --home ~/acme-agents setup   clone the target and install Aider
  dayshift --home ~/acme-agents day     run the whole day now (morning, plan, work, wrapup)
  dayshift run morning                  write DAILY_PLAN.md from VISION.md
  dayshift tasks list --state backlog   the queue as a table (--json for scripts)
  dayshift start                        run the scheduler in the background
  dayshift status                       daemon, next runs, tasks per state, spend
  dayshift day --record day.jsonl       run the day and record every model exchange
  dayshift rollback T-0007              undo a merge (a revert pull request with GitHub)
  dayshift demo                         the whole day offline on a bundled example";

/// dayshift: an AI team that works on your repository while you sleep.
#[derive(Debug, Parser)]
#[command(name = "dayshift", version, about, after_help = EXAMPLES)]
pub struct Cli {
    /// The home to work on (default: the current directory).
    #[arg(long, global = true, env = "DAYSHIFT_HOME", value_name = "DIR")]
    home: Option<PathBuf>,
    /// Say more about what is happening (on stderr).
    #[arg(short, long, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Inside the sandbox: run a coding tool whose only way out is the egress proxy
    /// (dayshift starts this itself; see docs/security.md).
    #[command(hide = true)]
    SandboxRelay {
        /// The egress proxy's Unix socket.
        #[arg(long)]
        socket: PathBuf,
        /// The tool and its arguments, after `--`.
        #[arg(last = true, required = true)]
        argv: Vec<String>,
    },
    /// Create a home with commented example files.
    #[command(after_help = "Example:\n  dayshift init ~/acme-agents")]
    Init {
        /// Where to create it (default: the current directory).
        dir: Option<PathBuf>,
    },
    /// Check config, keys, git identity and target, and try the coding engine once against
    /// its provider; one line per problem with its fix.
    #[command(
        after_help = "The engine preflight costs at most one tiny model request (Aider asked for one word; the
native engine one short chat request; a command engine's tool only runs `--version`).
Without network, or to spend nothing, skip it with --offline.

Examples:
  dayshift doctor
  dayshift doctor --offline
  dayshift doctor --json"
    )]
    Doctor {
        /// JSON for scripts: every check with its problems.
        #[arg(long)]
        json: bool,
        /// Skip the engine preflight (the one request to the coder's model).
        #[arg(long)]
        offline: bool,
    },
    /// Clone or update the target into workspace/, and install Aider into .venv/ if missing.
    #[command(
        after_help = "Examples:\n  dayshift setup\n  dayshift setup --no-aider    # another engine, or Aider installed elsewhere\n  dayshift setup --scanners    # ruff, bandit, semgrep, pip-audit, cargo-audit into .venv/"
    )]
    Setup {
        /// Do not install Aider.
        #[arg(long)]
        no_aider: bool,
        /// Only install the scanner's tools into .venv/ (ruff, bandit, semgrep, pip-audit;
        /// cargo-audit when cargo is there) and show what is installed.
        #[arg(long)]
        scanners: bool,
    },
    /// Run the scheduler daemon (in the background unless --foreground).
    #[command(
        after_help = "Examples:\n  dayshift start\n  dayshift start --foreground    # under systemd"
    )]
    Start {
        /// Stay in the foreground (for systemd and containers).
        #[arg(long)]
        foreground: bool,
    },
    /// Stop the daemon: a running coding tool or test run is stopped (its task stays in
    /// progress and resumes at the next work run), then the daemon exits.
    #[command(
        after_help = "Examples:\n  dayshift stop\n  dayshift stop --wait 120    # a slow machine\n\nTo pause without stopping the daemon, create a file named STOP in the home."
    )]
    Stop {
        /// Seconds to wait for the daemon to exit.
        #[arg(long, default_value_t = 60)]
        wait: u64,
    },
    /// Daemon state, next run of each job, tasks per state, today's spend against the cap.
    #[command(after_help = "Examples:\n  dayshift status\n  dayshift status --json | jq .tasks")]
    Status {
        /// JSON for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Run one job now.
    #[command(
        after_help = "Examples:\n  dayshift run morning\n  dayshift run wrapup --date 2026-11-21"
    )]
    Run {
        /// morning, research, plan, work, deploy, wrapup or monitor.
        job: JobName,
        #[command(flatten)]
        options: run::RunOptions,
    },
    /// Run the whole day now, in order (morning, plan, work, wrapup), without waiting for
    /// the clock.
    #[command(
        after_help = "Examples:\n  dayshift day\n  dayshift day --date 2026-11-21\n  dayshift day --record day.jsonl    # every model exchange, for a replay"
    )]
    Day {
        #[command(flatten)]
        options: run::RunOptions,
    },
    /// The task queue.
    #[command(subcommand)]
    Tasks(tasks::TasksCommand),
    /// Spend against the daily cap: today, a bar per day, per agent, the costliest tasks,
    /// the totals.
    #[command(
        after_help = "Examples:\n  dayshift budget\n  dayshift budget --days 30\n  dayshift budget --json"
    )]
    Budget {
        /// How many days back to show, today included.
        #[arg(long, default_value_t = 7)]
        days: u32,
        /// JSON for scripts.
        #[arg(long)]
        json: bool,
    },
    /// The reviewer's layers on a change: each layer's verdict, the risk and the reasons;
    /// exit 0 when nothing blocks, 1 when something does.
    #[command(
        after_help = "The deterministic layers (policy, secrets, dangerous patterns, syntax) take milliseconds and
cost nothing; the model layer runs only with --model. Without a home, a diff is judged
against policy.yaml's defaults.

Examples:
  dayshift validate T-0003                   # a task's branch in the target clone
  dayshift validate --branch feature/login   # any branch of the target clone
  git diff main | dayshift validate --diff - # any change, in any repository
  dayshift validate --diff fix.patch --repo ~/src/shop --json
  dayshift validate T-0003 --model           # ask the reviewer's model too"
    )]
    Validate(validate::ValidateArgs),
    /// Scan a tree for security and code-health findings: the analyzers, normalized, new
    /// since the last scan of that tree first. Any folder works, not only the target.
    #[command(
        after_help = "Exit status: 0 nothing new at or above --fail-on, 1 something is, 2 a bad command line.

Examples:
  dayshift scan                        # the home's target clone
  dayshift scan ~/src/shop             # any folder
  dayshift scan . --json | jq '.findings[] | select(.new)'
  dayshift scan . --fail-on medium     # for CI: fail on a new medium finding
  dayshift scan . --all                # list every finding, not only the first 40"
    )]
    Scan(scan::ScanArgs),
    /// The security part of the scan (every analyzer but code health); with --fix, a task
    /// per finding the policy takes, worked now through the coder, QA and the reviewer.
    #[command(
        after_help = "Exit status: 0 done (nothing new at or above --fail-on without --fix), 1 something is (or a task failed), 2 a bad command line.

Examples:
  dayshift security-scan                    # the home's target
  dayshift security-scan ~/src/shop --json  # any folder
  dayshift security-scan --fix --dry-run    # the proposals: finding, planned change, risk, verdict
  dayshift security-scan --fix              # tasks for them, worked now"
    )]
    SecurityScan(scan::SecurityScanArgs),
    /// Seed 001's proposals: for each finding without a task (or those named), the planned
    /// change, its risk and the validator's verdict, written to proposals/.
    #[command(
        after_help = "Examples:\n  dayshift propose\n  dayshift propose 3fa2c0d17be9 --json\n  dayshift propose --dry-run"
    )]
    Propose(improve::ProposeArgs),
    /// Implement one proposal through the normal path: a task, then the coder, QA and the
    /// reviewer (merged as policy's auto_merge says, or left for a person).
    #[command(
        after_help = "Exit status: 0 merged or waiting for a person, 1 it cannot land or the task failed, 2 an unknown proposal.\n\nExamples:\n  dayshift implement 3fa2c0d17be9 --dry-run\n  dayshift implement 3fa2c0d17be9"
    )]
    Implement(improve::ImplementArgs),
    /// Scan → propose → validate → implement → test, in one go: the findings the policy
    /// takes, within the day's task allowance and the budget.
    #[command(
        after_help = "Examples:\n  dayshift improve --dry-run   # the proposals with risk and verdicts; nothing changes\n  dayshift improve"
    )]
    Improve(improve::ImproveArgs),
    /// Show the logs (today's, or follow them with -f).
    Logs(logs::LogsArgs),
    /// Undo an agent's merge: a revert (a revert pull request with GitHub, through the
    /// same checks; local-only a revert on the base, pushed), recorded as your act.
    #[command(
        after_help = "Examples:\n  dayshift rollback T-0007\n  dayshift rollback --last --by alice\n  dayshift rollback T-0007 --json"
    )]
    Rollback(rollback::RollbackArgs),
    /// Notifications: post a test message to every channel of config/notify.yaml, or show
    /// the outbox (sent, waiting and why, dropped).
    #[command(
        subcommand,
        after_help = "Examples:\n  dayshift notify test\n  dayshift notify list\n  dayshift notify list --json"
    )]
    Notify(notify::NotifyCommand),
    /// Clear a pause dayshift made itself (`PAUSED`: tasks failed in a row, a failed
    /// deploy whose revert failed), recorded as your act. A STOP file is yours to remove.
    #[command(after_help = "Examples:\n  dayshift resume\n  dayshift resume --by alice")]
    Resume {
        /// Who resumes (default: $USER); written in the audit.
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
    },
    /// The audit trail: who did what, to which task.
    #[command(
        after_help = "Examples:\n  dayshift audit\n  dayshift audit --task T-0007\n  dayshift audit --since 7d --kind scan\n  dayshift audit --since 2026-12-01 --actor human --json"
    )]
    Audit(status::AuditArgs),
    /// The whole day, offline, on a bundled example: no key, no network, the model's
    /// answers replayed from a cassette; real git, tests and merges.
    #[command(
        after_help = "Examples:\n  dayshift demo                  # in a new temp folder\n  dayshift demo ~/dayshift-demo  # a new or empty folder you keep"
    )]
    Demo {
        /// A new or empty folder for the demo home (default: a new temp folder).
        #[arg(value_name = "DIR")]
        dir: Option<PathBuf>,
        /// The same as DIR (kept for older scripts).
        #[arg(long = "dir", value_name = "DIR", hide = true, conflicts_with = "dir")]
        dir_flag: Option<PathBuf>,
    },
}

/// Parse the command line, run the command, map errors to exit codes.
pub fn main() -> ExitCode {
    // started by git as its askpass ([`askpass`]): answer the prompt and nothing else
    let args: Vec<String> = std::env::args().collect();
    if let Some(answer) = askpass::answer(&args, |k| std::env::var(k).ok()) {
        println!("{answer}");
        return ExitCode::SUCCESS;
    }
    let cli = Cli::parse();
    // a confined coding tool reaches its model through this binary (`sandbox-relay`)
    if let Ok(exe) = std::env::current_exe() {
        crate::sandbox::relay::set_program(exe);
    }
    let home_dir = cli.home.clone().unwrap_or_else(|| PathBuf::from("."));
    match run_command(cli) {
        Ok(code) => code,
        Err(e) => {
            // secrets never reach the terminal, even inside an error from a tool or an API
            let secrets =
                crate::config::Secrets::load(&home_dir.join("config/.env")).unwrap_or_default();
            eprintln!("error: {}", secrets.redact(&e.to_string()));
            ExitCode::from(e.exit_code())
        }
    }
}

fn run_command(cli: Cli) -> Result<ExitCode> {
    let home_dir = cli.home.clone().unwrap_or_else(|| PathBuf::from("."));
    let verbose = cli.verbose;
    // jobs log to files as well (and the daemon sets up its own logging)
    let runs_jobs = match &cli.command {
        Command::Start { .. }
        | Command::Run { .. }
        | Command::Day { .. }
        | Command::Demo { .. }
        | Command::Implement(_)
        | Command::Improve(_) => true,
        Command::SecurityScan(args) => args.fix,
        _ => false,
    };
    if !runs_jobs {
        crate::logging::init_cli(verbose);
    }
    if matches!(
        cli.command,
        Command::Status { .. }
            | Command::Logs(_)
            | Command::Tasks(_)
            | Command::Budget { .. }
            | Command::Audit(_)
            | Command::Validate(_)
            | Command::Scan(_)
            | Command::SecurityScan(_)
            | Command::Propose(_)
            | Command::Notify(_)
    ) {
        // `dayshift status | head -1` ends quietly with exit 0
        crate::process::exit_quietly_on_broken_pipe();
    }
    // (the daemon handles its own signals)
    let interruptible = runs_jobs && !matches!(cli.command, Command::Start { .. });
    if interruptible || matches!(cli.command, Command::Setup { .. }) {
        // Ctrl-C stops the children (a coding tool, git, the tests) and ends cleanly
        crate::process::cancel_on_signals();
    }
    match cli.command {
        Command::SandboxRelay { socket, argv } => {
            let code = crate::sandbox::relay::run(&socket, &argv);
            Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
        }
        Command::Init { dir } => run::init(dir.or(cli.home).unwrap_or_else(|| PathBuf::from("."))),
        Command::Demo { dir, dir_flag } => demo::demo(dir.or(dir_flag)),
        Command::Doctor { json, offline } => doctor::doctor(&home_dir, json, offline),
        Command::Setup { scanners: true, .. } => scanners::setup(&Home::open(&home_dir)?),
        Command::Setup { no_aider, .. } => run::setup(Home::open(&home_dir)?, no_aider),
        Command::Start { foreground } => {
            let home = Home::open(&home_dir)?;
            if foreground {
                crate::daemon::run_foreground(home)?;
            } else {
                let pid = crate::daemon::start_background(&home)?;
                println!(
                    "dayshift daemon started (pid {pid}); `dayshift status` shows it, `dayshift stop` stops it"
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Stop { wait } => {
            let home = Home::open(&home_dir)?;
            eprintln!("stopping the daemon (a running tool is stopped; its task resumes later)…");
            let pid = crate::daemon::stop(&home, std::time::Duration::from_secs(wait))?;
            println!("dayshift daemon (pid {pid}) stopped");
            Ok(ExitCode::SUCCESS)
        }
        Command::Status { json } => status::status(&Home::open(&home_dir)?, json),
        Command::Run { job, options } => run::job(Home::open(&home_dir)?, job, options, verbose),
        Command::Day { options } => run::day(Home::open(&home_dir)?, options, verbose),
        Command::Tasks(command) => tasks::tasks(Home::open(&home_dir)?, command),
        Command::Budget { days, json } => budget::budget(Home::open(&home_dir)?, days, json),
        Command::Logs(args) => logs::logs(&Home::open(&home_dir)?, args),
        Command::Validate(args) => validate::validate(&home_dir, args),
        Command::Scan(args) => scan::scan(&home_dir, args),
        Command::SecurityScan(args) => scan::security_scan(&home_dir, args, verbose),
        Command::Propose(args) => improve::propose(Home::open(&home_dir)?, args),
        Command::Implement(args) => improve::implement(Home::open(&home_dir)?, args, verbose),
        Command::Improve(args) => improve::improve(Home::open(&home_dir)?, args, verbose),
        Command::Rollback(args) => rollback::rollback(Home::open(&home_dir)?, args),
        Command::Notify(command) => notify::notify(Home::open(&home_dir)?, command),
        Command::Resume { by } => run::resume(Home::open(&home_dir)?, by),
        Command::Audit(args) => status::audit(Home::open(&home_dir)?, args),
    }
}

/// Print JSON to stdout.
fn print_json<T: serde::Serialize>(value: &T) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    );
}
