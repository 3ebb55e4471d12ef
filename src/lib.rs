//! dayshift — a self-hosted AI team that works on one repository every day, driven by
//! markdown a person edits.
//!
//! # The shape
//!
//! Everything a person reads or edits is plain markdown in a *home* folder ([`home`]):
//! VISION.md (their intent), DAILY_PLAN.md, PROGRESS.md, task files under `tasks/<state>/`
//! and reports. SQLite ([`store`]) keeps what markdown is bad at: runs, plans, token usage
//! and the audit trail, plus a mirror of the task folders for fast queries. The folders
//! are the truth; the mirror is rebuilt from them.
//!
//! # Data flow of a day
//!
//! ```text
//!  the base ──jobs::monitor (scan)──▶ reports/scan/DATE.md + backlog tasks by policy
//!  VISION.md ──vision::understand──▶ goals with stable ids + diff vs yesterday's snapshot
//!      │                                              │
//!      │                              jobs::morning ──▶ DAILY_PLAN.md + plan (store)
//!      │                                              │
//!      │                              jobs::plan ─────▶ tasks/backlog/T-0001-….md (tasks::Queue)
//!      │                                              │
//!      │                              jobs::work ─────▶ per task: target worktree → engine →
//!      │                                              │  guardrails → review (policy, secrets,
//!      │                                              │  patterns, syntax) → qa → commit →
//!      │                                              │  review (model) → forge: offer (PR)
//!      │                                              │  → land by risk (and green checks)
//!      │                                              ▼
//!      └──────────────────────────────jobs::wrapup ──▶ reports/daily/DATE.md + PROGRESS.md
//! ```
//!
//! The CLI ([`cli`]) runs a job now (`run`, `day`); the daemon ([`daemon`]) runs them on
//! the cron schedule of config/schedules.yaml, catches up missed ones, watches the task
//! folders and stops gracefully. Both go through [`jobs::run_job`], which takes the job
//! lock (jobs never overlap, across processes), records the run and audits it.
//!
//! # Modules
//!
//! - [`config`]: the YAML files and .env → typed, validated settings (serde-saphyr).
//! - [`vision`]: VISION.md → goals, notes and context (pulldown-cmark); ids and the diff.
//! - [`tasks`]: task files, ids, the folder queue, dependencies.
//! - [`store`]: SQLite with migrations: task mirror, runs, plans, usage, events.
//! - [`llm`]: model providers (Anthropic, OpenAI-compatible, replay) behind one trait, with
//!   retries, a circuit breaker and fallback; the budget ledger; cassettes; prompt
//!   templates; structured answers. [`llm::models`] builds an agent's client from config.
//! - [`jobs`]: morning, plan and wrapup (model-free, or with the orchestrator and planner
//!   models), work (the coder's loop, with its progress line), the day (a failed job still
//!   gets its report), and the runner.
//! - [`engine`]: the coding engines (aider, command, native) behind one trait; what a failed
//!   run means ([`engine::failure`]: the setup, the provider, or the task) and doctor's
//!   preflight.
//! - [`target`]: the target clone, task worktrees, guardrails, commit and merge (network
//!   through the git command); where merges go ([`target::publish`]: never into a person's
//!   working checkout) and the lock files a killed git left ([`target::locks`]).
//! - [`github`]: a small sync GitHub REST client (octocrab's raw requests): pull requests,
//!   check runs and statuses, required checks, merges as a compare-and-swap, issues; it
//!   decides what is retried (reads yes, creates only after a look-up) and keeps the token
//!   out of every message.
//! - [`qa`]: the target's lint, test and coverage commands, parsed, against the base branch.
//! - [`forge`]: where a reviewed change lands, behind one trait: local-only (merged in the
//!   clone, pushed) or GitHub (one pull request per task, merged on green checks; people's
//!   reviews, closes and comments as decisions; labelled issues; the dashboard issue).
//! - [`research`]: the researcher's web access — search providers (Tavily, SearxNG, Brave)
//!   and page fetching (SSRF-checked, robots.txt, size and time caps, HTML to text).
//! - [`review`]: the reviewer's layers on a diff — policy, secrets, dangerous patterns,
//!   syntax (tree-sitter), QA deltas, the model — each pass/warn/block with findings, and
//!   the risk computed from them (what `auto_merge` and `dayshift validate` go by).
//! - [`deploy`]: DevOps' hands: a clean checkout at a commit, the build and deploy commands
//!   (timeout, process group, only the variables `deploy_env` names), the HTTP health checks.
//! - [`sandbox`]: confinement (bubblewrap) of the coding tool and the target's commands.
//! - [`scan`]: the scanner: the analyzers people trust (ruff, bandit, semgrep, gitleaks, the
//!   dependency audits, clippy, eslint, any SARIF writer) and dayshift's own layers (the
//!   reviewer's, code health, the target's bench), normalized into fingerprinted findings,
//!   cached per file, compared with the last scan; [`jobs::monitor`] turns them into tasks
//!   and proposals. Its own layers defer to ruff for Python when ruff runs; clippy and
//!   eslint (they run the tree's code) run confined; before the coder takes a scan task,
//!   [`scan::recheck`] looks for its finding again.
//! - [`notify`]: telling the people: the audit trail's alerts and the jobs' summaries as
//!   channel-neutral notices, an outbox in the store, Discord and a JSON webhook as channels.
//! - [`history`]: the last days in numbers (merged, failed, spend) and their chart.
//! - [`daemon`]: lock, scheduler, catch-up, file watcher, signals, start/stop/status.
//! - [`context`]: the home, config, store, queue and clock a job works with.
//! - [`fsx`], [`lockfile`], [`process`]: crash-safe writes and reads that cannot leave a
//!   tree, flock locks, the one helper that spawns programs (timeouts, process groups, capped
//!   output, cancellation).
//! - [`hex`]: bytes as hexadecimal (digests); [`logging`]: per-job log files and stderr; [`markdown`]: tables for what we write;
//!   [`suggest`]: "did you mean" for misspelt names.
//! - [`error`]: one error enum per subsystem meeting in [`Error`]; user-file problems read
//!   `file:line: problem; fix` ([`problem`], below every subsystem); [`clock`]: today in
//!   the configured zone.
//!
//! Imports flow one way, from the commands and jobs down to config, home and the leaves;
//! tests/architecture.rs fails on any import circle between modules.
//!
//! # Invariants
//!
//! - Every file write is temp + fsync + rename; a task moves with one rename; a crash at
//!   any point leaves a state the next start recovers (every job is idempotent).
//! - A file dayshift cannot parse is reported with file and line and never moved or deleted.
//! - Secrets come only from the environment or config/.env and are redacted from everything
//!   dayshift writes or passes on (task files, reports, state.db, logs, cassettes, prompts);
//!   prompts never go on a command line.
//! - Everything an agent runs (the coding tool, the target's checks) is hostile: it runs
//!   confined ([`sandbox`]) where the machine allows, and what holds without confinement is
//!   checked after every run in code — the git metadata ([`target::meta`]), the home
//!   ([`home::guard`], around the work loop's runs and every deploy), the tree judged is exactly the tree committed ([`target::guard`]),
//!   approvals only from a person's recorded act. docs/security.md has the threat model.

pub mod cli;
pub mod clock;
pub mod config;
pub mod context;
pub mod daemon;
pub mod deploy;
pub mod engine;
pub mod error;
pub mod forge;
pub mod fsx;
pub mod github;
pub mod hex;
pub mod history;
pub mod home;
pub mod jobs;
pub mod llm;
pub mod lockfile;
pub mod logging;
pub mod markdown;
pub mod notify;
pub mod parallel;
pub mod problem;
pub mod process;
pub mod qa;
pub mod research;
pub mod review;
pub mod sandbox;
pub mod scan;
pub mod store;
pub mod suggest;
pub mod target;
pub mod tasks;
pub mod vision;

pub use error::{Error, Result};
