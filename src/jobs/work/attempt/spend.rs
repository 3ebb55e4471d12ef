//! What a coding-tool run spent: its tokens counted for the task, its claim recorded in the
//! budget, and a claim over the per-run limit turned into the reason to stop.

use super::{ACTOR, Meter, TaskRun};
use crate::config::AgentName;
use crate::engine::Spent;
use crate::error::Result;
use crate::llm::budget::ExternalSpend;
use crate::store::Event;
use crate::tasks::Task;

impl TaskRun<'_> {
    /// Count the run's tokens for the task, and record a coding tool's spend in the budget
    /// (the native engine's calls were recorded by the model client already). A claim over
    /// the per-run limit is recorded in full (never under-billed) and returned as the
    /// reason to stop the attempt.
    pub(super) fn bill(
        &self,
        task: &Task,
        spent: Spent,
        meter: &mut Meter,
    ) -> Result<Option<String>> {
        meter.tokens += spent.usage.total();
        if spent.billed || (spent.usage.total() == 0 && spent.cost_usd.is_none()) {
            return Ok(None);
        }
        let model = self.engine.model().unwrap_or("unknown");
        let settled = self.limits.budget.record_external(&ExternalSpend {
            agent: "coder",
            job: "work",
            task: Some(task.meta.id.to_string()),
            provider: self.engine.name(),
            model,
            usage: spent.usage,
            cost_usd: spent.cost_usd,
        })?;
        meter.cost_usd += settled.cost_usd;
        if let Some(alert) = settled.alert {
            tracing::warn!("{alert}");
        }
        let Some(limit) = self.max_cost_per_run().filter(|l| settled.cost_usd > *l) else {
            return Ok(None);
        };
        let why = format!(
            "{} reported ${:.2} for one run, over the per-run limit of ${limit:.2} \
             (agents.coder.max_cost_per_run_usd); recorded in full",
            self.engine.name(),
            settled.cost_usd
        );
        self.ctx.audit(
            Event::new(self.ctx.now(), ACTOR, "budget.overrun")
                .task(task.meta.id)
                .detail(serde_json::json!({"cost_usd": settled.cost_usd, "limit_usd": limit})),
        )?;
        Ok(Some(why))
    }

    /// `agents.coder.max_cost_per_run_usd`, else the daily USD cap (no single run may claim
    /// a whole day), else none (a token cap is checked before each run instead).
    fn max_cost_per_run(&self) -> Option<f64> {
        let config = &self.ctx.config.agents;
        config
            .agents
            .get(&AgentName::Coder)
            .and_then(|c| c.max_cost_per_run_usd)
            .or_else(|| config.budget.as_ref().and_then(|b| b.value.daily_usd))
    }
}
