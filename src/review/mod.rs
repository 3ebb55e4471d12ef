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

pub mod contents;
pub mod diff;
pub mod model;
pub mod patterns;
pub mod policy;
pub mod qa;
pub mod risk;
pub mod secrets;
pub mod syntax;

#[cfg(test)]
pub(crate) mod test_git {
    /// Run git in `dir` for a test; its stdout, or a panic naming the command.
    pub(crate) fn git(dir: &std::path::Path, args: &[&str]) -> String {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

use serde::Serialize;

use crate::tasks::Risk;

pub use diff::{Diff, FileDiff, Language, Line};
pub use policy::{NoteRules, PolicyInput};

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

/// One layer's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerReport {
    pub layer: Layer,
    /// The most severe finding's verdict; pass when none (or when skipped).
    pub verdict: Verdict,
    /// Set when the layer did not run, saying why ("no reviewer model configured").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// What it looked at, in a few words ("12 added lines", "3 files parsed").
    pub summary: String,
    pub findings: Vec<Finding>,
    /// How long it took, in microseconds.
    pub micros: u64,
}

impl LayerReport {
    pub fn new(layer: Layer, summary: impl Into<String>, findings: Vec<Finding>) -> Self {
        let verdict = findings
            .iter()
            .map(|f| f.verdict)
            .max()
            .unwrap_or(Verdict::Pass);
        Self {
            layer,
            verdict,
            skipped: None,
            summary: summary.into(),
            findings,
            micros: 0,
        }
    }

    pub fn skipped(layer: Layer, why: impl Into<String>) -> Self {
        Self {
            skipped: Some(why.into()),
            ..Self::new(layer, "", Vec::new())
        }
    }

    /// Run `check`, timing it.
    pub fn timed(layer: Layer, check: impl FnOnce() -> (Vec<Finding>, String)) -> Self {
        let clock = std::time::Instant::now();
        let (findings, summary) = check();
        let mut report = Self::new(layer, summary, findings);
        report.micros = clock.elapsed().as_micros() as u64;
        report
    }

    /// `policy: warn — 2 findings` for a model's prompt and a log line.
    pub fn line(&self) -> String {
        if let Some(why) = &self.skipped {
            return format!("{}: skipped ({why})", self.layer.name());
        }
        let mut line = format!("{}: {}", self.layer.name(), verdict_word(self.verdict));
        if !self.summary.is_empty() {
            line.push_str(&format!(" — {}", self.summary));
        }
        for f in &self.findings {
            line.push_str(&format!("; {}", f.located()));
        }
        line
    }
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Warn => "warn",
        Verdict::Block => "block",
    }
}

/// Every layer's result and the risk they add up to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Review {
    pub layers: Vec<LayerReport>,
    pub risk: Risk,
    pub reasons: Vec<String>,
}

impl Review {
    pub fn new(layers: Vec<LayerReport>) -> Self {
        let assessed = risk::assess(layers.iter().flat_map(|l| &l.findings));
        Self {
            layers,
            risk: assessed.risk,
            reasons: assessed.reasons,
        }
    }

    /// Add a layer's result (the risk is computed again).
    pub fn push(&mut self, layer: LayerReport) {
        let mut layers = std::mem::take(&mut self.layers);
        layers.push(layer);
        *self = Self::new(layers);
    }

    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.layers.iter().flat_map(|l| &l.findings)
    }

    /// Some layer blocks the change.
    pub fn blocked(&self) -> bool {
        self.findings().any(|f| f.verdict == Verdict::Block)
    }

    /// The first block no retry can fix (a secret, a never-touch path).
    pub fn final_block(&self) -> Option<&Finding> {
        self.findings().find(|f| f.final_block)
    }

    /// What the coder hears when the change is sent back: every block, located.
    pub fn feedback(&self) -> String {
        let blocks: Vec<String> = self
            .findings()
            .filter(|f| f.verdict == Verdict::Block)
            .map(|f| format!("- {}: {}", f.layer.name(), f.located()))
            .collect();
        format!(
            "The reviewer sent the change back. Fix each point, keeping the rest of the change:\n{}",
            blocks.join("\n")
        )
    }

    /// The first block in one line (for the task log).
    pub fn headline(&self) -> String {
        let blocks: Vec<&Finding> = self
            .findings()
            .filter(|f| f.verdict == Verdict::Block)
            .collect();
        match blocks.as_slice() {
            [] => format!("risk {}", risk_word(self.risk)),
            [one] => format!(
                "the {} layer blocks it: {}",
                one.layer.name(),
                one.located()
            ),
            [first, rest @ ..] => format!(
                "the {} layer blocks it: {} (and {} more)",
                first.layer.name(),
                first.located(),
                rest.len()
            ),
        }
    }

    /// The `## Review` section of a task file: each layer's verdict, the risk and why.
    pub fn markdown(&self) -> String {
        let rows: Vec<Vec<String>> = self
            .layers
            .iter()
            .map(|l| {
                let (verdict, what) = match &l.skipped {
                    Some(why) => ("skipped", why.clone()),
                    None if l.findings.is_empty() => (verdict_word(l.verdict), l.summary.clone()),
                    None => (
                        verdict_word(l.verdict),
                        l.findings
                            .iter()
                            .map(Finding::located)
                            .collect::<Vec<_>>()
                            .join("; "),
                    ),
                };
                vec![l.layer.name().to_string(), verdict.to_string(), what]
            })
            .collect();
        let mut out = format!("Risk: **{}**\n\n", risk_word(self.risk));
        out.push_str(&crate::markdown::table(
            &["layer", "verdict", "what it found"],
            &rows,
        ));
        out.push_str("\nWhy this risk:\n");
        for r in &self.reasons {
            out.push_str(&format!("- {r}\n"));
        }
        out
    }
}

pub fn risk_word(risk: Risk) -> &'static str {
    match risk {
        Risk::Low => "low",
        Risk::Medium => "medium",
        Risk::High => "high",
        Risk::Critical => "critical",
    }
}

/// What the deterministic layers judge a change against.
pub struct Subject<'a> {
    pub diff: &'a Diff,
    /// The changed files' whole text (the syntax layer).
    pub contents: &'a dyn Contents,
    pub policy: PolicyInput<'a>,
    /// The task declares it removes tests: removals warn instead of block.
    pub removes_tests: bool,
}

/// Layers 1–4 — policy, secrets, patterns, syntax — each timed. All four always run (they
/// take milliseconds), so a person sees everything at once.
pub fn deterministic(subject: &Subject) -> Vec<LayerReport> {
    let diff = subject.diff;
    let added: usize = diff.files.iter().map(|f| f.added.len()).sum();
    let removed: usize = diff.files.iter().map(|f| f.removed.len()).sum();
    vec![
        LayerReport::timed(Layer::Policy, || {
            let summary = format!(
                "{} file(s), {} line(s) changed",
                diff.files.len(),
                added + removed
            );
            (policy::check(diff, &subject.policy), summary)
        }),
        LayerReport::timed(Layer::Secrets, || {
            (
                secrets::check(diff),
                format!("{added} added line(s) scanned"),
            )
        }),
        LayerReport::timed(Layer::Patterns, || {
            let summary = format!("{added} added and {removed} removed line(s) read");
            (patterns::check(diff, subject.removes_tests), summary)
        }),
        LayerReport::timed(Layer::Syntax, || {
            let parsed = diff
                .files
                .iter()
                .filter(|f| f.status != diff::Status::Deleted && f.language().is_some())
                .count();
            let summary = format!("{parsed} changed file(s) with a parser");
            (syntax::check(diff, subject.contents), summary)
        }),
    ]
}
