//! `daily_plans`: the morning's plan of each day, as JSON, for the planner and the report.

use chrono::{DateTime, FixedOffset, NaiveDate};
use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};

impl Store {
    pub fn save_plan(
        &self,
        day: NaiveDate,
        plan_json: &str,
        now: DateTime<FixedOffset>,
    ) -> Result<(), StoreError> {
        self.q(self.conn.execute(
            "INSERT OR REPLACE INTO daily_plans (day, written, plan) VALUES (?1, ?2, ?3)",
            params![day.to_string(), now.to_rfc3339(), plan_json],
        ))?;
        Ok(())
    }

    pub fn load_plan(&self, day: NaiveDate) -> Result<Option<String>, StoreError> {
        self.q(self
            .conn
            .query_row(
                "SELECT plan FROM daily_plans WHERE day = ?1",
                [day.to_string()],
                |r| r.get(0),
            )
            .optional())
    }
}
