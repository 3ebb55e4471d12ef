//! The `outdated` analyzer: direct dependencies a major version (or more) behind the latest
//! release on their registry — the dependencies half of the monitor's security layer, beside
//! the known vulnerabilities osv-scanner, pip-audit, cargo-audit and npm audit find.
//!
//! A major is what a semver caret would not cross: `2.x → 3.x`, and below 1.0 the minor
//! (`0.7 → 0.8`). Each finding is low, at the manifest line naming the dependency. It asks
//! the network (the registries in `config/scan.yaml`), so it runs only when
//! `analyzers` names it, and its results hold for the day.

pub mod manifests;
pub mod registry;

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use manifests::{Dependency, Ecosystem};
use registry::{Asker, Registries};

use super::{Finding, ScanError, Severity};

/// Registry questions asked at once.
const AT_ONCE: usize = 8;

/// The findings of the tree at `root`: one per direct dependency a major behind.
pub fn scan(root: &Path, registries: &Registries) -> Result<Vec<Finding>, ScanError> {
    let failed = |why: String| ScanError::Failed {
        analyzer: "outdated".into(),
        why,
    };
    let dependencies = manifests::direct_dependencies(root).map_err(failed)?;
    let asker = Asker::new(registries).map_err(failed)?;
    let wanted: Vec<(Ecosystem, &str)> = {
        let mut names: Vec<(Ecosystem, &str)> = dependencies
            .iter()
            .map(|d| (d.ecosystem, d.name.as_str()))
            .collect();
        names.sort();
        names.dedup();
        names
    };
    let latest = ask_all(&asker, &wanted).map_err(failed)?;
    let mut found: Vec<Finding> = dependencies
        .iter()
        .filter_map(|d| {
            let newest = latest.get(&(d.ecosystem, d.name.as_str()))?.as_deref()?;
            behind(&d.version, newest).then(|| finding(d, newest))
        })
        .collect();
    found.sort_by(|a, b| (&a.file, a.start_line).cmp(&(&b.file, b.start_line)));
    Ok(found)
}

/// The latest version of each of `wanted`, asked [`AT_ONCE`] at a time; the first failure
/// fails them all (a partial answer would call the rest up to date).
fn ask_all<'a>(
    asker: &Asker,
    wanted: &[(Ecosystem, &'a str)],
) -> Result<BTreeMap<(Ecosystem, &'a str), Option<String>>, String> {
    let next = Mutex::new(wanted.iter());
    // the lock is let go before the question is asked
    let take = || next.lock().ok().and_then(|mut n| n.next());
    let answers = Mutex::new(BTreeMap::new());
    let failure = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..AT_ONCE.min(wanted.len()) {
            scope.spawn(|| {
                while let Some(&(ecosystem, name)) = take() {
                    match asker.latest(ecosystem, name) {
                        Ok(latest) => {
                            if let Ok(mut answers) = answers.lock() {
                                answers.insert((ecosystem, name), latest);
                            }
                        }
                        Err(why) => {
                            if let Ok(mut failure) = failure.lock() {
                                failure.get_or_insert(why);
                            }
                            break;
                        }
                    }
                }
            });
        }
    });
    match failure.into_inner().ok().flatten() {
        Some(why) => Err(format!(
            "a registry could not be asked: {why}; check the network and `registries` in config/scan.yaml"
        )),
        None => Ok(answers.into_inner().unwrap_or_default()),
    }
}

fn finding(dependency: &Dependency, latest: &str) -> Finding {
    let registry = match dependency.ecosystem {
        Ecosystem::PyPi => "PyPI",
        Ecosystem::Npm => "npm",
        Ecosystem::Crates => "crates.io",
    };
    let mut finding = Finding::at(
        "outdated",
        "outdated-major",
        Severity::Low,
        &dependency.file,
        dependency.line,
        format!(
            "{} {} is {} behind {registry}'s latest, {latest}: read its changelog for what \
             breaks, then upgrade",
            dependency.name,
            dependency.version,
            match majors_behind(&dependency.version, latest) {
                1 => "a major version".to_string(),
                n => format!("{n} major versions"),
            }
        ),
    );
    finding.help_url = Some(match dependency.ecosystem {
        Ecosystem::PyPi => format!("https://pypi.org/project/{}/", dependency.name),
        Ecosystem::Npm => format!("https://www.npmjs.com/package/{}", dependency.name),
        Ecosystem::Crates => format!("https://crates.io/crates/{}", dependency.name),
    });
    finding
}

/// Whether `latest` is a major past `current`: its major is higher, or below 1.0 its minor.
pub fn behind(current: &str, latest: &str) -> bool {
    level(latest) > level(current)
}

/// How many majors `latest` is past `current` (below 1.0, each minor is one).
fn majors_behind(current: &str, latest: &str) -> u64 {
    match (level(current), level(latest)) {
        ((0, minor), (0, newer)) => newer.saturating_sub(minor),
        ((major, _), (newer, _)) => newer.saturating_sub(major),
    }
}

/// What a semver caret keeps: the major, or below 1.0 the minor.
fn level(version: &str) -> (u64, u64) {
    let parts = numbers(version);
    let major = parts.first().copied().unwrap_or(0);
    let minor = parts.get(1).copied().unwrap_or(0);
    if major > 0 { (major, 0) } else { (0, minor) }
}

/// Versions compared by their numbers (`1.10` after `1.9`), a pre-release or local part
/// aside.
pub fn compare(a: &str, b: &str) -> Ordering {
    numbers(a).cmp(&numbers(b))
}

/// The leading numbers of a version: `2.31.0` → 2, 31, 0; `v1.2rc1` → 1, 2.
fn numbers(version: &str) -> Vec<u64> {
    let version = version.trim().trim_start_matches(['v', 'V']);
    let version = version.split(['-', '+']).next().unwrap_or("");
    version
        .split('.')
        .map_while(|part| {
            let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_major_is_what_a_caret_would_not_cross() {
        assert!(behind("2.31.0", "3.0.0"));
        assert!(behind("0.7.3", "0.8.0"));
        assert!(behind("0.9", "1.0.0"));
        assert!(behind("1.9.0", "10.0.0"), "numbers, not text");
        assert!(!behind("2.31.0", "2.32.3"));
        assert!(!behind("0.7.1", "0.7.9"));
        assert!(!behind("3.0.0", "2.9.0"), "ahead of the registry");
        assert!(!behind("4.0.0", "4.0.0rc1"));
        assert_eq!(majors_behind("3.2.25", "6.1.3"), 3);
        assert_eq!(majors_behind("0.7.3", "0.9.0"), 2);
        assert_eq!(majors_behind("0.9.0", "1.2.0"), 1);
        assert_eq!(compare("1.10.0", "1.9.0"), Ordering::Greater);
        assert_eq!(numbers("v1.2rc1"), [1, 2]);
        assert_eq!(numbers("2024.1.0+local"), [2024, 1, 0]);
    }
}
