//! The SARIF reader on a semgrep- and eslint-shaped 2.1.0 log
//! (`tests/fixtures/scan/semgrep.sarif`), and on logs it must refuse.

use std::path::Path;

use super::*;

const LOG: &str = include_str!("../../../tests/fixtures/scan/semgrep.sarif");
const ROOT: &str = "/tmp/dayshift-scan/tree";

fn read(json: &str) -> Result<Vec<Finding>, String> {
    parse(json, Path::new(ROOT), "semgrep")
}

/// A one-run log with `result` as its only result and `rules` as its driver's rules.
fn one_result(rules: &str, result: &str) -> String {
    format!(
        r#"{{"version": "2.1.0", "runs": [{{"tool": {{"driver": {{"name": "t", "rules": [{rules}]}}}},
            "results": [{result}]}}]}}"#
    )
}

const AT_A_PY: &str =
    r#""locations": [{"physicalLocation": {"artifactLocation": {"uri": "a.py"}}}]"#;

#[test]
fn every_run_and_result_is_read_with_its_tool_rule_place_severity_and_cwe() {
    let findings = read(LOG).unwrap();
    assert_eq!(findings.len(), 4);
    let eval = &findings[0];
    assert_eq!(
        (eval.analyzer.as_str(), eval.rule.as_str()),
        ("Semgrep OSS", "python.lang.security.audit.eval-detected")
    );
    // file:// and the root stripped; security-severity 9.8 outranks level `warning`
    assert_eq!(
        (eval.file.as_str(), eval.start_line, eval.end_line),
        ("app/handlers.py", 11, 11)
    );
    assert_eq!((eval.severity, eval.cwe), (Severity::Critical, Some(95)));
    assert_eq!(
        eval.help_url.as_deref(),
        Some("https://semgrep.dev/r/python.lang.security.audit.eval-detected")
    );
    assert!(eval.message.starts_with("Detected the use of eval()"));
    // rule.id instead of ruleId; a uriBaseId resolved through originalUriBaseIds
    let cert = &findings[1];
    assert_eq!(
        cert.rule,
        "python.requests.security.disabled-cert-validation"
    );
    assert_eq!(
        (cert.file.as_str(), cert.start_line),
        ("app/handlers.py", 27)
    );
    assert_eq!((cert.severity, cert.cwe), (Severity::High, Some(295)));
    // no level: the rule's default level `note`; a range of lines
    let open = &findings[2];
    assert_eq!((open.severity, open.cwe), (Severity::Low, None));
    assert_eq!(
        (open.file.as_str(), open.start_line, open.end_line),
        ("app/db.py", 6, 9)
    );
    // the second run is another tool's
    let eslint = &findings[3];
    assert_eq!(
        (
            eslint.analyzer.as_str(),
            eslint.rule.as_str(),
            eslint.file.as_str()
        ),
        ("ESLint", "no-eval", "web/app.js")
    );
    assert_eq!(
        (eslint.severity, eslint.help_url.as_deref()),
        (Severity::High, None)
    );
}

#[test]
fn levels_and_scores_map_to_severities() {
    let level = |level: &str| {
        let result = format!(
            r#"{{"ruleId": "r", "level": "{level}", "message": {{"text": "m"}}, {AT_A_PY}}}"#
        );
        read(&one_result("", &result)).map(|f| f[0].severity)
    };
    assert_eq!(level("error"), Ok(Severity::High));
    assert_eq!(level("warning"), Ok(Severity::Medium));
    assert_eq!(level("note"), Ok(Severity::Low));
    assert_eq!(level("none"), Ok(Severity::Info));
    assert!(level("fatal").unwrap_err().contains("`fatal`"));
    let scored = |score: &str| {
        let rule = format!(r#"{{"id": "r", "properties": {{"security-severity": {score}}}}}"#);
        let result = format!(r#"{{"ruleId": "r", "message": {{"text": "m"}}, {AT_A_PY}}}"#);
        read(&one_result(&rule, &result)).map(|f| f[0].severity)
    };
    assert_eq!(scored("\"9.0\""), Ok(Severity::Critical));
    assert_eq!(scored("7"), Ok(Severity::High));
    assert_eq!(scored("\"4.0\""), Ok(Severity::Medium));
    assert_eq!(scored("\"3.9\""), Ok(Severity::Low));
    assert!(scored("\"severe\"").unwrap_err().contains("`severe`"));
}

#[test]
fn uris_are_percent_decoded() {
    assert_eq!(
        percent_decoded("file:///r/my%20app/a.py"),
        "file:///r/my app/a.py"
    );
    assert_eq!(percent_decoded("100%"), "100%");
    assert_eq!(percent_decoded("%zz%41"), "%zzA");
    let result = r#"{"ruleId": "r", "message": {"text": "m"}, "locations": [{"physicalLocation":
        {"artifactLocation": {"uri": "file:///tmp/dayshift-scan/tree/my%20app/a.py"}}}]}"#;
    assert_eq!(
        read(&one_result("", result)).unwrap()[0].file,
        "my app/a.py"
    );
}

#[test]
fn cwe_tags_in_either_spelling() {
    assert_eq!(cwe_of_tag("external/cwe/cwe-79"), Some(79));
    assert_eq!(cwe_of_tag("CWE-89: SQL Injection"), Some(89));
    assert_eq!(cwe_of_tag("security"), None);
    assert_eq!(cwe_of_tag("cwe-"), None);
}

#[test]
fn a_rule_found_only_by_its_index_and_a_message_only_in_the_rule() {
    let rule = r#"{"id": "by-index", "shortDescription": {"text": "from the rule"}}"#;
    let result = format!(r#"{{"ruleIndex": 0, "message": {{}}, {AT_A_PY}}}"#);
    let findings = read(&one_result(rule, &result)).unwrap();
    assert_eq!(findings[0].rule, "by-index");
    assert_eq!(findings[0].message, "from the rule");
    assert_eq!(findings[0].start_line, 1, "no region: line 1");
}

#[test]
fn logs_that_cannot_be_read_are_refused_with_the_reason() {
    let not_json = read("<html>").unwrap_err();
    assert!(
        not_json.contains("semgrep's output is not JSON"),
        "{not_json}"
    );
    let other_shape = read(r#"{"results": []}"#).unwrap_err();
    assert!(other_shape.contains("not a SARIF log"), "{other_shape}");
    let old = read(r#"{"version": "1.0.0", "runs": []}"#).unwrap_err();
    assert!(
        old.contains("SARIF 1.0.0") && old.contains("2.1.0"),
        "{old}"
    );
    let nowhere = read(&one_result(
        "",
        r#"{"ruleId": "r", "message": {"text": "m"}}"#,
    ));
    let nowhere = nowhere.unwrap_err();
    assert!(
        nowhere.contains("run 0, result 0") && nowhere.contains("r has no physical location"),
        "{nowhere}"
    );
    let anonymous = read(&one_result(
        "",
        &format!(r#"{{"message": {{"text": "m"}}, {AT_A_PY}}}"#),
    ));
    assert!(anonymous.unwrap_err().contains("no ruleId"));
    assert_eq!(read(r#"{"version": "2.1.0", "runs": []}"#), Ok(Vec::new()));
}
