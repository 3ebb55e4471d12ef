//! What every job and command works with: the home, its config, the store, the queue and
//! the clock — opened once, passed explicitly, never global.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::config::Config;
use crate::error::Result;
use crate::home::Home;
use crate::store::{Event, Reconciled, Store};
use crate::tasks::{Queue, Task};
use crate::vision::{self, VisionError};

/// Today and now, in the configured zone. `day` pins "today" (for catch-up and tests).
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub tz: Tz,
    pub day: Option<NaiveDate>,
}

impl Clock {
    pub fn now(&self) -> DateTime<FixedOffset> {
        Utc::now().with_timezone(&self.tz).fixed_offset()
    }

    pub fn today(&self) -> NaiveDate {
        self.day.unwrap_or_else(|| self.now().date_naive())
    }
}

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
        let store = Store::open(&home.db_path())?;
        home.sweep_temp_files();
        let clock = Clock {
            tz: config.schedules.timezone,
            day,
        };
        let queue = Queue::new(&home);
        Ok(Self {
            home,
            config,
            store,
            queue,
            clock,
            model_options: Default::default(),
        })
    }

    pub fn now(&self) -> DateTime<FixedOffset> {
        self.clock.now()
    }

    pub fn today(&self) -> NaiveDate {
        self.clock.today()
    }

    /// Record an audit event (secrets redacted) in logs/audit.jsonl and the store, filed
    /// under the day being run (a `--date` run's events belong to that day's report).
    pub fn audit(&self, event: Event) -> Result<()> {
        let raw = serde_json::to_string(&event).unwrap_or_default();
        let line = self.config.secrets.redact(&raw);
        let event: Event = if line == raw {
            event
        } else {
            serde_json::from_str(&line).unwrap_or(event)
        };
        Ok(self
            .store
            .record_event(&self.home.audit_log(), &event, self.today(), &line)?)
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
        self.queue.save(task)?;
        self.store.mirror_task(&self.home, task)?;
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
