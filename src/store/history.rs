//! `history`: per-day tallies over a span of days, in two queries (the 14-day chart of
//! [`crate::history`] reads them instead of one `events_on` per day).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rusqlite::params;

use super::{Store, StoreError, UsageTotals};

/// How many tasks were moved to completed and to failed on one day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MovedCounts {
    pub completed: u32,
    pub failed: u32,
}

impl Store {
    /// Per day from `first` to `last` (days with none are absent): the distinct tasks a
    /// `task.moved` event moved to completed and to failed — what the daily report's Done
    /// and Failed tables list.
    pub fn moved_per_day(
        &self,
        first: NaiveDate,
        last: NaiveDate,
    ) -> Result<BTreeMap<NaiveDate, MovedCounts>, StoreError> {
        let mut stmt = self.q(self.conn.prepare(
            "SELECT day,
                    COUNT(DISTINCT CASE WHEN json_extract(detail, '$.to') = 'completed' THEN task_id END),
                    COUNT(DISTINCT CASE WHEN json_extract(detail, '$.to') = 'failed' THEN task_id END)
             FROM events WHERE action = 'task.moved' AND day BETWEEN ?1 AND ?2 GROUP BY day",
        ))?;
        let rows = stmt.query_map(params![first.to_string(), last.to_string()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                MovedCounts {
                    completed: r.get(1)?,
                    failed: r.get(2)?,
                },
            ))
        });
        let rows: Vec<(String, MovedCounts)> = self.q(rows.and_then(|rows| rows.collect()))?;
        Ok(keyed_by_day(rows))
    }

    /// Tokens and money spent per day from `first` to `last` (days with none are absent).
    pub fn usage_per_day(
        &self,
        first: NaiveDate,
        last: NaiveDate,
    ) -> Result<BTreeMap<NaiveDate, UsageTotals>, StoreError> {
        let mut stmt = self.q(self.conn.prepare(
            "SELECT day, SUM(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens), SUM(cost_usd)
             FROM usage WHERE day BETWEEN ?1 AND ?2 GROUP BY day",
        ))?;
        let rows = stmt.query_map(params![first.to_string(), last.to_string()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                UsageTotals {
                    tokens: r.get::<_, i64>(1)? as u64,
                    cost_usd: r.get(2)?,
                },
            ))
        });
        let rows: Vec<(String, UsageTotals)> = self.q(rows.and_then(|rows| rows.collect()))?;
        Ok(keyed_by_day(rows))
    }
}

/// Rows keyed by their `day` column (a day that does not parse is skipped).
fn keyed_by_day<T>(rows: Vec<(String, T)>) -> BTreeMap<NaiveDate, T> {
    rows.into_iter()
        .filter_map(|(day, value)| Some((day.parse().ok()?, value)))
        .collect()
}
