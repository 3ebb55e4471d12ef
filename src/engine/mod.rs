//! Coding engines: the coder's hands. One trait, three kinds built from config —
//! `command` (any CLI through an argument template: `claude -p`, `codex exec`, …),
//! `native` (dayshift asks the model for search/replace blocks and applies them) and
//! `aider`.
//!
//! An engine only edits files in a task's work tree; when the work run is confined
//! ([`crate::sandbox`]) it can write nothing else. A prompt never goes on a command line
//! (any process can read `/proc/<pid>/cmdline`): it goes on stdin or in a file. Whether an attempt succeeded is never
//! taken from the engine's word or exit code: the caller judges the work tree's diff, the
//! guardrails and the tests.

pub mod aider;
pub mod build;
pub mod command;
pub mod edits;
pub mod failure;
pub mod native;
pub mod preflight;

use std::path::Path;
use std::time::Duration;

use crate::llm::{LlmError, Usage};
use crate::sandbox::Confinement;
use crate::tasks::TaskMeta;

/// One attempt at a task.
#[derive(Debug, Clone, Copy)]
pub struct Assignment<'a> {
    pub task: &'a TaskMeta,
    /// The task file's description section.
    pub description: &'a str,
    /// The task's work tree; the engine runs here and may change only files under it.
    pub workdir: &'a Path,
    /// What failed last time (test output, a refused edit), for the next attempt.
    pub feedback: Option<&'a str>,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// VISION.md notes: constraints for every agent.
    pub notes: &'a [String],
    /// How the task's runs are confined (`None`: unconfined). A tool must reach its model:
    /// see [`Assignment::tool_confinement`].
    pub confine: Option<&'a Confinement>,
}

impl Assignment<'_> {
    /// The coding tool's confinement: the task's, with the host's network — which an engine
    /// narrows to its model's endpoint with [`Confinement::with_egress`].
    pub fn tool_confinement(&self) -> Confinement {
        self.confine
            .cloned()
            .unwrap_or_else(Confinement::none)
            .with_network(true)
    }
}

/// What an engine run did, for the task log and the budget.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EngineReport {
    pub summary: String,
    /// The tool's whole output as captured (stdout then stderr, each within the process
    /// helper's cap), or the model's answers for the native engine: kept per attempt in
    /// `logs/runs/`, redacted.
    pub output: String,
    pub spent: Spent,
    pub elapsed: Duration,
}

/// Tokens (and money, when the tool says) a run spent.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Spent {
    pub usage: Usage,
    pub cost_usd: Option<f64>,
    /// Already recorded in the budget by dayshift's own model client (the native engine);
    /// an external tool's spend is recorded by the work loop.
    pub billed: bool,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EngineError {
    #[error("{engine}: cannot start `{program}`: {detail}; check that it is installed and on PATH")]
    Spawn {
        engine: String,
        program: String,
        detail: String,
    },
    #[error("{engine}: still running after {after:?}; its whole process group was killed")]
    TimedOut {
        engine: String,
        after: Duration,
        output: String,
    },
    #[error("{engine}: stopped because dayshift is stopping (a signal, or `dayshift stop`)")]
    Cancelled { engine: String },
    #[error("{engine}: exited with {}: {tail}", code.map_or("a signal".to_string(), |c| format!("code {c}")))]
    Crashed {
        engine: String,
        code: Option<i32>,
        /// What to show: the tool's error message when one is found, else its output's end.
        tail: String,
        output: String,
    },
    #[error("{engine}: reported an error: {message}")]
    Reported {
        engine: String,
        /// The tool's whole error message, its wrapped lines joined ([`failure::message_at`]).
        message: String,
        output: String,
    },
    #[error("{engine}: finished without changing any file: {}", tail(output, 600).trim())]
    NoChange {
        engine: String,
        /// What the tool spent on the way (Aider answers in prose and still bills).
        spent: Spent,
        /// What it said (its whole output; the message shows the end).
        output: String,
    },
    #[error("{engine}: its edits were refused: {error}")]
    Edits {
        engine: String,
        error: edits::EditError,
    },
    #[error(transparent)]
    Model(#[from] LlmError),
    #[error("{0}")]
    Config(String),
}

impl EngineError {
    /// What the failed run still spent, where the tool said.
    pub fn spent(&self) -> Spent {
        match self {
            EngineError::NoChange { spent, .. } => *spent,
            _ => Spent::default(),
        }
    }

    /// The tool's whole output, where the run got as far as producing one.
    pub fn output(&self) -> Option<&str> {
        match self {
            EngineError::TimedOut { output, .. }
            | EngineError::Crashed { output, .. }
            | EngineError::Reported { output, .. }
            | EngineError::NoChange { output, .. } => Some(output),
            _ => None,
        }
    }
}

/// Where an engine's model lives and which variable holds its key, so a refused key can be
/// named in the stop message (never its value).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProviderRef {
    /// The configured variable (`api_key_env`, or the kind's default) — `None` for a keyless
    /// local server.
    pub key_env: Option<String>,
    /// The base URL, or the API the model's kind talks to.
    pub endpoint: String,
}

/// A coding tool driven on one task's work tree.
pub trait Engine: Send + Sync {
    fn name(&self) -> &str;
    /// The model the tool runs, when dayshift knows it (to price its tokens).
    fn model(&self) -> Option<&str> {
        None
    }
    /// The provider the engine talks to, when dayshift configured it (not for a command
    /// engine: the tool reads its own).
    fn provider(&self) -> Option<ProviderRef> {
        None
    }
    fn run(&self, job: &Assignment) -> Result<EngineReport, EngineError>;
}

/// The instructions every engine gets for a task.
pub fn task_prompt(job: &Assignment) -> String {
    let t = job.task;
    let mut out = format!("Task {}: {}\n\n{}\n", t.id, t.title, job.description.trim());
    if !t.acceptance.is_empty() {
        out.push_str("\nDone when:\n");
        for a in &t.acceptance {
            out.push_str(&format!("- {a}\n"));
        }
    }
    if !t.files.is_empty() {
        out.push_str(&format!("\nFiles: {}\n", t.files.join(", ")));
    }
    if !job.notes.is_empty() {
        out.push_str("\nConstraints:\n");
        for n in job.notes {
            out.push_str(&format!("- {n}\n"));
        }
    }
    if let Some(feedback) = job.feedback {
        // the feedback leads with what matters (QA's is budgeted already): cut only its end
        let kept = head(feedback, FEEDBACK_CAP);
        let cut = if kept.len() < feedback.len() {
            "\n[… the rest of the feedback was cut]"
        } else {
            ""
        };
        out.push_str(&format!(
            "\nAttempt {} — the previous attempt failed:\n{kept}{cut}\n",
            job.attempt,
        ));
    }
    out.push_str("\nChange only what the task needs. Do not commit.\n");
    // a key pasted into the task or a note never reaches the tool
    crate::config::redact::redact_global(&out).into_owned()
}

/// Bytes of a previous attempt's feedback a prompt carries at most. QA's feedback is
/// budgeted well below this ([`crate::qa::FEEDBACK_BUDGET`]); the cap is for the rest (a
/// tool's error message), and it keeps the start, where what went wrong is said first.
pub const FEEDBACK_CAP: usize = 24 * 1024;

/// The first `max` bytes of `text`, on a character boundary.
pub fn head(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let end = (0..=max)
        .rev()
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0);
    &text[..end]
}

/// The last `max` bytes of `text`, on a character boundary.
pub fn tail(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let start = (text.len() - max..text.len())
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(text.len());
    &text[start..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tasks::TaskMeta;

    #[test]
    fn head_and_tail_cut_on_char_boundaries() {
        assert_eq!(head("aéb", 2), "a");
        assert_eq!(head("aéb", 3), "aé");
        assert_eq!(head("ab", 10), "ab");
        assert_eq!(tail("aéb", 2), "b");
    }

    #[test]
    fn a_retry_prompt_keeps_the_feedback_head_and_cuts_only_its_end() {
        let meta: TaskMeta = serde_json::from_value(serde_json::json!({
            "id": "T-0001", "title": "Fix it", "priority": "medium",
            "created": "2026-01-01T00:00:00Z",
        }))
        .unwrap();
        let feedback = format!(
            "new test failures: api.Api.test_status\nAssertionError: 503 != 200\n{}the end",
            "old failure output\n".repeat(2000)
        );
        let dir = std::path::Path::new("/nonexistent");
        let job = Assignment {
            task: &meta,
            description: "d",
            workdir: dir,
            feedback: Some(&feedback),
            attempt: 2,
            notes: &[],
            confine: None,
        };
        let prompt = task_prompt(&job);
        assert!(prompt.contains(
            "the previous attempt failed:\nnew test failures: api.Api.test_status\nAssertionError: 503 != 200\n"
        ));
        assert!(
            !prompt.contains("the end") && prompt.contains("[… the rest of the feedback was cut]")
        );
        assert!(prompt.len() < FEEDBACK_CAP + 1000);
    }

    #[test]
    fn a_key_in_the_task_or_a_note_never_reaches_the_tool() {
        crate::config::redact::install(&crate::config::redact::Redactor::new([(
            "PROMPT_TEST_TOKEN".to_string(),
            "prompt-canary-90817263".to_string(),
        )]));
        let meta: TaskMeta = serde_json::from_value(serde_json::json!({
            "id": "T-0001", "title": "Fix it", "priority": "medium",
            "created": "2026-01-01T00:00:00Z",
        }))
        .unwrap();
        let notes = ["the staging token is prompt-canary-90817263".to_string()];
        let job = Assignment {
            task: &meta,
            description: "use prompt-canary-90817263",
            workdir: std::path::Path::new("/nonexistent"),
            feedback: None,
            attempt: 1,
            notes: &notes,
            confine: None,
        };
        let prompt = task_prompt(&job);
        assert!(!prompt.contains("prompt-canary-90817263"), "{prompt}");
        assert!(prompt.contains("the staging token is [redacted:PROMPT_TEST_TOKEN]"));
    }
}
