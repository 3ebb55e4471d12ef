//! What agents call: [`LlmClient::call`] = reserve the worst case → ask the provider →
//! settle the real usage (or release the room when the call failed).
//!
//! So every call is bounded by the day's budget before it starts and recorded against its
//! agent, job, task and day after it ends. The client is `Sync`: several threads may call
//! through one client at once (the budget's transaction is the only shared critical section,
//! and it is never held during a call). A reservation is released even when the provider
//! panics, by a guard, so a crashed call never keeps budget for the rest of the day.

use std::sync::Arc;

use super::budget::{Budget, BudgetAlert, Reservation};
use super::{Answer, LlmError, Provider, Request};

/// Called once per day, in the thread whose call crossed the alert line.
pub type AlertHook = Arc<dyn Fn(&BudgetAlert) + Send + Sync>;

/// A provider behind the budget.
#[derive(Clone)]
pub struct LlmClient {
    /// The model API (possibly wrapped in retries, fallback or a recorder).
    provider: Arc<dyn Provider>,
    /// The daily ledger shared by every client of the home.
    budget: Budget,
    /// The configured model, whose price bounds a call; `None` under a money cap refuses.
    model: Option<String>,
    /// Who hears about the day's budget alert; without one it is logged as a warning.
    on_alert: Option<AlertHook>,
}

impl LlmClient {
    pub fn new(provider: Arc<dyn Provider>, budget: Budget) -> Self {
        Self {
            provider,
            budget,
            model: None,
            on_alert: None,
        }
    }

    /// The model the provider is configured with (its price bounds each call).
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// Run `hook` when a call of this client fires the day's budget alert.
    pub fn on_alert(mut self, hook: impl Fn(&BudgetAlert) + Send + Sync + 'static) -> Self {
        self.on_alert = Some(Arc::new(hook));
        self
    }

    pub fn provider_name(&self) -> &str {
        self.provider.name()
    }

    pub fn budget(&self) -> &Budget {
        &self.budget
    }

    /// One call within the budget. Refused with [`LlmError::Budget`] when its worst case
    /// could cross the day's cap; provider errors pass through unchanged.
    pub fn call(&self, request: &Request) -> Result<Answer, LlmError> {
        let reservation = self.budget.reserve(request, self.model.as_deref())?;
        let mut held = Held {
            budget: &self.budget,
            reservation: Some(reservation),
        };
        let answer = self.provider.complete(request)?;
        let Some(reservation) = held.reservation.take() else {
            return Err(LlmError::Store("the reservation was lost".into()));
        };
        let settled = self.budget.settle(reservation, &answer)?;
        if let Some(alert) = settled.alert {
            match &self.on_alert {
                Some(hook) => hook(&alert),
                None => tracing::warn!("{alert}"),
            }
        }
        Ok(answer)
    }
}

/// Releases the reservation unless it was taken for settling (error or panic paths).
struct Held<'a> {
    budget: &'a Budget,
    reservation: Option<Reservation>,
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        if let Some(reservation) = self.reservation.take()
            && let Err(e) = self.budget.release(reservation)
        {
            tracing::warn!("could not release a budget reservation: {e}");
        }
    }
}
