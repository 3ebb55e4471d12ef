//! One scan of one tree, the way `dayshift scan` and the `monitor` job both do it: every
//! analyzer, the findings put together and compared with the last scan of that tree (kept
//! in a state folder outside it), then the home's suppressions applied.

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};

use super::Finding;
use super::analyze::{Setup, TreeCode, analyze};
use super::config::ScanConfig;
use super::ignore::{self, Suppression};
use super::run::{AnalyzerRun, ScanReport, finish, state_file};
use crate::problem::{At, FileProblem};
use crate::sandbox::Confinement;

/// Where one scan keeps what it needs between runs, and what it may not report.
pub struct Options {
    /// What `config/scan.yaml` asks for.
    pub config: ScanConfig,
    /// The folder of the last scans (a home's `.dayshift/scan/`).
    pub state_dir: PathBuf,
    /// Where tools are looked for besides PATH (a home's `.venv/bin`).
    pub extra_dirs: Vec<PathBuf>,
    pub suppressions: Vec<Suppression>,
    /// How analyzers that run the tree's own code are confined ([`Setup::tree_code`]).
    pub tree_code: TreeCode,
}

/// The confinement of analyzers that run the tree's code when no home's policy says more
/// (`dayshift scan PATH`): bubblewrap when it is installed — `hidden` (the home, or the
/// scan's state folder) and the user's credentials hidden, no network, the tree writable —
/// else none, with a warning.
pub fn default_confinement(root: &Path, hidden: &Path) -> Confinement {
    match crate::sandbox::detect::bubblewrap() {
        Ok(bwrap) => {
            let user_home = std::env::var_os("HOME").map(PathBuf::from);
            let git = [root.join(".git")];
            Confinement::bubblewrap(bwrap, hidden, root, &git, user_home.as_deref())
        }
        Err(why) => {
            tracing::warn!(
                "clippy and eslint run the scanned tree's code unconfined: {why}; install bubblewrap (`apt-get install bubblewrap`)"
            );
            Confinement::none()
        }
    }
}

/// Scan `root` (an absolute path: the tools run in it) at `now`; suppressions hold as of
/// `today`. The error is the state folder's: the findings could not be kept.
pub fn scan_tree(
    root: &Path,
    options: &Options,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> std::io::Result<ScanReport> {
    scan_tree_with(root, options, now, today, Vec::new)
}

/// [`scan_tree`] with more analyzers than the tree's: `extra` runs once the analyzers have
/// read the tree (so what it writes there — a bench's build output — is never scanned),
/// and what it gives joins theirs before the comparison with the last scan: its findings
/// are new, still open or fixed like any, and an extra analyzer that failed fixes nothing.
pub fn scan_tree_with(
    root: &Path,
    options: &Options,
    now: DateTime<Utc>,
    today: NaiveDate,
    extra: impl FnOnce() -> Vec<(AnalyzerRun, Vec<Finding>)>,
) -> std::io::Result<ScanReport> {
    let state = state_file(&options.state_dir, root);
    let setup = Setup {
        extra_dirs: options.extra_dirs.clone(),
        log_dir: state.with_extension("logs"),
        cache_dir: state.with_extension("cache"),
        versions_dir: options.state_dir.join("versions"),
        config: options.config.clone(),
        tree_code: options.tree_code.clone(),
    };
    let (mut analyzers, mut found) = analyze(root, &setup);
    for (run, findings) in extra() {
        analyzers.push(run);
        found.extend(findings);
    }
    let mut report = finish(root, analyzers, found, &state, now)?;
    report.suppress(&options.suppressions, today);
    Ok(report)
}

/// The suppressions of `file`; none when it does not exist and `required` is false (the
/// home's optional `config/scan-ignore.yaml`). A bad file is an error, never "no
/// suppressions": hiding too much is worse than scanning late.
pub fn suppressions(file: &Path, required: bool) -> Result<Vec<Suppression>, FileProblem> {
    match std::fs::read_to_string(file) {
        Ok(text) => ignore::parse(file, &text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => Ok(Vec::new()),
        Err(e) => Err(FileProblem::new(
            At::file(file),
            format!("cannot be read: {e}"),
            "check the path and that the file is readable",
        )),
    }
}

/// Write `report` as the day's markdown report at `path` (temp file + rename).
pub fn write_report(path: &Path, report: &ScanReport) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    crate::fsx::write_atomic(path, super::report::render(report).as_bytes())
}
