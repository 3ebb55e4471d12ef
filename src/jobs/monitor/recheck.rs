//! Before the coder takes a task the scan opened, its finding is looked for again in the
//! base as it is now: an earlier task may have fixed it on the way (one change fixing two
//! findings in a file), and working a fixed finding would cost attempts and fail. Only the
//! finding's own analyzer runs, on the finding's file alone, so the check takes the time of
//! one tool on one file.
//!
//! What cannot be told this way is left to the coder: an analyzer that reads the project
//! as a whole (a lockfile audit), code health (duplication spans files), one that runs the
//! tree's code, a finding the last scan no longer knows, a tool that is missing or fails.

use std::path::Path;

use super::tasks::fingerprint_of;
use crate::context::Ctx;
use crate::sandbox::scratch::Scratch;
use crate::scan::analyze::{Setup, analyze};
use crate::scan::analyzers::{Analyzer, Scope};
use crate::scan::config::{SCAN_CONFIG, ScanConfig};
use crate::scan::run::{RAN, last_finding, state_file};
use crate::scan::{Finding, fingerprint};
use crate::tasks::Task;

/// Whether the finding `task` was opened for is still in the base: `Some(false)` when its
/// analyzer no longer reports it in its file (or the file is gone), `None` when that cannot
/// be told (see the module docs).
pub fn still_found(ctx: &Ctx, task: &Task) -> Option<bool> {
    let print = fingerprint_of(task.meta.source.as_deref())?;
    let checkout = std::fs::canonicalize(ctx.home.workspace())
        .ok()?
        .join("scan");
    let state = state_file(&ctx.home.state_dir().join("scan"), &checkout);
    let finding = last_finding(&state, print)?;
    let analyzer = Analyzer::named(&finding.analyzer)?;
    let per_file = matches!(analyzer.scope(), Scope::Files(_));
    if !per_file || analyzer == Analyzer::Health || analyzer.runs_tree_code() {
        return None;
    }
    let base = super::super::deploy::newest_base(ctx).ok()?;
    let git = crate::target::Git::new(ctx.home.target_clone());
    let shown = git
        .output_of(&["show", &format!("{base}:{}", finding.file)])
        .ok()?;
    if !shown.success() {
        // the file is gone from the base: so is its finding
        let gone = git.output_of(&["cat-file", "-e", &format!("{base}:{}", finding.file)]);
        return gone.ok().filter(|out| !out.success()).map(|_| false);
    }
    let scratch = Scratch::create("recheck").ok()?;
    let tree = scratch.path().join("tree");
    let file = tree.join(&finding.file);
    std::fs::create_dir_all(file.parent()?).ok()?;
    std::fs::write(&file, &shown.stdout).ok()?;
    let config =
        ScanConfig::load(&ctx.home.config_file(SCAN_CONFIG), ctx.home.root(), false).ok()?;
    let setup = Setup {
        extra_dirs: vec![ctx.home.root().join(".venv/bin")],
        log_dir: scratch.path().join("logs"),
        cache_dir: scratch.path().join("cache"),
        versions_dir: ctx.home.state_dir().join("scan").join("versions"),
        config: ScanConfig {
            analyzers: vec![analyzer.clone()],
            tools: Vec::new(),
            ..config
        },
        tree_code: Err("a recheck never runs the tree's code".into()),
    };
    let (runs, found) = analyze(&tree, &setup);
    let ran = runs
        .iter()
        .any(|run| run.name == analyzer.name() && run.status == RAN);
    if !ran {
        return None;
    }
    Some(
        fingerprints(&tree, found)
            .iter()
            .any(|f| f.fingerprint == print),
    )
}

/// The findings of one scan of `root`, deduplicated and fingerprinted as a full scan does.
fn fingerprints(root: &Path, found: Vec<Finding>) -> Vec<Finding> {
    let mut findings = fingerprint::dedupe(found);
    fingerprint::assign(&mut findings, |file, line| {
        let text = std::fs::read_to_string(root.join(file)).ok()?;
        text.lines().nth(line as usize - 1).map(str::to_string)
    });
    findings
}
