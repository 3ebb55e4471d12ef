//! `dayshift scan` with the `outdated` analyzer on a tree with a Python, an npm and a Cargo
//! manifest, against fake PyPI, npm and crates.io registries on 127.0.0.1: a direct
//! dependency a major behind is a low finding at its manifest line, one a minor behind or a
//! private one is not; a name that is not a registry name is never asked for; the answers
//! hold for the day; a registry that fails fails the analyzer and fixes nothing.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use common::{BIN, stderr};

/// The registries: path → JSON (or a sparse index file); any other path is a 404, and
/// `broken` answers 500 to everything. Every path asked is kept.
#[derive(Clone, Default)]
struct Registry {
    answers: BTreeMap<String, String>,
    asked: Arc<Mutex<Vec<String>>>,
    broken: Arc<Mutex<bool>>,
}

impl wiremock::Respond for Registry {
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        let path = request.url.path().to_string();
        self.asked.lock().unwrap().push(path.clone());
        if *self.broken.lock().unwrap() {
            return wiremock::ResponseTemplate::new(500);
        }
        match self.answers.get(&path) {
            Some(body) => wiremock::ResponseTemplate::new(200).set_body_string(body.clone()),
            None => wiremock::ResponseTemplate::new(404),
        }
    }
}

fn registry() -> Registry {
    let pypi = |version: &str| format!(r#"{{"info": {{"version": "{version}"}}}}"#);
    let npm = |version: &str| format!(r#"{{"dist-tags": {{"latest": "{version}"}}}}"#);
    let index = |versions: &[&str]| {
        versions
            .iter()
            .map(|v| format!(r#"{{"name":"x","vers":"{v}","yanked":false}}"#))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let answers = [
        ("/pypi/pypi/requests/json", pypi("3.0.0")),
        ("/pypi/pypi/flask/json", pypi("3.1.0")),
        ("/npm/left-pad", npm("2.0.0")),
        ("/npm/@scope%2Fui", npm("2.1.0")),
        (
            "/crates/ra/nd/rand",
            index(&["0.7.3", "0.8.5", "0.9.0-beta.1"]),
        ),
        ("/crates/se/rd/serde", index(&["1.0.200", "1.0.210"])),
    ];
    Registry {
        answers: answers
            .into_iter()
            .map(|(path, body)| (path.to_string(), body))
            .collect(),
        ..Registry::default()
    }
}

fn tree(root: &Path) {
    std::fs::create_dir_all(root).unwrap();
    let files = [
        (
            "requirements.txt",
            "requests==2.31.0\nflask==3.0.0\nin-house-tools==1.0.0\n../../admin==1.0\n",
        ),
        (
            "package.json",
            "{\n  \"dependencies\": {\n    \"left-pad\": \"^1.3.0\",\n    \"@scope/ui\": \"^2.0.0\"\n  }\n}\n",
        ),
        (
            "package-lock.json",
            r#"{"lockfileVersion": 3, "packages": {"node_modules/left-pad": {"version": "1.3.0"}, "node_modules/@scope/ui": {"version": "2.0.0"}}}"#,
        ),
        (
            "Cargo.toml",
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\n\n[dependencies]\nrand = \"0.7\"\nserde = \"1\"\n",
        ),
        (
            "Cargo.lock",
            "[[package]]\nname = \"rand\"\nversion = \"0.7.3\"\n\n[[package]]\nname = \"serde\"\nversion = \"1.0.200\"\n",
        ),
    ];
    for (name, text) in files {
        std::fs::write(root.join(name), text).unwrap();
    }
}

fn scan(dir: &Path, config: &Path) -> serde_json::Value {
    let out = std::process::Command::new(BIN)
        .args([
            "scan",
            dir.join("tree").to_str().unwrap(),
            "--json",
            "--config",
        ])
        .arg(config)
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.code().unwrap_or(9) <= 1, "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn outdated_run(scan: &serde_json::Value) -> (String, String) {
    let runs = scan["analyzers"].as_array().unwrap();
    let run = runs.iter().find(|a| a["name"] == "outdated").unwrap();
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    (text(&run["status"]), text(&run["detail"]))
}

#[test]
fn dependencies_a_major_behind_are_found_at_their_line_and_a_registry_failure_fixes_nothing() {
    let registry = registry();
    let (server, _runtime) = common::serve(registry.clone());
    let dir = tempfile::tempdir().unwrap();
    tree(&dir.path().join("tree"));
    let config = dir.path().join("scan.yaml");
    let uri = server.uri();
    std::fs::write(
        &config,
        format!(
            "analyzers: [outdated]\nregistries: {{pypi: \"{uri}/pypi\", npm: \"{uri}/npm/\", crates: \"{uri}/crates\"}}\n"
        ),
    )
    .unwrap();

    let first = scan(dir.path(), &config);
    assert_eq!(outdated_run(&first).0, "ran", "{first}");
    let found: Vec<(String, String, String)> = first["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let text = |k: &str| f[k].as_str().unwrap_or_default().to_string();
            (
                format!("{}:{}", text("file"), f["start_line"]),
                text("severity"),
                text("message"),
            )
        })
        .collect();
    let places: Vec<&str> = found.iter().map(|(at, ..)| at.as_str()).collect();
    assert_eq!(
        places,
        ["Cargo.toml:6", "package.json:3", "requirements.txt:1"],
        "{found:?}"
    );
    assert!(found.iter().all(|(_, severity, _)| severity == "low"));
    assert!(
        found[2]
            .2
            .starts_with("requests 2.31.0 is a major version behind PyPI's latest, 3.0.0"),
        "{found:?}"
    );
    assert!(
        found[0].2.contains("rand 0.7.3") && found[0].2.contains("0.8.5"),
        "{found:?}"
    );
    let asked = registry.asked.lock().unwrap().clone();
    assert!(
        asked.contains(&"/pypi/pypi/in-house-tools/json".to_string()),
        "a private package is asked for, and its 404 is no finding: {asked:?}"
    );
    assert!(
        !asked.iter().any(|p| p.contains("admin")),
        "a name that is not a registry name is never asked for: {asked:?}"
    );
    assert_eq!(asked.len(), 7, "one question per dependency: {asked:?}");

    // the same day: the answers hold, nothing is asked again
    let again = scan(dir.path(), &config);
    assert_eq!(registry.asked.lock().unwrap().len(), 7);
    assert!(outdated_run(&again).1.contains("from cache"), "{again}");
    assert_eq!(again["findings"].as_array().unwrap().len(), 3);

    // a manifest changes and the registry is down: the analyzer fails, nothing is fixed
    *registry.broken.lock().unwrap() = true;
    let requirements = dir.path().join("tree/requirements.txt");
    std::fs::write(&requirements, "requests==3.0.0\n").unwrap();
    let down = scan(dir.path(), &config);
    let (status, detail) = outdated_run(&down);
    assert_eq!(status, "failed", "{down}");
    assert!(
        detail.contains("a registry could not be asked") && detail.contains("answered 500"),
        "{detail}"
    );
    assert!(down["fixed"].as_array().unwrap().is_empty(), "{down}");
    drop(server);
}

#[test]
fn a_tree_without_manifests_is_not_applicable_and_defaults_leave_it_out() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("tree")).unwrap();
    std::fs::write(dir.path().join("tree/app.py"), "x = 1\n").unwrap();
    let config = dir.path().join("scan.yaml");
    std::fs::write(&config, "analyzers: [outdated]\n").unwrap();
    let (status, detail) = outdated_run(&scan(dir.path(), &config));
    assert_eq!(status, "not applicable");
    assert!(detail.contains("requirements*.txt"), "{detail}");
}
