//! `dayshift scan PATH` on a real tree with planted issues, the built-in analyzer alone
//! (no tool installed): every planted issue found with its place; ten lines inserted above
//! each change no fingerprint and nothing is new; a fix is reported fixed; `--json` and the
//! exit codes scripts use; a folder that is not there is a usage error.

mod common;

use std::path::Path;

use common::{stderr, stdout};

fn scan(cache: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(common::BIN)
        .arg("scan")
        .args(args)
        .env("XDG_CACHE_HOME", cache)
        // not in a home (this repository is one): the last scan is kept in the cache
        .current_dir(cache.parent().unwrap())
        .output()
        .unwrap()
}

fn planted(root: &Path, above: usize) {
    let pad = "# padding\n".repeat(above);
    std::fs::create_dir_all(root.join("app")).unwrap();
    std::fs::write(
        root.join("app/run.py"),
        format!("{pad}import subprocess\n\n\ndef run(cmd):\n    return subprocess.run(cmd, shell=True)\n"),
    )
    .unwrap();
    std::fs::write(
        root.join("app/calc.py"),
        format!("{pad}def calc(expr):\n    return eval(expr)\n"),
    )
    .unwrap();
    std::fs::write(
        root.join("app/broken.py"),
        format!("{pad}def f(:\n    pass\n"),
    )
    .unwrap();
    let key = ["ghp_", "Z7q4W3e2R1t5Y6u8I9o0P1a2S3d4F5g6H7j8"].concat();
    std::fs::write(
        root.join("app/settings.py"),
        format!("{pad}TOKEN = \"{key}\"\n"),
    )
    .unwrap();
}

fn findings(out: &std::process::Output) -> Vec<serde_json::Value> {
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)));
    json["findings"].as_array().unwrap().clone()
}

#[test]
fn planted_issues_are_found_moved_lines_change_nothing_and_a_fix_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let (root, cache) = (dir.path().join("tree"), dir.path().join("cache"));
    planted(&root, 0);
    let root_arg = root.to_str().unwrap();

    let first = scan(&cache, &[root_arg, "--json"]);
    assert_eq!(
        first.status.code(),
        Some(1),
        "new high findings: {}",
        stderr(&first)
    );
    let found = findings(&first);
    let at = |f: &serde_json::Value| format!("{}:{}", f["file"].as_str().unwrap(), f["start_line"]);
    let places: Vec<String> = found.iter().map(at).collect();
    for expected in [
        "app/run.py:5",
        "app/calc.py:2",
        "app/broken.py:1",
        "app/settings.py:1",
    ] {
        assert!(
            places.contains(&expected.to_string()),
            "{expected}: {places:?}"
        );
    }
    assert!(found.iter().all(|f| f["new"] == true));
    assert_eq!(
        found[0]["severity"], "critical",
        "most severe first: {found:?}"
    );
    assert!(
        !stdout(&first).contains("Z7q4W3e2R1t5"),
        "the token's value is never printed"
    );
    let prints: Vec<&str> = found
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap())
        .collect();
    // the same scan as SARIF 2.1.0: a result per finding, its place and fingerprint
    let sarif_path = dir.path().join("scan.sarif");
    let with_sarif = scan(&cache, &[root_arg, "--sarif", sarif_path.to_str().unwrap()]);
    assert_eq!(
        with_sarif.status.code(),
        Some(0),
        "nothing new the second time"
    );
    let sarif: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&sarif_path).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "dayshift");
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), found.len());
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    for r in results {
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], r["ruleId"], "{r}");
        let place = &r["locations"][0]["physicalLocation"];
        assert_eq!(place["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert!(place["region"]["startLine"].as_u64().unwrap() >= 1);
        let print = r["partialFingerprints"]["dayshift/v1"].as_str().unwrap();
        assert!(prints.contains(&print), "{print}");
    }

    // ten lines above every finding
    planted(&root, 10);
    let second = scan(&cache, &[root_arg, "--json"]);
    assert_eq!(
        second.status.code(),
        Some(0),
        "nothing new: {}",
        stdout(&second)
    );
    let again = findings(&second);
    let moved: Vec<&str> = again
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(moved.len(), prints.len());
    for print in &prints {
        assert!(moved.contains(print), "{print} changed: {moved:?}");
    }
    assert!(again.iter().all(|f| f["new"] == false));

    // the eval is fixed
    std::fs::write(
        root.join("app/calc.py"),
        "def calc(expr):\n    return int(expr)\n",
    )
    .unwrap();
    let third = scan(&cache, &[root_arg]);
    assert_eq!(third.status.code(), Some(0));
    let text = stdout(&third);
    assert!(text.contains("0 new since the last scan"), "{text}");
    assert!(
        text.contains("1 fixed") && text.contains("fixed since the last scan:\n  app/calc.py:"),
        "{text}"
    );
    assert!(text.contains("builtin: ran"), "{text}");
}

#[test]
fn fail_on_sets_the_bar_and_a_missing_folder_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let (root, cache) = (dir.path().join("tree"), dir.path().join("cache"));
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("ok.py"), "def f():\n    return 1\n").unwrap();
    let clean = scan(&cache, &[root.to_str().unwrap()]);
    assert_eq!(clean.status.code(), Some(0), "{}", stderr(&clean));
    assert!(
        stdout(&clean).contains("0 finding(s)"),
        "{}",
        stdout(&clean)
    );

    let missing = scan(&cache, &[dir.path().join("nope").to_str().unwrap()]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("is not a folder"),
        "{}",
        stderr(&missing)
    );
    let bad = scan(&cache, &[root.to_str().unwrap(), "--fail-on", "severe"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("not a severity"), "{}", stderr(&bad));
}

#[test]
fn the_terminal_lists_the_first_forty_findings_and_all_with_all() {
    let dir = tempfile::tempdir().unwrap();
    let (root, cache) = (dir.path().join("tree"), dir.path().join("cache"));
    std::fs::create_dir_all(&root).unwrap();
    let calls: String = (0..45).map(|i| format!("eval(x{i})\n")).collect();
    std::fs::write(root.join("run.py"), calls).unwrap();
    let config = dir.path().join("scan.yaml");
    std::fs::write(&config, "analyzers: [builtin]\n").unwrap();
    let args = [root.to_str().unwrap(), "--config", config.to_str().unwrap()];
    let listed = |out: &std::process::Output| stdout(out).matches("run.py:").count();

    let first = scan(&cache, &args);
    assert!(
        stdout(&first).contains("45 finding(s), 45 new"),
        "{}",
        stdout(&first)
    );
    assert_eq!(listed(&first), 40, "{}", stdout(&first));
    assert!(
        stdout(&first).contains("… and 5 more: `--all` lists them here"),
        "{}",
        stdout(&first)
    );
    let all = scan(&cache, &[&args[..], &["--all"]].concat());
    assert_eq!(listed(&all), 45, "{}", stdout(&all));
    assert!(!stdout(&all).contains("more:"), "{}", stdout(&all));
    let json = scan(&cache, &[&args[..], &["--json"]].concat());
    assert_eq!(findings(&json).len(), 45, "--json gives them all");
}

#[test]
fn the_sarif_log_validates_against_the_sarif_2_1_0_schema() {
    let dir = tempfile::tempdir().unwrap();
    let (root, cache) = (dir.path().join("tree"), dir.path().join("cache"));
    planted(&root, 0);
    let sarif_path = dir.path().join("scan.sarif");
    scan(
        &cache,
        &[
            root.to_str().unwrap(),
            "--sarif",
            sarif_path.to_str().unwrap(),
        ],
    );
    let log: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&sarif_path).unwrap()).unwrap();
    assert!(!log["runs"][0]["results"].as_array().unwrap().is_empty());
    // the OASIS schema, checked into tests/fixtures (tests/fixtures/scan/README.md says
    // where from and the one pattern corrected)
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/scan/sarif-schema-2.1.0.json")).unwrap();
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .build(&schema)
        .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // and a log with a mistake does not validate: the check can fail
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]["level"] = serde_json::json!("severe");
    assert!(!validator.is_valid(&broken));
}

/// `dayshift scan` with PATH holding only what `dirs` name (and the system's basics).
fn scan_with_path(cache: &Path, dirs: &[&Path], args: &[&str]) -> std::process::Output {
    let mut path: Vec<std::path::PathBuf> = dirs.iter().map(|d| d.to_path_buf()).collect();
    path.extend(["/usr/bin", "/bin"].map(std::path::PathBuf::from));
    std::process::Command::new(common::BIN)
        .arg("scan")
        .args(args)
        .env("XDG_CACHE_HOME", cache)
        .env("PATH", std::env::join_paths(path).unwrap())
        .current_dir(cache.parent().unwrap())
        .output()
        .unwrap()
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The analyzers a scan's JSON says ran, and the built-in one's detail.
fn ran_and_builtin_detail(json: &serde_json::Value) -> (Vec<String>, String) {
    let analyzers = json["analyzers"].as_array().unwrap();
    let ran = analyzers
        .iter()
        .filter(|a| a["status"] == "ran")
        .map(|a| a["name"].as_str().unwrap().to_string())
        .collect();
    let builtin = analyzers.iter().find(|a| a["name"] == "builtin").unwrap();
    (ran, builtin["detail"].as_str().unwrap().to_string())
}

/// When ruff checks the Python files, the built-in layers read them for secrets only; when
/// ruff fails, they check Python themselves, and the findings keep their fingerprints.
/// Vendored and minified code is read for secrets only; binary files are not read.
#[test]
fn the_built_in_layers_leave_python_to_ruff_and_take_it_back_when_ruff_fails() {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin");
    assert!(
        venv.join("ruff").exists(),
        "ruff is not in {}: run `make test-deps`",
        venv.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let (root, cache) = (dir.path().join("tree"), dir.path().join("cache"));
    planted(&root, 0);
    std::fs::create_dir_all(root.join("web/vendor/lib")).unwrap();
    std::fs::write(root.join("web/app.js"), "eval(location.hash);\n").unwrap();
    std::fs::write(root.join("web/vendor/lib/lib.js"), "eval(x);\n").unwrap();
    std::fs::write(root.join("web/bundle.min.js"), "eval(y);function(\n").unwrap();
    let aws = ["AKIA", "Z7Q4W3E2R1T5Y6U8"].concat();
    std::fs::write(
        root.join("web/vendor/lib/keys.js"),
        format!("k = \"{aws}\";\n"),
    )
    .unwrap();
    // a compiled translation holding what would be a finding as text: never read
    std::fs::write(
        root.join("web/strings.mo"),
        format!("\0\0TOKEN = \"{aws}\"\n"),
    )
    .unwrap();
    let args = ["--json", "--config"];
    let config = dir.path().join("scan.yaml");
    std::fs::write(&config, "analyzers: [builtin, ruff]\n").unwrap();
    let argv = [
        root.to_str().unwrap(),
        args[0],
        args[1],
        config.to_str().unwrap(),
    ];

    let out = scan_with_path(&cache, &[&venv], &argv);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let (ran, detail) = ran_and_builtin_detail(&json);
    assert_eq!(ran, ["builtin", "ruff"], "{}", json["analyzers"]);
    assert!(
        detail.contains("python: secrets only, ruff checks the rest"),
        "{detail}"
    );
    let found = json["findings"].as_array().unwrap().clone();
    let by = |file: &str| -> Vec<(String, String)> {
        found
            .iter()
            .filter(|f| f["file"] == file)
            .map(|f| {
                (
                    f["analyzer"].as_str().unwrap().into(),
                    f["rule"].as_str().unwrap().into(),
                )
            })
            .collect()
    };
    assert_eq!(
        by("app/run.py"),
        [("ruff".into(), "S602".into())],
        "{found:#?}"
    );
    assert_eq!(
        by("app/calc.py"),
        [("ruff".into(), "S307".into())],
        "{found:#?}"
    );
    assert_eq!(by("app/broken.py").len(), 1, "{found:#?}");
    assert_eq!(by("app/broken.py")[0].0, "ruff");
    assert_eq!(
        by("app/settings.py")[0].0,
        "builtin",
        "secrets stay the built-in layers'"
    );
    assert_eq!(
        by("web/app.js"),
        [("builtin".into(), "patterns.javascript.eval".into())]
    );
    assert!(by("web/vendor/lib/lib.js").is_empty(), "{found:#?}");
    assert!(by("web/bundle.min.js").is_empty(), "{found:#?}");
    assert_eq!(
        by("web/vendor/lib/keys.js"),
        [("builtin".into(), "secrets.aws-access-token".into())],
        "vendored code's secrets still count"
    );
    assert!(by("web/strings.mo").is_empty(), "{found:#?}");

    // ruff breaks: the built-in layers check Python this time, and nothing is new or fixed
    let broken = dir.path().join("broken-ruff");
    std::fs::create_dir_all(&broken).unwrap();
    let fake = broken.join("ruff");
    std::fs::write(&fake, "#!/bin/sh\necho 'ruff: it broke' >&2\nexit 2\n").unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = scan_with_path(&cache, &[&broken], &argv);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let (ran, detail) = ran_and_builtin_detail(&json);
    assert_eq!(ran, ["builtin"], "{}", json["analyzers"]);
    assert!(!detail.contains("ruff checks"), "{detail}");
    let found = json["findings"].as_array().unwrap();
    let rules: Vec<&str> = found.iter().map(|f| f["rule"].as_str().unwrap()).collect();
    for rule in [
        "patterns.python.shell-true",
        "patterns.python.eval",
        "syntax.python",
    ] {
        assert!(rules.contains(&rule), "{rule}: {rules:?}");
    }
    let new: Vec<&serde_json::Value> = found.iter().filter(|f| f["new"] == true).collect();
    assert!(new.is_empty(), "same findings, same fingerprints: {new:#?}");
    assert_eq!(
        json["fixed"].as_array().unwrap().len(),
        0,
        "{}",
        json["fixed"]
    );
}

#[test]
fn ruff_bandit_and_the_built_in_layers_report_each_planted_issue_once() {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin");
    assert!(
        venv.join("ruff").exists() && venv.join("bandit").exists(),
        "ruff and bandit are not in {}: run `make test-deps`",
        venv.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let (root, cache) = (dir.path().join("tree"), dir.path().join("cache"));
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scan/tree"),
        &root,
    );
    // the tree's own settings try to hide findings: none of them is read
    std::fs::write(root.join(".bandit"), "[bandit]\nskips = B602,B307,B301\n").unwrap();
    std::fs::write(
        root.join("pyproject.toml"),
        "[tool.ruff]\nexclude = [\"app\"]\n[tool.ruff.lint]\nignore = [\"S\"]\n",
    )
    .unwrap();
    let out = scan_with_path(&cache, &[&venv], &[root.to_str().unwrap(), "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ran: Vec<&str> = json["analyzers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["status"] == "ran")
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        ran,
        ["builtin", "health", "ruff", "bandit"],
        "{}",
        json["analyzers"]
    );
    let found = json["findings"].as_array().unwrap();
    let at = |file: &str, line: u64| {
        found
            .iter()
            .filter(|f| f["file"] == file && f["start_line"] == line)
            .count()
    };
    // eval, shell=True, pickle, yaml.load, verify=False, SQL by string, a syntax error:
    // each found by two or three analyzers, reported once
    for (file, line) in [
        ("app/handlers.py", 11),
        ("app/handlers.py", 15),
        ("app/handlers.py", 19),
        ("app/handlers.py", 23),
        ("app/handlers.py", 27),
        ("app/db.py", 7),
        ("app/broken.py", 4),
    ] {
        assert_eq!(at(file, line), 1, "{file}:{line}: {found:#?}");
    }
    let shell = found
        .iter()
        .find(|f| f["file"] == "app/handlers.py" && f["start_line"] == 15)
        .unwrap();
    assert_ne!(
        shell["analyzer"], "builtin",
        "the tools saw it despite the tree's settings: {shell}"
    );
    // what only one tool knows: an undefined name (ruff), a hard-coded password (ruff, bandit)
    assert_eq!(at("app/db.py", 13), 1, "{found:#?}");
    assert_eq!(at("app/db.py", 3), 1, "{found:#?}");
    assert!(
        found
            .iter()
            .all(|f| !f["message"].as_str().unwrap().contains("hunter2")),
        "a password's value is never shown"
    );

    // without the tools, the built-in layers still find the dangerous calls and say why
    let bare = scan_with_path(
        &dir.path().join("other-cache"),
        &[],
        &[root.to_str().unwrap()],
    );
    let text = stdout(&bare);
    assert!(
        text.contains("ruff: not installed") && text.contains("pip install ruff"),
        "{text}"
    );
    assert!(text.contains("bandit: not installed"), "{text}");
    assert!(text.contains("builtin/patterns.python.eval"), "{text}");
}

#[test]
fn a_suppression_hides_a_finding_until_its_date_and_a_bad_file_stops_the_scan() {
    let dir = tempfile::tempdir().unwrap();
    let (root, cache) = (dir.path().join("tree"), dir.path().join("cache"));
    planted(&root, 0);
    let root_arg = root.to_str().unwrap();
    let first = findings(&scan(&cache, &[root_arg, "--json"]));
    let eval = first
        .iter()
        .find(|f| f["file"] == "app/calc.py")
        .unwrap_or_else(|| panic!("{first:#?}"));
    let print = eval["fingerprint"].as_str().unwrap();
    let ignore = dir.path().join("scan-ignore.yaml");
    let ignore_arg = ignore.to_str().unwrap();
    let with = |until: &str| {
        std::fs::write(
            &ignore,
            format!("ignore:\n  - fingerprint: {print}\n    reason: calc is sandboxed\n    until: {until}\n  - rule: builtin/syntax.python\n    paths: [\"app/broken.py\"]\n    reason: kept broken on purpose\n"),
        )
        .unwrap();
        scan(&cache, &[root_arg, "--ignore", ignore_arg, "--json"])
    };
    let hidden = with("2999-12-31");
    let json: serde_json::Value = serde_json::from_slice(&hidden.stdout).unwrap();
    let shown: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert!(
        !shown.contains(&"app/calc.py") && !shown.contains(&"app/broken.py"),
        "{shown:?}"
    );
    let suppressed = json["suppressed"].as_array().unwrap();
    assert_eq!(suppressed.len(), 2, "{suppressed:#?}");
    let calc = suppressed
        .iter()
        .find(|s| s["finding"]["file"] == "app/calc.py")
        .unwrap();
    assert_eq!(calc["reason"], "calc is sandboxed");
    assert!(
        calc["by"].as_str().unwrap().ends_with("scan-ignore.yaml:2"),
        "{calc}"
    );

    let expired = with("2020-01-01");
    let json: serde_json::Value = serde_json::from_slice(&expired.stdout).unwrap();
    let back = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["file"] == "app/calc.py")
        .expect("an expired suppression hides nothing");
    assert_eq!(back["new"], false, "it was there all along");
    assert_eq!(json["suppressed"].as_array().unwrap().len(), 1);

    std::fs::write(&ignore, "ignore:\n  - rule: S101\n").unwrap();
    let bad = scan(&cache, &[root_arg, "--ignore", ignore_arg]);
    assert_ne!(bad.status.code(), Some(0));
    let err = stderr(&bad);
    assert!(
        err.contains("scan-ignore.yaml:2") && err.contains("without a `reason`"),
        "{err}"
    );
}

#[test]
fn in_a_home_the_target_is_scanned_and_the_days_report_written() {
    let (home, _remote) = common::home_with_tool(common::ToolHome {
        files: &[
            ("calc.py", "def calc(expr):\n    return eval(expr)\n"),
            ("ok.py", "X = 1\n"),
        ],
        tool: "#!/bin/sh\nexit 0\n",
        coder: "attempts: 1",
        agents_tail: "",
        policy: "auto_merge: low\n",
    });
    let first = home.run(&["scan"]);
    assert_eq!(first.status.code(), Some(1), "{}", stderr(&first));
    let day = chrono::Local::now().date_naive();
    let report = home.read(&format!("reports/scan/{day}.md"));
    assert!(report.starts_with(&format!("# Scan — {day}")), "{report}");
    let new = report
        .split("## New")
        .nth(1)
        .unwrap_or_else(|| panic!("{report}"));
    assert!(
        new.contains("`calc.py:2`") && new.contains("eval"),
        "{report}"
    );
    assert!(report.contains("- builtin: ran"), "{report}");
    // the checkout is removed after: what was scanned is named by the base and its commit
    assert!(
        report.contains("on `main at ") && !report.contains("workspace/scan"),
        "{report}"
    );
    assert!(stdout(&first).starts_with("main at "), "{}", stdout(&first));
    home.write(
        "config/scan-ignore.yaml",
        "ignore:\n  - rule: ruff/S101\n    paths: [\"tests/**\"]\n    reason: asserts in tests\n",
    );
    let second = home.ok(&["scan"]);
    assert!(
        !stderr(&second).contains("is not read"),
        "scan-ignore.yaml belongs in config/: {}",
        stderr(&second)
    );
    let again = home.read(&format!("reports/scan/{day}.md"));
    assert!(
        again.contains("- **New**: 0") && again.contains("## Still open"),
        "{again}"
    );
}

/// pip-audit installs what it audits unless told not to, and installing a requirement on a
/// folder of the tree (`./evil`) runs that folder's `setup.py`: it is handed the
/// requirements files to read as written (`--disable-pip --no-deps`), and a project with
/// only a `pyproject.toml` (which it can only read by installing) is not handed to it.
#[test]
fn pip_audit_reads_requirements_as_written_and_never_installs_the_tree() {
    let dir = tempfile::tempdir().unwrap();
    let (cache, bin) = (dir.path().join("cache"), dir.path().join("bin"));
    std::fs::create_dir_all(&bin).unwrap();
    let called = dir.path().join("pip-audit-args");
    let fake = bin.join("pip-audit");
    let script = format!(
        "#!/bin/sh\n[ \"$1\" = --version ] && {{ echo 'pip-audit 2.10.1'; exit 0; }}\necho \"$@\" >> {}\necho '{{\"dependencies\": [], \"fixes\": []}}'\n",
        called.display()
    );
    std::fs::write(&fake, script).unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let config = dir.path().join("scan.yaml");
    std::fs::write(&config, "analyzers: [pip-audit]\n").unwrap();
    let status = |tree: &Path| {
        let argv = ["--json", "--config", config.to_str().unwrap()];
        let out = scan_with_path(
            &cache,
            &[&bin],
            &[&argv[..], &[tree.to_str().unwrap()]].concat(),
        );
        let json: serde_json::Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
        let analyzers = json["analyzers"].as_array().unwrap();
        let pip_audit = analyzers.iter().find(|a| a["name"] == "pip-audit").unwrap();
        (
            pip_audit["status"].as_str().unwrap().to_string(),
            pip_audit["detail"].as_str().unwrap_or_default().to_string(),
        )
    };

    let tree = |name: &str, files: &[(&str, &str)]| {
        let root = dir.path().join(name);
        for (file, text) in files {
            let path = root.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        root
    };

    let requirements = tree(
        "requirements",
        &[
            ("requirements.txt", "./evil\nrequests==2.25.0\n"),
            ("evil/setup.py", "raise SystemExit('ran')\n"),
        ],
    );
    let (ran, detail) = status(&requirements);
    assert_eq!(ran, "ran", "{detail}");
    let args = std::fs::read_to_string(&called).unwrap();
    assert_eq!(
        args.trim(),
        "-f json --progress-spinner off --disable-pip --no-deps -r requirements.txt"
    );

    std::fs::remove_file(&called).unwrap();
    let pyproject = tree(
        "pyproject",
        &[(
            "pyproject.toml",
            "[project]\nname = \"victim\"\nversion = \"1.0\"\ndependencies = [\"evil @ file:///tmp/evil\"]\n",
        )],
    );
    let (not_run, why) = status(&pyproject);
    assert_eq!(not_run, "not configured", "{why}");
    assert!(
        why.contains("installing its dependencies, which runs their code"),
        "{why}"
    );
    assert!(
        !called.exists(),
        "pip-audit was started on the pyproject.toml"
    );
}
