//! npm audit's parser on a report written from npm's documented audit report version 2
//! (`vulnerabilities.<name>`: severity, via, range, fixAvailable), over the real
//! `package-lock.json` npm 10 wrote for it (`npm-package-lock.json`), and on npm's real
//! failure output (`npm-audit-error.json`, captured with npm 10 when the registry refused
//! the audit endpoint).

use super::*;
use crate::scan::analyzers::testing::{assert_refused, rows};

const REPORT: &str = include_str!("../../../tests/fixtures/scan/npm-audit.json");
const LOCK: &str = include_str!("../../../tests/fixtures/scan/npm-package-lock.json");
const FAILED: &str = include_str!("../../../tests/fixtures/scan/npm-audit-error.json");

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("package-lock.json"), LOCK).unwrap();
    dir
}

#[test]
fn each_advisory_is_a_finding_at_its_package_in_the_lockfile() {
    let dir = project();
    let findings = parse(REPORT, dir.path()).unwrap();
    assert_eq!(
        rows(&findings),
        [
            (
                "GHSA-35jh-r3h4-6jhm",
                "package-lock.json",
                15,
                Severity::High,
                Some(77)
            ),
            (
                "GHSA-29mw-wpgm-hmr9",
                "package-lock.json",
                15,
                Severity::Medium,
                Some(400)
            ),
            (
                "GHSA-xvch-5gv4-984h",
                "package-lock.json",
                20,
                Severity::Critical,
                Some(1321)
            ),
        ],
        "mkdirp, vulnerable only through minimist, is minimist's finding"
    );
    assert_eq!(
        findings[0].message,
        "lodash <4.17.21: Command Injection in lodash (fix: `npm audit fix`)"
    );
    assert_eq!(
        findings[2].message,
        "minimist >=1.0.0 <1.2.6: Prototype Pollution in minimist (fix: upgrade minimist to 1.2.8)"
    );
    assert_eq!(
        findings[0].help_url.as_deref(),
        Some("https://github.com/advisories/GHSA-35jh-r3h4-6jhm")
    );
    assert!(findings.iter().all(|f| f.analyzer == "npm-audit"));
}

#[test]
fn npm_failing_is_an_error_not_an_empty_audit() {
    let dir = project();
    let err = parse(FAILED, dir.path()).unwrap_err();
    assert!(err.starts_with("npm audit failed (no error code)"), "{err}");
    let no_lock = r#"{"error": {"code": "ENOLOCK", "summary": "This command requires an existing lockfile.", "detail": "Try creating one first with: npm i --package-lock-only"}}"#;
    let err = parse(no_lock, dir.path()).unwrap_err();
    assert_eq!(
        err,
        "npm audit failed (ENOLOCK): This command requires an existing lockfile.: \
         Try creating one first with: npm i --package-lock-only"
    );
}

#[test]
fn output_that_is_not_its_report_is_refused_clearly() {
    let root = std::path::Path::new("/r");
    assert_refused(
        parse("npm ERR! code ENOLOCK", root),
        "npm audit's output is not JSON",
    );
    // npm 6's report had `advisories`, no version
    assert_refused(
        parse(r#"{"advisories": {}, "metadata": {}}"#, root),
        "not version 2",
    );
    assert_refused(
        parse(r#"{"auditReportVersion": 2, "vulnerabilities": []}"#, root),
        "is JSON but not an audit report",
    );
    let bad = REPORT.replace("\"moderate\"", "\"dire\"");
    assert_refused(parse(&bad, root), "`dire` is not a severity");
    let npm = crate::scan::analyzers::Analyzer::NpmAudit;
    assert!(npm.ran(0) && npm.ran(1) && !npm.ran(2));
    assert_eq!(args(), ["audit", "--json"]);
}
