//! cargo-audit's parser on a report written from cargo-audit's documented JSON
//! (`vulnerabilities.list[]` and `warnings.<kind>[]`, as `cargo audit --json` 0.21 prints
//! them) — cargo-audit needs its advisory database from GitHub, not reachable here.

use std::path::Path;

use super::*;
use crate::scan::analyzers::testing::{assert_refused, rows};

const REPORT: &str = include_str!("../../../tests/fixtures/scan/cargo-audit.json");

const LOCK: &str = "version = 3\n\n[[package]]\nname = \"atty\"\nversion = \"0.2.14\"\n\n\
[[package]]\nname = \"futures-util\"\nversion = \"0.3.26\"\n\n[[package]]\nname = \"time\"\n\
version = \"0.1.45\"\n\n[[package]]\nname = \"time-macros\"\nversion = \"0.1.1\"\n";

#[test]
fn vulnerabilities_are_high_and_warnings_low_at_their_crate_in_cargo_lock() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Cargo.lock"), LOCK).unwrap();
    let findings = parse(REPORT, dir.path()).unwrap();
    assert_eq!(
        rows(&findings),
        [
            ("RUSTSEC-2020-0071", "Cargo.lock", 12, Severity::High, None),
            ("RUSTSEC-2024-0375", "Cargo.lock", 4, Severity::Low, None),
            ("yanked", "Cargo.lock", 8, Severity::Low, None),
        ]
    );
    assert_eq!(
        findings[0].message,
        "time 0.1.45: Potential segfault in the time crate (fixed in >=0.2.23); \
         also CVE-2020-26235, GHSA-wcg3-cvx6-7396"
    );
    assert_eq!(
        findings[0].help_url.as_deref(),
        Some("https://rustsec.org/advisories/RUSTSEC-2020-0071")
    );
    assert_eq!(
        findings[1].message,
        "atty 0.2.14 is unmaintained: `atty` is unmaintained"
    );
    assert_eq!(
        findings[2].message,
        "futures-util 0.3.26 is yanked: this version was yanked"
    );
    assert!(findings.iter().all(|f| f.analyzer == "cargo-audit"));
}

#[test]
fn output_that_is_not_its_report_is_refused_clearly() {
    let root = Path::new("/r");
    assert_refused(
        parse("error: not found: Couldn't load Cargo.lock", root),
        "cargo-audit's output is not JSON",
    );
    assert_refused(
        parse(r#"{"database": {}}"#, root),
        "is JSON but not a report",
    );
    let audit = crate::scan::analyzers::Analyzer::CargoAudit;
    assert!(audit.ran(0) && audit.ran(1) && !audit.ran(2));
    assert_eq!(
        args(Path::new("/r")),
        ["audit", "--json", "--file", "/r/Cargo.lock"]
    );
}
