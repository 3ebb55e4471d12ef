//! `cargo bench --bench github`: GitHub API calls per task on the happy path (issue 12;
//! goal: at most 8).
//!
//! Ten tasks on a target behind a bare repository, worked by one `dayshift run work` with
//! GitHub on (the fake GitHub of the tests, on 127.0.0.1, whose CI check passes), each
//! becoming a pull request that merges through the API. Every request the fake received is
//! counted, per task and per endpoint; the base branch's protection is read once per run,
//! so the figure per task is given both with and without that share.

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::time::Instant;

use common::fake_github::FakeGithub;

const TASKS: u32 = 10;
const TOKEN: &str = "ghp_BenchToken000000000000000000000000000";
const TOOL: &str = r#"#!/usr/bin/env python3
import json, pathlib, re, sys
prompt = sys.stdin.read()
n = re.search(r"Note (\d+)", prompt).group(1)
pathlib.Path(f"notes/{n}.txt").parent.mkdir(exist_ok=True)
pathlib.Path(f"notes/{n}.txt").write_text(f"note {n}\n")
print(json.dumps({"type": "result", "is_error": False, "result": "done",
                  "usage": {"input_tokens": 10, "output_tokens": 5}}))
"#;

fn main() {
    let (home, remote) = common::home_with_tool(common::ToolHome {
        files: &[("README.md", "notes\n")],
        tool: TOOL,
        coder: "attempts: 1, timeout_minutes: 1",
        agents_tail: "",
        policy: "auto_merge: low\n",
    });
    let github = FakeGithub::start(&remote, "acme", "notes", TOKEN);
    github.ci("ci", "test -d notes");
    github.protect(&["ci"], false);
    let target = home.read("config/target.yaml");
    home.write(
        "config/target.yaml",
        &format!(
            "{target}github:\n  owner: acme\n  repo: notes\n  api_url: \"{}\"\n  token_env: BENCH_GITHUB_TOKEN\n  pr_hourly_limit: 0\n  pr_concurrent_limit: 0\n",
            github.uri()
        ),
    );
    home.write("config/.env", &format!("BENCH_GITHUB_TOKEN={TOKEN}\n"));
    for n in 1..=TASKS {
        home.add_task(
            n,
            &format!("Note {n}"),
            "backlog",
            &format!("files: [notes/{n}.txt]\n"),
        );
    }
    let started = Instant::now();
    home.ok(&["run", "work"]);
    let elapsed = started.elapsed();
    let merged = github.prs().iter().filter(|p| p.merged).count();
    assert_eq!(
        merged,
        TASKS as usize,
        "every task merged: {:#?}",
        github.prs()
    );
    let requests = github.requests();
    let mut by_endpoint: BTreeMap<String, usize> = BTreeMap::new();
    for r in &requests {
        *by_endpoint.entry(endpoint(&r.method, &r.path)).or_default() += 1;
    }
    let once = by_endpoint
        .iter()
        .filter(|(e, _)| e.contains("/protection/") || e.contains("/rules/"))
        .map(|(_, n)| n)
        .sum::<usize>();
    let per_task = requests.len() as f64 / f64::from(TASKS);
    let per_task_alone = (requests.len() - once) as f64 / f64::from(TASKS);
    println!("github: {TASKS} tasks → {merged} pull requests merged in {elapsed:.2?}");
    println!(
        "github: {} requests, {per_task:.1} per task ({per_task_alone:.1} per task plus {once} per run for the branch protection; goal ≤ 8)",
        requests.len()
    );
    for (endpoint, n) in &by_endpoint {
        println!("  {n:>4}  {endpoint}");
    }
}

/// `METHOD /path` with numbers, shas and branch names folded, to count by endpoint.
fn endpoint(method: &str, path: &str) -> String {
    let parts: Vec<String> = path
        .split('/')
        .map(|p| {
            if p.chars().all(|c| c.is_ascii_digit()) && !p.is_empty() {
                "{n}".into()
            } else if p.len() == 40 && p.chars().all(|c| c.is_ascii_hexdigit()) {
                "{sha}".into()
            } else if p.starts_with("T-") {
                "{branch}".into()
            } else {
                p.to_string()
            }
        })
        .collect();
    format!("{method} {}", parts.join("/"))
}
