//! `dayshift rollback <TASK-ID> | --last`: undo an agent's merge ([`crate::jobs::rollback`]).

use std::process::ExitCode;

use super::print_json;
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::home::Home;
use crate::jobs::rollback::{self, Which};
use crate::tasks::TaskId;

#[derive(Debug, clap::Args)]
pub struct RollbackArgs {
    /// The completed task whose merge to undo.
    #[arg(
        value_name = "TASK-ID",
        required_unless_present = "last",
        conflicts_with = "last"
    )]
    task: Option<String>,
    /// Undo the latest merge dayshift made.
    #[arg(long)]
    last: bool,
    /// Who rolls back (default: $USER); written in the task files and the audit.
    #[arg(long, value_name = "NAME")]
    by: Option<String>,
    /// JSON for scripts.
    #[arg(long)]
    json: bool,
}

pub fn rollback(home: Home, args: RollbackArgs) -> Result<ExitCode> {
    let which = match &args.task {
        Some(id) => Which::Task(id.parse::<TaskId>().map_err(Error::Usage)?),
        None => Which::Last,
    };
    let by = args
        .by
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "a person".into());
    let ctx = Ctx::open(home, None)?;
    let done = rollback::rollback(&ctx, which, &by)?;
    if args.json {
        print_json(&done);
    } else {
        println!(
            "{} rolled back by {by}: {} reverts it (commit {}); {}",
            done.task,
            done.revert_task,
            &done.commit[..done.commit.len().min(10)],
            done.outcome
        );
    }
    Ok(ExitCode::SUCCESS)
}
