//! Seed 001's command line over the scanner: `propose`, `implement`, `improve` and
//! `security-scan --fix`. Each scans the base as the monitor does, turns findings into
//! proposals ([`crate::jobs::monitor::propose`]), and implements them through the normal
//! path — a backlog task, then the work loop: coder → QA → reviewer → merge or a person.
//! `--dry-run` changes nothing: no proposal file, task, report or event; it prints what
//! would be done.

use std::process::ExitCode;

use super::run::{RunOptions, open_for_jobs};
use super::{print_json, table};
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::home::Home;
use crate::jobs::JobName;
use crate::jobs::monitor::propose::{self, Proposal, verdict_word};
use crate::jobs::monitor::{self, ACTOR, Keep, tasks};
use crate::review::Verdict;
use crate::scan::run::Found;

/// How long a fingerprint prefix must be to name a finding.
const MIN_PREFIX: usize = 6;

#[derive(Debug, clap::Args)]
pub struct ProposeArgs {
    /// Findings to propose a change for, by fingerprint (its first 6 or more characters,
    /// as `dayshift scan --json` shows). None: every finding without a task that
    /// config/scan.yaml's `findings_to_tasks.min_severity` takes.
    #[arg(value_name = "FINDING")]
    pub findings: Vec<String>,
    /// Print the proposals; write no file.
    #[arg(long)]
    pub dry_run: bool,
    /// JSON for scripts.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct ImplementArgs {
    /// The proposal: its id (the first 12 characters of its finding's fingerprint) or any
    /// 6 or more of them.
    #[arg(value_name = "PROPOSAL")]
    pub proposal: String,
    /// Say what would be done; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct ImproveArgs {
    /// Scan and propose only: print the proposals with their risk and verdict, change
    /// nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[arg(long)]
    pub json: bool,
}

/// `dayshift propose`: exit 0, 2 for a finding that is not there.
pub fn propose(home: Home, args: ProposeArgs) -> Result<ExitCode> {
    let ctx = Ctx::open(home, None)?;
    let keep = if args.dry_run {
        Keep::Nothing
    } else {
        Keep::Report
    };
    let scan = monitor::scan_base(&ctx, ctx.today(), keep, false)?;
    let chosen: Vec<&Found> = if args.findings.is_empty() {
        tasks::untaken(&ctx, &scan.report, &scan.config.findings_to_tasks)?
    } else {
        args.findings
            .iter()
            .map(|wanted| named_finding(&scan.report.findings, wanted))
            .collect::<Result<_>>()?
    };
    let proposals = propose::propose(&ctx, &chosen)?;
    if !args.dry_run {
        propose::write(&ctx, &proposals)?;
    }
    show(&ctx, &proposals, args.json, !args.dry_run);
    Ok(ExitCode::SUCCESS)
}

/// `dayshift implement`: exit 0 when the task was merged or waits for a person as policy
/// says, 1 when the proposal cannot land or the task failed, 2 for an unknown proposal.
pub fn implement(home: Home, args: ImplementArgs, verbose: bool) -> Result<ExitCode> {
    let (_logs, mut ctx) = open_for_jobs(home, &RunOptions::default(), verbose)?;
    let keep = if args.dry_run {
        Keep::Nothing
    } else {
        Keep::Report
    };
    let scan = monitor::scan_base(&ctx, ctx.today(), keep, false)?;
    let found = named_finding(&scan.report.findings, &args.proposal)?;
    let proposal = propose::propose(&ctx, &[found])?.remove(0);
    if let Some(task) = proposal.task {
        return Err(Error::Refused(format!(
            "{} has had a task already ({task}): a finding gets one task, ever; `dayshift tasks show {task}` says how it went",
            proposal.id
        )));
    }
    if proposal.verdict == Verdict::Block {
        eprintln!("{}", propose::markdown(&proposal));
        eprintln!(
            "{} cannot land: {}",
            proposal.id,
            proposal.reasons.join("; ")
        );
        return Ok(ExitCode::from(1));
    }
    if args.dry_run {
        show_drafts(&mut ctx, std::slice::from_ref(&proposal), args.json)?;
        eprintln!(
            "dry run: the coder's change for {} (not the tests); nothing was committed, and no task or proposal file was made",
            proposal.id
        );
        return Ok(ExitCode::SUCCESS);
    }
    propose::write(&ctx, std::slice::from_ref(&proposal))?;
    let opened = tasks::open(&ctx, &[&found.finding], "human")?;
    let worked = work(&mut ctx)?;
    report_tasks(&ctx, &opened, &worked, args.json)
}

/// `dayshift improve`: scan → propose → validate → implement → test, within the day's
/// task allowance and the budget.
pub fn improve(home: Home, args: ImproveArgs, verbose: bool) -> Result<ExitCode> {
    fix(home, args.dry_run, args.json, false, verbose)
}

/// `improve`, or `security-scan --fix` (`security_only`: without code health). A dry run
/// of `improve` prints the proposals; one of `security-scan --fix` also drafts each
/// change the day's allowance would take and prints its diff.
pub fn fix(
    home: Home,
    dry_run: bool,
    json: bool,
    security_only: bool,
    verbose: bool,
) -> Result<ExitCode> {
    let (_logs, mut ctx) = open_for_jobs(home, &RunOptions::default(), verbose)?;
    let day = ctx.today();
    let keep = if dry_run { Keep::Nothing } else { Keep::Report };
    let scan = monitor::scan_base(&ctx, day, keep, security_only)?;
    let policy = scan.config.findings_to_tasks;
    let candidates = tasks::untaken(&ctx, &scan.report, &policy)?;
    let proposals = propose::propose(&ctx, &candidates)?;
    if dry_run && security_only {
        let allowance = tasks::allowance(&ctx, &policy, day)?;
        let landable: Vec<Proposal> = proposals
            .iter()
            .filter(|p| p.verdict != Verdict::Block)
            .take(allowance)
            .cloned()
            .collect();
        show(&ctx, &proposals, json, false);
        show_drafts(&mut ctx, &landable, json)?;
        eprintln!(
            "dry run: {} proposal(s), {} change(s) drafted (not tested); nothing was committed, and no task or proposal file was made",
            proposals.len(),
            landable.len()
        );
        return Ok(ExitCode::SUCCESS);
    }
    if dry_run {
        show(&ctx, &proposals, json, false);
        eprintln!(
            "dry run: {} proposal(s); nothing was changed (no proposal file, task or merge)",
            proposals.len()
        );
        return Ok(ExitCode::SUCCESS);
    }
    propose::write(&ctx, &proposals)?;
    let allowance = tasks::allowance(&ctx, &policy, day)?;
    let landable: Vec<&crate::scan::Finding> = proposals
        .iter()
        .filter(|p| p.verdict != Verdict::Block)
        .take(allowance)
        .map(|p| &p.finding.finding)
        .collect();
    if proposals.len() > landable.len() {
        eprintln!(
            "{} proposal(s) wait: blocked by policy, or beyond today's {} task(s) (findings_to_tasks.max_tasks_per_day)",
            proposals.len() - landable.len(),
            policy.max_tasks_per_day
        );
    }
    let opened = tasks::open(&ctx, &landable, ACTOR)?;
    let worked = if opened.is_empty() {
        None
    } else {
        Some(work(&mut ctx)?)
    };
    match worked {
        Some(summary) => report_tasks(&ctx, &opened, &summary, json),
        None => {
            show(&ctx, &proposals, json, true);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The id a drafted change works under: no task of the queue has it.
const DRAFT_ID: crate::tasks::TaskId = crate::tasks::TaskId::new(0);

/// Draft the coder's change for each proposal and print its diff and the deterministic
/// layers' verdict (JSON: one object per proposal with `diff`, `risk`, `blocked`,
/// `reasons`, or `not_drafted`).
fn show_drafts(ctx: &mut Ctx, proposals: &[Proposal], json: bool) -> Result<()> {
    let mut drafted = Vec::new();
    for proposal in proposals {
        eprintln!("drafting the change for {} with the coder …", proposal.id);
        let draft = tasks::draft(&proposal.finding.finding);
        let dir = ctx.home.state_dir().join("drafts");
        let task = draft.into_task(DRAFT_ID, ctx.now(), &dir);
        let change = crate::jobs::draft_change(ctx, &task)?;
        drafted.push(match change {
            Ok((diff, review)) => serde_json::json!({
                "proposal": proposal.id, "diff": diff, "risk": review.risk,
                "blocked": review.blocked(), "reasons": review.reasons,
            }),
            Err(why) => serde_json::json!({"proposal": proposal.id, "not_drafted": why}),
        });
    }
    if json {
        print_json(&drafted);
        return Ok(());
    }
    for d in &drafted {
        let id = d["proposal"].as_str().unwrap_or_default();
        match d["not_drafted"].as_str() {
            Some(why) => println!("\n{id}: no change drafted: {why}"),
            None => println!(
                "\n{id}: the drafted change — risk {}{}\n{}",
                d["risk"].as_str().unwrap_or("?"),
                if d["blocked"] == true {
                    ", BLOCKED"
                } else {
                    ""
                },
                d["diff"].as_str().unwrap_or_default()
            ),
        }
    }
    Ok(())
}

/// The work loop, now: it takes the queue by priority, within the day's limits and budget.
fn work(ctx: &mut Ctx) -> Result<String> {
    let day = ctx.today();
    eprintln!("working the new task(s): coder → QA → reviewer …");
    Ok(crate::jobs::run_job(ctx, JobName::Work, day)?.summary)
}

/// How the opened tasks ended; exit 1 when one failed.
fn report_tasks(
    ctx: &Ctx,
    opened: &[crate::tasks::TaskId],
    worked: &str,
    json: bool,
) -> Result<ExitCode> {
    let rows = ctx.store.tasks()?;
    let ended: Vec<&crate::store::TaskRow> = opened
        .iter()
        .filter_map(|id| rows.iter().find(|r| r.id == *id))
        .collect();
    let failed = ended
        .iter()
        .any(|r| r.state == crate::tasks::TaskState::Failed);
    if json {
        print_json(&serde_json::json!({"work": worked, "tasks": ended}));
    } else {
        println!("work: {worked}");
        let rows: Vec<Vec<String>> = ended
            .iter()
            .map(|r| {
                vec![
                    r.id.to_string(),
                    r.state.to_string(),
                    r.title.clone(),
                    r.reason.clone().unwrap_or_default(),
                ]
            })
            .collect();
        print!(
            "{}",
            table::render(&["TASK", "STATE", "TITLE", "WHY"], &rows, 60)
        );
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The finding `wanted` names (a fingerprint or 6+ of its first characters).
fn named_finding<'a>(findings: &'a [Found], wanted: &str) -> Result<&'a Found> {
    let wanted = wanted.trim();
    if wanted.len() < MIN_PREFIX {
        return Err(Error::Usage(format!(
            "`{wanted}` is too short: give {MIN_PREFIX} or more characters of a fingerprint (`dayshift scan --json` shows them)"
        )));
    }
    let mut matching = findings
        .iter()
        .filter(|f| f.finding.fingerprint.starts_with(wanted));
    match (matching.next(), matching.next()) {
        (Some(found), None) => Ok(found),
        (Some(_), Some(_)) => Err(Error::Usage(format!(
            "`{wanted}` starts more than one fingerprint: give more characters"
        ))),
        (None, _) => Err(Error::Usage(format!(
            "no open finding of the base's scan starts with `{wanted}` (fixed, suppressed, or mistyped); `dayshift scan --json` lists them"
        ))),
    }
}

/// The proposals as a table (or JSON); `written`: where their files are.
fn show(ctx: &Ctx, proposals: &[Proposal], json: bool, written: bool) {
    if json {
        print_json(&proposals);
        return;
    }
    if proposals.is_empty() {
        println!("no proposal: no finding the policy takes is without a task");
        return;
    }
    let rows: Vec<Vec<String>> = proposals
        .iter()
        .map(|p| {
            let f = &p.finding.finding;
            vec![
                p.id.clone(),
                f.severity.to_string(),
                f.located(),
                format!("{}/{}", f.analyzer, f.rule),
                verdict_word(p.verdict).to_string(),
                crate::review::risk_word(p.risk).to_string(),
                if p.verdict == Verdict::Block {
                    "cannot land".into()
                } else if p.merges_itself {
                    "after QA and review".into()
                } else {
                    "a person".into()
                },
                p.reasons.join("; "),
            ]
        })
        .collect();
    print!(
        "{}",
        table::render(
            &[
                "PROPOSAL",
                "SEVERITY",
                "WHERE",
                "RULE",
                "VERDICT",
                "RISK",
                "MERGED BY",
                "WHY"
            ],
            &rows,
            60
        )
    );
    if written {
        println!(
            "\nthe proposals: {}",
            ctx.home.display_path(&ctx.home.root().join("proposals"))
        );
    }
}
