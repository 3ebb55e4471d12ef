//! clippy's adapter: its parser on cargo's real JSON messages for
//! `tests/fixtures/scan/crate` (captured with clippy 0.1.95), and one real run of
//! `cargo clippy` on a copy of that crate (cargo and clippy are where the tests run).

use std::path::Path;
use std::time::Duration;

use super::*;
use crate::sandbox::Confinement;
use crate::scan::analyzers::testing::assert_refused;
use crate::scan::analyzers::{Analyzer, find_program, run};

const CAPTURED: &str = include_str!("../../../tests/fixtures/scan/clippy.jsonl");

/// Each planted lint: its rule, line and severity.
const PLANTED: [(&str, u32, Severity); 4] = [
    ("unused_variables", 12, Severity::Low),
    ("clippy::eq_op", 4, Severity::High),
    ("clippy::empty_loop", 8, Severity::Medium),
    ("clippy::needless_return", 13, Severity::Low),
];

fn assert_planted(findings: &[Finding]) {
    let seen: Vec<_> = findings
        .iter()
        .map(|f| (f.rule.as_str(), f.start_line, f.severity))
        .collect();
    assert_eq!(seen, PLANTED);
    for finding in findings {
        assert_eq!(
            (finding.analyzer.as_str(), finding.file.as_str()),
            ("clippy", "src/lib.rs")
        );
    }
}

#[test]
fn each_warning_and_error_is_a_finding_at_its_primary_span() {
    let findings = parse(CAPTURED, Path::new("/tmp/dayshift-scan/crate")).unwrap();
    assert_planted(&findings);
    assert_eq!(findings[1].message, "equal expressions as operands to `==`");
    assert_eq!(
        findings[1].help_url.as_deref(),
        Some("https://rust-lang.github.io/rust-clippy/master/index.html#eq_op")
    );
    assert_eq!(findings[0].help_url, None);
}

#[test]
fn the_same_message_twice_is_one_finding_and_notes_are_none() {
    let twice = format!("{CAPTURED}\n{CAPTURED}");
    assert_eq!(parse(&twice, Path::new("/r")).unwrap().len(), PLANTED.len());
    let note = r#"{"reason":"compiler-message","message":{"message":"for more information","code":null,"level":"note","spans":[]}}"#;
    let error = r#"{"reason":"compiler-message","message":{"message":"cannot find value `x`","code":{"code":"E0425"},"level":"error","spans":[{"file_name":"src/main.rs","line_start":3,"line_end":3,"is_primary":true}]}}"#;
    let findings = parse(&format!("{note}\n{error}\n"), Path::new("/r")).unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(
        (findings[0].rule.as_str(), findings[0].severity),
        ("E0425", Severity::High)
    );
    assert_eq!(
        findings[0].help_url.as_deref(),
        Some("https://doc.rust-lang.org/error_codes/E0425.html")
    );
}

#[test]
fn output_that_is_not_cargos_messages_is_refused_clearly() {
    let root = Path::new("/r");
    assert_refused(
        parse("error: could not find `Cargo.toml`", root),
        "line 1: cargo clippy's output is not JSON",
    );
    assert_refused(
        parse(r#"{"message": "x"}"#, root),
        "is JSON but not cargo's JSON messages",
    );
    assert_refused(parse("", root), "no JSON messages");
    let clippy = Analyzer::Clippy;
    assert!(clippy.ran(0) && clippy.ran(101) && !clippy.ran(1));
}

#[test]
fn a_real_clippy_run_finds_every_planted_lint_and_builds_outside_the_tree() {
    let cargo = find_program("cargo", &[]).expect("cargo is on PATH where the tests run");
    let tree = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scan/crate");
    std::fs::create_dir_all(tree.path().join("src")).unwrap();
    for file in ["Cargo.toml", "src/lib.rs"] {
        std::fs::copy(fixture.join(file), tree.path().join(file)).unwrap();
    }
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("clippy.log");
    let timeout = Duration::from_secs(300);
    let findings = run(
        &Analyzer::Clippy,
        &cargo,
        tree.path(),
        None,
        timeout,
        &log,
        &Confinement::none(),
    )
    .unwrap();
    assert_planted(&findings);
    assert!(
        !tree.path().join("target").exists(),
        "the build went into the tree"
    );
    assert!(logs.path().join("clippy.target").is_dir());
    assert!(
        std::fs::read_to_string(&log)
            .unwrap()
            .contains("clippy::eq_op")
    );
}
