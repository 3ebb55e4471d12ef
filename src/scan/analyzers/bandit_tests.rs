//! bandit's parser on its real output for `tests/fixtures/scan/tree` (captured with bandit
//! 1.9.4 at the root `/tmp/dayshift-scan/tree`), and on output it must refuse.

use std::path::Path;

use super::*;

const CAPTURED: &str = include_str!("../../../tests/fixtures/scan/bandit.json");
const ROOT: &str = "/tmp/dayshift-scan/tree";

#[test]
fn every_planted_issue_is_found_with_its_rule_severity_place_and_cwe() {
    let report = parse(CAPTURED, Path::new(ROOT)).unwrap();
    let expected = [
        ("B307", Severity::Medium, "app/handlers.py", 11, 78),
        ("B602", Severity::High, "app/handlers.py", 15, 78),
        ("B301", Severity::Medium, "app/handlers.py", 19, 502),
        ("B506", Severity::Medium, "app/handlers.py", 23, 20),
        ("B501", Severity::High, "app/handlers.py", 27, 295),
        ("B608", Severity::Medium, "app/db.py", 7, 89),
        ("B105", Severity::Low, "app/db.py", 3, 259),
    ];
    for (rule, severity, file, line, cwe) in expected {
        let f = report
            .findings
            .iter()
            .find(|f| f.rule == rule)
            .unwrap_or_else(|| panic!("no {rule} in {:#?}", report.findings));
        assert_eq!(
            (f.severity, f.file.as_str(), f.start_line, f.end_line, f.cwe),
            (severity, file, line, line, Some(cwe)),
            "{rule}"
        );
        assert_eq!(f.analyzer, "bandit");
        assert!(
            f.help_url
                .as_deref()
                .is_some_and(|u| u.starts_with("https://bandit.readthedocs.io/")),
            "{rule}: {:?}",
            f.help_url
        );
    }
    let shell = report.findings.iter().find(|f| f.rule == "B602").unwrap();
    assert_eq!(
        shell.message,
        "subprocess call with shell=True identified, security issue."
    );
}

#[test]
fn a_hard_coded_password_is_reported_without_the_password() {
    let report = parse(CAPTURED, Path::new(ROOT)).unwrap();
    let password = report.findings.iter().find(|f| f.rule == "B105").unwrap();
    assert_eq!(password.message, "Possible hardcoded password");
    assert!(
        report
            .findings
            .iter()
            .all(|f| !f.message.contains("hunter2"))
    );
}

#[test]
fn files_bandit_could_not_parse_are_returned_apart_not_as_findings() {
    let report = parse(CAPTURED, Path::new(ROOT)).unwrap();
    assert_eq!(
        report.unparsed,
        vec![Unparsed {
            file: "app/broken.py".into(),
            reason: "syntax error while parsing AST from file".into()
        }]
    );
    assert!(report.findings.iter().all(|f| f.file != "app/broken.py"));
}

#[test]
fn a_multi_line_issue_keeps_its_range() {
    let json = r#"{"errors": [], "results": [{"test_id": "B602", "issue_text": "shell",
        "issue_severity": "HIGH", "issue_cwe": {"id": 78, "link": ""}, "more_info": null,
        "filename": "./a.py", "line_number": 4, "line_range": [4, 5, 6]}]}"#;
    let report = parse(json, Path::new("/r")).unwrap();
    let f = &report.findings[0];
    assert_eq!((f.file.as_str(), f.start_line, f.end_line), ("a.py", 4, 6));
}

#[test]
fn output_that_is_not_bandits_json_is_refused_with_the_reason() {
    let root = Path::new(ROOT);
    let not_json = parse("Traceback (most recent call last):", root).unwrap_err();
    assert!(
        not_json.contains("bandit's output is not JSON"),
        "{not_json}"
    );
    let other_shape = parse("[1, 2]", root).unwrap_err();
    assert!(
        other_shape.contains("is JSON but not a report"),
        "{other_shape}"
    );
    let no_file = parse(
        r#"{"results": [{"test_id": "B602", "issue_text": "x", "issue_severity": "HIGH",
            "line_number": 1}]}"#,
        root,
    )
    .unwrap_err();
    assert!(no_file.contains("filename"), "{no_file}");
    let severity = parse(
        r#"{"results": [{"test_id": "B602", "issue_text": "x", "issue_severity": "DIRE",
            "filename": "a.py", "line_number": 1}]}"#,
        root,
    )
    .unwrap_err();
    assert!(severity.contains("`DIRE`"), "{severity}");
}
