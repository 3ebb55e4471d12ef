//! What every job and command works with: the home, its config, the store, the queue and
//! the clock — opened once, passed explicitly, never global.
//!
//! It is also the chokepoint for what dayshift writes about tasks: every task save and
//! move, and every audit event, passes the config's redactor first, so a key a tool
//! printed never reaches a task file, audit.jsonl or state.db. Approvals are recorded and
//! checked here too ([`approval`]).

mod approval;
mod notices;

pub use approval::{UNVERIFIED, Verdict};

pub use crate::clock::Clock;

use chrono::{DateTime, FixedOffset, NaiveDate};

use crate::config::Config;
use crate::error::{IoContext, Result};
use crate::home::Home;
use crate::store::{Event, Reconciled, Store};
use crate::tasks::{Queue, Task};
use crate::vision::{self, VisionError};

pub struct Ctx {
    pub home: Home,
    pub config: Config,
    pub store: Store,
    pub queue: Queue,
    pub clock: Clock,
    /// How models are built for jobs (recording, timeouts).
    pub model_options: crate::llm::models::ModelOptions,
}

impl Ctx {
    /// Load the config, open the store and sweep temp files a crash left behind.
    pub fn open(home: Home, day: Option<NaiveDate>) -> Result<Self> {
        let config = Config::load(&home)?;
        Self::with_config(home, config, day)
    }

    /// For commands that only read: [`Config::load_lenient`], each config problem printed
    /// as a warning on stderr, and the command goes on with that file's defaults.
    /// The clients of `agents` that agents.yaml gives a model ([`Models::build`]).
    pub fn models(
        &self,
        agents: &[crate::config::AgentName],
    ) -> Result<crate::llm::models::Models> {
        Ok(crate::llm::models::Models::build(
            &self.home,
            &self.config,
            self.clock,
            agents,
            &self.model_options,
        )?)
    }

    pub fn open_read_only(home: Home) -> Result<Self> {
        let (config, problems) = Config::load_lenient(&home)?;
        for problem in &problems {
            eprintln!(
                "warning: {problem} (this command goes on with that file's defaults; `dayshift doctor` lists every problem)"
            );
        }
        Self::with_config(home, config, None)
    }

    fn with_config(home: Home, config: Config, day: Option<NaiveDate>) -> Result<Self> {
        let store = Store::open(&home.db_path())?;
        home.sweep_temp_files();
        let clock = Clock {
            tz: config.schedules.timezone,
            day,
        };
        let queue = Queue::new(&home);
        if config.notify.is_on()
            && let Err(e) = crate::notify::events::begin(&store)
        {
            tracing::warn!("notifications could not start from now: {e}");
        }
        Ok(Self {
            home,
            config,
            store,
            queue,
            clock,
            model_options: Default::default(),
        })
    }

    /// The daily budget's ledger (agents.yaml `budget:`), its alerts appended to the audit log.
    pub fn budget(&self) -> Result<crate::llm::budget::Budget> {
        Ok(crate::llm::budget::Budget::new(
            self.config.agents.budget.as_ref().map(|b| b.value.clone()),
            self.config.agents.prices.clone(),
            &self.home.db_path(),
            self.clock,
        )?
        .with_audit_log(self.home.audit_log()))
    }

    pub fn now(&self) -> DateTime<FixedOffset> {
        self.clock.now()
    }

    pub fn today(&self) -> NaiveDate {
        self.clock.today()
    }

    /// `text` with every secret value the config knows replaced by `[redacted:NAME]`: for
    /// anything dayshift writes or passes on (a tool's output fed to the next attempt).
    pub fn redact(&self, text: &str) -> String {
        self.config.secrets.redact(text)
    }

    /// Write a file a person reads (a report, a plan) atomically, secrets redacted.
    pub fn write_redacted(&self, path: &std::path::Path, text: &str) -> Result<()> {
        let clean = self.redact(text);
        Ok(crate::fsx::write_atomic(path, clean.as_bytes()).at_path(path)?)
    }

    /// The name of a known secret whose value occurs in `text` (a diff's added lines).
    pub fn find_known_secret(&self, text: &str) -> Option<String> {
        self.config.secrets.find_known(text)
    }

    /// The name of a known secret a unified diff adds (its `+` lines): such a change fails
    /// at once.
    pub fn find_added_secret(&self, diff: &str) -> Option<String> {
        self.config.secrets.find_known_added(diff)
    }

    /// Record an audit event (secrets redacted) in logs/audit.jsonl and the store, filed
    /// under the day being run (a `--date` run's events belong to that day's report).
    pub fn audit(&self, event: Event) -> Result<()> {
        let mut value = serde_json::to_value(&event).unwrap_or_default();
        // each string before the line: a secret with a quote in it is escaped in the line
        crate::config::redact::map_json_strings(&mut value, &|s| self.redact(s));
        let event: Event = serde_json::from_value(value).unwrap_or(event);
        let raw = serde_json::to_string(&event).unwrap_or_default();
        let line = self.redact(&raw);
        Ok(self
            .store
            .record_event(&self.home.audit_log(), &event, self.today(), &line)?)
    }

    /// Report the config files that changed since this run read them: the run went on with
    /// what it read at its start; the change takes effect at the next run. Audited as
    /// `config.changed_during_run` and warned; returns the files.
    pub fn report_config_changes(&self) -> Result<Vec<String>> {
        let changed = self.config.changed_files(&self.home);
        if !changed.is_empty() {
            tracing::warn!(
                "config changed during this run ({}): ignored until the next run, which reads it again; if nobody here changed it, an agent did — check `git diff` of config/ or the audit log",
                changed.join(", ")
            );
            self.audit(
                Event::new(self.now(), "dayshift", "config.changed_during_run")
                    .detail(serde_json::json!({"files": changed})),
            )?;
        }
        Ok(changed)
    }

    /// Redact what dayshift itself wrote into a task: its log lines, its reason, its title.
    fn clean_task(&self, task: &mut Task) {
        let redacted = |text: &str| self.redact(text);
        task.body = redacted(&task.body);
        task.meta.title = redacted(&task.meta.title);
        if let Some(reason) = &task.meta.reason {
            task.meta.reason = Some(redacted(reason));
        }
    }

    /// Sync the task mirror with the folders; moves a person made by hand are audited.
    pub fn reconcile(&mut self) -> Result<Reconciled> {
        let found = self.store.reconcile(&self.home, &self.queue)?;
        for (id, from, to) in &found.moved_by_hand {
            let detail = serde_json::json!({"from": from, "to": to, "by": "hand"});
            self.audit(
                Event::new(self.now(), "human", "task.moved")
                    .task(*id)
                    .detail(detail),
            )?;
        }
        Ok(found)
    }

    /// Move a task, mirror it and audit the move.
    pub fn move_task(
        &self,
        task: &mut Task,
        to: crate::tasks::TaskState,
        actor: &str,
        why: &str,
    ) -> Result<()> {
        let from = task.state;
        let why = &self.redact(why);
        self.clean_task(task);
        self.queue.transition(task, to, actor, why, self.now())?;
        self.store.mirror_task(&self.home, task)?;
        let detail = serde_json::json!({"from": from, "to": to, "why": why});
        self.audit(
            Event::new(self.now(), actor, "task.moved")
                .task(task.meta.id)
                .detail(detail),
        )
    }

    /// Rewrite a task in place, mirror it and audit what changed.
    pub fn save_task(
        &self,
        task: &Task,
        actor: &str,
        action: &str,
        detail: serde_json::Value,
    ) -> Result<()> {
        let mut clean = task.clone();
        self.clean_task(&mut clean);
        self.queue.save(&clean)?;
        self.store.mirror_task(&self.home, &clean)?;
        self.audit(
            Event::new(self.now(), actor, action)
                .task(task.meta.id)
                .detail(detail),
        )
    }

    /// VISION.md understood as of `day`, with its diff against the previous day's snapshot.
    pub fn read_vision(
        &self,
        day: NaiveDate,
    ) -> std::result::Result<vision::Understood, VisionError> {
        vision::understand(&self.home.vision(), &self.home.snapshots_dir(), day)
    }
}
