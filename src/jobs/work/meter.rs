//! Where one task's time and tokens went: the attempts add to it, the end of the task
//! records it ([`super::finish::record_worked`]).

use std::time::Duration;

/// Where one task's time and tokens went, for its `task.worked` event (and the benchmark
/// of dayshift's own overhead: the elapsed time minus engine and checks).
#[derive(Debug, Default)]
pub(super) struct Meter {
    pub engine: Duration,
    pub checks: Duration,
    pub tokens: u64,
    pub cost_usd: f64,
}
