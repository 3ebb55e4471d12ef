//! Starting analyzers on some files of a tree: the real ruff and bandit from the checkout's
//! `.venv` (`make test-deps`), semgrep and gitleaks as scripts that record their arguments,
//! and the cases where nothing may run.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;

const TIMEOUT: Duration = Duration::from_secs(120);

/// ruff or bandit as `make test-deps` installs them (CI does), in the checkout's `.venv`.
fn installed(name: &str) -> PathBuf {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin");
    find_program(name, &[venv]).unwrap_or_else(|| panic!("no {name}: run `make test-deps`"))
}

/// A copy of `tests/fixtures/scan/tree`'s two files with planted issues.
fn fixture_tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scan/tree/app");
    std::fs::create_dir_all(dir.path().join("app")).unwrap();
    for file in ["db.py", "handlers.py"] {
        std::fs::copy(from.join(file), dir.path().join("app").join(file)).unwrap();
    }
    dir
}

#[test]
fn ruff_and_bandit_given_files_read_only_those() {
    let tree = fixture_tree();
    let files = ["app/db.py".to_string()];
    for analyzer in [Analyzer::Ruff, Analyzer::Bandit] {
        let program = installed(analyzer.name());
        let log = tree.path().join("logs").join(analyzer.name());
        let findings = run(
            &analyzer,
            &program,
            tree.path(),
            Some(&files),
            TIMEOUT,
            &log,
            &Confinement::none(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(!findings.is_empty(), "{}: nothing found", analyzer.name());
        for finding in &findings {
            assert_eq!(finding.file, "app/db.py", "{finding:?}");
        }
        assert!(
            findings.iter().any(|f| f.rule.ends_with("608")),
            "{}: no SQL finding in {findings:#?}",
            analyzer.name()
        );
    }
}

#[test]
fn an_empty_file_list_runs_nothing() {
    let tree = fixture_tree();
    let never_runs = tree.path().join("no-such-ruff");
    let log = tree.path().join("ruff.log");
    let findings = run(
        &Analyzer::Ruff,
        &never_runs,
        tree.path(),
        Some(&[]),
        TIMEOUT,
        &log,
        &Confinement::none(),
    );
    assert_eq!(findings.unwrap(), []);
    assert!(!log.exists());
}

#[test]
fn semgrep_without_rules_is_not_configured_and_says_what_to_set() {
    let tree = fixture_tree();
    let semgrep = Analyzer::named("semgrep").unwrap();
    let err = run(
        &semgrep,
        Path::new("/bin/true"),
        tree.path(),
        None,
        TIMEOUT,
        &tree.path().join("l"),
        &Confinement::none(),
    )
    .unwrap_err();
    assert!(matches!(err, ScanError::NotConfigured { .. }), "{err:?}");
    assert!(err.to_string().contains("semgrep_config"), "{err}");
}

#[test]
fn semgrep_gets_its_rules_and_the_files_and_its_sarif_is_read() {
    use std::os::unix::fs::PermissionsExt;
    let tree = fixture_tree();
    let captured =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scan/semgrep-rules.sarif");
    let argv = tree.path().join("argv");
    let script = tree.path().join("semgrep");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$@\" > '{}'\nsed 's#/tmp/dayshift-scan/tree#'\"$PWD\"'#g' '{}'\n",
            argv.display(),
            captured.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let semgrep = Analyzer::Semgrep {
        rules: Some("/home/config/rules.yaml".into()),
    };
    let files = ["app/db.py".to_string(), "app/handlers.py".to_string()];
    let log = tree.path().join("semgrep.log");
    let findings = run(
        &semgrep,
        &script,
        tree.path(),
        Some(&files),
        TIMEOUT,
        &log,
        &Confinement::none(),
    )
    .unwrap();
    let args = std::fs::read_to_string(&argv).unwrap();
    assert!(
        args.trim_end()
            .ends_with("--config /home/config/rules.yaml ./app/db.py ./app/handlers.py"),
        "{args}"
    );
    let places: Vec<_> = findings.iter().map(|f| f.located()).collect();
    assert_eq!(places, ["app/db.py:3", "app/handlers.py:11"]);
}

#[test]
fn gitleaks_reads_dayshifts_settings_never_the_trees() {
    use std::os::unix::fs::PermissionsExt;
    let tree = fixture_tree();
    // the tree's own settings would allow everything and ignore a finding
    std::fs::write(
        tree.path().join(".gitleaks.toml"),
        "[allowlist]\npaths = ['''.*''']\n",
    )
    .unwrap();
    let ignored = "app/db.py:generic-api-key:3\n";
    std::fs::write(tree.path().join(".gitleaksignore"), ignored).unwrap();
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("gitleaks.log");
    // gitleaks as a script: it keeps what it was given, and answers an empty SARIF log
    let kept = logs.path().join("kept");
    let script = logs.path().join("gitleaks");
    let sarif =
        r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"gitleaks"}},"results":[]}]}"#;
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nout='{}'\necho \"$@\" > \"$out.argv\"\n\
             while [ $# -gt 0 ]; do\n  case \"$1\" in\n    --config) cp \"$2\" \"$out.config\";;\n\
             \x20   --gitleaks-ignore-path) cp \"$2\" \"$out.ignore\";;\n  esac\n  shift\ndone\n\
             echo '{sarif}'\n",
            kept.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let found = run(
        &Analyzer::Gitleaks,
        &script,
        tree.path(),
        None,
        TIMEOUT,
        &log,
        &Confinement::none(),
    )
    .unwrap();
    assert!(found.is_empty());
    let read = |what: &str| std::fs::read_to_string(kept.with_extension(what)).unwrap();
    let argv = read("argv");
    let config = logs.path().join("gitleaks.toml");
    assert!(
        argv.contains(&format!("--config {}", config.display())),
        "{argv}"
    );
    assert_eq!(
        read("config"),
        crate::scan::analyzers::gitleaks::DEFAULT_CONFIG
    );
    assert_eq!(read("ignore"), "", "nothing the tree lists is ignored");
}
