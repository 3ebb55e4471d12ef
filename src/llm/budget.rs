//! The daily budget ledger: no call starts that could cross the cap (DESIGN §6).
//!
//! Counting after a call is too late when several calls run at once, so before each call
//! [`Budget::reserve`] computes its *worst case* — the prompt estimated from its length
//! (characters / 3.5, rounded up, plus a few tokens per message) plus `max_tokens` — and, in
//! one SQLite `BEGIN IMMEDIATE` transaction shared by every thread and process on the home,
//! checks that the day's spend, the room held by calls in flight and this worst case stay
//! within the cap, then holds the room as a reservation row. [`Budget::settle`] swaps the
//! reservation for the real usage row (and fires the day's alert, once, when spend crosses
//! `alert_at × cap`); [`Budget::release`] gives the room back when the call failed.
//!
//! Prices are USD per million tokens. Real usage is priced input and output at list price,
//! cache reads at [`CACHE_READ_FACTOR`] and cache writes at [`CACHE_WRITE_FACTOR`] × input
//! (Anthropic's rates; `prices:` has no cache columns). The worst case prices every prompt
//! token at the dearest of those rates, so a call that writes the cache still fits in its
//! reservation. The prompt estimate is a heuristic: text that tokenizes densely (non-Latin
//! scripts) can exceed it; the real cost is still recorded, and the next call sees it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::NaiveDate;

use super::{Answer, LlmError, Request};
use crate::clock::Clock;
use crate::config::agents::{BudgetConfig, Price};
use crate::fsx;
use crate::store::{AlertCheck, Event, Ledger, NewReservation, Spend, Store, UsageRecord};

mod estimate;
mod report;

pub use estimate::{
    CACHE_READ_FACTOR, CACHE_WRITE_FACTOR, EPSILON_USD, TOKENS_PER_MESSAGE, WorstCase, cost_usd,
    estimate_prompt_tokens, worst_case,
};
pub use report::{BudgetAlert, Cap, Remaining, Settled};

/// The ledger. Clones share one connection (behind a mutex held only for the milliseconds
/// of a transaction, never during a call); other processes share the database file.
#[derive(Clone)]
pub struct Budget {
    /// `None`: every call is allowed, and still recorded.
    cap: Option<Cap>,
    /// The fraction of the cap at which the day's alert fires.
    alert_at: f64,
    /// USD per million tokens, by model.
    prices: BTreeMap<String, Price>,
    /// Today, in the home's zone (pinnable for catch-up and tests).
    clock: Clock,
    /// The home's state.db: usage rows, reservations and the day's alert.
    store: Arc<Mutex<Store>>,
    /// Where the alert event is appended too (logs/audit.jsonl), when set.
    audit_log: Option<PathBuf>,
}

/// What a coding tool spent, for [`Budget::record_external`].
#[derive(Debug, Clone)]
pub struct ExternalSpend<'a> {
    pub agent: &'a str,
    pub job: &'a str,
    pub task: Option<String>,
    /// Who served the tokens: the coder's provider, or the tool itself (`claude`, …).
    pub provider: &'a str,
    pub model: &'a str,
    pub usage: super::Usage,
    /// What the tool said it cost; `None`: priced from `prices:` by `model`.
    pub cost_usd: Option<f64>,
}

/// Room held for one call in flight. Settle or release it.
#[must_use = "a reservation holds budget until it is settled or released"]
#[derive(Debug)]
pub struct Reservation {
    /// Its `budget_reservations` row.
    id: i64,
    day: NaiveDate,
    /// Who the usage row is recorded against.
    agent: String,
    job: Option<String>,
    task: Option<String>,
    /// The configured model: its price is used when the answer's model has none.
    model: Option<String>,
    worst: WorstCase,
}

impl Reservation {
    pub fn worst_case(&self) -> WorstCase {
        self.worst
    }

    /// The day the call counts against (the day it started).
    pub fn day(&self) -> NaiveDate {
        self.day
    }
}

impl Budget {
    /// Open the ledger in the store at `db`. `config: None` means no cap.
    pub fn new(
        config: Option<BudgetConfig>,
        prices: BTreeMap<String, Price>,
        db: &Path,
        clock: Clock,
    ) -> Result<Self, LlmError> {
        let store = Store::open(db).map_err(store_error)?;
        let cap = config
            .as_ref()
            .and_then(|c| match (c.daily_usd, c.daily_tokens) {
                (Some(usd), _) => Some(Cap::Usd(usd)),
                (None, Some(tokens)) => Some(Cap::Tokens(tokens)),
                (None, None) => None,
            });
        Ok(Self {
            cap,
            alert_at: config.map_or(0.8, |c| c.alert_at),
            prices,
            clock,
            store: Arc::new(Mutex::new(store)),
            audit_log: None,
        })
    }

    /// Also append the `budget.alert` event to this audit log (logs/audit.jsonl).
    pub fn with_audit_log(mut self, path: impl Into<PathBuf>) -> Self {
        self.audit_log = Some(path.into());
        self
    }

    pub fn cap(&self) -> Option<Cap> {
        self.cap
    }

    /// Hold the worst case of `request` on `model` (the configured model, for its price),
    /// or refuse with [`LlmError::Budget`] when it could cross the cap.
    pub fn reserve(&self, request: &Request, model: Option<&str>) -> Result<Reservation, LlmError> {
        let price = model.and_then(|m| self.prices.get(m));
        if let (Some(Cap::Usd(_)), None) = (self.cap, price) {
            return Err(LlmError::Budget(report::missing_price(model)));
        }
        let worst = worst_case(request, price);
        let day = self.clock.today();
        let agent = request.agent.to_string();
        let new = NewReservation {
            day,
            pid: std::process::id(),
            agent: &agent,
            hold: Spend {
                usd: worst.cost_usd.unwrap_or(0.0),
                tokens: worst.tokens(),
            },
        };
        let cap = self.cap;
        let (ledger, id) = self
            .store()
            .budget_reserve(&new, |ledger| fits(cap, ledger, &worst))
            .map_err(store_error)?;
        let Some(id) = id else {
            return Err(LlmError::Budget(report::refusal(cap, &ledger, &worst)));
        };
        Ok(Reservation {
            id,
            day,
            agent,
            job: request.job.clone(),
            task: request.task.map(|t| t.to_string()),
            model: model.map(str::to_string),
            worst,
        })
    }

    /// Replace the reservation with the real usage. [`Settled::alert`] is set when this
    /// call crossed the alert line first today (exactly once per day, across processes).
    pub fn settle(&self, reservation: Reservation, answer: &Answer) -> Result<Settled, LlmError> {
        let r = reservation;
        let price = self
            .prices
            .get(&answer.model)
            .or_else(|| r.model.as_ref().and_then(|m| self.prices.get(m)));
        let record = UsageRecord {
            at: self.clock.now(),
            day: r.day,
            agent: &r.agent,
            job: r.job.as_deref(),
            task_id: r.task.clone(),
            provider: &answer.provider,
            model: &answer.model,
            usage: answer.usage,
            cost_usd: price.map_or(0.0, |p| cost_usd(&answer.usage, p)),
        };
        self.write(Some(r.id), &record)
    }

    /// Record spend made outside dayshift's model client — a coding tool the work loop ran
    /// (Aider, `claude -p`, …) — like a call's: priced from `prices:` by model unless the
    /// tool said what it cost. Nothing was reserved: the work loop checks
    /// [`Budget::remaining`] before each run instead, and the tool's spend counts from here.
    pub fn record_external(&self, spend: &ExternalSpend<'_>) -> Result<Settled, LlmError> {
        let priced = self
            .prices
            .get(spend.model)
            .map(|p| cost_usd(&spend.usage, p));
        let record = UsageRecord {
            at: self.clock.now(),
            day: self.clock.today(),
            agent: spend.agent,
            job: Some(spend.job),
            task_id: spend.task.clone(),
            provider: spend.provider,
            model: spend.model,
            usage: spend.usage,
            cost_usd: billed_cost(spend.cost_usd, priced),
        };
        self.write(None, &record)
    }

    /// Write a usage row (in place of its reservation, if any) and fire the day's alert.
    fn write(
        &self,
        reservation: Option<i64>,
        record: &UsageRecord<'_>,
    ) -> Result<Settled, LlmError> {
        let check = self.cap.map(|cap| AlertCheck {
            threshold: self.alert_at * cap.amount(),
            in_tokens: matches!(cap, Cap::Tokens(_)),
            detail: cap.detail(self.alert_at),
        });
        let fired = self
            .store()
            .budget_settle(reservation, record, check.as_ref())
            .map_err(store_error)?;
        let alert = fired.zip(self.cap).map(|(spent, cap)| BudgetAlert {
            day: record.day,
            cap,
            alert_at: self.alert_at,
            spent_usd: spent.usd,
            spent_tokens: spent.tokens,
        });
        if let (Some(alert), Some(log)) = (&alert, &self.audit_log) {
            let event = Event::new(record.at, "dayshift", "budget.alert").detail(alert.detail());
            let line = serde_json::to_string(&event).unwrap_or_default();
            if let Err(e) = fsx::append_line(log, &line) {
                tracing::warn!("{}: cannot append the budget alert: {e}", log.display());
            }
        }
        Ok(Settled {
            tokens: record.usage.total(),
            cost_usd: record.cost_usd,
            alert,
        })
    }

    /// Give the reservation's room back (the call failed; nothing was spent).
    pub fn release(&self, reservation: Reservation) -> Result<(), LlmError> {
        self.store()
            .budget_release(reservation.id)
            .map_err(store_error)
    }

    /// Today's spend, the room calls in flight hold, and what is left under the cap.
    pub fn remaining(&self) -> Result<Remaining, LlmError> {
        let day = self.clock.today();
        let ledger = self.store().budget_ledger(day).map_err(store_error)?;
        Ok(Remaining::new(day, self.cap, &ledger))
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        // A panic elsewhere cannot leave the connection mid-transaction (it rolls back on drop).
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn fits(cap: Option<Cap>, ledger: &Ledger, worst: &WorstCase) -> bool {
    match cap {
        None => true,
        Some(Cap::Usd(cap)) => {
            let worst = worst.cost_usd.unwrap_or(f64::INFINITY);
            ledger.spent.usd + ledger.reserved.usd + worst <= cap + EPSILON_USD
        }
        Some(Cap::Tokens(cap)) => {
            ledger
                .spent
                .tokens
                .saturating_add(ledger.reserved.tokens)
                .saturating_add(worst.tokens())
                <= cap
        }
    }
}

fn store_error(e: crate::store::StoreError) -> LlmError {
    LlmError::Store(e.to_string())
}

/// What an external tool's run is billed: the larger of what it claimed and what its
/// tokens cost at our prices — a tool that says `$0` for a million tokens is not believed,
/// and a claim of $250 is recorded as $250 (we never under-bill). A claim that is not a
/// finite, non-negative number is ignored.
fn billed_cost(claimed: Option<f64>, priced: Option<f64>) -> f64 {
    let claimed = claimed.filter(|c| c.is_finite() && *c >= 0.0);
    match (claimed, priced) {
        (Some(c), Some(p)) => c.max(p),
        (Some(c), None) => c,
        (None, Some(p)) => p,
        (None, None) => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::billed_cost;

    #[test]
    fn external_spend_is_never_under_billed() {
        assert_eq!(billed_cost(Some(250.0), Some(0.01)), 250.0);
        assert_eq!(billed_cost(Some(0.0), Some(3.0)), 3.0);
        assert_eq!(billed_cost(Some(f64::NAN), Some(1.5)), 1.5);
        assert_eq!(billed_cost(Some(-4.0), None), 0.0);
        assert_eq!(billed_cost(None, None), 0.0);
    }
}
