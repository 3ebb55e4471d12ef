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

/// A tool that may start processes of its own — pip-audit installs, npm runs scripts,
/// clippy builds, eslint loads plugins, a configured SARIF tool is anything — is hunted down
/// whole when it ends: what it left running in a session of its own dies with it. The
/// tools that only read the tree are killed by their process group alone, without a walk of
/// every process on the machine.
#[test]
fn a_tool_that_may_leave_processes_behind_is_hunted_down_whole() {
    let audit = Recorded::with_script(
        Analyzer::PipAudit,
        &[("requirements.txt", "flask==2.2.0\n")],
        |audit| {
            let pid_file = audit.outside("escaped.pid").display().to_string();
            format!(
                "#!/bin/sh\nsetsid sh -c 'echo $$ > \"$1\"; exec sleep 60' sh '{pid_file}' >/dev/null 2>&1 &\nwhile [ ! -s '{pid_file}' ]; do sleep 0.01; done\necho '{{\"dependencies\": [], \"fixes\": []}}'\n"
            )
        },
    );
    assert!(audit.run().unwrap().is_empty());
    let pid_file = audit.outside("escaped.pid");
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    let stat = Path::new("/proc").join(pid.trim()).join("stat");
    let running = || {
        std::fs::read_to_string(&stat).is_ok_and(|s| {
            s.rsplit_once(") ")
                .is_some_and(|(_, rest)| !rest.starts_with('Z'))
        })
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while running() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        !running(),
        "pip-audit's escaped process {} outlived it",
        pid.trim()
    );

    let every = [
        Analyzer::Ruff,
        Analyzer::Bandit,
        Analyzer::Semgrep { rules: None },
        Analyzer::Gitleaks,
        Analyzer::OsvScanner,
        Analyzer::PipAudit,
        Analyzer::CargoAudit,
        Analyzer::NpmAudit,
        Analyzer::Clippy,
        Analyzer::Eslint,
        Analyzer::Sarif {
            name: "tool".into(),
            command: vec!["tool".into()],
        },
    ];
    let hunted: Vec<&str> = every
        .iter()
        .filter(|a| !a.leaves_no_orphans())
        .map(Analyzer::name)
        .collect();
    assert_eq!(
        hunted,
        ["pip-audit", "npm-audit", "clippy", "eslint", "tool"]
    );
}

/// A tree with some files, and beside it a fake of an analyzer's program that records where
/// it ran and its arguments, keeps a copy of the file a `--config=` argument names, and
/// prints a given output.
struct Recorded {
    dir: tempfile::TempDir,
    analyzer: Analyzer,
    program: PathBuf,
}

impl Recorded {
    fn new(analyzer: Analyzer, files: &[(&str, &str)], output: &str) -> Self {
        Self::with_script(analyzer, files, |recorded| {
            format!(
                "#!/bin/sh\npwd > '{seen}'\nfor a in \"$@\"; do echo \"$a\" >> '{seen}'; case \"$a\" in --config=*) cp \"${{a#--config=}}\" '{seen}-config';; esac; done\necho '{output}'\n",
                seen = recorded.outside("seen").display()
            )
        })
    }

    /// The tree with `files`, and a fake of `analyzer`'s program that runs `script`.
    fn with_script(
        analyzer: Analyzer,
        files: &[(&str, &str)],
        script: impl FnOnce(&Self) -> String,
    ) -> Self {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let recorded = Self {
            program: dir.path().join("bin").join(analyzer.program()),
            dir,
            analyzer,
        };
        for (name, text) in files {
            let file = recorded.tree().join(name);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(file, text).unwrap();
        }
        std::fs::create_dir_all(recorded.program.parent().unwrap()).unwrap();
        std::fs::write(&recorded.program, script(&recorded)).unwrap();
        std::fs::set_permissions(&recorded.program, std::fs::Permissions::from_mode(0o755))
            .unwrap();
        recorded
    }

    fn tree(&self) -> PathBuf {
        self.outside("tree")
    }

    /// A path beside the tree.
    fn outside(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn log(&self) -> PathBuf {
        self.outside("logs")
            .join(format!("{}.log", self.analyzer.name()))
    }

    fn run(&self) -> Result<Vec<Finding>, ScanError> {
        let (tree, log) = (self.tree(), self.log());
        run(
            &self.analyzer,
            &self.program,
            &tree,
            None,
            TIMEOUT,
            &log,
            &Confinement::none(),
        )
    }

    /// Where the last run ran, and its arguments.
    fn seen(&self) -> (PathBuf, Vec<String>) {
        let seen = std::fs::read_to_string(self.outside("seen")).unwrap();
        let mut lines = seen.lines().map(str::to_string);
        (lines.next().unwrap().into(), lines.collect())
    }
}

/// osv-scanner reads an `osv-scanner.toml` beside each lockfile (its `[[IgnoredVulns]]`
/// hide vulnerabilities) unless `--config` names one for all: it is given dayshift's, which
/// ignores nothing, written outside the tree.
#[test]
fn osv_scanner_reads_dayshifts_settings_never_the_trees() {
    let osv = Recorded::new(
        Analyzer::OsvScanner,
        &[
            ("package-lock.json", "{}\n"),
            (
                "osv-scanner.toml",
                "[[IgnoredVulns]]\nid = \"GHSA-xxxx\"\nreason = \"trust me\"\n",
            ),
        ],
        r#"{"results": []}"#,
    );
    assert!(osv.run().unwrap().is_empty());
    let (_, args) = osv.seen();
    let config = format!("--config={}", osv.log().with_extension("toml").display());
    assert!(args.contains(&config), "{args:?}");
    let given = std::fs::read_to_string(osv.outside("seen-config")).unwrap();
    assert_eq!(given, super::super::osv_scanner::SETTINGS);
    assert!(!given.contains("IgnoredVulns"));
}

/// cargo-audit reads `./.cargo/audit.toml` where it runs (its `ignore` list hides
/// advisories): it runs outside the tree, given the tree's lockfile by path.
#[test]
fn cargo_audit_runs_outside_the_tree_so_its_audit_toml_is_not_read() {
    let audit = Recorded::new(
        Analyzer::CargoAudit,
        &[
            ("Cargo.toml", "[package]\nname = \"x\"\n"),
            ("Cargo.lock", "version = 3\n"),
            (
                ".cargo/audit.toml",
                "[advisories]\nignore = [\"RUSTSEC-2020-0071\"]\n",
            ),
        ],
        r#"{"vulnerabilities": {"found": false, "count": 0, "list": []}, "warnings": {}}"#,
    );
    assert!(audit.run().unwrap().is_empty());
    let (ran_in, args) = audit.seen();
    assert_eq!(ran_in, audit.outside("logs").canonicalize().unwrap());
    assert!(!ran_in.join(".cargo/audit.toml").exists());
    let lockfile = audit.tree().join("Cargo.lock").display().to_string();
    assert_eq!(args, ["audit", "--json", "--file", lockfile.as_str()]);
}

/// npm reads the project's `.npmrc`, which can send the audit to a server that answers
/// "nothing found" (checked with npm 11: the tree's `registry=` got the request): npm audit
/// runs on a copy of the manifest and lockfile outside the tree, and a lockfile that is a
/// link out of the tree is not copied.
#[test]
fn npm_audit_runs_on_a_copy_of_the_project_without_its_npmrc() {
    let npm = Recorded::new(
        Analyzer::NpmAudit,
        &[
            ("package.json", "{\"name\": \"victim\"}\n"),
            ("package-lock.json", "{\"lockfileVersion\": 3}\n"),
            (".npmrc", "registry=http://127.0.0.1:9/\nomit=dev\n"),
        ],
        r#"{"auditReportVersion": 2, "vulnerabilities": {}}"#,
    );
    assert!(npm.run().unwrap().is_empty());
    let (ran_in, args) = npm.seen();
    assert_eq!(
        ran_in,
        npm.log().with_extension("project").canonicalize().unwrap()
    );
    assert_eq!(args, ["audit", "--json"]);
    let mut copied: Vec<String> = std::fs::read_dir(&ran_in)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    copied.sort();
    assert_eq!(copied, ["package-lock.json", "package.json"]);
    assert_eq!(
        std::fs::read_to_string(ran_in.join("package-lock.json")).unwrap(),
        "{\"lockfileVersion\": 3}\n"
    );

    // a lockfile that leads out of the tree is refused, and the run with it
    let secret = npm.outside("secret.json");
    std::fs::write(&secret, "{\"token\": \"s3cr3t\"}\n").unwrap();
    let lockfile = npm.tree().join("package-lock.json");
    std::fs::remove_file(&lockfile).unwrap();
    std::os::unix::fs::symlink(&secret, &lockfile).unwrap();
    let refused = npm.run().unwrap_err().to_string();
    assert!(refused.contains("cannot copy the project"), "{refused}");
    let copy = std::fs::read_to_string(ran_in.join("package-lock.json")).unwrap_or_default();
    assert!(!copy.contains("s3cr3t"));
}

/// `--version` is asked with semgrep's version check off: semgrep asks its server for the
/// newest release first, which took 97 s with no route to it and cost the version.
#[test]
fn a_version_is_asked_without_semgreps_call_home() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let tool = dir.path().join("semgrep");
    let script = "#!/bin/sh\n[ \"$SEMGREP_ENABLE_VERSION_CHECK\" = 0 ] || sleep 30\necho 1.187.0\n";
    std::fs::write(&tool, script).unwrap();
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(version(&tool).as_deref(), Some("1.187.0"));
}
