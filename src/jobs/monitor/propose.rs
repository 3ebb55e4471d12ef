//! Seed 001's proposals: a finding, the change planned for it (the task the coder would
//! get: title, files, acceptance), the validator's verdict on that plan and its risk. The
//! verdict is the reviewer's policy layer over the files the change will touch — never-touch
//! paths and your notes block it, protected paths make it high risk (a person merges it) —
//! so a proposal says before any work whether the change can land and who must look. The
//! change itself is made and judged again, diff and all, on the normal path: coder → QA →
//! reviewer.
//!
//! A proposal is known by the first 12 characters of its finding's fingerprint; it is
//! written to `proposals/<id>.md` (never by a dry run).

use std::path::PathBuf;

use serde::Serialize;

use super::tasks;
use crate::context::Ctx;
use crate::error::{IoContext, Result};
use crate::review::diff::Status;
use crate::review::policy::{self, PolicyInput};
use crate::review::{Diff, FileDiff, Verdict, risk};
use crate::scan::run::Found;
use crate::tasks::{Risk, TaskId};

/// Characters of a fingerprint that name its proposal.
pub const ID_CHARS: usize = 12;

/// One finding and the change planned for it.
#[derive(Debug, Clone, Serialize)]
pub struct Proposal {
    pub id: String,
    pub finding: Found,
    /// The task the change would be: its title, files and acceptance.
    pub title: String,
    pub files: Vec<String>,
    pub acceptance: Vec<String>,
    /// The validator's verdict on the plan: `pass`, `warn` (it can land, a person may have
    /// to merge it) or `block` (it cannot land: the reasons say why).
    pub verdict: Verdict,
    pub risk: Risk,
    pub reasons: Vec<String>,
    /// Whether policy.yaml's `auto_merge` lets it merge without a person.
    pub merges_itself: bool,
    /// The task a finding already had (a finding gets one task, ever).
    pub task: Option<TaskId>,
}

/// The proposals for `findings`.
pub fn propose(ctx: &Ctx, findings: &[&Found]) -> Result<Vec<Proposal>> {
    let (_, notes) = crate::jobs::notes_and_rules(ctx);
    let tasks = ctx.store.tasks()?;
    Ok(findings
        .iter()
        .map(|found| {
            let draft = tasks::draft(&found.finding);
            let diff = Diff {
                files: draft
                    .files
                    .iter()
                    .map(|path| FileDiff {
                        path: path.clone(),
                        status: Status::Modified,
                        binary: false,
                        added: Vec::new(),
                        removed: Vec::new(),
                    })
                    .collect(),
            };
            let input = PolicyInput {
                policy: &ctx.config.policy,
                notes: &notes,
                named: &draft.files,
            };
            let checked = policy::check(&diff, &input);
            let verdict = checked
                .iter()
                .map(|f| f.verdict)
                .max()
                .unwrap_or(Verdict::Pass);
            let assessed = risk::assess(&checked);
            let source = draft.source.clone();
            Proposal {
                id: found.finding.fingerprint.chars().take(ID_CHARS).collect(),
                finding: (*found).clone(),
                merges_itself: verdict != Verdict::Block
                    && crate::jobs::merges_without_a_person(
                        ctx.config.policy.auto_merge,
                        assessed.risk,
                    ),
                title: draft.title,
                files: draft.files,
                acceptance: draft.acceptance,
                verdict,
                risk: assessed.risk,
                reasons: assessed.reasons,
                task: tasks
                    .iter()
                    .find(|t| t.source.is_some() && t.source == source)
                    .map(|t| t.id),
            }
        })
        .collect())
}

/// The proposal as a person reads it.
pub fn markdown(p: &Proposal) -> String {
    let f = &p.finding.finding;
    let mut out = format!(
        "# Proposal {}: {}\n\n- finding: {} {}/{} at {}{}\n- verdict: {} — risk {}{}\n",
        p.id,
        p.title,
        f.severity,
        f.analyzer,
        f.rule,
        f.located(),
        if p.finding.new { " (new)" } else { "" },
        verdict_word(p.verdict),
        crate::review::risk_word(p.risk),
        if p.verdict == Verdict::Block {
            ": it cannot land"
        } else if p.merges_itself {
            ": auto_merge lets it merge after QA and review"
        } else {
            ": a person merges it"
        }
    );
    for reason in &p.reasons {
        out.push_str(&format!("  - {reason}\n"));
    }
    if let Some(task) = p.task {
        out.push_str(&format!("- already a task: {task}\n"));
    }
    out.push_str(&format!(
        "\n## Planned change\n\nFiles: {}\n\nAcceptance:\n",
        p.files.join(", ")
    ));
    for line in &p.acceptance {
        out.push_str(&format!("- {line}\n"));
    }
    out.push_str(&format!(
        "\n## Why\n\n{}\n\nImplement it with `dayshift implement {}` (the coder, QA and the reviewer, as any task).\n",
        f.message.lines().map(|l| format!("> {l}")).collect::<Vec<_>>().join("\n"),
        p.id
    ));
    out
}

pub fn verdict_word(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Pass => "pass",
        Verdict::Warn => "warn",
        Verdict::Block => "block",
    }
}

/// Write each proposal to `proposals/<id>.md` (temp file + rename, secrets redacted).
pub fn write(ctx: &Ctx, proposals: &[Proposal]) -> Result<Vec<PathBuf>> {
    let dir = ctx.home.root().join("proposals");
    std::fs::create_dir_all(&dir).at_path(&dir)?;
    proposals
        .iter()
        .map(|p| {
            let path = dir.join(format!("{}.md", p.id));
            ctx.write_redacted(&path, &markdown(p))?;
            Ok(path)
        })
        .collect()
}
