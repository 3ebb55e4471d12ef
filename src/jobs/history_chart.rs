//! The wrap-up's look back: the 14-day chart written next to the daily report
//! (reports/daily/YYYY-MM-DD.svg) and the lines that link it and spell it as sparklines.
//! A chart that cannot be made is a warning, never a failed wrap-up.

use std::path::PathBuf;

use chrono::NaiveDate;

use crate::context::Ctx;
use crate::history::{self, Cap};

/// How many days the chart looks back over, the report's day included.
pub const DAYS: u32 = 14;

/// The daily cap of agents.yaml in what it is set in (dollars first, as the budget line).
pub fn cap(ctx: &Ctx) -> Cap {
    let Some(budget) = &ctx.config.agents.budget else {
        return Cap::None;
    };
    match (budget.value.daily_usd, budget.value.daily_tokens) {
        (Some(usd), _) => Cap::Usd(usd),
        (None, Some(tokens)) => Cap::Tokens(tokens),
        (None, None) => Cap::None,
    }
}

/// Write the chart of the `DAYS` days ending with `day` and return where it went (if it
/// was written) and the markdown for the top of the report: the image link and a line of
/// sparklines (empty when the history cannot be read).
pub fn write(ctx: &Ctx, day: NaiveDate) -> (Option<PathBuf>, String) {
    let days = match history::last_days(&ctx.store, day, DAYS) {
        Ok(days) => days,
        Err(e) => {
            tracing::warn!(
                "the {DAYS}-day history could not be read, the report has no chart: {e}"
            );
            return (None, String::new());
        }
    };
    let cap = cap(ctx);
    let line = format!(
        "{DAYS} days to {day}: {}.\n\n",
        history::sparkline_line(&days, cap)
    );
    let path = ctx.home.daily_chart(day);
    let written = history::chart::svg(&days, cap)
        .map_err(|e| e.to_string())
        .and_then(|svg| ctx.write_redacted(&path, &svg).map_err(|e| e.to_string()));
    match written {
        Ok(()) => {
            let name = path
                .file_name()
                .map_or(String::new(), |n| n.to_string_lossy().into());
            let link = format!(
                "![The last {DAYS} days: tasks merged and failed, spend against the cap]({name})\n\n"
            );
            (Some(path), link + &line)
        }
        Err(e) => {
            tracing::warn!("the {DAYS}-day chart was not written, the report links none: {e}");
            (None, line)
        }
    }
}
