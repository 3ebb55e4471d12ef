//! ruff's parser on its real output for `tests/fixtures/scan/tree` (captured with ruff
//! 0.17.6 at the root `/tmp/dayshift-scan/tree`), and on output it must refuse.

use std::path::Path;

use super::*;

const CAPTURED: &str = include_str!("../../../tests/fixtures/scan/ruff.json");
const ROOT: &str = "/tmp/dayshift-scan/tree";

fn found(findings: &[Finding], rule: &str) -> Finding {
    findings
        .iter()
        .find(|f| f.rule == rule)
        .unwrap_or_else(|| panic!("no {rule} in {findings:#?}"))
        .clone()
}

#[test]
fn every_planted_issue_is_found_with_its_rule_severity_place_and_cwe() {
    let findings = parse(CAPTURED, Path::new(ROOT)).unwrap();
    let expected = [
        ("S307", Severity::High, "app/handlers.py", 11, Some(78)),
        ("S602", Severity::High, "app/handlers.py", 15, Some(78)),
        ("S301", Severity::High, "app/handlers.py", 19, Some(502)),
        ("S506", Severity::High, "app/handlers.py", 23, Some(20)),
        ("S501", Severity::High, "app/handlers.py", 27, Some(295)),
        ("S608", Severity::High, "app/db.py", 7, Some(89)),
        ("S105", Severity::Medium, "app/db.py", 3, Some(259)),
        ("F821", Severity::High, "app/db.py", 13, None),
        ("invalid-syntax", Severity::High, "app/broken.py", 4, None),
    ];
    for (rule, severity, file, line, cwe) in expected {
        let f = found(&findings, rule);
        assert_eq!(
            (f.severity, f.file.as_str(), f.start_line, f.cwe),
            (severity, file, line, cwe),
            "{rule}"
        );
        assert_eq!(f.analyzer, "ruff");
        assert!(f.end_line >= f.start_line);
    }
    let eval = found(&findings, "S307");
    assert_eq!(
        eval.help_url.as_deref(),
        Some("https://docs.astral.sh/ruff/rules/suspicious-eval-usage")
    );
    assert!(
        eval.message.contains("ast.literal_eval"),
        "{}",
        eval.message
    );
    assert!(findings.iter().all(|f| !f.message.contains("hunter2")));
}

#[test]
fn a_diagnostic_spanning_lines_keeps_its_range_and_a_missing_code_is_a_syntax_error() {
    let json = r#"[{"code": null, "message": "Expected an expression", "url": null,
        "filename": "/r/a.py", "location": {"row": 2, "column": 1},
        "end_location": {"row": 5, "column": 1}}]"#;
    let findings = parse(json, Path::new("/r")).unwrap();
    assert_eq!(findings[0].rule, "invalid-syntax");
    assert_eq!((findings[0].start_line, findings[0].end_line), (2, 5));
    assert_eq!(findings[0].file, "a.py");
}

#[test]
fn output_that_is_not_ruff_json_is_refused_with_the_reason() {
    let root = Path::new(ROOT);
    let not_json = parse("error: unexpected argument", root).unwrap_err();
    assert!(not_json.contains("not JSON"), "{not_json}");
    let other_shape = parse(r#"{"results": []}"#, root).unwrap_err();
    assert!(
        other_shape.contains("not a list of diagnostics"),
        "{other_shape}"
    );
    let no_location = parse(
        r#"[{"code": "S307", "message": "eval", "filename": "/r/a.py"}]"#,
        root,
    )
    .unwrap_err();
    assert!(no_location.contains("location"), "{no_location}");
    assert_eq!(parse("[]", root).unwrap(), Vec::new());
}

#[test]
fn the_severity_table_and_the_command() {
    assert_eq!(severity("S102"), Severity::High);
    assert_eq!(severity("E999"), Severity::High);
    assert_eq!(severity("S311"), Severity::Low, "as bandit rates B311");
    assert_eq!(severity("S101"), Severity::Low);
    assert_eq!(severity("S113"), Severity::Medium);
    assert_eq!(severity("F632"), Severity::Medium);
    assert_eq!(severity("E501"), Severity::Low);
    let args = args(&default_select(), vec!["/r".into()]);
    assert_eq!(
        args.join(" "),
        "check --output-format json --no-cache --exit-zero --isolated --ignore-noqa --select E9,F63,F7,F82,S /r"
    );
}
