//! One scan of a tree: every analyzer asked for, normalized findings with fingerprints
//! ([`super::fingerprint`]), one per place and rule, compared with the last scan of the
//! same tree — new, still present, fixed — and the comparison kept for the next one.
//!
//! The last scan is kept as JSON in a state folder (a home's `.dayshift/scan/`, else the
//! user's cache folder), one file per scanned root, written atomically: a scan never
//! writes into the tree it scans.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Finding, fingerprint};
use crate::fsx::Beneath;

/// How one analyzer's part of the scan went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnalyzerRun {
    pub name: String,
    /// `ran`, `not installed`, or `failed`.
    pub status: String,
    /// Why it did not run, or failed; what to do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub findings: usize,
}

impl std::fmt::Display for AnalyzerRun {
    /// `ruff: ran — ruff 0.17.6, 0.03 s`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.name, self.status)?;
        match &self.detail {
            Some(detail) => write!(f, " — {detail}"),
            None => Ok(()),
        }
    }
}

/// [`AnalyzerRun::status`] of an analyzer that ran.
pub const RAN: &str = "ran";
/// [`AnalyzerRun::status`] of an analyzer the tree has nothing for (no Cargo.lock …).
pub const NOT_APPLICABLE: &str = "not applicable";
/// [`AnalyzerRun::status`] of a tool that is not installed.
pub const NOT_INSTALLED: &str = "not installed";
/// [`AnalyzerRun::status`] of a tool that needs settings it was not given (semgrep's rules).
pub const NOT_CONFIGURED: &str = "not configured";
/// [`AnalyzerRun::status`] of an analyzer that failed: its findings are not known this time.
pub const FAILED: &str = "failed";

/// What a scan found, against the last scan of the same root.
#[derive(Debug, Clone, Serialize)]
pub struct ScanReport {
    /// What was scanned: the folder, or for a home's scan of its target (whose checkout is
    /// removed after) the base and its commit (`main at 0123456789ab`).
    pub root: PathBuf,
    pub at: DateTime<Utc>,
    pub analyzers: Vec<AnalyzerRun>,
    /// Every finding now, most severe first; `new` marks those the last scan did not have.
    pub findings: Vec<Found>,
    /// What the last scan had and this one does not.
    pub fixed: Vec<Finding>,
    /// When the scan compared with was made; `None` on a first scan.
    pub since: Option<DateTime<Utc>>,
    /// Findings a suppression hides ([`ScanReport::suppress`]), with its reason and place.
    pub suppressed: Vec<Suppressed>,
}

/// A finding a suppression hides.
#[derive(Debug, Clone, Serialize)]
pub struct Suppressed {
    pub finding: Finding,
    pub reason: String,
    /// The suppression, `file:line`.
    pub by: String,
}

/// A finding now, and whether it is new since the last scan.
#[derive(Debug, Clone, Serialize)]
pub struct Found {
    #[serde(flatten)]
    pub finding: Finding,
    pub new: bool,
    /// When it was first seen (this scan, for a new one).
    pub first_seen: DateTime<Utc>,
}

impl ScanReport {
    pub fn new_findings(&self) -> impl Iterator<Item = &Found> {
        self.findings.iter().filter(|f| f.new)
    }

    /// Move the findings a suppression hides on `today` out of `findings`. The last scan
    /// still keeps them: when a suppression ends, its finding is present, not new.
    pub fn suppress(&mut self, rules: &[super::ignore::Suppression], today: chrono::NaiveDate) {
        let mut shown = Vec::new();
        for found in std::mem::take(&mut self.findings) {
            match rules.iter().find(|r| r.hides(&found.finding, today)) {
                Some(rule) => self.suppressed.push(Suppressed {
                    finding: found.finding,
                    reason: rule.reason.clone(),
                    by: rule.at.clone(),
                }),
                None => shown.push(found),
            }
        }
        self.findings = shown;
    }
}

/// What the state file keeps of a scan.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Kept {
    at: Option<DateTime<Utc>>,
    /// fingerprint → (the finding, first seen).
    findings: BTreeMap<String, (Finding, DateTime<Utc>)>,
}

/// The state file for `root` in `state_dir`.
pub fn state_file(state_dir: &Path, root: &Path) -> PathBuf {
    let canonical = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let digest = Sha256::digest(canonical.to_string_lossy().as_bytes());
    let name = crate::hex::lower(&digest[..8]);
    state_dir.join(format!("{name}.json"))
}

/// Put the analyzers' findings together: fingerprinted (reading the lines from `root`),
/// one per place and rule, compared with what `state` kept, and `state` updated. A state
/// file that cannot be read counts as no last scan (with a warning): the scan is not lost.
pub fn finish(
    root: &Path,
    analyzers: Vec<AnalyzerRun>,
    found: Vec<Finding>,
    state: &Path,
    now: DateTime<Utc>,
) -> std::io::Result<ScanReport> {
    let mut findings = fingerprint::dedupe(found);
    // the lines of the findings, each file read on one of the cores and only its findings'
    // lines kept
    let mut wanted: BTreeMap<String, BTreeSet<u32>> = BTreeMap::new();
    for finding in &findings {
        let lines = wanted.entry(finding.file.clone()).or_default();
        lines.insert(finding.start_line);
    }
    let wanted: Vec<(String, BTreeSet<u32>)> = wanted.into_iter().collect();
    // a name an analyzer gave is opened only when it is a regular file of the tree, not
    // through a link that leads out of it (`out/.env`, with `out -> /home/me`): a finding
    // placed elsewhere keeps its message as its fingerprint's text
    let tree = Beneath::new(root);
    let read = |(file, numbers): &(String, BTreeSet<u32>)| {
        let text = tree.read_to_string(file, MAX_FINGERPRINT_READ).ok();
        text.map(|text| lines_numbered(&text, numbers))
            .unwrap_or_default()
    };
    let lines = crate::parallel::map(&wanted, read, |_| BTreeMap::new());
    let lines: BTreeMap<String, BTreeMap<u32, String>> = wanted
        .into_iter()
        .map(|(file, _)| file)
        .zip(lines)
        .collect();
    fingerprint::assign(&mut findings, |file, line| {
        lines.get(file)?.get(&line).cloned()
    });
    let last = read_kept(state);
    let now_prints: BTreeSet<&str> = findings.iter().map(|f| f.fingerprint.as_str()).collect();
    // an analyzer that did not run this time (failed, not installed, left out) says nothing
    // of its findings: they are not fixed, and the state keeps them for the next scan that
    // runs it. One that ran, or no longer applies to the tree, speaks for them.
    let heard: BTreeSet<&str> = analyzers
        .iter()
        .filter(|a| [RAN, NOT_APPLICABLE].contains(&a.status.as_str()))
        .map(|a| a.name.as_str())
        .collect();
    let (carried, fixed): (Vec<_>, Vec<_>) = last
        .findings
        .iter()
        .filter(|(print, _)| !now_prints.contains(print.as_str()))
        .partition(|(_, (finding, _))| !heard.contains(finding.analyzer.as_str()));
    let fixed: Vec<Finding> = fixed.into_iter().map(|(_, (f, _))| f.clone()).collect();
    let carried: BTreeMap<String, (Finding, DateTime<Utc>)> = carried
        .into_iter()
        .map(|(print, kept)| (print.clone(), kept.clone()))
        .collect();
    let mut found: Vec<Found> = findings
        .into_iter()
        .map(|finding| {
            let seen = last.findings.get(&finding.fingerprint).map(|(_, at)| *at);
            Found {
                new: seen.is_none(),
                first_seen: seen.unwrap_or(now),
                finding,
            }
        })
        .collect();
    found.sort_by(|a, b| {
        (b.finding.severity, b.new)
            .cmp(&(a.finding.severity, a.new))
            .then_with(|| {
                (&a.finding.file, a.finding.start_line)
                    .cmp(&(&b.finding.file, b.finding.start_line))
            })
    });
    let kept = Kept {
        at: Some(now),
        findings: found
            .iter()
            .map(|f| {
                (
                    f.finding.fingerprint.clone(),
                    (f.finding.clone(), f.first_seen),
                )
            })
            .chain(carried)
            .collect(),
    };
    if let Some(dir) = state.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let json = serde_json::to_vec(&kept).map_err(std::io::Error::other)?;
    crate::fsx::write_atomic(state, &json)?;
    Ok(ScanReport {
        root: root.to_path_buf(),
        at: now,
        analyzers,
        findings: found,
        fixed,
        since: last.at,
        suppressed: Vec::new(),
    })
}

/// The largest file read for the lines of its findings: larger ones (a generated file, a
/// bundle) are fingerprinted on their findings' messages.
const MAX_FINGERPRINT_READ: u64 = 64 * 1024 * 1024;

/// The lines of `text` whose `numbers` (1-based) are asked for, without their line ends.
fn lines_numbered(text: &str, numbers: &BTreeSet<u32>) -> BTreeMap<u32, String> {
    let last = numbers.last().copied().unwrap_or(0);
    let mut pieces = text.split('\n');
    // a text's final line end ends its last line; it does not start another
    let lines = (1..=last).map_while(|number| {
        let line = pieces.next()?;
        let after_last_line_end = line.is_empty() && pieces.clone().next().is_none();
        (!after_last_line_end).then_some((number, line))
    });
    lines
        .filter(|(number, _)| numbers.contains(number))
        .map(|(number, line)| (number, line.strip_suffix('\r').unwrap_or(line).to_string()))
        .collect()
}

/// The finding with `fingerprint` as the last scan kept in `state` (present then, or
/// carried); `None` when it has none.
pub fn last_finding(state: &Path, fingerprint: &str) -> Option<Finding> {
    read_kept(state)
        .findings
        .remove(fingerprint)
        .map(|(finding, _)| finding)
}

fn read_kept(state: &Path) -> Kept {
    let Ok(text) = std::fs::read(state) else {
        return Kept::default();
    };
    serde_json::from_slice(&text).unwrap_or_else(|e| {
        tracing::warn!(
            "{}: the last scan cannot be read ({e}); every finding counts as new this time",
            state.display()
        );
        Kept::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::Severity;

    fn ran(name: &str) -> AnalyzerRun {
        AnalyzerRun {
            name: name.into(),
            status: RAN.into(),
            detail: None,
            findings: 0,
        }
    }

    fn scan(root: &Path, state: &Path, found: Vec<Finding>) -> ScanReport {
        let both = vec![ran("builtin"), ran("ruff")];
        finish(root, both, found, state, Utc::now()).unwrap()
    }

    #[test]
    fn only_the_trees_own_files_are_read_for_fingerprints() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join(".env"), "KEY=secret\n").unwrap();
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("src")).unwrap();
        std::fs::write(root.path().join("src/app.py"), "eval(x)\n").unwrap();
        std::os::unix::fs::symlink(outside.path().join(".env"), root.path().join("link.py"))
            .unwrap();
        // a folder of the tree that is a link out of it
        std::os::unix::fs::symlink(outside.path(), root.path().join("out")).unwrap();
        let env = outside.path().join(".env").display().to_string();
        let places = [
            env.as_str(),
            "../.env",
            "src/../../.env",
            "link.py",
            "out/.env",
            "src",
            "gone.py",
            "src/app.py",
        ];
        let at = |file: &str| Finding::at("ruff", "S307", Severity::High, file, 1, "eval");
        let found = places.iter().map(|file| at(file)).collect();
        let state = root.path().join("state.json");
        let report = finish(root.path(), vec![ran("ruff")], found, &state, Utc::now()).unwrap();
        assert_eq!(report.findings.len(), places.len());
        // the fingerprint of a finding whose line is `line`, or (none) its message
        let print = |file: &str, line: Option<&str>| {
            let mut one = [at(file)];
            fingerprint::assign(&mut one, |_, _| line.map(str::to_string));
            one[0].fingerprint.clone()
        };
        for found in &report.findings {
            let file = found.finding.file.as_str();
            let line = (file == "src/app.py").then_some("eval(x)");
            assert_eq!(found.finding.fingerprint, print(file, line), "{file}");
        }
    }

    #[test]
    fn the_lines_asked_for_are_the_texts_lines_without_their_ends() {
        for text in ["", "\n", "a", "a\n", "a\r\nb\r\n", "a\n\nc", "x\ny\nz\n"] {
            let lines: Vec<&str> = text.lines().collect();
            for numbers in [vec![1, 3], vec![2], vec![4, 1, 5], vec![]] {
                let asked: BTreeSet<u32> = numbers.iter().copied().collect();
                let expected: BTreeMap<u32, String> = asked
                    .iter()
                    .filter_map(|&n| Some((n, lines.get(n as usize - 1)?.to_string())))
                    .collect();
                assert_eq!(
                    lines_numbered(text, &asked),
                    expected,
                    "{numbers:?} of {text:?}"
                );
            }
        }
    }

    #[test]
    fn new_then_still_present_then_fixed_and_a_damaged_state_loses_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("tree");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("a.py"), "eval(x)\nexec(y)\n").unwrap();
        let state = state_file(&dir.path().join("state"), &root);
        let both = || {
            vec![
                Finding::at(
                    "builtin",
                    "patterns.python.eval",
                    Severity::High,
                    "a.py",
                    1,
                    "eval",
                ),
                Finding::at(
                    "builtin",
                    "patterns.python.exec",
                    Severity::High,
                    "a.py",
                    2,
                    "exec",
                ),
            ]
        };
        let first = scan(&root, &state, both());
        assert_eq!(first.new_findings().count(), 2);
        assert!(first.since.is_none());

        // ten lines above: nothing new
        std::fs::write(
            root.join("a.py"),
            format!("{}eval(x)\nexec(y)\n", "#\n".repeat(10)),
        )
        .unwrap();
        let mut moved = both();
        moved[0].start_line = 11;
        moved[1].start_line = 12;
        let second = scan(&root, &state, moved.clone());
        assert_eq!(second.new_findings().count(), 0, "{:?}", second.findings);
        assert!(second.fixed.is_empty());

        let third = scan(&root, &state, vec![moved[1].clone()]);
        assert_eq!(third.fixed.len(), 1);
        assert_eq!(third.fixed[0].rule, "patterns.python.eval");

        // ruff failed this time: what it reported is not fixed, and stays known
        let ruff_said = Finding::at("ruff", "S311", Severity::Low, "a.py", 11, "random");
        let with_ruff = scan(&root, &state, vec![moved[1].clone(), ruff_said.clone()]);
        assert_eq!(with_ruff.new_findings().count(), 1);
        let failed = AnalyzerRun {
            name: "ruff".into(),
            status: FAILED.into(),
            detail: None,
            findings: 0,
        };
        let quiet = finish(
            &root,
            vec![failed],
            vec![moved[1].clone()],
            &state,
            Utc::now(),
        );
        assert!(
            quiet.unwrap().fixed.is_empty(),
            "a failed tool fixes nothing"
        );
        // nor does one left out of this scan (`security-scan` runs no code health)
        let builtin_only = vec![ran("builtin")];
        let left_out = finish(
            &root,
            builtin_only,
            vec![moved[1].clone()],
            &state,
            Utc::now(),
        );
        assert!(
            left_out.unwrap().fixed.is_empty(),
            "a tool left out fixes nothing"
        );
        let heard = scan(&root, &state, vec![moved[1].clone(), ruff_said]);
        assert_eq!(
            heard.new_findings().count(),
            0,
            "still known after the failure"
        );

        std::fs::write(&state, "not json").unwrap();
        let fourth = scan(&root, &state, vec![moved[1].clone()]);
        assert_eq!(
            fourth.new_findings().count(),
            1,
            "a damaged state: all new, nothing lost"
        );
        assert!(std::fs::read_to_string(&state).unwrap().starts_with('{'));
    }
}
