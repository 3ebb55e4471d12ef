//! `history`: per-day tallies over a span of days, one query each (the 14-day chart of
//! [`crate::history`] reads them instead of one `events_on` per day).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rusqlite::{Row, params};

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
        self.per_day(
            "SELECT day,
                    COUNT(DISTINCT CASE WHEN json_extract(detail, '$.to') = 'completed' THEN task_id END),
                    COUNT(DISTINCT CASE WHEN json_extract(detail, '$.to') = 'failed' THEN task_id END)
             FROM events WHERE action = 'task.moved' AND day BETWEEN ?1 AND ?2 GROUP BY day",
            (first, last),
            |r| {
                Ok(MovedCounts {
                    completed: r.get(1)?,
                    failed: r.get(2)?,
                })
            },
        )
    }

    /// Tokens and money spent per day from `first` to `last` (days with none are absent).
    pub fn usage_per_day(
        &self,
        first: NaiveDate,
        last: NaiveDate,
    ) -> Result<BTreeMap<NaiveDate, UsageTotals>, StoreError> {
        self.per_day(
            "SELECT day, SUM(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens), SUM(cost_usd)
             FROM usage WHERE day BETWEEN ?1 AND ?2 GROUP BY day",
            (first, last),
            |r| {
                Ok(UsageTotals {
                    tokens: r.get::<_, i64>(1)? as u64,
                    cost_usd: r.get(2)?,
                })
            },
        )
    }

    /// Run `sql` (its first column the day, `?1`/`?2` the span) and key each row's `value`
    /// by its day; a day that does not parse is skipped.
    fn per_day<T>(
        &self,
        sql: &str,
        (first, last): (NaiveDate, NaiveDate),
        value: impl Fn(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<BTreeMap<NaiveDate, T>, StoreError> {
        let mut stmt = self.q(self.conn.prepare(sql))?;
        let rows = stmt.query_map(params![first.to_string(), last.to_string()], |r| {
            Ok((r.get::<_, String>(0)?, value(r)?))
        });
        let rows: Vec<(String, T)> = self.q(rows.and_then(|rows| rows.collect()))?;
        Ok(rows
            .into_iter()
            .filter_map(|(day, value)| Some((day.parse().ok()?, value)))
            .collect())
    }
}
