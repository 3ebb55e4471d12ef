//! `dayshift validate`: the reviewer's layers on any change — a task's branch, a branch of
//! the target, or a diff file (seed 001's validator) — each layer's verdict, the risk and
//! the reasons. Exit 0 when nothing blocks, 1 when something does.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::{print_json, table};
use crate::config::AgentName;
use crate::config::policy::Policy;
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::home::Home;
use crate::jobs::orchestrate::Model;
use crate::review::contents::{GitRevisions, OnDisk};
use crate::review::model::{self, ModelInput};
use crate::review::{
    self, Contents, Diff, Layer, LayerReport, NoteRules, PolicyInput, Review, Subject,
};
use crate::tasks::{TaskId, TaskMeta};

/// What to validate.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// A task of the queue: its own commits on its branch in the target clone (merged or
    /// not).
    #[arg(value_name = "TASK-ID", conflicts_with_all = ["diff", "branch"])]
    pub task: Option<String>,
    /// A unified diff (`git diff` output; `-` reads stdin). Files are read from --repo
    /// (default: the current folder) when the diff is applied there.
    #[arg(long, value_name = "FILE", conflicts_with = "branch")]
    pub diff: Option<PathBuf>,
    /// A branch of --repo (default: the home's target clone) against the base branch
    /// (target.yaml's, or `main` outside a home).
    #[arg(long, value_name = "B")]
    pub branch: Option<String>,
    /// The repository --diff and --branch read (default: the current folder for --diff,
    /// the target clone for --branch).
    #[arg(long, value_name = "DIR")]
    pub repo: Option<PathBuf>,
    /// Ask the reviewer's model too (it costs a model call, counted in the budget).
    #[arg(long)]
    pub model: bool,
    /// JSON for scripts: every layer with its findings, the risk and the reasons.
    #[arg(long)]
    pub json: bool,
}

/// The change being validated and what to judge it against.
struct Change {
    /// What it is, for the header ("T-0003 (agent/T-0003-x against main)").
    what: String,
    patch: String,
    contents: Box<dyn Contents>,
    task: Option<TaskMeta>,
    description: String,
}

pub fn validate(home_dir: &Path, args: ValidateArgs) -> Result<ExitCode> {
    // a diff file needs no home: policy.yaml's defaults judge it then
    let ctx = match Home::open(home_dir) {
        Ok(home) => Some(Ctx::open_read_only(home)?),
        Err(e)
            if args.task.is_some()
                || args.model
                || (args.branch.is_some() && args.repo.is_none()) =>
        {
            return Err(e.into());
        }
        Err(_) => None,
    };
    let change = change(ctx.as_ref(), &args)?;
    let diff = review::diff::parse(&change.patch).map_err(|e| {
        Error::Usage(format!(
            "{}: {e}; give a unified diff (`git diff` output)",
            change.what
        ))
    })?;
    let default_policy = Policy::default();
    let policy = ctx.as_ref().map_or(&default_policy, |c| &c.config.policy);
    let (notes, note_rules) = match &ctx {
        Some(ctx) => crate::jobs::notes_and_rules(ctx),
        None => (Vec::new(), NoteRules::default()),
    };
    let named = change
        .task
        .as_ref()
        .map(|t| t.files.clone())
        .unwrap_or_default();
    let mut review = Review::new(review::deterministic(&Subject {
        diff: &diff,
        contents: change.contents.as_ref(),
        policy: PolicyInput {
            policy,
            notes: &note_rules,
            named: &named,
        },
        removes_tests: change.task.as_ref().is_some_and(|t| t.removes_tests),
    }));
    review.push(LayerReport::skipped(
        Layer::Qa,
        "validate does not run the target's tests (the work loop does)",
    ));
    let model_layer = match (&ctx, args.model) {
        (Some(ctx), true) if !review.blocked() => ask_model(ctx, &change, &diff, &review, &notes)?,
        (_, true) => LayerReport::skipped(Layer::Model, "a deterministic layer blocks the change"),
        (_, false) => LayerReport::skipped(Layer::Model, "add --model to ask the reviewer's model"),
    };
    review.push(model_layer);
    let blocked = review.blocked();
    if args.json {
        print_json(&serde_json::json!({
            "change": change.what,
            "files": diff.files.len(),
            "lines": diff.lines_changed(),
            "blocked": blocked,
            "risk": review.risk,
            "reasons": review.reasons,
            "layers": review.layers,
            "policy": if ctx.is_some() { "config/policy.yaml" } else { "the defaults (no home here)" },
        }));
    } else {
        print_text(&change.what, &diff, &review, ctx.is_none());
    }
    Ok(if blocked {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn change(ctx: Option<&Ctx>, args: &ValidateArgs) -> Result<Change> {
    if let Some(file) = &args.diff {
        let patch = if file == Path::new("-") {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| Error::Usage(format!("cannot read the diff from stdin: {e}")))?;
            text
        } else {
            std::fs::read_to_string(file).map_err(|e| {
                Error::Usage(format!(
                    "cannot read {}: {e}; give the path of a diff file",
                    file.display()
                ))
            })?
        };
        let root = args.repo.clone().unwrap_or_else(|| PathBuf::from("."));
        let diff = review::diff::parse(&patch).unwrap_or_default();
        return Ok(Change {
            what: if file == Path::new("-") {
                "the diff on stdin".into()
            } else {
                file.display().to_string()
            },
            contents: Box::new(OnDisk::new(root, &diff)),
            patch,
            task: None,
            description: String::new(),
        });
    }
    if let Some(branch) = &args.branch {
        let repo = match (&args.repo, ctx) {
            (Some(repo), _) => repo.clone(),
            (None, Some(ctx)) => ctx.home.target_clone(),
            (None, None) => PathBuf::from("."),
        };
        let base = ctx.map_or("main", |c| c.config.target.base_branch.as_str());
        return from_branch(
            &repo,
            base,
            branch,
            format!("{branch} against {base}"),
            None,
            String::new(),
        );
    }
    let Some(id) = &args.task else {
        return Err(Error::Usage(
            "say what to validate: a TASK-ID, --diff FILE or --branch B (see `dayshift validate --help`)".into(),
        ));
    };
    let ctx = ctx.expect("a task needs a home: checked above");
    let id: TaskId = id
        .parse()
        .map_err(|_| Error::Usage(format!("`{id}` is not a task id (like T-0003)")))?;
    // exit 1 means blocked: a task that cannot be found or read is a usage problem (2)
    let task = ctx
        .queue
        .find(id)
        .map_err(|e| Error::Usage(e.to_string()))?;
    let Some(branch) = task.meta.branch.clone() else {
        return Err(Error::Usage(format!(
            "{id} has no branch yet: the coder has not committed a change for it"
        )));
    };
    let base = ctx.config.target.base_branch.clone();
    let description = crate::jobs::task_description(&task).to_string();
    let clone = ctx.home.target_clone();
    let what = format!("{id} ({branch}, its commits since it left {base})");
    // its own commits, found by their trailer: the same change before and after the merge
    match crate::target::task_change(&clone, &branch, id) {
        Ok(Some((fork, patch))) => Ok(Change {
            contents: Box::new(revisions(&clone, &fork, &branch)?),
            what,
            patch,
            task: Some(task.meta),
            description,
        }),
        _ => from_branch(&clone, &base, &branch, what, Some(task.meta), description),
    }
}

fn revisions(repo: &Path, fork: &str, branch: &str) -> Result<GitRevisions> {
    GitRevisions::open(repo, Some(fork), branch)
        .map_err(|e| Error::Usage(format!("cannot open {}: {}", repo.display(), e.message())))
}

fn from_branch(
    repo: &Path,
    base: &str,
    branch: &str,
    what: String,
    task: Option<TaskMeta>,
    description: String,
) -> Result<Change> {
    let (fork, patch) = crate::target::branch_change(repo, base, branch)
        .map_err(|e| Error::Usage(format!("cannot read {what} in {}: {e}", repo.display())))?;
    if patch.is_empty() {
        return Err(Error::Usage(format!(
            "{what}: the branch has no commit the base does not have (already merged?); name a branch with a change"
        )));
    }
    Ok(Change {
        contents: Box::new(revisions(repo, &fork, branch)?),
        what,
        patch,
        task,
        description,
    })
}

/// The model layer, with the reviewer's model from agents.yaml.
fn ask_model(
    ctx: &Ctx,
    change: &Change,
    diff: &Diff,
    review: &Review,
    notes: &[String],
) -> Result<LayerReport> {
    let models = ctx.models(&[AgentName::Reviewer])?;
    models.with_model(AgentName::Reviewer, |model| match model {
        Some(model) => model_layer(ctx, model, change, diff, review, notes),
        None => Ok(LayerReport::skipped(
            Layer::Model,
            "no reviewer model is configured (agents.yaml: agents.reviewer.provider)",
        )),
    })
}

fn model_layer(
    ctx: &Ctx,
    model: &Model,
    change: &Change,
    diff: &Diff,
    review: &Review,
    notes: &[String],
) -> Result<LayerReport> {
    let placeholder;
    let task = match &change.task {
        Some(t) => t,
        None => {
            placeholder = crate::tasks::TaskMeta::for_review(&change.what, ctx.now());
            &placeholder
        }
    };
    let verdict = model::review(
        model,
        &ModelInput {
            task,
            description: &change.description,
            notes,
            patch: &change.patch,
            diff,
            layers: review.layers.iter().map(LayerReport::line).collect(),
        },
    )?;
    let mut findings = model::findings(&verdict);
    for f in &mut findings {
        f.message = ctx.redact(&f.message);
    }
    Ok(LayerReport::new(
        Layer::Model,
        ctx.redact(&verdict.summary_line()),
        findings,
    ))
}

fn print_text(what: &str, diff: &Diff, review: &Review, defaults: bool) {
    println!(
        "validate: {what} — {} file(s), {} line(s) changed{}\n",
        diff.files.len(),
        diff.lines_changed(),
        if defaults {
            " (no home here: policy.yaml's defaults)"
        } else {
            ""
        }
    );
    let mut rows: Vec<Vec<String>> = Vec::new();
    for l in &review.layers {
        let (verdict, time) = match &l.skipped {
            Some(_) => ("skipped".to_string(), String::new()),
            None => (
                format!("{:?}", l.verdict).to_lowercase(),
                format!("{:.1} ms", l.micros as f64 / 1000.0),
            ),
        };
        let mut lines: Vec<String> = match &l.skipped {
            Some(why) => vec![why.clone()],
            None if l.findings.is_empty() => vec![l.summary.clone()],
            None => l.findings.iter().map(review::Finding::located).collect(),
        };
        let first = lines.remove(0);
        rows.push(vec![l.layer.name().to_string(), verdict, time, first]);
        rows.extend(
            lines
                .into_iter()
                .map(|line| vec![String::new(), String::new(), String::new(), line]),
        );
    }
    print!(
        "{}",
        table::render(&["LAYER", "VERDICT", "TIME", "WHAT IT FOUND"], &rows, 12)
    );
    println!("\nrisk: {}", review::risk_word(review.risk));
    for r in &review.reasons {
        println!("  - {r}");
    }
    if let Some(f) = review.final_block() {
        println!(
            "\nblocked: {} — the work loop fails such a task at once",
            f.located()
        );
    } else if review.blocked() {
        println!(
            "\nblocked: the work loop sends this change back to the coder with the reasons above"
        );
    } else {
        println!("\npasses: nothing blocks it; policy's auto_merge decides by the risk");
    }
}
