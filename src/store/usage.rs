//! `usage`: tokens and money per model call, by agent, job, task and day.

use chrono::NaiveDate;
use rusqlite::params;

use super::{Store, StoreError};

/// Tokens as the API reported them (what a model call costs; [`crate::llm`] re-exports it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
}

impl Usage {
    pub fn total(&self) -> u64 {
        self.input_tokens + self.output_tokens + self.cache_read_tokens + self.cache_write_tokens
    }
}

/// Spend of one agent on one day.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct UsageRow {
    pub day: String,
    pub agent: String,
    pub calls: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_tokens: u64,
    pub cost_usd: f64,
}

/// A day's total.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct UsageTotals {
    pub tokens: u64,
    pub cost_usd: f64,
}

impl Store {
    /// Spend per day and agent for the `days` days ending with `last`.
    pub fn usage_by_agent(&self, last: NaiveDate, days: u32) -> Result<Vec<UsageRow>, StoreError> {
        let first = last - chrono::Days::new(u64::from(days.saturating_sub(1)));
        let mut stmt = self.q(self.conn.prepare(
            "SELECT day, agent, COUNT(*), SUM(input_tokens), SUM(output_tokens), SUM(cache_read_tokens + cache_write_tokens), SUM(cost_usd)
             FROM usage WHERE day BETWEEN ?1 AND ?2 GROUP BY day, agent ORDER BY day, agent",
        ))?;
        let rows = stmt.query_map(params![first.to_string(), last.to_string()], |r| {
            Ok(UsageRow {
                day: r.get(0)?,
                agent: r.get(1)?,
                calls: r.get::<_, i64>(2)? as u64,
                input_tokens: r.get::<_, i64>(3)? as u64,
                output_tokens: r.get::<_, i64>(4)? as u64,
                cache_tokens: r.get::<_, i64>(5)? as u64,
                cost_usd: r.get(6)?,
            })
        });
        self.q(rows.and_then(|rows| rows.collect()))
    }

    /// Tokens and money spent on each task on `day` (any agent), by task id.
    pub fn usage_by_task(
        &self,
        day: NaiveDate,
    ) -> Result<std::collections::BTreeMap<String, UsageTotals>, StoreError> {
        let mut stmt = self.q(self.conn.prepare(
            "SELECT task_id, SUM(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens), SUM(cost_usd)
             FROM usage WHERE day = ?1 AND task_id IS NOT NULL GROUP BY task_id",
        ))?;
        let rows = stmt.query_map([day.to_string()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                UsageTotals {
                    tokens: r.get::<_, i64>(1)? as u64,
                    cost_usd: r.get(2)?,
                },
            ))
        });
        self.q(rows.and_then(|rows| rows.collect()))
    }

    /// The latest day any model call was recorded on, if any.
    pub fn latest_usage_day(&self) -> Result<Option<NaiveDate>, StoreError> {
        let day: Option<String> =
            self.q(self
                .conn
                .query_row("SELECT MAX(day) FROM usage", [], |r| r.get(0)))?;
        Ok(day.and_then(|d| d.parse().ok()))
    }

    /// Tokens and money spent on one task, every agent and every day.
    pub fn usage_of_task(&self, task: crate::tasks::TaskId) -> Result<UsageTotals, StoreError> {
        self.q(self.conn.query_row(
            "SELECT COALESCE(SUM(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens), 0), COALESCE(SUM(cost_usd), 0) FROM usage WHERE task_id = ?1",
            [task.to_string()],
            |r| Ok(UsageTotals { tokens: r.get::<_, i64>(0)? as u64, cost_usd: r.get(1)? }),
        ))
    }

    pub fn usage_total(&self, day: NaiveDate) -> Result<UsageTotals, StoreError> {
        self.q(self.conn.query_row(
            "SELECT COALESCE(SUM(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens), 0), COALESCE(SUM(cost_usd), 0) FROM usage WHERE day = ?1",
            [day.to_string()],
            |r| Ok(UsageTotals { tokens: r.get::<_, i64>(0)? as u64, cost_usd: r.get(1)? }),
        ))
    }
}
