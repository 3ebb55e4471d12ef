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

use super::analyze::{Setup, TreeCode, analyze};
use super::analyzers::{Analyzer, Scope};
use super::config::{SCAN_CONFIG, ScanConfig};
use super::run::{RAN, last_finding, state_file};
use super::{Finding, fingerprint};
use crate::fsx::Beneath;
use crate::home::Home;
use crate::sandbox::scratch::Scratch;
use crate::target::Git;

/// The fingerprint a task the scan opened names (`source: scan:<fingerprint>`).
pub fn task_fingerprint(source: Option<&str>) -> Option<&str> {
    source?.strip_prefix("scan:")
}

/// Whether the finding with fingerprint `print` (from the home's last scan of its target) is
/// still at `base` (a revision of the home's clone): `Some(false)` when its analyzer no
/// longer reports it in its file (or the file is gone), `None` when that cannot be told
/// (see the module docs).
pub fn still_found(home: &Home, print: &str, base: &str) -> Option<bool> {
    let checkout = std::fs::canonicalize(home.workspace()).ok()?.join("scan");
    let state = state_file(&home.state_dir().join("scan"), &checkout);
    let finding = last_finding(&state, print)?;
    if !plain_relative(&finding.file) {
        // a name a tool reported oddly (absolute, `..`): not written anywhere
        return None;
    }
    let analyzer = Analyzer::named(&finding.analyzer)?;
    let per_file = matches!(analyzer.scope(), Scope::Files(_));
    if !per_file || analyzer == Analyzer::Health || analyzer.runs_tree_code() {
        return None;
    }
    let git = Git::new(home.target_clone());
    let at_base = format!("{base}:{}", finding.file);
    let shown = git.output_of(&["show", &at_base]).ok()?;
    if !shown.success() {
        // the file is gone from the base (and the base is there): so is its finding
        let base_known = git.commit_of(base).ok()?.is_some();
        return base_known.then_some(false);
    }
    let scratch = Scratch::create("recheck").ok()?;
    let tree = scratch.path().join("tree");
    let file = tree.join(&finding.file);
    std::fs::create_dir_all(file.parent()?).ok()?;
    std::fs::write(&file, &shown.stdout).ok()?;
    let config = ScanConfig::load(&home.config_file(SCAN_CONFIG), home.root(), false).ok()?;
    let setup = Setup {
        extra_dirs: vec![home.root().join(".venv/bin")],
        log_dir: scratch.path().join("logs"),
        cache_dir: scratch.path().join("cache"),
        versions_dir: home.state_dir().join("scan").join("versions"),
        config: ScanConfig {
            analyzers: vec![analyzer.clone()],
            tools: Vec::new(),
            ..config
        },
        tree_code: TreeCode::refused("a recheck never runs the tree's code"),
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

/// Whether `file` is a plain relative path (no root, no `..`): safe to join to a folder.
fn plain_relative(file: &str) -> bool {
    !file.is_empty()
        && Path::new(file)
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
}

/// The findings of one scan of `root`, deduplicated and fingerprinted as a full scan does.
fn fingerprints(root: &Path, found: Vec<Finding>) -> Vec<Finding> {
    let mut findings = fingerprint::dedupe(found);
    let tree = Beneath::new(root);
    fingerprint::assign(&mut findings, |file, line| {
        let text = tree.read_to_string(file, u64::MAX).ok()?;
        text.lines().nth(line as usize - 1).map(str::to_string)
    });
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_relative_names_are_written_into_the_scratch_tree() {
        assert!(plain_relative("src/jinja2/bccache.py"));
        for odd in [
            "",
            "/etc/passwd",
            "../outside.py",
            "src/../../x.py",
            "./a.py",
        ] {
            assert!(!plain_relative(odd), "{odd}");
        }
        assert_eq!(task_fingerprint(Some("scan:abc")), Some("abc"));
        assert_eq!(task_fingerprint(Some("vision")), None);
    }
}
