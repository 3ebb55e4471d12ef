//! The researcher (`research` job, 07:15): every open research question answered in a
//! report a person reads.
//!
//! The questions are the open `kind: research` tasks, and the research goals of today's
//! plan ("Ideas (Research First)" in VISION.md) that have no task yet — the researcher
//! creates that task as the planner would, so each answer completes exactly one task. For
//! each: search through the configured provider (a paid search is checked against the
//! budget first and recorded as spend), read the top pages as plain text (robots.txt,
//! timeouts, size caps and private addresses are [`crate::research`]'s), find the lines
//! of the target that mention the question, and ask the researcher model for an answer
//! whose every point is backed by a page or a line ([`answer`]). The report
//! ([`report`]) goes to `reports/research/`, the task completes with its link, and the
//! follow-ups it suggests are proposals: audited as `research.proposed`, listed in the
//! next morning's plan, never tasks until a person says so.
//!
//! Page text is data: it reaches only the model's prompt, inside marked blocks, and what
//! the model answers can only become the report's text — the job creates no task and
//! touches no file from it. A search provider that cannot be reached, or a model that cannot
//! answer, fails the job and leaves the question's task as it was.

pub mod answer;
mod promote;
pub mod report;

pub use promote::{promote, promoted, proposal_id};

use chrono::NaiveDate;

use self::answer::{ResearchAnswer, Shown};
use self::report::{Question, Source};
use super::orchestrate::Model;
use super::outcome::JobOutcome;
use super::{JobName, daily_plan::DailyPlan};
use crate::config::AgentName;
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::llm::budget::ExternalSpend;
use crate::llm::structured;
use crate::llm::{Message, Request, Role};
use crate::research::fetch::{FetchOptions, FetchSession};
use crate::research::search::SearchClient;
use crate::store::Event;
use crate::tasks::{Task, TaskKind, TaskState};
use crate::vision::GoalKind;

const ACTOR: &str = "researcher";

pub fn run(ctx: &mut Ctx, day: NaiveDate, model: Option<&Model>) -> Result<JobOutcome> {
    let model = model.ok_or_else(|| {
        Error::Refused(
            "the researcher needs a model: give agents.researcher a `provider` in config/agents.yaml (or set default_provider)".into(),
        )
    })?;
    let search = search_client(ctx)?;
    let mut tasks = open_questions(ctx, day)?;
    if tasks.is_empty() {
        return Ok(outcome(day, "no research question is open".into(), vec![]));
    }
    let notes = super::notes_and_rules(ctx).0;
    let settings = ctx.config.agents.research_settings();
    let mut session = FetchSession::new(FetchOptions::from_settings(&settings));
    let mut wrote = Vec::new();
    for task in &mut tasks {
        let found = look_up(
            ctx,
            &search,
            &mut session,
            &task.meta.title,
            settings.max_results,
            settings.pages,
        )?;
        let code = super::decompose::search(&ctx.home.target_clone(), &task.meta.title);
        let answer = ask(ctx, model, task, &found, &code, &notes)?;
        let path = write_report(ctx, day, task, &answer, &found)?;
        propose(ctx, task, &answer, &path)?;
        let shown = ctx.home.display_path(&path).to_string();
        // moved only once answered: a search or a model that fails leaves the task as it was
        if task.state == TaskState::Backlog {
            ctx.move_task(
                task,
                TaskState::InProgress,
                ACTOR,
                "taken by the researcher",
            )?;
        }
        // a report is its own review: written, then the question is answered
        let written = format!("report written: {shown}");
        ctx.move_task(task, TaskState::InReview, ACTOR, &written)?;
        ctx.move_task(
            task,
            TaskState::Completed,
            ACTOR,
            &format!("answered: {shown}"),
        )?;
        wrote.push(path);
    }
    let summary = format!("{} question(s) answered in reports/research/", wrote.len());
    Ok(outcome(day, summary, wrote))
}

/// Why the researcher cannot run in this home (no model, no search provider), for a skip
/// that lets the rest of the day go on.
pub fn not_ready(ctx: &Ctx) -> Option<String> {
    not_ready_in(&ctx.config)
}

/// [`not_ready`] from the config alone (for `doctor`).
pub fn not_ready_in(config: &crate::config::Config) -> Option<String> {
    let agents = &config.agents;
    if agents.search_for(AgentName::Researcher).is_none() {
        return Some("the researcher has no search provider: add `search:` to config/agents.yaml and `search: NAME` to agents.researcher (docs/agents.md); until then research tasks wait".into());
    }
    agents.provider_for(AgentName::Researcher).is_none().then(|| {
        "the researcher has no model: give agents.researcher a `provider` (or set default_provider); until then research tasks wait".into()
    })
}

fn outcome(day: NaiveDate, summary: String, wrote: Vec<std::path::PathBuf>) -> JobOutcome {
    JobOutcome {
        job: JobName::Research,
        day,
        summary,
        wrote,
    }
}

fn search_client(ctx: &Ctx) -> Result<SearchClient> {
    let agents = &ctx.config.agents;
    let name = agents.search_for(AgentName::Researcher).ok_or_else(|| {
        Error::Refused(
            "the researcher has no search provider: add `search:` providers to config/agents.yaml and name one in agents.researcher (`search: tavily`); docs/agents.md shows how".into(),
        )
    })?;
    let provider = agents.search.get(name).map(|p| &p.value).ok_or_else(|| {
        Error::Refused(format!("agents.researcher names the search provider `{name}`, which config/agents.yaml does not define"))
    })?;
    SearchClient::from_config(
        name,
        provider,
        &agents.research_settings(),
        &ctx.config.secrets,
    )
    .map_err(|e| Error::Refused(format!("search provider `{name}`: {e}")))
}

/// The open research tasks, after creating the task of each research goal planned today
/// that has none, oldest first.
fn open_questions(ctx: &Ctx, day: NaiveDate) -> Result<Vec<Task>> {
    let rows = ctx.store.tasks()?;
    if let Some(plan) = ctx
        .store
        .load_plan(day)?
        .and_then(|j| serde_json::from_str::<DailyPlan>(&j).ok())
    {
        let has_task: std::collections::BTreeSet<&str> =
            rows.iter().filter_map(|t| t.goal.as_deref()).collect();
        let drafts: Vec<_> = plan
            .to_plan()
            .filter(|g| g.kind == GoalKind::Research && !has_task.contains(g.goal_id.as_str()))
            .map(|g| super::plan::draft_for(g, &plan.notes, &[]))
            .collect();
        super::plan::create(ctx, drafts)?;
    }
    let mut open: Vec<Task> = Vec::new();
    for row in ctx.store.tasks()? {
        let researchable = row.kind == TaskKind::Research
            && matches!(row.state, TaskState::Backlog | TaskState::InProgress);
        if researchable {
            open.push(ctx.queue.find(row.id)?);
        }
    }
    open.sort_by_key(|t| t.meta.id);
    Ok(open)
}

/// What was found for a question: the pages read, each with its text.
struct Found {
    sources: Vec<(Source, String)>,
}

/// Search (a paid search checked against the budget first and billed after), then read
/// the top pages; a page that cannot be read is skipped with a log line.
fn look_up(
    ctx: &Ctx,
    search: &SearchClient,
    session: &mut FetchSession,
    question: &str,
    max_results: u32,
    pages: u32,
) -> Result<Found> {
    let cost = search.cost_per_search_usd();
    let budget = ctx.budget()?;
    if cost > 0.0 {
        let left = budget.remaining()?;
        if left.left_usd.is_some_and(|usd| usd < cost) {
            return Err(Error::Llm(crate::llm::LlmError::Budget(format!(
                "a search on `{}` costs ${cost:.3} and the day's budget has ${:.3} left",
                search.name(),
                left.left_usd.unwrap_or_default()
            ))));
        }
    }
    let hits = search.search(question, max_results).map_err(|e| {
        Error::Refused(format!(
            "the search provider `{}` failed: {e}; the question's task was not moved",
            search.name()
        ))
    })?;
    if cost > 0.0 {
        budget.record_external(&ExternalSpend {
            agent: ACTOR,
            job: "research",
            task: None,
            provider: search.name(),
            model: "search",
            usage: Default::default(),
            cost_usd: Some(cost),
        })?;
    }
    let mut sources = Vec::new();
    for hit in hits {
        if sources.len() >= pages as usize {
            break;
        }
        match session.fetch(&hit.url) {
            Ok(page) if !page.text.trim().is_empty() => {
                let title = page.title.clone().unwrap_or_else(|| hit.title.clone());
                let source = Source {
                    title,
                    url: hit.url.clone(),
                    chars: page.text.chars().count(),
                };
                sources.push((source, page.text));
            }
            Ok(_) => tracing::info!("{}: no readable text; skipped", hit.url),
            Err(e) => tracing::info!("{}: not read ({e}); skipped", hit.url),
        }
    }
    Ok(Found { sources })
}

fn ask(
    ctx: &Ctx,
    model: &Model,
    task: &Task,
    found: &Found,
    code: &[String],
    notes: &[String],
) -> Result<ResearchAnswer> {
    let shown = Shown {
        sources: found.sources.len(),
        lines: code.iter().filter_map(|l| code_ref(l)).collect(),
    };
    let sources: Vec<serde_json::Value> = found
        .sources
        .iter()
        .map(|(s, text)| serde_json::json!({"title": s.title, "url": s.url, "text": ctx.redact(text)}))
        .collect();
    let context = serde_json::json!({
        "question": task.meta.title,
        "notes": notes,
        "sources": sources,
        "code": code,
    });
    let request = Request {
        agent: AgentName::Researcher,
        job: Some("research".into()),
        task: Some(task.meta.id),
        system: model
            .prompts
            .render("researcher.system.j2", &serde_json::json!({}))?,
        messages: vec![Message {
            role: Role::User,
            content: model.prompts.render("researcher.user.j2", &context)?,
        }],
        max_tokens: model.max_tokens,
        temperature: None,
    };
    Ok(
        structured::ask(model.call, model.prompts, request, |a: &ResearchAnswer| {
            a.check(&shown)
        })?
        .value,
    )
}

/// `path:line` of a `git grep -n` line (`path:line:text`).
fn code_ref(line: &str) -> Option<String> {
    let mut parts = line.splitn(3, ':');
    let (path, number) = (parts.next()?, parts.next()?);
    number.parse::<u64>().ok()?;
    Some(format!("{path}:{number}"))
}

fn write_report(
    ctx: &Ctx,
    day: NaiveDate,
    task: &Task,
    answer: &ResearchAnswer,
    found: &Found,
) -> Result<std::path::PathBuf> {
    let slug = crate::tasks::id::slugify(&task.meta.title);
    let path = ctx.home.research_report(day, &slug);
    let question = Question {
        text: task.meta.title.clone(),
        task: Some(task.meta.id.to_string()),
        goal: task.meta.goal.clone(),
    };
    let sources: Vec<Source> = found.sources.iter().map(|(s, _)| s.clone()).collect();
    ctx.write_redacted(
        &path,
        &report::render(&question, answer, &sources, ctx.now()),
    )?;
    Ok(path)
}

/// Each follow-up as a `research.proposed` event: the next morning's plan lists them.
fn propose(ctx: &Ctx, task: &Task, answer: &ResearchAnswer, path: &std::path::Path) -> Result<()> {
    let report = ctx.home.display_path(path).to_string();
    for follow in &answer.follow_ups {
        ctx.audit(
            Event::new(ctx.now(), ACTOR, "research.proposed")
                .task(task.meta.id)
                .detail(
                    serde_json::json!({"title": follow.title, "why": follow.why, "report": report}),
                ),
        )?;
    }
    Ok(())
}
