//! `dayshift scan PATH` twice through the cache, with a stand-in `ruff` on PATH (a script
//! that records each run's arguments and reports one finding per `eval(` line in ruff's
//! JSON): an unchanged tree runs no tool; one changed file is all ruff gets; a removed
//! file's findings vanish; a new ruff version reads everything; a corrupt cache recovers;
//! a bad config/scan.yaml stops the scan with file:line.

mod common;

use std::path::{Path, PathBuf};

use common::stderr;

struct Bench {
    _dir: tempfile::TempDir,
    root: PathBuf,
    cache: PathBuf,
    bin: PathBuf,
    calls: PathBuf,
}

impl Bench {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (root, cache, bin) = (
            dir.path().join("tree"),
            dir.path().join("cache"),
            dir.path().join("bin"),
        );
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&bin).unwrap();
        for i in 0..4 {
            std::fs::write(root.join(format!("m{i}.py")), "x = eval(input())\n").unwrap();
        }
        let calls = dir.path().join("calls");
        let bench = Self {
            _dir: dir,
            root,
            cache,
            bin,
            calls,
        };
        bench.ruff("ruff 0.1");
        // a first scan trusts the hashes only of files that settled a clock tick before it
        // (it takes them after the tool read the files): these were just written
        std::thread::sleep(std::time::Duration::from_millis(50));
        bench
    }

    /// The stand-in ruff, answering `--version` with `version`.
    fn ruff(&self, version: &str) {
        use std::os::unix::fs::PermissionsExt;
        let script = format!(
            r#"#!/bin/sh
if [ "$1" = "--version" ]; then echo "{version}"; exit 0; fi
echo "$*" >> '{calls}'
sep=""; printf '['
for arg in "$@"; do
  case "$arg" in
    *.py) line=$(grep -n 'eval(' "$arg" | head -1 | cut -d: -f1)
          [ -n "$line" ] && printf '%s{{"code":"S307","message":"eval","url":null,"filename":"%s","location":{{"row":%s}},"end_location":{{"row":%s}}}}' "$sep" "$arg" "$line" "$line" && sep="," ;;
    /*) [ -d "$arg" ] && for f in "$arg"/*.py; do
          line=$(grep -n 'eval(' "$f" | head -1 | cut -d: -f1)
          [ -n "$line" ] && printf '%s{{"code":"S307","message":"eval","url":null,"filename":"%s","location":{{"row":%s}},"end_location":{{"row":%s}}}}' "$sep" "$f" "$line" "$line" && sep=","
        done ;;
  esac
done
printf ']\n'
"#,
            calls = self.calls.display()
        );
        let path = self.bin.join("ruff");
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    fn scan(&self, extra: &[&str]) -> serde_json::Value {
        let out = self.run(extra);
        assert!(
            out.status.code().is_some_and(|c| c <= 1),
            "{}",
            stderr(&out)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)))
    }

    fn run(&self, extra: &[&str]) -> std::process::Output {
        std::process::Command::new(common::BIN)
            .arg("scan")
            .arg(&self.root)
            .args(["--json"])
            .args(extra)
            .env("XDG_CACHE_HOME", &self.cache)
            .env("PATH", format!("{}:/usr/bin:/bin", self.bin.display()))
            .current_dir(self.cache.parent().unwrap())
            .output()
            .unwrap()
    }

    /// The files of each ruff run so far, relative to the root (the whole root: `.`).
    fn calls(&self) -> Vec<String> {
        let root = format!("{}/", self.root.display());
        std::fs::read_to_string(&self.calls)
            .unwrap_or_default()
            .lines()
            .map(|l| {
                l.split(' ')
                    .filter(|a| a.starts_with('/') || a.starts_with("./"))
                    .map(|a| a.replace(&root, "").replace("./", ""))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    }
}

fn ruff_places(scan: &serde_json::Value) -> Vec<String> {
    let mut places: Vec<String> = scan["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["analyzer"] == "ruff")
        .map(|f| format!("{}:{}", f["file"].as_str().unwrap(), f["start_line"]))
        .collect();
    places.sort();
    places
}

fn ruff_detail(scan: &serde_json::Value) -> String {
    let runs = scan["analyzers"].as_array().unwrap();
    let ruff = runs.iter().find(|a| a["name"] == "ruff").unwrap();
    format!(
        "{}: {}",
        ruff["status"],
        ruff["detail"].as_str().unwrap_or("")
    )
}

#[test]
fn the_cache_reads_only_what_changed_and_recovers_from_damage() {
    let bench = Bench::new();
    let config = bench.root.parent().unwrap().join("scan.yaml");
    std::fs::write(&config, "analyzers: [ruff]\n").unwrap();
    let cfg = ["--config", config.to_str().unwrap()];
    let first = bench.scan(&cfg);
    assert_eq!(
        ruff_places(&first),
        ["m0.py:1", "m1.py:1", "m2.py:1", "m3.py:1"]
    );
    assert_eq!(
        bench.calls(),
        [bench.root.display().to_string()],
        "the whole tree"
    );
    assert!(
        ruff_detail(&first).contains("ruff 0.1, 0 of 4 files from cache"),
        "{}",
        ruff_detail(&first)
    );
    let builtin = &first["analyzers"][0];
    assert_eq!(builtin["status"], "left out", "{first}");

    let second = bench.scan(&cfg);
    assert_eq!(bench.calls().len(), 1, "an unchanged tree runs no tool");
    assert!(ruff_detail(&second).contains("4 of 4 files from cache"));
    assert_eq!(ruff_places(&second), ruff_places(&first));

    std::fs::write(bench.root.join("m1.py"), "\n\ny = eval(z)\n").unwrap();
    std::fs::remove_file(bench.root.join("m3.py")).unwrap();
    let third = bench.scan(&cfg);
    assert_eq!(bench.calls()[1], "m1.py", "only the changed file");
    assert_eq!(ruff_places(&third), ["m0.py:1", "m1.py:3", "m2.py:1"]);
    assert!(ruff_detail(&third).contains("2 of 3 files from cache"));

    bench.ruff("ruff 0.17.6");
    let upgraded = bench.scan(&cfg);
    assert_eq!(bench.calls().len(), 3);
    assert_eq!(
        bench.calls()[2],
        bench.root.display().to_string(),
        "a new version reads all"
    );
    assert!(ruff_detail(&upgraded).contains("ruff 0.17.6, 0 of 3"));

    let caches: Vec<PathBuf> = glob_caches(&bench.cache.join("dayshift/scan"));
    assert_eq!(caches.len(), 1, "{caches:?}");
    std::fs::write(&caches[0], "{\"key\": 3").unwrap();
    let recovered = bench.scan(&cfg);
    assert_eq!(bench.calls().len(), 4);
    assert_eq!(ruff_places(&recovered), ["m0.py:1", "m1.py:3", "m2.py:1"]);
}

fn glob_caches(state: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(state).unwrap().flatten() {
        if entry.path().extension().is_some_and(|e| e == "cache") {
            found.push(entry.path().join("ruff.json"));
        }
    }
    found
}

#[test]
fn a_bad_scan_config_stops_the_scan_with_its_line() {
    let bench = Bench::new();
    let config = bench.root.parent().unwrap().join("scan.yaml");
    std::fs::write(&config, "analyzers:\n  - ruff\n  - rough\n").unwrap();
    let out = bench.run(&["--config", config.to_str().unwrap()]);
    // a config problem is exit 1, as every file problem in dayshift
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("scan.yaml:3"), "{err}");
    assert!(err.contains("`rough` is not an analyzer"), "{err}");
    assert!(bench.calls().is_empty());
}
