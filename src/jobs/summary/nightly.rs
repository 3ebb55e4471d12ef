//! The nightly summary: the day's report condensed — merged tasks with their pull
//! requests, failed tasks with their reasons, what waits on a person, whether work stopped
//! early and the spend — linking to the daily report.

use chrono::NaiveDate;

use super::{DayMoves, bullets, needs_you, one_line, section, spend, summary_notice, task_label};
use crate::context::Ctx;
use crate::error::Result;
use crate::jobs::day_facts::StopKind;
use crate::jobs::history_chart;
use crate::notify::{Notice, NoticeKind};
use crate::tasks::TaskId;

/// The nightly summary of `day`, from the day's moves and runs in the store.
pub fn nightly(ctx: &Ctx, day: NaiveDate) -> Result<Notice> {
    let tasks = ctx.store.tasks()?;
    let link = ctx
        .home
        .display_path(&ctx.home.daily_report(day))
        .to_string();
    let moves = DayMoves::of(ctx, day)?;
    let needs = needs_you(ctx, &tasks)?;
    let stops = stopped_early(ctx, day)?;

    let title = if moves.merged.is_empty() && moves.failed.is_empty() {
        format!("Night, {day}: nothing merged")
    } else {
        format!(
            "Night, {day}: {} merged, {} failed",
            moves.merged.len(),
            moves.failed.len()
        )
    };
    let fields = vec![
        ("Merged".to_string(), moves.merged.len().to_string()),
        ("Failed".to_string(), moves.failed.len().to_string()),
        ("Waiting on a person".to_string(), needs.len().to_string()),
        ("Spend".to_string(), spend(ctx, day)?),
    ];

    let mut parts = Vec::new();
    if moves.merged.is_empty() && moves.failed.is_empty() {
        parts.push("Nothing merged and nothing failed this day.".to_string());
    }
    if !moves.merged.is_empty() {
        let pulls = PullLinks::of(ctx);
        let items: Vec<String> = moves
            .merged
            .iter()
            .map(|id| match pulls.link(ctx, *id) {
                Some(pr) => format!("{} — {pr}", task_label(*id, &tasks)),
                None => task_label(*id, &tasks),
            })
            .collect();
        parts.push(section("Merged", &bullets(&items, &link)));
    }
    if !moves.failed.is_empty() {
        let items: Vec<String> = moves
            .failed
            .iter()
            .map(|(id, why)| format!("{} — {}", task_label(*id, &tasks), one_line(why)))
            .collect();
        parts.push(section("Failed", &bullets(&items, &link)));
    }
    if !needs.is_empty() {
        parts.push(section("Waiting on a person", &bullets(&needs, &link)));
    }
    if !stops.is_empty() {
        parts.push(section("Work stopped early", &bullets(&stops, &link)));
    }
    // the report's 14-day chart, as text Discord can show (the SVG is next to the report)
    let history = crate::history::last_days(&ctx.store, day, history_chart::DAYS)?;
    parts.push(section(
        &format!("The last {} days", history_chart::DAYS),
        &format!(
            "`{}`",
            crate::history::sparkline_line(&history, history_chart::cap(ctx))
        ),
    ));
    Ok(summary_notice(
        ctx,
        NoticeKind::Nightly,
        title,
        &parts,
        fields,
        link,
    ))
}

/// The day's runs that stopped the work early, each as what stopped it and the run's
/// error in one line.
fn stopped_early(ctx: &Ctx, day: NaiveDate) -> Result<Vec<String>> {
    Ok(ctx
        .store
        .runs_on(day)?
        .into_iter()
        .filter_map(|run| {
            let error = run.error?;
            let what = match StopKind::of(&error)? {
                StopKind::Budget => "the daily budget ran out",
                StopKind::ProviderDown => "the model provider was unavailable",
                StopKind::SetupNeedsFix => "the setup needs a fix (`dayshift doctor`)",
            };
            Some(format!("{what} — {}: {}", run.job, one_line(&error)))
        })
        .collect())
}

/// Where the target's pull requests are seen on the web, when GitHub is on.
struct PullLinks {
    /// `https://github.com/OWNER/REPO` (or an Enterprise host's); `None` for an API that is
    /// neither (a fake on 127.0.0.1), whose pull requests are named by number only.
    html: Option<String>,
    github_on: bool,
}

impl PullLinks {
    fn of(ctx: &Ctx) -> PullLinks {
        let github = ctx.config.target.github.as_ref();
        PullLinks {
            html: github.and_then(|g| {
                let base = html_base(&g.api_url)?;
                Some(format!("{base}/{}/{}", g.owner, g.repo))
            }),
            github_on: github.is_some(),
        }
    }

    /// The pull request of task `id`, as a link or "PR #N"; `None` without GitHub or a PR.
    fn link(&self, ctx: &Ctx, id: TaskId) -> Option<String> {
        if !self.github_on {
            return None;
        }
        let number = ctx.queue.find(id).ok()?.meta.pr?;
        Some(match &self.html {
            Some(html) => format!("{html}/pull/{number}"),
            None => format!("PR #{number}"),
        })
    }
}

/// The web address that goes with a GitHub API address: `https://api.github.com` →
/// `https://github.com`, Enterprise `https://HOST/api/v3` → `https://HOST`; else none.
fn html_base(api_url: &str) -> Option<String> {
    let api = api_url.trim().trim_end_matches('/');
    if api == crate::config::github::DEFAULT_API_URL {
        return Some("https://github.com".to_string());
    }
    let host = api.strip_prefix("https://")?.strip_suffix("/api/v3")?;
    (!host.is_empty() && !host.contains('/')).then(|| format!("https://{host}"))
}

#[cfg(test)]
mod tests {
    use super::html_base;

    #[test]
    fn pull_request_pages_are_on_github_or_the_enterprise_host_only() {
        assert_eq!(
            html_base("https://api.github.com/").as_deref(),
            Some("https://github.com")
        );
        assert_eq!(
            html_base("https://git.acme.test/api/v3").as_deref(),
            Some("https://git.acme.test")
        );
        assert_eq!(html_base("http://127.0.0.1:4567"), None);
        assert_eq!(html_base("http://git.acme.test/api/v3"), None);
    }
}
