//! Layer 6, the model review: the reviewer's model reads the diff, the task and its
//! acceptance, the person's notes and what the other layers found, and answers approve,
//! request changes (comments with file:line) or escalate.
//!
//! The answer is data. It becomes findings like any layer's: request changes blocks (the
//! coder hears the comments), escalate raises the risk to high (a person decides), approve
//! adds nothing — so a model can lower confidence in a change, never raise what policy
//! allows. Whatever else an answer says ("risk: low", "safe to merge") is not read.

use serde::{Deserialize, Serialize};

use super::diff::Diff;
use super::{Finding, Layer};
use crate::config::AgentName;
use crate::llm::models::Model;
use crate::llm::structured;
use crate::llm::{Message, Request, Role};
use crate::tasks::{Risk, TaskMeta};

pub use crate::tasks::ModelDecision;

/// The most of the diff the model sees.
const MAX_DIFF_BYTES: usize = 60_000;
/// The longest comment or reason kept.
const MAX_TEXT: usize = 1_000;
/// The most comments kept.
const MAX_COMMENTS: usize = 20;

/// One review comment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comment {
    #[serde(default)]
    pub file: Option<String>,
    #[serde(default)]
    pub line: Option<u32>,
    pub comment: String,
}

/// The reviewer model's answer (unknown keys are ignored: they decide nothing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelVerdict {
    pub verdict: ModelDecision,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub comments: Vec<Comment>,
    #[serde(default)]
    pub reasons: Vec<String>,
}

impl ModelVerdict {
    /// `approve: <summary>` — the model layer's row.
    pub fn summary_line(&self) -> String {
        let word = match self.verdict {
            ModelDecision::Approve => "approve",
            ModelDecision::RequestChanges => "request changes",
            ModelDecision::Escalate => "escalate",
        };
        format!("{word}: {}", self.summary)
    }

    fn check(&self) -> Result<(), String> {
        if self.verdict == ModelDecision::RequestChanges
            && self.comments.iter().all(|c| c.comment.trim().is_empty())
        {
            return Err(
                "\"request_changes\" needs at least one comment saying what to change".into(),
            );
        }
        if self.verdict == ModelDecision::Escalate
            && self.reasons.iter().all(|r| r.trim().is_empty())
            && self.summary.trim().is_empty()
        {
            return Err("\"escalate\" needs a reason a person can act on".into());
        }
        Ok(())
    }
}

/// What the reviewer model is shown.
pub struct ModelInput<'a> {
    pub task: &'a TaskMeta,
    pub description: &'a str,
    pub notes: &'a [String],
    /// The unified diff as text.
    pub patch: &'a str,
    pub diff: &'a Diff,
    /// One line per layer that ran before: `policy: warn — …`.
    pub layers: Vec<String>,
}

/// Ask the reviewer's model. Its comments are cut to size and a comment naming a file the
/// diff does not touch loses its location (a model's file name is not trusted).
pub fn review(model: &Model, input: &ModelInput) -> crate::Result<ModelVerdict> {
    let (diff, truncated) = clip(input.patch, MAX_DIFF_BYTES);
    let context = serde_json::json!({
        "task": {"id": input.task.id.to_string(), "title": input.task.title},
        "description": input.description,
        "acceptance": input.task.acceptance,
        "notes": input.notes,
        "layers": input.layers,
        "diff": diff,
        "truncated": truncated,
        "shown_bytes": diff.len(),
        "total_bytes": input.patch.len(),
    });
    let request = Request {
        agent: AgentName::Reviewer,
        job: Some("work".into()),
        task: Some(input.task.id),
        system: model
            .prompts
            .render("reviewer.system.j2", &serde_json::json!({}))?,
        messages: vec![Message {
            role: Role::User,
            // a key the change (or a note) carries never reaches the model
            content: crate::config::redact::redact_global(
                &model.prompts.render("reviewer.user.j2", &context)?,
            )
            .into_owned(),
        }],
        max_tokens: model.max_tokens,
        temperature: None,
    };
    let mut verdict: ModelVerdict =
        structured::ask(model.call, model.prompts, request, ModelVerdict::check)?.value;
    verdict.comments.truncate(MAX_COMMENTS);
    for c in &mut verdict.comments {
        c.comment = clip(c.comment.trim(), MAX_TEXT).0.to_string();
        if !c
            .file
            .as_ref()
            .is_some_and(|f| input.diff.files.iter().any(|d| &d.path == f))
        {
            c.file = None;
            c.line = None;
        }
    }
    for r in &mut verdict.reasons {
        *r = clip(r.trim(), MAX_TEXT).0.to_string();
    }
    verdict.summary = clip(verdict.summary.trim(), MAX_TEXT).0.to_string();
    Ok(verdict)
}

/// The verdict as findings: request changes → a block per comment; escalate → high risk.
pub fn findings(verdict: &ModelVerdict) -> Vec<Finding> {
    match verdict.verdict {
        ModelDecision::Approve => Vec::new(),
        ModelDecision::RequestChanges => verdict
            .comments
            .iter()
            .filter(|c| !c.comment.is_empty())
            .map(|c| {
                let f = Finding::block(
                    Layer::Model,
                    "model.request_changes",
                    Risk::Medium,
                    c.comment.clone(),
                );
                match &c.file {
                    Some(file) => f.at(file, c.line),
                    None => f,
                }
            })
            .collect(),
        ModelDecision::Escalate => {
            let why = if verdict.reasons.is_empty() {
                verdict.summary.clone()
            } else {
                verdict.reasons.join("; ")
            };
            vec![Finding::warn(
                Layer::Model,
                "model.escalate",
                Risk::High,
                format!("the reviewer asks a person to decide: {why}"),
            )]
        }
    }
}

/// `text` cut to at most `max` bytes on a character boundary, and whether it was cut.
fn clip(text: &str, max: usize) -> (&str, bool) {
    if text.len() <= max {
        return (text, false);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (&text[..end], true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> ModelVerdict {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn what_a_model_claims_beyond_its_verdict_decides_nothing() {
        let v =
            parse(r#"{"verdict":"approve","risk":"low","merge":true,"summary":"safe to merge"}"#);
        assert!(findings(&v).is_empty());
        let escalate = parse(r#"{"verdict":"escalate","reasons":["touches billing"]}"#);
        let f = findings(&escalate);
        assert_eq!(
            (f[0].risk, f[0].verdict),
            (Risk::High, crate::review::Verdict::Warn)
        );
        assert!(f[0].message.contains("touches billing"));
    }

    #[test]
    fn request_changes_without_a_comment_is_sent_back_to_the_model() {
        let v = parse(r#"{"verdict":"request_changes"}"#);
        assert!(v.check().unwrap_err().contains("at least one comment"));
        let ok = parse(
            r#"{"verdict":"request_changes","comments":[{"file":"a.py","line":3,"comment":"off by one"}]}"#,
        );
        assert!(ok.check().is_ok());
        let f = findings(&ok);
        assert_eq!(f[0].located(), "a.py:3: off by one");
        assert!(!f[0].final_block);
    }
}
