//! The reviewer in the work loop (DESIGN §6, [`crate::review`]): the deterministic layers
//! right after the guardrails, before the tests run (a change that leaks a secret or cannot
//! parse never reaches them); the QA layer once they ran; the model after the commit, from
//! in_review — approve, request changes (back to in_progress with the comments, at most
//! `review_rounds` times), or escalate (a person decides).

use super::{ACTOR, Ended, Stop, finish};
use crate::config::AgentName;
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::forge::Forge;
use crate::jobs::orchestrate::Model;
use crate::llm::LlmError;
use crate::llm::structured::StructuredError;
use crate::qa::QaVerdict;
use crate::review::contents::GitRevisions;
use crate::review::model::{self, ModelDecision, ModelInput};
use crate::review::{self, Layer, LayerReport, NoteRules, PolicyInput, Review, Subject};
use crate::target;
use crate::tasks::Task;

/// Rounds of "request changes" when agents.yaml does not say.
pub const DEFAULT_REVIEW_ROUNDS: u32 = 2;

/// What the reviewer works with for a whole work run.
pub(super) struct Reviewer<'a> {
    /// The reviewer's model; `None`: the model layer is skipped (saying so).
    pub model: Option<&'a Model<'a>>,
    /// Today's VISION.md notes: the coder and the model hear them.
    pub notes: Vec<String>,
    /// The never-touch rules the notes ask for.
    pub note_rules: NoteRules,
    /// The most times a change is sent back before a person decides.
    pub rounds: u32,
    /// Where its verdicts land: a pull request, or the clone's base branch.
    pub forge: &'a dyn Forge,
}

impl Reviewer<'_> {
    pub fn rounds(ctx: &Ctx) -> u32 {
        ctx.config
            .agents
            .agents
            .get(&AgentName::Reviewer)
            .and_then(|r| r.review_rounds)
            .unwrap_or(DEFAULT_REVIEW_ROUNDS)
    }
}

/// Today's VISION.md notes (every agent hears them) and the never-touch rules they ask
/// for, resolved against the target's tracked files ([`crate::vision::rules`]).
pub fn notes_and_rules(ctx: &Ctx) -> (Vec<String>, NoteRules) {
    let (notes, rules) = crate::vision::notes_and_rules(&ctx.home, &ctx.home.target_clone());
    let pairs = rules
        .into_iter()
        .flat_map(|r| r.globs.into_iter().map(move |g| (g, r.note.clone())));
    (notes, NoteRules::new(pairs))
}

/// The task's description: its body up to the first section after `## Description`.
pub fn description(task: &Task) -> &str {
    task.body
        .split("\n## ")
        .next()
        .unwrap_or("")
        .trim_start_matches("## Description")
        .trim()
}

/// Layers 1–4 on the change from `base` to the judged `tree` in `repo` (`patch` is its
/// text). `Err`: the diff cannot be read — the change cannot be judged.
pub(super) fn deterministic(
    ctx: &Ctx,
    reviewer: &Reviewer,
    task: &Task,
    repo: &std::path::Path,
    base: &str,
    tree: &str,
    patch: &str,
) -> std::result::Result<Review, String> {
    let diff = review::diff::parse(patch)
        .map_err(|e| format!("the change's diff cannot be read ({e})"))?;
    let contents = GitRevisions::open(repo, Some(base), tree)
        .map_err(|e| format!("the changed files cannot be read ({})", e.message()))?;
    Ok(Review::new(review::deterministic(&Subject {
        diff: &diff,
        contents: &contents,
        policy: PolicyInput {
            policy: &ctx.config.policy,
            notes: &reviewer.note_rules,
            named: &task.meta.files,
        },
        removes_tests: task.meta.removes_tests,
    })))
}

/// Add the QA layer (what the target's checks said, against the base).
pub(super) fn add_qa(ctx: &Ctx, task: &Task, review: &mut Review, verdict: Option<&QaVerdict>) {
    let layer = match verdict {
        Some(v) => LayerReport::timed(Layer::Qa, || {
            review::qa::check(
                v,
                ctx.config.policy.max_coverage_drop,
                task.meta.removes_tests,
            )
        }),
        None => LayerReport::skipped(Layer::Qa, "the target has no lint or test command"),
    };
    review.push(layer);
}

/// The model layer on a committed task in review, then its end: merged or waiting by
/// policy, sent back to the coder, or waiting for a person.
pub(super) fn judge_with_model(
    ctx: &Ctx,
    reviewer: &Reviewer,
    task: &mut Task,
    branch: &str,
    mut review: Review,
) -> Result<Ended> {
    if review.blocked() {
        // a blocked change is never committed; should one be, a person decides
        let why = review.headline();
        return finish::judge_review(ctx, reviewer.forge, task, branch, &review, Some(why));
    }
    let Some(model) = reviewer.model else {
        review.push(LayerReport::skipped(
            Layer::Model,
            "no reviewer model is configured (agents.yaml: agents.reviewer.provider)",
        ));
        return finish::judge_review(ctx, reviewer.forge, task, branch, &review, None);
    };
    let clone = ctx.home.target_clone();
    let patch = match target::branch_change(&clone, &ctx.config.target.base_branch, branch) {
        Ok((_, patch)) => patch,
        Err(e) => {
            let why = format!("the reviewer cannot read the change: {e}");
            return finish::judge_review(ctx, reviewer.forge, task, branch, &review, Some(why));
        }
    };
    let diff = review::diff::parse(&patch).unwrap_or_default();
    let layers = review.layers.iter().map(LayerReport::line).collect();
    let answer = model::review(
        model,
        &ModelInput {
            task: &task.meta,
            description: description(task),
            notes: &reviewer.notes,
            patch: &patch,
            diff: &diff,
            layers,
        },
    );
    let verdict = match answer {
        Ok(v) => v,
        Err(e) => return model_failed(ctx, reviewer, task, branch, review, e),
    };
    let clean = |s: &str| ctx.redact(s);
    let mut findings = model::findings(&verdict);
    for f in &mut findings {
        f.message = clean(&f.message);
    }
    let summary = clean(&verdict.summary_line());
    review.push(LayerReport::new(Layer::Model, summary, findings));
    task.meta.reviewer = Some(verdict.verdict);
    match verdict.verdict {
        ModelDecision::RequestChanges if task.meta.review_rounds < reviewer.rounds => {
            finish::send_back(ctx, task, &review)
        }
        ModelDecision::RequestChanges => {
            let why = format!(
                "the reviewer still asks for changes after {} round(s) (review_rounds): {}",
                task.meta.review_rounds,
                review.headline()
            );
            finish::judge_review(ctx, reviewer.forge, task, branch, &review, Some(why))
        }
        ModelDecision::Escalate => {
            let why = review
                .findings()
                .find(|f| f.layer == Layer::Model)
                .map(|f| f.message.clone())
                .unwrap_or_else(|| "the reviewer asks a person to decide".into());
            finish::judge_review(ctx, reviewer.forge, task, branch, &review, Some(why))
        }
        ModelDecision::Approve => {
            finish::judge_review(ctx, reviewer.forge, task, branch, &review, None)
        }
    }
}

/// The model review could not be had: a spent budget, an outage or a setup problem stops
/// the loop (the task stays in review, unjudged, and the next run reviews it); an answer
/// that was unusable twice leaves the decision to a person.
fn model_failed(
    ctx: &Ctx,
    reviewer: &Reviewer,
    task: &mut Task,
    branch: &str,
    mut review: Review,
    e: Error,
) -> Result<Ended> {
    let stop = match &e {
        Error::Model(StructuredError::Llm(LlmError::Budget(why))) => {
            Some(Stop::Budget(why.clone()))
        }
        Error::Model(StructuredError::Llm(LlmError::Cancelled { .. })) => Some(Stop::Cancelled),
        Error::Model(StructuredError::Llm(l)) if l.is_retryable() => Some(Stop::ProviderDown(
            ctx.redact(&format!("the reviewer's model: {l}")),
        )),
        Error::Model(StructuredError::Llm(l)) => Some(Stop::Environment(
            ctx.redact(&format!("the reviewer's model: {l}")),
        )),
        _ => None,
    };
    if let Some(stop) = stop {
        task.log(
            ctx.now(),
            ACTOR,
            &format!("the model review could not run: {stop}; the next work run reviews it"),
        );
        ctx.save_task(
            task,
            ACTOR,
            "review.interrupted",
            serde_json::json!({"why": stop.to_string()}),
        )?;
        return Ok(Ended::Interrupted(stop));
    }
    let why = ctx.redact(&format!("the reviewer's answer could not be used: {e}"));
    review.push(LayerReport::skipped(Layer::Model, why.clone()));
    finish::judge_review(ctx, reviewer.forge, task, branch, &review, Some(why))
}
