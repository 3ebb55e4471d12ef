//! semgrep's adapter on its real SARIF for `tests/fixtures/scan/tree` (captured with semgrep
//! 1.187.0 and `tests/fixtures/scan/semgrep-rules.yaml` at the root
//! `/tmp/dayshift-scan/tree`): its hard-coded-password rule's message interpolates the
//! password, which no finding may carry.

use std::path::Path;

use super::*;
use crate::scan::Severity;
use crate::scan::analyzers::testing::{assert_refused, rows};

const CAPTURED: &str = include_str!("../../../tests/fixtures/scan/semgrep-rules.sarif");
const ROOT: &str = "/tmp/dayshift-scan/tree";

#[test]
fn each_result_is_a_semgrep_finding_with_its_rule_place_severity_and_cwe() {
    let findings = parse(CAPTURED, Path::new(ROOT)).unwrap();
    assert_eq!(
        rows(&findings),
        [
            (
                "tmp.hA-rules.hardcoded-password",
                "app/db.py",
                3,
                Severity::Medium,
                Some(259)
            ),
            (
                "tmp.hA-rules.eval-of-input",
                "app/handlers.py",
                11,
                Severity::High,
                Some(95)
            ),
        ]
    );
    assert!(findings.iter().all(|f| f.analyzer == "semgrep"));
    assert_eq!(
        findings[1].message,
        "eval() runs whatever string it is given; parse the expression instead"
    );
}

#[test]
fn no_finding_carries_the_matched_secret() {
    assert!(CAPTURED.contains("hunter2"), "the capture must hold it");
    let findings = parse(CAPTURED, Path::new(ROOT)).unwrap();
    assert_eq!(
        findings[0].message,
        "a password is written in the code ($NAME = $VALUE)"
    );
    let text = serde_json::to_string(&findings).unwrap();
    assert!(!text.contains("hunter2"), "{text}");
}

#[test]
fn output_that_is_not_sarif_is_refused_clearly() {
    let root = Path::new(ROOT);
    assert_refused(
        parse("[ERROR] invalid configuration file", root),
        "semgrep's output is not JSON",
    );
    assert_refused(
        parse(r#"{"results": [], "errors": []}"#, root),
        "is JSON but not a SARIF log",
    );
}

#[test]
fn it_reads_only_the_given_rules_and_ignores_nosemgrep_comments_and_semgrepignore_files() {
    let tree = tempfile::tempdir().unwrap();
    let rules = Path::new("/home/rules.yaml");
    let targets = || vec!["./app/db.py".to_string()];
    assert_eq!(
        args(rules, tree.path(), targets()).join(" "),
        "scan --sarif --metrics off --disable-version-check --quiet --disable-nosem \
         --config /home/rules.yaml ./app/db.py"
    );
    // a `.semgrepignore` at any depth drops the files it names from a scan of the folder
    std::fs::create_dir_all(tree.path().join("app/deep")).unwrap();
    std::fs::write(tree.path().join("app/deep/.semgrepignore"), "*\n").unwrap();
    assert!(has_ignore_file(tree.path()));
    assert_eq!(
        args(rules, tree.path(), targets()).join(" "),
        "scan --sarif --metrics off --disable-version-check --quiet --disable-nosem \
         --x-ignore-semgrepignore-files --config /home/rules.yaml ./app/db.py"
    );
}
