//! What the ledger tells its callers: the cap, what a settled call cost, the day's alert,
//! what is left — and the refusal messages, worded so a person knows what to change.

use std::fmt;

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::json;

use super::{EPSILON_USD, WorstCase};
use crate::store::Ledger;

/// The daily cap: money or tokens (agents.yaml `budget:`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cap {
    Usd(f64),
    Tokens(u64),
}

impl Cap {
    /// The cap as a number in its own unit.
    pub fn amount(&self) -> f64 {
        match self {
            Cap::Usd(usd) => *usd,
            Cap::Tokens(tokens) => *tokens as f64,
        }
    }

    pub(super) fn detail(&self, alert_at: f64) -> serde_json::Value {
        match self {
            Cap::Usd(usd) => json!({"cap_usd": usd, "alert_at": alert_at}),
            Cap::Tokens(tokens) => json!({"cap_tokens": tokens, "alert_at": alert_at}),
        }
    }
}

impl fmt::Display for Cap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cap::Usd(usd) => f.write_str(&usd_text(*usd)),
            Cap::Tokens(tokens) => write!(f, "{tokens} tokens"),
        }
    }
}

/// What a finished call cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Settled {
    pub tokens: u64,
    pub cost_usd: f64,
    /// Set when this call crossed the alert line first today: notify a person.
    pub alert: Option<BudgetAlert>,
}

/// The day's spend reached `alert_at × cap` (fired once per day).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BudgetAlert {
    pub day: NaiveDate,
    pub cap: Cap,
    pub alert_at: f64,
    pub spent_usd: f64,
    pub spent_tokens: u64,
}

impl BudgetAlert {
    pub(super) fn detail(&self) -> serde_json::Value {
        let mut detail = self.cap.detail(self.alert_at);
        if let Some(map) = detail.as_object_mut() {
            map.insert("spent_usd".into(), self.spent_usd.into());
            map.insert("spent_tokens".into(), self.spent_tokens.into());
        }
        detail
    }
}

impl fmt::Display for BudgetAlert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let spent = match self.cap {
            Cap::Usd(_) => usd_text(self.spent_usd),
            Cap::Tokens(_) => format!("{} tokens", self.spent_tokens),
        };
        write!(
            f,
            "budget alert: {spent} of the daily cap of {} spent on {} (the alert is at {:.0} %); at the cap every agent pauses until tomorrow",
            self.cap,
            self.day,
            self.alert_at * 100.0
        )
    }
}

/// Today's budget for the orchestrator's "budget left".
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Remaining {
    pub day: NaiveDate,
    /// `None`: no cap is set.
    pub cap: Option<Cap>,
    pub spent_usd: f64,
    pub spent_tokens: u64,
    /// Held by calls in flight.
    pub reserved_usd: f64,
    pub reserved_tokens: u64,
    /// Under a money cap: what is left after spend and calls in flight.
    pub left_usd: Option<f64>,
    /// Under a token cap: what is left after spend and calls in flight.
    pub left_tokens: Option<u64>,
}

impl Remaining {
    pub(super) fn new(day: NaiveDate, cap: Option<Cap>, ledger: &Ledger) -> Self {
        let (spent, reserved) = (ledger.spent, ledger.reserved);
        let (left_usd, left_tokens) = match cap {
            Some(Cap::Usd(usd)) => (Some((usd - spent.usd - reserved.usd).max(0.0)), None),
            Some(Cap::Tokens(tokens)) => (
                None,
                Some(tokens.saturating_sub(spent.tokens + reserved.tokens)),
            ),
            None => (None, None),
        };
        Self {
            day,
            cap,
            spent_usd: spent.usd,
            spent_tokens: spent.tokens,
            reserved_usd: reserved.usd,
            reserved_tokens: reserved.tokens,
            left_usd,
            left_tokens,
        }
    }

    /// Nothing is left: the agents pause until tomorrow.
    pub fn exhausted(&self) -> bool {
        self.left_usd.is_some_and(|left| left <= EPSILON_USD) || self.left_tokens == Some(0)
    }
}

pub(super) fn missing_price(model: Option<&str>) -> String {
    match model {
        Some(model) => format!(
            "model `{model}` has no price, so a call cannot be bounded by the daily cap in dollars; add it under `prices:` in config/agents.yaml, e.g. `{model}: {{input: 3.0, output: 15.0}}` (USD per million tokens)"
        ),
        None => "the provider names no model, so a call cannot be bounded by the daily cap in dollars; give the provider a `model:` in config/agents.yaml and add that model under `prices:`".to_string(),
    }
}

pub(super) fn refusal(cap: Option<Cap>, ledger: &Ledger, worst: &WorstCase) -> String {
    let (spent, held) = (ledger.spent, ledger.reserved);
    match cap {
        Some(Cap::Usd(cap)) => {
            let worst_usd = worst.cost_usd.unwrap_or(0.0);
            if worst_usd > cap + EPSILON_USD {
                return format!(
                    "this call alone may cost up to {} ({} prompt + {} answer tokens), more than the daily cap of {}; lower the agent's `max_tokens` or raise `budget: daily_usd` in config/agents.yaml",
                    usd_text(worst_usd),
                    worst.prompt_tokens,
                    worst.max_tokens,
                    usd_text(cap)
                );
            }
            format!(
                "daily cap of {} reached ({} spent today, {} held by calls in flight, this call may cost up to {}); the rest waits for tomorrow",
                usd_text(cap),
                usd_text(spent.usd),
                usd_text(held.usd),
                usd_text(worst_usd)
            )
        }
        Some(Cap::Tokens(cap)) => {
            if worst.tokens() > cap {
                return format!(
                    "this call alone may take up to {} tokens ({} prompt + {} answer), more than the daily cap of {cap} tokens; lower the agent's `max_tokens` or raise `budget: daily_tokens` in config/agents.yaml",
                    worst.tokens(),
                    worst.prompt_tokens,
                    worst.max_tokens
                );
            }
            format!(
                "daily cap of {cap} tokens reached ({} spent today, {} held by calls in flight, this call may take up to {}); the rest waits for tomorrow",
                spent.tokens,
                held.tokens,
                worst.tokens()
            )
        }
        None => "no cap is set, yet the call was refused; report this as a bug".to_string(),
    }
}

/// Dollars: cents for amounts of a dollar or more, four decimals below.
fn usd_text(usd: f64) -> String {
    if usd.abs() >= 1.0 {
        format!("${usd:.2}")
    } else {
        format!("${usd:.4}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Spend;

    fn ledger(spent_usd: f64, held_usd: f64) -> Ledger {
        Ledger {
            spent: Spend {
                usd: spent_usd,
                tokens: 900,
            },
            reserved: Spend {
                usd: held_usd,
                tokens: 100,
            },
        }
    }

    const WORST: WorstCase = WorstCase {
        prompt_tokens: 48,
        max_tokens: 200,
        cost_usd: Some(0.0066),
    };

    #[test]
    fn refusals_say_what_was_spent_and_what_to_do() {
        assert_eq!(
            refusal(Some(Cap::Usd(5.0)), &ledger(4.5, 0.499), &WORST),
            "daily cap of $5.00 reached ($4.50 spent today, $0.4990 held by calls in flight, this call may cost up to $0.0066); the rest waits for tomorrow"
        );
        assert_eq!(
            refusal(Some(Cap::Tokens(1100)), &ledger(0.0, 0.0), &WORST),
            "daily cap of 1100 tokens reached (900 spent today, 100 held by calls in flight, this call may take up to 248); the rest waits for tomorrow"
        );
        let alone = refusal(Some(Cap::Tokens(200)), &ledger(0.0, 0.0), &WORST);
        assert!(
            alone.starts_with("this call alone may take up to 248 tokens"),
            "{alone}"
        );
        assert!(missing_price(Some("gpt-x")).contains("add it under `prices:`"));
    }

    #[test]
    fn remaining_subtracts_spend_and_calls_in_flight() {
        let day = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let left = Remaining::new(day, Some(Cap::Usd(5.0)), &ledger(4.0, 1.0));
        assert_eq!(left.left_usd, Some(0.0));
        assert!(left.exhausted());
        let left = Remaining::new(day, Some(Cap::Tokens(2000)), &ledger(0.0, 0.0));
        assert_eq!((left.left_tokens, left.exhausted()), (Some(1000), false));
    }
}
