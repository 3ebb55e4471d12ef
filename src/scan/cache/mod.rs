//! The scan's incremental cache: an analyzer's findings kept per file content hash, under
//! a key of the analyzer's name, version and arguments, so an unchanged tree re-scans in
//! milliseconds and a changed file is all a tool reads again.
//!
//! - An analyzer that reads each file on its own ([`Plan::PerFile`]) runs on the changed
//!   and new files only (on all of them when there is no cache or more than half changed);
//!   a removed file's findings go; the unchanged files' findings come from the cache.
//! - One that reads the project as a whole ([`Plan::Whole`]) runs again when one of its
//!   input files changed, or (one with an advisory database) on a new day.
//! - One cache file per scanned root and analyzer, JSON, written atomically. One that
//!   cannot be read counts as none (with a warning); a tool that failed caches nothing.

mod tree;
mod version;

use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use tree::{Matcher, Tree};
pub use version::version;

use super::Finding;

/// Bytes of changed file names a tool is given at most; beyond, it reads the whole tree
/// (an argument list has a limit).
const ARGV_BUDGET: usize = 128 * 1024;

/// What an analyzer reads, for the cache.
#[derive(Debug, Clone)]
pub enum Plan {
    /// Each file on its own, those the matcher selects: it can run on some files only.
    PerFile(Matcher),
    /// The tree as a whole, from the input files the matcher selects; `advisories`: it
    /// also reads a database that changes daily, so its findings hold for the day.
    Whole { inputs: Matcher, advisories: bool },
}

/// Where one analyzer's findings on one root are kept, and under what key: a digest of
/// what they depend on besides the files (the analyzer's name, version, arguments …),
/// another key, another cache. The key can be worked out only when needed: with nothing
/// kept, after the run, so a tool whose version takes a process to learn starts at once.
pub struct Slot<'a> {
    pub file: PathBuf,
    key: OnceCell<String>,
    parts: Box<dyn Fn() -> Vec<String> + 'a>,
}

impl<'a> Slot<'a> {
    /// `parts`: what the findings depend on besides the files.
    pub fn new(dir: &Path, analyzer: &str, parts: &[&str]) -> Self {
        let slot = Self::later(dir, analyzer, Vec::new);
        let _ = slot.key.set(digest(parts));
        slot
    }

    /// A slot whose `parts` are asked for once, the first time the key is needed.
    pub fn later(dir: &Path, analyzer: &str, parts: impl Fn() -> Vec<String> + 'a) -> Self {
        Self {
            file: dir.join(format!("{analyzer}.json")),
            key: OnceCell::new(),
            parts: Box::new(parts),
        }
    }

    pub fn key(&self) -> &str {
        self.key.get_or_init(|| digest(&(self.parts)()))
    }
}

fn digest<S: AsRef<str>>(parts: &[S]) -> String {
    let mut digest = Sha256::new();
    digest.update(env!("CARGO_PKG_VERSION"));
    for part in parts {
        digest.update([0]);
        digest.update(part.as_ref());
    }
    crate::hex::lower(&digest.finalize())
}

/// How much of a run came from the cache: `N of M files from cache`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reuse {
    pub cached: usize,
    pub files: usize,
}

impl std::fmt::Display for Reuse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} of {} files from cache", self.cached, self.files)
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Kept {
    key: String,
    day: Option<NaiveDate>,
    /// Digest of the inputs' names and hashes ([`Plan::Whole`]).
    #[serde(default)]
    inputs: String,
    /// File → its hash when read, and the findings in it. The hash is empty for a file the
    /// analyzer reported on without being asked (a config file).
    files: BTreeMap<String, Entry>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Entry {
    #[serde(default)]
    sha: String,
    findings: Vec<Finding>,
}

/// The findings of the analyzer in `slot` on `tree`, through the cache: `run` is called
/// (with the files to read, `None` for the whole tree) only for what changed.
pub fn through<E>(
    slot: &Slot,
    plan: &Plan,
    tree: &Tree,
    today: NaiveDate,
    run: impl FnOnce(Option<&[String]>) -> Result<Vec<Finding>, E>,
) -> Result<(Vec<Finding>, Reuse), E> {
    let kept = read(&slot.file).filter(|k| k.key == slot.key());
    let kept = match plan {
        Plan::PerFile(matcher) => per_file(tree, matcher, kept, run)?,
        Plan::Whole { inputs, advisories } => {
            let fresh = kept.filter(|k| !*advisories || k.day == Some(today));
            whole(tree, inputs, fresh, run)?
        }
    };
    let (mut kept, reuse, changed) = (kept.kept, kept.reuse, kept.changed);
    let findings = kept
        .files
        .values()
        .flat_map(|e| e.findings.iter().cloned())
        .collect();
    if changed {
        kept.key = slot.key().to_string();
        kept.day.get_or_insert(today);
        write(&slot.file, &kept);
    }
    Ok((findings, reuse))
}

/// What is kept after a scan, and whether it differs from what was kept before.
struct Outcome {
    kept: Kept,
    reuse: Reuse,
    changed: bool,
}

/// The findings kept, updated with a run on the changed files.
fn per_file<E>(
    tree: &Tree,
    matcher: &Matcher,
    kept: Option<Kept>,
    run: impl FnOnce(Option<&[String]>) -> Result<Vec<Finding>, E>,
) -> Result<Outcome, E> {
    let Some(kept) = kept else {
        return first_run(tree, matcher, run);
    };
    let listed = tree.hashed(matcher);
    let files = listed.len();
    let unchanged = |file: &str, sha: &str| kept.files.get(file).is_some_and(|e| e.sha == sha);
    let changed: Vec<String> = listed
        .iter()
        .filter(|(file, sha)| !unchanged(file, sha))
        .map(|(file, _)| file.to_string())
        .collect();
    let listed_bytes: usize = changed.iter().map(|f| f.len() + 1).sum();
    let whole_tree = changed.len() * 2 > files || listed_bytes > ARGV_BUDGET;
    let mut kept = if whole_tree { Kept::default() } else { kept };
    // a file no longer there (or no longer read) takes its findings with it
    let shas: BTreeMap<&str, &str> = listed.iter().copied().collect();
    let root = tree.root();
    let before = kept.files.len();
    kept.files.retain(|file, entry| match entry.sha.as_str() {
        "" => root.join(file).exists(),
        sha => shas.get(file.as_str()) == Some(&sha),
    });
    let removed = kept.files.len() != before;
    if whole_tree {
        let found = if files > 0 { run(None)? } else { Vec::new() };
        add(&mut kept, &shas, shas.keys().copied(), found);
        let reuse = Reuse { cached: 0, files };
        return Ok(Outcome {
            kept,
            reuse,
            changed: true,
        });
    }
    if !changed.is_empty() {
        let found = run(Some(&changed))?;
        add(&mut kept, &shas, changed.iter().map(String::as_str), found);
    }
    let reuse = Reuse {
        cached: files - changed.len(),
        files,
    };
    let changed = removed || !changed.is_empty();
    Ok(Outcome {
        kept,
        reuse,
        changed,
    })
}

/// With nothing kept, every file is read: the run starts at once, and the files' hashes
/// are taken after it ([`Tree::hashed_after_reading`]) — most by then from an analyzer
/// that read them alongside.
fn first_run<E>(
    tree: &Tree,
    matcher: &Matcher,
    run: impl FnOnce(Option<&[String]>) -> Result<Vec<Finding>, E>,
) -> Result<Outcome, E> {
    let found = if tree.has_any(matcher) {
        run(None)?
    } else {
        Vec::new()
    };
    let shas: BTreeMap<&str, &str> = tree.hashed_after_reading(matcher).into_iter().collect();
    let mut kept = Kept::default();
    add(&mut kept, &shas, shas.keys().copied(), found);
    let reuse = Reuse {
        cached: 0,
        files: shas.len(),
    };
    Ok(Outcome {
        kept,
        reuse,
        changed: true,
    })
}

/// Record that `read` (with their hashes in `shas`) were read and gave `found`.
fn add<'a>(
    kept: &mut Kept,
    shas: &BTreeMap<&str, &str>,
    read: impl Iterator<Item = &'a str>,
    found: Vec<Finding>,
) {
    for file in read {
        let sha = shas.get(file).copied().unwrap_or_default().to_string();
        let findings = Vec::new();
        kept.files.insert(file.to_string(), Entry { sha, findings });
    }
    // a file reported without being asked (a config file): its findings are this run's
    let others: BTreeSet<&str> = found
        .iter()
        .map(|f| f.file.as_str())
        .filter(|file| !shas.contains_key(file))
        .collect();
    for file in others {
        kept.files.insert(file.to_string(), Entry::default());
    }
    for finding in found {
        let entry = kept.files.entry(finding.file.clone()).or_default();
        entry.findings.push(finding);
    }
}

fn whole<E>(
    tree: &Tree,
    inputs: &Matcher,
    kept: Option<Kept>,
    run: impl FnOnce(Option<&[String]>) -> Result<Vec<Finding>, E>,
) -> Result<Outcome, E> {
    let listed = tree.hashed(inputs);
    let files = listed.len();
    let mut digest = Sha256::new();
    for (file, sha) in &listed {
        digest.update(format!("{file}\0{sha}\n"));
    }
    let digest = crate::hex::lower(&digest.finalize());
    if let Some(kept) = kept.filter(|k| k.inputs == digest) {
        let reuse = Reuse {
            cached: files,
            files,
        };
        let changed = false;
        return Ok(Outcome {
            kept,
            reuse,
            changed,
        });
    }
    let mut kept = Kept {
        inputs: digest,
        ..Kept::default()
    };
    add(&mut kept, &BTreeMap::new(), std::iter::empty(), run(None)?);
    let reuse = Reuse { cached: 0, files };
    Ok(Outcome {
        kept,
        reuse,
        changed: true,
    })
}

fn read(file: &Path) -> Option<Kept> {
    let bytes = std::fs::read(file).ok()?;
    serde_json::from_slice(&bytes)
        .map_err(|e| {
            tracing::warn!(
                "{}: the scan cache cannot be read ({e}); the analyzer reads every file this time",
                file.display()
            );
        })
        .ok()
}

fn write(file: &Path, kept: &Kept) {
    let written = file
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| {
            let json = serde_json::to_vec(kept).map_err(std::io::Error::other)?;
            crate::fsx::write_cache(file, &json)
        });
    if let Err(e) = written {
        tracing::warn!(
            "cannot keep the scan cache in {}: {e}; the next scan reads every file again",
            file.display()
        );
    }
}

#[cfg(test)]
mod tests;
