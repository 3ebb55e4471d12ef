//! The jobs of the day (DESIGN §1), by name: what schedules.yaml and the command line call
//! them. Below the jobs so config can name them; [`crate::jobs`] re-exports it.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobName {
    Morning,
    Research,
    Plan,
    Work,
    Deploy,
    Wrapup,
    Monitor,
}

impl JobName {
    pub const ALL: [JobName; 7] = [
        JobName::Morning,
        JobName::Research,
        JobName::Plan,
        JobName::Work,
        JobName::Deploy,
        JobName::Wrapup,
        JobName::Monitor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobName::Morning => "morning",
            JobName::Research => "research",
            JobName::Plan => "plan",
            JobName::Work => "work",
            JobName::Deploy => "deploy",
            JobName::Wrapup => "wrapup",
            JobName::Monitor => "monitor",
        }
    }

    /// The agent that does this job (log files and audit events are named after it).
    pub fn agent(self) -> &'static str {
        match self {
            JobName::Morning | JobName::Wrapup => "orchestrator",
            JobName::Research => "researcher",
            JobName::Plan => "planner",
            JobName::Work => "coder",
            JobName::Deploy => "devops",
            JobName::Monitor => "scanner",
        }
    }
}

impl fmt::Display for JobName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for JobName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|j| j.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Self::ALL.iter().map(|j| j.as_str()).collect();
                let meant = crate::suggest::hint(s, names.iter().copied());
                format!("unknown job `{s}`{meant} (jobs are {})", names.join(", "))
            })
    }
}
