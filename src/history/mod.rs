//! The last days in numbers, for people who would rather look than read: tasks merged and
//! failed and money or tokens spent per day, from the store. [`chart::svg`] draws them for
//! the daily report; [`sparkline`] writes them as one line of text (Discord, a terminal).

pub mod chart;

use chrono::{Days, NaiveDate};

use crate::store::{Store, StoreError};

/// One day of the history. A day nothing happened on is all zeros.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DayTally {
    pub day: NaiveDate,
    /// Tasks moved to completed that day.
    pub merged: u32,
    /// Tasks moved to failed that day.
    pub failed: u32,
    pub spent_usd: f64,
    pub spent_tokens: u64,
}

/// The daily cap spend is measured against (agents.yaml `budget:`), in what it is set in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cap {
    Usd(f64),
    Tokens(u64),
    /// No cap: spend is shown in dollars, with no line to reach.
    None,
}

impl Cap {
    /// What a day spent, in the cap's unit (dollars when there is no cap).
    pub fn spent(&self, day: &DayTally) -> f64 {
        match self {
            Cap::Tokens(_) => day.spent_tokens as f64,
            Cap::Usd(_) | Cap::None => day.spent_usd,
        }
    }

    /// The cap in its unit, if there is one.
    pub fn limit(&self) -> Option<f64> {
        match *self {
            Cap::Usd(usd) => Some(usd),
            Cap::Tokens(tokens) => Some(tokens as f64),
            Cap::None => None,
        }
    }

    /// The unit, for an axis or a caption.
    pub fn unit(&self) -> &'static str {
        match self {
            Cap::Tokens(_) => "tokens",
            Cap::Usd(_) | Cap::None => "USD",
        }
    }
}

/// The `days` days ending with `last`, oldest first, one entry per day.
pub fn last_days(store: &Store, last: NaiveDate, days: u32) -> Result<Vec<DayTally>, StoreError> {
    if days == 0 {
        return Ok(Vec::new());
    }
    let first = last - Days::new(u64::from(days - 1));
    let moved = store.moved_per_day(first, last)?;
    let usage = store.usage_per_day(first, last)?;
    Ok(first
        .iter_days()
        .take(days as usize)
        .map(|day| {
            let counts = moved.get(&day).copied().unwrap_or_default();
            let spent = usage.get(&day).copied().unwrap_or_default();
            DayTally {
                day,
                merged: counts.completed,
                failed: counts.failed,
                spent_usd: spent.cost_usd,
                spent_tokens: spent.tokens,
            }
        })
        .collect())
}

const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// One block character per value, scaled to the largest: zero (and anything not a
/// positive number) is `▁`, any positive value at least `▂`, the largest `█`.
pub fn sparkline(values: &[f64]) -> String {
    let max = values
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max);
    values
        .iter()
        .map(|&v| {
            if !(v.is_finite() && v > 0.0 && max > 0.0) {
                return BLOCKS[0];
            }
            let step = (v / max * 7.0).ceil().clamp(1.0, 7.0) as usize;
            BLOCKS[step]
        })
        .collect()
}

/// The history as one text line: "Merged ▁▃… · Failed ▁▁… · Spend ▂▇…".
pub fn sparkline_line(days: &[DayTally], cap: Cap) -> String {
    let series = |f: &dyn Fn(&DayTally) -> f64| sparkline(&days.iter().map(f).collect::<Vec<_>>());
    format!(
        "Merged {} · Failed {} · Spend {}",
        series(&|d| f64::from(d.merged)),
        series(&|d| f64::from(d.failed)),
        series(&|d| cap.spent(d)),
    )
}

#[cfg(test)]
mod tests;
