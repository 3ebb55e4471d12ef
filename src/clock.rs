//! Today and now in the configured time zone, below everything that asks for the day (the
//! budget ledger, the models, the jobs); [`crate::context`] re-exports it.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use chrono_tz::Tz;

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
