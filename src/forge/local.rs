//! Local-only: no hosting to offer a change on. A change policy allows is merged into the
//! base branch of the clone and pushed to origin when origin takes it ([`Publish`]).

use super::{Decision, Forge, Landing};
use crate::context::Ctx;
use crate::error::Result;
use crate::review::Review;
use crate::target::{self, Publish, TargetError};
use crate::tasks::Task;

/// Merges in the clone; people decide with `dayshift tasks approve|reject`.
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalOnly;

impl Forge for LocalOnly {
    fn describe(&self) -> String {
        "local-only: merges go into the clone's base branch, pushed to origin when it takes them"
            .into()
    }

    fn offer(&self, _: &Ctx, _: &mut Task, _: &str, _: &Review) -> Result<()> {
        Ok(())
    }

    fn land(&self, ctx: &Ctx, _task: &mut Task, branch: &str, title: &str) -> Result<Landing> {
        let clone = ctx.home.target_clone();
        let base = &ctx.config.target.base_branch;
        let merged = match target::merge_into_base(&clone, branch, base, title) {
            Ok(merged) => merged,
            Err(TargetError::Unpublished(e)) => {
                return Ok(Landing::Unreachable(format!(
                    "the merge into {base} could not be pushed: {e}"
                )));
            }
            Err(e) => {
                return Ok(Landing::NeedsPerson(format!(
                    "the merge into {base} cannot be made: {e}"
                )));
            }
        };
        let note = match &merged.publish {
            Publish::KeepInClone { origin, .. } => Some(format!(
                "kept in the clone, not pushed: {} has `{base}` checked out (the report says how to take it)",
                origin.display()
            )),
            _ => None,
        };
        Ok(Landing::Merged {
            pushed: merged.publish == Publish::Push,
            head: merged.head,
            note,
        })
    }

    fn decisions(&self, _: &Ctx, _: &mut Task) -> Result<Vec<Decision>> {
        Ok(Vec::new())
    }
}
