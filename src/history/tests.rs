//! Tests of the history tallies (a real store in a temp dir) and the sparkline.

use chrono::{Days, NaiveDate, TimeZone, Utc};

use super::*;
use crate::store::{Event, Usage, UsageRecord};
use crate::tasks::TaskId;

fn day(n: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, n).unwrap()
}

/// A store in a temp dir, recording through the store's own API.
struct History {
    dir: tempfile::TempDir,
    store: Store,
}

impl History {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("state.db")).unwrap();
        Self { dir, store }
    }

    fn moved(&self, on: NaiveDate, task: u32, to: &str) {
        let at = Utc
            .from_utc_datetime(&on.and_hms_opt(12, 0, 0).unwrap())
            .fixed_offset();
        let event = Event::new(at, "dayshift", "task.moved")
            .task(TaskId::new(task))
            .detail(serde_json::json!({"from": "in_review", "to": to}));
        let line = serde_json::to_string(&event).unwrap();
        let audit = self.dir.path().join("audit.jsonl");
        self.store.record_event(&audit, &event, on, &line).unwrap();
    }

    fn spent(&mut self, on: NaiveDate, tokens: u64, usd: f64) {
        let at = Utc
            .from_utc_datetime(&on.and_hms_opt(9, 0, 0).unwrap())
            .fixed_offset();
        let record = UsageRecord {
            at,
            day: on,
            agent: "coder",
            job: Some("work"),
            // a task's run and its cache tokens count towards the day like any other
            task_id: Some(format!("T-{tokens:04}")),
            provider: "anthropic",
            model: "m",
            usage: Usage {
                input_tokens: tokens / 2,
                output_tokens: tokens / 4,
                cache_read_tokens: tokens - tokens / 2 - tokens / 4,
                cache_write_tokens: 0,
            },
            cost_usd: usd,
        };
        self.store.budget_settle(None, &record, None).unwrap();
    }
}

#[test]
fn last_days_has_one_entry_per_day_with_gaps_as_zeros() {
    let mut h = History::new();
    // 14 days ending 2026-11-20: activity on every other day, nothing on the rest
    for n in (7..=20).step_by(2) {
        for task in 0..(n % 4) {
            h.moved(day(n), n * 10 + task, "completed");
        }
        h.moved(day(n), n * 10 + 9, "failed");
        h.spent(day(n), 1000 * u64::from(n), f64::from(n) / 10.0);
        h.spent(day(n), 1, 0.0);
    }
    // outside the window, and moves that are not to completed or failed
    h.moved(day(6), 1, "completed");
    h.spent(day(21), 5, 5.0);
    h.moved(day(8), 2, "in_review");
    // the same task moved to completed twice on a day counts once
    h.moved(day(9), 90, "completed");

    let days = last_days(&h.store, day(20), 14).unwrap();
    assert_eq!(days.len(), 14);
    assert_eq!(days[0].day, day(7));
    assert_eq!(days[13].day, day(20));
    for d in &days {
        let n = d.day.format("%d").to_string().parse::<u32>().unwrap();
        if n % 2 == 1 {
            assert_eq!(d.merged, n % 4, "{d:?}");
            assert_eq!(d.failed, 1, "{d:?}");
            assert_eq!(d.spent_tokens, 1000 * u64::from(n) + 1, "{d:?}");
            assert!((d.spent_usd - f64::from(n) / 10.0).abs() < 1e-9, "{d:?}");
        } else {
            assert_eq!((d.merged, d.failed, d.spent_tokens), (0, 0, 0), "{d:?}");
            assert_eq!(d.spent_usd, 0.0);
        }
    }
}

#[test]
fn last_days_of_an_empty_store_are_zeros_and_zero_days_is_empty() {
    let h = History::new();
    let days = last_days(&h.store, day(20), 3).unwrap();
    let first = day(20) - Days::new(2);
    assert_eq!(
        days.iter().map(|d| d.day).collect::<Vec<_>>(),
        vec![first, day(19), day(20)]
    );
    assert!(days.iter().all(|d| d.merged == 0 && d.spent_usd == 0.0));
    assert!(last_days(&h.store, day(20), 0).unwrap().is_empty());
}

#[test]
fn sparkline_scales_to_the_largest_and_keeps_zeros_at_the_bottom() {
    assert_eq!(sparkline(&[]), "");
    assert_eq!(sparkline(&[0.0, 0.0]), "▁▁");
    assert_eq!(sparkline(&[0.0, 1.0, 4.0, 8.0]), "▁▂▅█");
    // a tiny positive value still shows above zero; junk reads as zero
    assert_eq!(sparkline(&[0.001, 100.0, f64::NAN, -3.0]), "▂█▁▁");
    assert_eq!(sparkline(&[5.0]), "█");
}

#[test]
fn sparkline_line_uses_the_caps_unit_for_spend() {
    let d = |merged, tokens, usd| DayTally {
        day: day(1),
        merged,
        failed: 0,
        spent_usd: usd,
        spent_tokens: tokens,
    };
    let days = [d(0, 100, 2.0), d(3, 0, 1.0)];
    assert_eq!(
        sparkline_line(&days, Cap::Tokens(1000)),
        "Merged ▁█ · Failed ▁▁ · Spend █▁"
    );
    assert_eq!(
        sparkline_line(&days, Cap::Usd(5.0)),
        "Merged ▁█ · Failed ▁▁ · Spend █▅"
    );
}
