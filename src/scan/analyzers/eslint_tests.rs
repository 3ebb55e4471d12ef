//! eslint's parser on its real JSON (captured with eslint 9.39.5 on `src/app.js` and a
//! `src/broken.js` that does not parse, at the root `/tmp/dayshift-scan/js`), and on
//! output it must refuse.

use std::path::Path;

use super::*;
use crate::scan::analyzers::testing::{assert_refused, rows};

const CAPTURED: &str = include_str!("../../../tests/fixtures/scan/eslint.json");
const ROOT: &str = "/tmp/dayshift-scan/js";

#[test]
fn each_message_is_a_finding_with_its_rule_place_and_severity() {
    let findings = parse(CAPTURED, Path::new(ROOT)).unwrap();
    assert_eq!(
        rows(&findings),
        [
            ("no-debugger", "src/app.js", 2, Severity::Medium, None),
            ("eqeqeq", "src/app.js", 3, Severity::Low, None),
            ("no-undef", "src/app.js", 3, Severity::Medium, None),
            ("parse-error", "src/broken.js", 6, Severity::High, None),
        ]
    );
    assert_eq!(
        findings[0].help_url.as_deref(),
        Some("https://eslint.org/docs/latest/rules/no-debugger")
    );
    assert_eq!(findings[3].message, "Parsing error: Unexpected token ;");
    assert_eq!(findings[3].help_url, None);
    assert!(findings.iter().all(|f| f.end_line == f.start_line));
    assert!(findings.iter().all(|f| f.analyzer == "eslint"));
}

#[test]
fn plugin_rules_have_no_help_url_and_file_notes_are_not_findings() {
    let json = r#"[{"filePath": "/r/a.ts", "messages": [
        {"ruleId": "@typescript-eslint/no-explicit-any", "severity": 1, "message": "Unexpected any.", "line": 4},
        {"ruleId": null, "severity": 1, "message": "File ignored because of a matching ignore pattern."}
    ]}]"#;
    let findings = parse(json, Path::new("/r")).unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(
        (findings[0].file.as_str(), findings[0].start_line),
        ("a.ts", 4)
    );
    assert_eq!(findings[0].help_url, None);
}

#[test]
fn output_that_is_not_its_report_is_refused_clearly() {
    let root = Path::new(ROOT);
    assert_refused(
        parse("Oops! Something went wrong! :(", root),
        "eslint's output is not JSON",
    );
    assert_refused(
        parse(r#"{"results": []}"#, root),
        "is JSON but not a list of file reports",
    );
    let odd = CAPTURED.replace("\"severity\":1", "\"severity\":3");
    assert_refused(parse(&odd, root), "severity 3, not 1 or 2");
    let eslint = crate::scan::analyzers::Analyzer::Eslint;
    assert!(eslint.ran(0) && eslint.ran(1) && !eslint.ran(2));
    assert_eq!(
        args(vec!["./src/app.js".into()]).join(" "),
        "-f json --no-inline-config --no-warn-ignored ./src/app.js"
    );
}
