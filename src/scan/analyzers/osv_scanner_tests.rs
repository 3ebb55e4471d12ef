//! osv-scanner's parser on a report written from osv-scanner 2's documented JSON
//! (`--format json`: results per source, packages, their OSV vulnerabilities and alias
//! groups with `max_severity`) — osv-scanner is a Go binary from GitHub releases, not
//! installable here — over a temp tree holding the lockfiles it names.

use std::path::Path;

use super::*;
use crate::scan::analyzers::testing::{assert_refused, rows};

const REPORT: &str = include_str!("../../../tests/fixtures/scan/osv-scanner.json");
const CAPTURED_ROOT: &str = "/tmp/dayshift-scan/deps";

/// A tree with the report's lockfiles, and the report with its paths in that tree.
fn tree() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("web")).unwrap();
    std::fs::write(
        dir.path().join("web/package-lock.json"),
        "{\n  \"packages\": {\n    \"node_modules/lodash\": {\"version\": \"4.17.20\"},\n    \"node_modules/minimist\": {\"version\": \"1.2.5\"}\n  }\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("requirements.txt"),
        "flask==2.2.0\nrequests==2.19.0\n",
    )
    .unwrap();
    let report = REPORT.replace(CAPTURED_ROOT, &dir.path().display().to_string());
    (dir, report)
}

#[test]
fn each_vulnerability_is_a_finding_at_the_lockfile_line_naming_its_package() {
    let (dir, report) = tree();
    let findings = parse(&report, dir.path()).unwrap();
    assert_eq!(
        rows(&findings),
        [
            (
                "GHSA-35jh-r3h4-6jhm",
                "web/package-lock.json",
                3,
                Severity::High,
                Some(77)
            ),
            (
                "GHSA-xvch-5gv4-984h",
                "web/package-lock.json",
                4,
                Severity::Critical,
                Some(1321)
            ),
            ("PYSEC-2018-28", "requirements.txt", 2, Severity::High, None),
        ]
    );
    assert_eq!(
        findings[0].message,
        "lodash 4.17.20: Command Injection in lodash (fixed in 4.17.21); also CVE-2021-23337"
    );
    assert_eq!(
        findings[1].message,
        "minimist 1.2.5: Prototype Pollution in minimist (fixed in 0.2.4, 1.2.6); also CVE-2021-44906"
    );
    // no group: its own ids, no score (high); no summary: the details' first line
    assert_eq!(
        findings[2].message,
        "requests 2.19.0: The Requests package before 2.20.0 for Python sends an HTTP \
         Authorization header to an http URI upon receiving a same-hostname https-to-http \
         redirect. (fixed in 2.20.0); also CVE-2018-18074, GHSA-x84v-xcm2-53pg"
    );
    assert_eq!(
        findings[2].help_url.as_deref(),
        Some("https://osv.dev/vulnerability/PYSEC-2018-28")
    );
    assert!(findings.iter().all(|f| f.analyzer == "osv-scanner"));
}

#[test]
fn a_lockfile_that_cannot_be_read_puts_its_findings_at_line_one() {
    let findings = parse(REPORT, Path::new("/nonexistent")).unwrap();
    assert_eq!(
        findings[0].file,
        "/tmp/dayshift-scan/deps/web/package-lock.json"
    );
    assert!(findings.iter().all(|f| f.start_line == 1));
}

#[test]
fn output_that_is_not_its_report_is_refused_clearly() {
    let root = Path::new("/r");
    assert_refused(
        parse("No package sources found", root),
        "osv-scanner's output is not JSON",
    );
    assert_refused(
        parse(r#"{"results": [{"packages": []}]}"#, root),
        "is JSON but not a report",
    );
    let score = REPORT.replace("\"7.2\"", "\"high\"");
    assert_refused(parse(&score, root), "`high`, not a number");
    assert_eq!(parse(r#"{"results": []}"#, root).unwrap(), []);
}

#[test]
fn one_means_vulnerabilities_found() {
    let osv = crate::scan::analyzers::Analyzer::OsvScanner;
    assert!(osv.ran(0) && osv.ran(1) && !osv.ran(127));
    assert_eq!(
        args(Path::new("/r"), Path::new("/home/x/osv-scanner.toml")).join(" "),
        "scan source --format json --config=/home/x/osv-scanner.toml -r /r"
    );
}
