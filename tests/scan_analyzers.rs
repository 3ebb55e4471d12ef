//! The analyzers' adapters with the real ruff and bandit (installed into `.venv` by
//! `make test-deps`) on a temp copy of `tests/fixtures/scan/tree`, and the ways a tool can
//! fail: missing, hanging, printing garbage.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use dayshift::sandbox::Confinement;
use dayshift::scan::analyzers::{self, Analyzer};
use dayshift::scan::{Finding, ScanError};

/// A tool from the checkout's `.venv`; CI installs them, so a missing one is a failure.
fn venv_tool(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(".venv/bin")
        .join(name);
    assert!(
        path.exists(),
        "{name} is not installed at {}: run `make test-deps` (it installs ruff and bandit into .venv/)",
        path.display()
    );
    path
}

/// A fresh copy of the fixture tree (so the tools see a root unlike the captured one).
fn fixture_tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scan/tree");
    copy_dir(&from, dir.path());
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A shell script as a tool.
fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// Each planted issue: its place, and the rule ruff and bandit report it under.
const PLANTED: [(&str, u32, &str, &str); 7] = [
    ("app/handlers.py", 11, "S307", "B307"), // eval of input
    ("app/handlers.py", 15, "S602", "B602"), // subprocess shell=True with input
    ("app/handlers.py", 19, "S301", "B301"), // pickle.loads
    ("app/handlers.py", 23, "S506", "B506"), // yaml.load
    ("app/handlers.py", 27, "S501", "B501"), // requests verify=False
    ("app/db.py", 7, "S608", "B608"),        // SQL by f-string
    ("app/db.py", 3, "S105", "B105"),        // a hard-coded password
];

/// Run `analyzer` on a fresh copy of the fixture tree: its findings and its kept log.
fn scan_fixture(analyzer: &Analyzer, program: &Path) -> (Vec<Finding>, String) {
    let tree = fixture_tree();
    let log = tree.path().join("logs/scan").join(analyzer.name());
    let findings = analyzers::run(
        analyzer,
        program,
        tree.path(),
        None,
        Duration::from_secs(120),
        &log,
        &Confinement::none(),
    )
    .unwrap();
    (findings, std::fs::read_to_string(&log).unwrap())
}

fn assert_found(
    findings: &[Finding],
    expected: impl IntoIterator<Item = (String, &'static str, u32)>,
) {
    for (rule, file, line) in expected {
        assert!(
            findings
                .iter()
                .any(|f| f.rule == rule && f.file == file && f.start_line == line),
            "{rule} at {file}:{line} not found in {findings:#?}"
        );
    }
}

#[test]
fn real_ruff_finds_every_planted_issue() {
    let ruff = venv_tool("ruff");
    let (findings, log) = scan_fixture(&Analyzer::Ruff, &ruff);
    let planted = PLANTED.map(|(file, line, rule, _)| (rule.to_string(), file, line));
    assert_found(&findings, planted);
    // an undefined name and a file that does not parse
    assert_found(
        &findings,
        [
            ("F821".to_string(), "app/db.py", 13),
            ("invalid-syntax".to_string(), "app/broken.py", 4),
        ],
    );
    assert!(findings.iter().all(|f| f.analyzer == "ruff"));
    assert!(
        log.contains("\"S307\""),
        "the whole output is kept in the log"
    );
    let version = analyzers::version(&ruff).unwrap();
    assert!(version.starts_with("ruff "), "{version}");
}

#[test]
fn real_bandit_finds_every_planted_issue_and_skips_the_unparsable_file() {
    let bandit = venv_tool("bandit");
    let (findings, log) = scan_fixture(&Analyzer::Bandit, &bandit);
    let planted = PLANTED.map(|(file, line, _, rule)| (rule.to_string(), file, line));
    assert_found(&findings, planted);
    assert!(findings.iter().all(|f| f.file != "app/broken.py"));
    assert!(findings.iter().all(|f| !f.message.contains("hunter2")));
    assert!(
        log.contains("broken.py"),
        "bandit's errors are kept in the log"
    );
    let version = analyzers::version(&bandit).unwrap();
    assert!(version.starts_with("bandit "), "{version}");
}

#[test]
fn a_configured_sarif_tool_is_run_in_the_root_with_the_root_for_its_argument() {
    let tree = fixture_tree();
    let bin = tempfile::tempdir().unwrap();
    let sarif = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scan/semgrep.sarif");
    // the tool prints the fixture's log with the root it was given in place of the captured one
    let tool = script(
        bin.path(),
        "fake-semgrep",
        &format!(
            "[ \"$(pwd)\" = \"$2\" ] || exit 3\nsed \"s#/tmp/dayshift-scan/tree#$2#g\" {}",
            sarif.display()
        ),
    );
    let argv = vec![
        tool.display().to_string(),
        "--sarif".to_string(),
        "{root}".to_string(),
    ];
    let root = tree.path().canonicalize().unwrap();
    let log = tree.path().join("logs/semgrep.sarif");
    let findings =
        analyzers::run_sarif("semgrep", &argv, &root, Duration::from_secs(10), &log).unwrap();
    assert_eq!(findings.len(), 4);
    assert_eq!(
        (findings[0].file.as_str(), findings[0].start_line),
        ("app/handlers.py", 11)
    );
    assert_eq!(
        findings[1].file, "app/handlers.py",
        "via originalUriBaseIds"
    );
}

/// What `analyzer` gives when its program is a script with `body`, and its log's path
/// (inside the returned temp dir, which is also the scanned root).
fn run_script(
    analyzer: &Analyzer,
    body: &str,
    timeout: Duration,
) -> (ScanError, PathBuf, tempfile::TempDir) {
    let tree = fixture_tree();
    let program = script(tree.path(), "tool", body);
    let log = tree.path().join("logs/scan").join(analyzer.name());
    let err = analyzers::run(
        analyzer,
        &program,
        tree.path(),
        None,
        timeout,
        &log,
        &Confinement::none(),
    )
    .unwrap_err();
    (err, log, tree)
}

#[test]
fn a_missing_tool_is_not_installed_with_the_way_to_install_it() {
    let tree = fixture_tree();
    let log = tree.path().join("ruff.log");
    let missing = tree.path().join("no-such-ruff");
    let five_s = Duration::from_secs(5);
    let err = analyzers::run(
        &Analyzer::Ruff,
        &missing,
        tree.path(),
        None,
        five_s,
        &log,
        &Confinement::none(),
    )
    .unwrap_err();
    assert!(matches!(err, ScanError::NotInstalled { .. }), "{err:?}");
    assert!(err.to_string().contains("pip install ruff"), "{err}");
    let argv = vec!["dayshift-no-such-scanner".to_string()];
    let err = analyzers::run_sarif("gone", &argv, tree.path(), five_s, &log).unwrap_err();
    assert!(matches!(err, ScanError::NotInstalled { .. }), "{err:?}");
    assert!(err.to_string().contains("config/scan.yaml"), "{err}");
    assert_eq!(analyzers::version(&missing), None);
}

#[test]
fn a_tool_that_hangs_fails_at_its_timeout() {
    let started = Instant::now();
    let body = "echo starting >&2\nsleep 60";
    let (err, _, _tree) = run_script(&Analyzer::Bandit, body, Duration::from_secs(1));
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    let ScanError::Failed { analyzer, why } = &err else {
        panic!("not Failed: {err:?}");
    };
    assert_eq!(analyzer, "bandit");
    assert!(why.contains("did not finish within 1 s"), "{why}");
    assert!(why.contains("starting"), "the stderr tail: {why}");
}

#[test]
fn a_tool_that_crashes_fails_with_its_error_output() {
    let body = "echo 'ruff: config is broken' >&2\nexit 2";
    let (err, _, _tree) = run_script(&Analyzer::Ruff, body, Duration::from_secs(5));
    let ScanError::Failed { why, .. } = &err else {
        panic!("not Failed: {err:?}");
    };
    assert!(why.contains("exit status: 2"), "{why}");
    assert!(why.contains("ruff: config is broken"), "{why}");
}

#[test]
fn garbage_output_is_unreadable_and_names_the_log_that_keeps_it() {
    let (err, log, _tree) = run_script(&Analyzer::Ruff, "echo 'not json'", Duration::from_secs(5));
    let ScanError::Unreadable {
        why, log: named, ..
    } = &err
    else {
        panic!("not Unreadable: {err:?}");
    };
    assert_eq!(named, &log);
    assert!(why.contains("not JSON"), "{why}");
    assert!(
        err.to_string().contains(&log.display().to_string()),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "not json\n");
}

/// A temp copy of `tests/fixtures/scan/crate` (a crate with planted lints).
fn crate_fixture() -> tempfile::TempDir {
    let tree = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scan/crate");
    std::fs::create_dir_all(tree.path().join("src")).unwrap();
    for file in ["Cargo.toml", "src/lib.rs"] {
        std::fs::copy(fixture.join(file), tree.path().join(file)).unwrap();
    }
    tree
}

/// clippy builds the scanned crate, so its build script runs: confined, it can write the
/// tree and clippy's build folder, and neither write nor read the home (its keys), nor
/// reach the network. The real cargo, a real build script; bubblewrap is installed by
/// `make test-deps`.
#[test]
fn a_hostile_build_script_under_clippy_cannot_reach_the_home() {
    let bwrap = dayshift::sandbox::detect::bubblewrap()
        .unwrap_or_else(|why| panic!("bubblewrap is needed ({why}): run `make test-deps`"));
    let cargo = analyzers::find_program("cargo", &[]).expect("cargo is on PATH in the tests");
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join("config")).unwrap();
    let key = home.path().join("config/.env");
    std::fs::write(&key, "FAKE_MODEL_KEY=sk-home-secret-0001\n").unwrap();
    let tree = crate_fixture();
    let report = tree.path().join("what-the-build-script-saw.txt");
    let planted = home.path().join("planted-by-the-build-script");
    std::fs::write(
        tree.path().join("build.rs"),
        format!(
            r#"fn main() {{
    let read = std::fs::read_to_string({key:?}).unwrap_or_else(|e| format!("read: {{e}}"));
    let wrote = std::fs::write({planted:?}, "x").map(|()| "wrote".to_string());
    let net = std::net::TcpStream::connect("1.1.1.1:443").map(|_| "connected".to_string());
    let seen = format!("{{read}}\n{{wrote:?}}\n{{net:?}}\n");
    std::fs::write({report:?}, seen).unwrap();
}}
"#
        ),
    )
    .unwrap();
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("scan/clippy.log");
    let confine = Confinement::bubblewrap(bwrap, home.path(), tree.path(), &[], None);
    let findings = analyzers::run(
        &Analyzer::Clippy,
        &cargo,
        tree.path(),
        None,
        Duration::from_secs(300),
        &log,
        &confine,
    )
    .unwrap_or_else(|e| panic!("{e}\n{}", std::fs::read_to_string(&log).unwrap_or_default()));
    assert!(
        findings.iter().any(|f| f.rule == "clippy::eq_op"),
        "clippy ran confined: {findings:#?}"
    );
    let seen = std::fs::read_to_string(&report).expect("the build script ran and wrote the tree");
    assert!(
        !seen.contains("sk-home-secret"),
        "the home's key was read: {seen}"
    );
    assert!(
        !planted.exists(),
        "the build script wrote into the home: {seen}"
    );
    assert!(
        !seen.contains("connected"),
        "the build script reached the network: {seen}"
    );
    assert!(
        logs.path().join("scan/clippy.target").is_dir(),
        "clippy built beside its log"
    );
}

/// When policy requires a sandbox this machine lacks, an analyzer that runs the tree's
/// code does not run at all, and says why; one that only reads the tree still runs.
#[test]
fn without_the_sandbox_policy_requires_clippy_does_not_run_and_says_why() {
    let tree = crate_fixture();
    std::fs::write(tree.path().join("src/run.py"), "eval(input())\n").unwrap();
    let state = tempfile::tempdir().unwrap();
    let config = dayshift::scan::config::ScanConfig {
        analyzers: vec![Analyzer::Clippy, Analyzer::Ruff],
        ..Default::default()
    };
    let setup = dayshift::scan::analyze::Setup {
        extra_dirs: vec![venv_tool("ruff").parent().unwrap().to_path_buf()],
        log_dir: state.path().join("logs"),
        cache_dir: state.path().join("cache"),
        versions_dir: state.path().join("versions"),
        config,
        tree_code: dayshift::scan::analyze::TreeCode::refused(
            "policy.yaml requires a sandbox: bubblewrap is not installed",
        ),
    };
    let (runs, found) = dayshift::scan::analyze::analyze(tree.path(), &setup);
    let clippy = runs.iter().find(|r| r.name == "clippy").unwrap();
    assert_eq!(clippy.status, "failed", "{clippy:?}");
    let detail = clippy.detail.as_deref().unwrap();
    assert!(
        detail.contains("not run: it runs the tree's own code")
            && detail.contains("bubblewrap is not installed"),
        "{detail}"
    );
    assert!(
        !state.path().join("logs/clippy.target").exists(),
        "nothing was built"
    );
    let ruff = runs.iter().find(|r| r.name == "ruff").unwrap();
    assert_eq!(ruff.status, "ran", "{ruff:?}");
    assert!(found.iter().any(|f| f.rule == "S307"), "{found:#?}");
}
