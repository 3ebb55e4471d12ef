//! The code-health monitor as one analyzer of a scan, through the cache: sizes and
//! complexity per file (only changed files are read again), duplication over the whole
//! tree (again when any file changed), and TODO ages (again each day: a TODO ages without
//! changing).

use chrono::NaiveDate;

use super::HealthLimits;
use crate::scan::cache::{self, Matcher, Plan, Reuse, Slot, Tree};
use crate::scan::{Finding, ScanError};

/// What the health analyzer found, how much came from the cache, and what it could not
/// measure (TODO ages outside a git repository).
pub struct Measured {
    pub found: Vec<Finding>,
    pub reuse: Reuse,
    pub note: Option<String>,
}

/// The health findings of `tree`; `plan` is the per-file plan the scan made for it.
pub fn scan(
    tree: &Tree,
    plan: &Plan,
    limits: &HealthLimits,
    cache_dir: &std::path::Path,
    today: NaiveDate,
) -> Result<Measured, ScanError> {
    let root = tree.root();
    let limits_key = format!("{limits:?}");
    let sizes = Slot::new(cache_dir, "health", &[&limits_key]);
    let (mut found, reuse) = cache::through(&sizes, plan, tree, today, |files| {
        Ok::<_, ScanError>(super::scan(root, files.unwrap_or(tree.files()), limits))
    })?;
    let whole = |advisories| Plan::Whole {
        inputs: Matcher::every_file(),
        advisories,
    };
    let copies = Slot::new(cache_dir, "health-duplication", &[]);
    let (dupes, _) = cache::through(&copies, &whole(false), tree, today, |_| {
        Ok::<_, ScanError>(super::duplicates(root, tree.files()))
    })?;
    let mut note = None;
    let age = limits.todo_max_age_days.to_string();
    let todos = Slot::new(cache_dir, "health-todo", &[&age]);
    let (old, _) = cache::through(&todos, &whole(true), tree, today, |_| {
        let aged = super::old_todos(root, tree.files(), limits.todo_max_age_days, today);
        Ok::<_, ScanError>(aged.unwrap_or_else(|why| {
            note = Some(why);
            Vec::new()
        }))
    })?;
    found.extend(dupes);
    found.extend(old);
    Ok(Measured { found, reuse, note })
}
