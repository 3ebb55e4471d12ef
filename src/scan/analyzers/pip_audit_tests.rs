//! pip-audit's parser on a report written from pip-audit's documented JSON
//! (`dependencies[].vulns[]`: id, fix_versions, aliases, description), and on its real
//! output when its vulnerability source could not be reached (`pip-audit-skipped.json`,
//! captured with pip-audit 2.10.1: every dependency skipped).

use std::path::Path;

use super::*;
use crate::scan::analyzers::testing::{assert_refused, rows};

const REPORT: &str = include_str!("../../../tests/fixtures/scan/pip-audit.json");
const SKIPPED: &str = include_str!("../../../tests/fixtures/scan/pip-audit-skipped.json");

fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

#[test]
fn each_vulnerability_is_a_high_finding_at_the_requirement_naming_it() {
    let dir = project(&[
        ("requirements.txt", "# app\nFlask==2.2.0\n"),
        ("requirements-http.txt", "requests==2.19.0\n"),
    ]);
    let findings = parse(REPORT, dir.path()).unwrap();
    assert_eq!(
        rows(&findings),
        [
            (
                "GHSA-m2qf-hxjv-5gpq",
                "requirements.txt",
                2,
                Severity::High,
                None
            ),
            (
                "PYSEC-2018-28",
                "requirements-http.txt",
                1,
                Severity::High,
                None
            ),
            // a transitive dependency: the first requirements file, line 1
            (
                "PYSEC-2019-132",
                "requirements-http.txt",
                1,
                Severity::High,
                None
            ),
        ]
    );
    assert!(
        findings
            .iter()
            .all(|f| f.severity == Severity::High && f.analyzer == "pip-audit")
    );
    assert_eq!(
        findings[0].message,
        "flask 2.2.0: Possible disclosure of permanent session cookie due to missing Vary: \
         Cookie header. (fixed in 2.2.5, 2.3.2); also CVE-2023-30861, PYSEC-2023-62"
    );
    assert!(findings[2].message.contains("(no fixed version yet)"));
    assert_eq!(
        findings[1].help_url.as_deref(),
        Some("https://osv.dev/vulnerability/PYSEC-2018-28")
    );
}

#[test]
fn dependencies_it_could_not_audit_are_not_findings() {
    let dir = project(&[("requirements.txt", "flask==2.2.0\nrequests==2.19.0\n")]);
    assert_eq!(parse(SKIPPED, dir.path()).unwrap(), []);
}

#[test]
fn it_audits_every_requirements_file_and_never_a_pyproject_alone() {
    let both = project(&[
        ("requirements.txt", ""),
        ("requirements-dev.txt", ""),
        ("pyproject.toml", ""),
    ]);
    assert_eq!(
        args(both.path()).join(" "),
        "-f json --progress-spinner off --disable-pip --no-deps -r requirements-dev.txt -r requirements.txt"
    );
    assert_eq!(not_run(both.path()), None);
    let pyproject = project(&[("pyproject.toml", "")]);
    let why = not_run(pyproject.path()).unwrap();
    assert!(why.contains("installing its dependencies"), "{why}");
}

#[test]
fn output_that_is_not_its_report_is_refused_clearly() {
    let root = Path::new("/r");
    assert_refused(
        parse("ERROR: No matching distribution found", root),
        "pip-audit's output is not JSON",
    );
    // pip-audit before 2.0 wrote a bare list
    assert_refused(
        parse(
            r#"[{"name": "flask", "version": "2.2.0", "vulns": []}]"#,
            root,
        ),
        "is JSON but not a report",
    );
    let pip_audit = crate::scan::analyzers::Analyzer::PipAudit;
    assert!(pip_audit.ran(1) && !pip_audit.ran(2));
}
