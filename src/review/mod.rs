//! The reviewer: every change is judged by layers, cheap before expensive, before anything
//! merges (DESIGN §6). Each layer gives a verdict — pass, warn or block — with its
//! findings; the risk (low … critical) is computed from them in code, so `auto_merge`
//! means what it says and no text from the target, an issue or a model can widen policy.
//!
//! ```text
//! diff ─▶ policy ─▶ secrets ─▶ patterns ─▶ syntax ─▶ qa ─▶ model (optional)
//!           paths,    token       eval, shell=True,   tree-sitter   new failures,   approve /
//!           size,     formats,    TLS off, skip…      parse of      new lint,       request_changes /
//!           unnamed   entropy     per language        changed files coverage drop   escalate
//! ```
//!
//! The deterministic layers read only the diff ([`diff::Diff`]) and the changed files'
//! contents ([`Contents`]); QA's results come from the work loop; the model layer is data
//! that can only lower confidence ([`risk`]).

pub mod diff;
pub mod patterns;
pub mod syntax;

use serde::Serialize;

use crate::tasks::Risk;

pub use diff::{Diff, FileDiff, Language, Line};

/// The reviewer's layers, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    Policy,
    Secrets,
    Patterns,
    Syntax,
    Qa,
    Model,
}

impl Layer {
    pub fn name(self) -> &'static str {
        match self {
            Self::Policy => "policy",
            Self::Secrets => "secrets",
            Self::Patterns => "patterns",
            Self::Syntax => "syntax",
            Self::Qa => "qa",
            Self::Model => "model",
        }
    }
}

/// A layer's (or a finding's) verdict; they order by severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    /// Allowed, but it raises the risk: a person may have to look.
    Warn,
    /// Not merged as it is: back to the coder with the reasons, or failed at once
    /// ([`Finding::final_block`]).
    Block,
}

/// One thing a layer found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub layer: Layer,
    /// Warn or block.
    pub verdict: Verdict,
    /// A stable id: `secrets.aws-access-key`, `patterns.python.shell-true`,
    /// `policy.protected`…
    pub rule: String,
    /// Relative to the target's root.
    pub file: Option<String>,
    /// In the new file (the old one for a removed line).
    pub line: Option<u32>,
    /// One line a person and the coder read. Never the secret itself.
    pub message: String,
    /// The least risk the change has because of this finding.
    pub risk: Risk,
    /// A block no attempt can fix by trying again the same way (a secret in the change, a
    /// never-touch path): the task fails at once.
    pub final_block: bool,
}

impl Finding {
    /// A warning that raises the risk to `risk`.
    pub fn warn(layer: Layer, rule: &str, risk: Risk, message: impl Into<String>) -> Self {
        Self {
            layer,
            verdict: Verdict::Warn,
            rule: rule.to_string(),
            file: None,
            line: None,
            message: message.into(),
            risk,
            final_block: false,
        }
    }

    /// A block: the change goes back to the coder with `message`.
    pub fn block(layer: Layer, rule: &str, risk: Risk, message: impl Into<String>) -> Self {
        Self {
            verdict: Verdict::Block,
            ..Self::warn(layer, rule, risk, message)
        }
    }

    /// At `file`, line `line` when there is one.
    pub fn at(mut self, file: &str, line: Option<u32>) -> Self {
        self.file = Some(file.to_string());
        self.line = line;
        self
    }

    /// A block that fails the task at once.
    pub fn final_block(mut self) -> Self {
        self.final_block = true;
        self
    }

    /// `file:line: message` (or the message alone).
    pub fn located(&self) -> String {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => format!("{file}:{line}: {}", self.message),
            (Some(file), None) => format!("{file}: {}", self.message),
            _ => self.message.clone(),
        }
    }
}

/// The contents of a changed file before and after the change, for the layers that read
/// whole files (syntax). `None`: the file does not exist on that side, or cannot be read.
pub trait Contents {
    fn before(&self, path: &str) -> Option<String>;
    fn after(&self, path: &str) -> Option<String>;
}
