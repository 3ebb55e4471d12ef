//! gitleaks' adapter on a SARIF log written from gitleaks 8's SARIF writer
//! (`report/sarif.go`: the rule's description, a message naming the rule and the file, the
//! secret in the region's snippet) — gitleaks is a Go binary from GitHub releases, not
//! installable here. The second result is as a run without `--redact` would write it, its
//! message quoting the secret too.

use std::path::Path;

use super::*;
use crate::scan::analyzers::testing::assert_refused;

const LOG: &str = include_str!("../../../tests/fixtures/scan/gitleaks.sarif");
const SECRET: &str = "ghp_Fake0Token0For0Dayshift0Tests0000000";

#[test]
fn each_secret_is_a_high_finding_at_its_place() {
    let findings = parse(LOG, Path::new("/tmp/dayshift-scan/tree")).unwrap();
    let places: Vec<_> = findings
        .iter()
        .map(|f| (f.rule.as_str(), f.file.as_str(), f.start_line, f.end_line))
        .collect();
    assert_eq!(
        places,
        [
            ("aws-access-token", "config/settings.py", 4, 4),
            ("github-pat", "deploy/ci.env", 2, 2),
        ]
    );
    for finding in &findings {
        assert_eq!(finding.analyzer, "gitleaks");
        assert_eq!((finding.severity, finding.cwe), (Severity::High, Some(798)));
        assert!(
            finding.message.contains(&finding.rule),
            "{}",
            finding.message
        );
    }
}

#[test]
fn no_finding_carries_the_secret() {
    assert!(
        LOG.contains(SECRET),
        "the fixture must hold the secret to test this"
    );
    let findings = parse(LOG, Path::new("/tmp/dayshift-scan/tree")).unwrap();
    let text = serde_json::to_string(&findings).unwrap();
    assert!(!text.contains(SECRET), "{text}");
    assert!(!text.contains("REDACTED"), "{text}");
}

#[test]
fn output_that_is_not_its_sarif_is_refused_clearly() {
    let root = Path::new("/r");
    assert_refused(
        parse("gitleaks: unknown command \"dir\"", root),
        "gitleaks's output is not JSON",
    );
    assert_refused(
        parse(r#"{"findings": []}"#, root),
        "is JSON but not a SARIF log",
    );
}

#[test]
fn it_scans_the_root_with_redaction_and_sarif_on_stdout_and_only_dayshifts_settings() {
    let args = args(Path::new("/r"), Path::new("/home/logs/gitleaks.log")).join(" ");
    assert_eq!(
        args,
        "dir --report-format sarif --report-path - --no-banner --redact --log-level error \
         --config /home/logs/gitleaks.toml --gitleaks-ignore-path /home/logs/gitleaks.ignore /r"
    );
    assert_eq!(DEFAULT_CONFIG, "[extend]\nuseDefault = true\n");
    let gitleaks = crate::scan::analyzers::Analyzer::Gitleaks;
    assert!(gitleaks.ran(0) && gitleaks.ran(1) && !gitleaks.ran(126));
}
