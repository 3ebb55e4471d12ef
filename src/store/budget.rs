//! The SQL under the daily budget ledger (`llm::budget` holds the policy).
//!
//! A call first *reserves* its worst case (a `budget_reservations` row), then *settles*:
//! the reservation goes and the real `usage` row comes, in one transaction. Both are
//! `BEGIN IMMEDIATE` transactions, so the check "spent + held + this call ≤ cap" and the insert
//! that acts on it are atomic across threads *and* processes sharing the database.
//!
//! A reservation belongs to a process (`pid`). Rows of a process that is gone, and rows older
//! than [`STALE_AFTER`] (no model call lasts that long; this also covers a dead process whose
//! pid was reused), hold nothing: they are skipped when reading and deleted when reserving.
//! `budget_alerts` has one row per day at most (its primary key), which is what makes the
//! alert fire exactly once whoever crosses the line first.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use rusqlite::{Transaction, TransactionBehavior, params};

use super::Usage;
use super::{Store, StoreError};

/// A reservation older than this holds nothing any more.
pub const STALE_AFTER: chrono::TimeDelta = chrono::TimeDelta::hours(2);

/// Money and tokens, spent or held.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Spend {
    pub usd: f64,
    pub tokens: u64,
}

/// One day of the ledger: what the usage rows say was spent, and what live reservations hold.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Ledger {
    pub spent: Spend,
    pub reserved: Spend,
}

/// A reservation about to be written.
#[derive(Debug, Clone)]
pub struct NewReservation<'a> {
    pub day: NaiveDate,
    pub pid: u32,
    pub agent: &'a str,
    /// The call's worst case.
    pub hold: Spend,
}

/// One usage row (the table `dayshift budget` reads).
#[derive(Debug, Clone)]
pub struct UsageRecord<'a> {
    pub at: DateTime<FixedOffset>,
    pub day: NaiveDate,
    pub agent: &'a str,
    pub job: Option<&'a str>,
    pub task_id: Option<String>,
    pub provider: &'a str,
    pub model: &'a str,
    pub usage: Usage,
    pub cost_usd: f64,
}

/// When settling: fire the day's alert once spend reaches `threshold` (in USD, or in tokens
/// when `in_tokens`). `detail` goes into the `budget.alert` event.
#[derive(Debug, Clone)]
pub struct AlertCheck {
    pub threshold: f64,
    pub in_tokens: bool,
    pub detail: serde_json::Value,
}

impl Store {
    /// The day's ledger, read-only (dead and stale reservations are skipped, not deleted).
    pub fn budget_ledger(&self, day: NaiveDate) -> Result<Ledger, StoreError> {
        let reserved = self.q(held(&self.conn, day))?;
        let spent = self.q(spent(&self.conn, day))?;
        Ok(Ledger { spent, reserved })
    }

    /// In one `BEGIN IMMEDIATE` transaction: drop dead reservations, read the ledger, and
    /// if `fits` says so, insert the reservation. Returns the ledger it decided on and the
    /// new reservation's id (`None`: refused, nothing written).
    pub fn budget_reserve(
        &mut self,
        new: &NewReservation<'_>,
        fits: impl FnOnce(&Ledger) -> bool,
    ) -> Result<(Ledger, Option<i64>), StoreError> {
        let result = (|| {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            clean(&tx)?;
            let ledger = Ledger {
                spent: spent(&tx, new.day)?,
                reserved: held(&tx, new.day)?,
            };
            let id = if fits(&ledger) {
                tx.execute(
                    "INSERT INTO budget_reservations (day, pid, agent, tokens, cost_usd, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        new.day.to_string(),
                        new.pid,
                        new.agent,
                        to_i64(new.hold.tokens),
                        new.hold.usd,
                        utc_stamp(Utc::now()),
                    ],
                )?;
                Some(tx.last_insert_rowid())
            } else {
                None
            };
            tx.commit()?;
            Ok((ledger, id))
        })();
        self.q(result)
    }

    /// Give a reservation's room back (the call failed).
    pub fn budget_release(&self, id: i64) -> Result<(), StoreError> {
        self.q(self
            .conn
            .execute("DELETE FROM budget_reservations WHERE id = ?1", [id]))?;
        Ok(())
    }

    /// In one transaction: delete the reservation (`None`: spend made outside dayshift's
    /// client, e.g. by a coding tool, had none), insert the usage row and, when `alert`
    /// is given and the day's spend has reached its threshold, claim the day's alert and
    /// record a `budget.alert` event. Returns the day's spend when this call fired the alert.
    pub fn budget_settle(
        &mut self,
        reservation: Option<i64>,
        record: &UsageRecord<'_>,
        alert: Option<&AlertCheck>,
    ) -> Result<Option<Spend>, StoreError> {
        let result = (|| {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            if let Some(id) = reservation {
                tx.execute("DELETE FROM budget_reservations WHERE id = ?1", [id])?;
            }
            let u = &record.usage;
            tx.execute(
                "INSERT INTO usage (at, day, agent, job, task_id, provider, model, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, cost_usd)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                params![
                    record.at.to_rfc3339(),
                    record.day.to_string(),
                    record.agent,
                    record.job,
                    record.task_id,
                    record.provider,
                    record.model,
                    to_i64(u.input_tokens),
                    to_i64(u.output_tokens),
                    to_i64(u.cache_read_tokens),
                    to_i64(u.cache_write_tokens),
                    record.cost_usd,
                ],
            )?;
            let fired = match alert {
                Some(check) => fire_alert(&tx, record, check)?,
                None => None,
            };
            tx.commit()?;
            Ok(fired)
        })();
        self.q(result)
    }
}

fn fire_alert(
    tx: &Transaction<'_>,
    record: &UsageRecord<'_>,
    check: &AlertCheck,
) -> rusqlite::Result<Option<Spend>> {
    let day = record.day.to_string();
    let total = spent(tx, record.day)?;
    let amount = if check.in_tokens {
        total.tokens as f64
    } else {
        total.usd
    };
    if amount + 1e-9 < check.threshold {
        return Ok(None);
    }
    let claimed = tx.execute(
        "INSERT OR IGNORE INTO budget_alerts (day, at, spent) VALUES (?1, ?2, ?3)",
        params![day, record.at.to_rfc3339(), amount],
    )?;
    if claimed == 0 {
        return Ok(None);
    }
    let mut detail = check.detail.clone();
    if let Some(map) = detail.as_object_mut() {
        map.insert("spent_usd".into(), total.usd.into());
        map.insert("spent_tokens".into(), total.tokens.into());
    }
    tx.execute(
        "INSERT INTO events (at, day, actor, action, task_id, commit_sha, detail) VALUES (?1, ?2, 'dayshift', 'budget.alert', NULL, NULL, ?3)",
        params![record.at.to_rfc3339(), day, detail.to_string()],
    )?;
    Ok(Some(total))
}

/// What the usage rows of `day` add up to.
fn spent(conn: &rusqlite::Connection, day: NaiveDate) -> rusqlite::Result<Spend> {
    conn.query_row(
        "SELECT COALESCE(SUM(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens), 0), COALESCE(SUM(cost_usd), 0) FROM usage WHERE day = ?1",
        [day.to_string()],
        |r| Ok(Spend { tokens: r.get::<_, i64>(0)?.max(0) as u64, usd: r.get(1)? }),
    )
}

/// What the live, fresh reservations of `day` hold.
fn held(conn: &rusqlite::Connection, day: NaiveDate) -> rusqlite::Result<Spend> {
    let mut stmt = conn.prepare(
        "SELECT pid, SUM(tokens), SUM(cost_usd) FROM budget_reservations WHERE day = ?1 AND created >= ?2 GROUP BY pid",
    )?;
    let rows = stmt.query_map(params![day.to_string(), stale_cutoff()], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, f64>(2)?,
        ))
    })?;
    let mut total = Spend::default();
    for row in rows {
        let (pid, tokens, usd) = row?;
        if is_alive(pid) {
            total.tokens += tokens.max(0) as u64;
            total.usd += usd;
        }
    }
    Ok(total)
}

/// Delete the reservations of dead processes and stale ones.
fn clean(tx: &Transaction<'_>) -> rusqlite::Result<()> {
    tx.execute(
        "DELETE FROM budget_reservations WHERE created < ?1",
        [stale_cutoff()],
    )?;
    let pids: Vec<i64> = tx
        .prepare("SELECT DISTINCT pid FROM budget_reservations")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for pid in pids.into_iter().filter(|pid| !is_alive(*pid)) {
        tx.execute("DELETE FROM budget_reservations WHERE pid = ?1", [pid])?;
    }
    Ok(())
}

fn stale_cutoff() -> String {
    utc_stamp(Utc::now() - STALE_AFTER)
}

/// Fixed-width UTC, so the text column compares in time order.
fn utc_stamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// `kill(pid, 0)`: does the process exist? (EPERM means it does, just not ours.)
fn is_alive(pid: i64) -> bool {
    use nix::errno::Errno;
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) {
        Ok(()) | Err(Errno::EPERM) => true,
        Err(_) => false,
    }
}
