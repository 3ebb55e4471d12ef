//! `dayshift demo` end to end through the real binary — the whole day offline on the bundled
//! example — and the recorder of the demo's cassette (`make demo-cassette`).

mod common;
#[path = "common/fake_model.rs"]
mod fake_model;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{BIN, goal_id, stderr, stdout};
use dayshift::cli::demo::{CASSETTE_PATH, DAY, REPLAY_PROVIDER, TARGET_FILES, TARGET_PATH};
use dayshift::llm::Usage;
use fake_model::{MODEL, anthropic_sse, sse};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A proxy nobody listens on: any HTTP request the demo made would fail.
const DEAD_PROXY: &str = "http://127.0.0.1:9";

fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo")
}

fn dayshift(cwd: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(cwd)
        .env_remove("DAYSHIFT_HOME")
        .env_remove("RUST_LOG");
    for var in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        cmd.env(var, DEAD_PROXY);
    }
    cmd.env_remove("NO_PROXY").env_remove("no_proxy");
    cmd
}

fn must(out: Output, what: &str) -> Output {
    assert!(
        out.status.success(),
        "{what} failed ({:?}):\nstdout: {}\nstderr: {}",
        out.status.code(),
        stdout(&out),
        stderr(&out)
    );
    out
}

fn git(dir: &Path, args: &[&str]) -> String {
    common::git(dir, args)
}

/// What every good demo day leaves: the tasks (one per defect, one for the scan's finding)
/// completed and merged into main, one commit per task with its trailer, the finding gone
/// and the example's tests passing on main.
fn assert_the_day_fixed_the_example(root: &Path) -> Vec<serde_json::Value> {
    let out = must(
        dayshift(root)
            .args(["--home", ".", "tasks", "list", "--json"])
            .output()
            .unwrap(),
        "tasks list",
    );
    let tasks: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        tasks.len(),
        4,
        "one task per defect and one for the finding: {tasks:#?}"
    );
    let scanned: Vec<_> = tasks
        .iter()
        .filter(|t| t["source"].as_str().is_some_and(|s| s.starts_with("scan:")))
        .collect();
    assert_eq!(scanned.len(), 1, "the monitor opened one task: {tasks:#?}");
    for task in &tasks {
        assert_eq!(task["state"], "completed", "{task:#?}");
    }
    let clone = root.join("workspace/target");
    let log = git(&clone, &["log", "--format=%H%n%B%n--end--", "main"]);
    for task in &tasks {
        let trailer = format!("Task: {}", task["id"].as_str().unwrap());
        let count = log.lines().filter(|l| l.trim() == trailer).count();
        assert_eq!(count, 1, "one commit on main for `{trailer}`:\n{log}");
    }
    let branches = git(
        &clone,
        &["branch", "--list", "--format=%(refname:short)", "agent/*"],
    );
    assert_eq!(
        branches.lines().count(),
        4,
        "one branch per task: {branches}"
    );
    let prices = git(&clone, &["show", "main:shop/prices.py"]);
    assert!(
        !prices.contains("eval(") && prices.contains("float(text)"),
        "the scan's finding is fixed on main:\n{prices}"
    );

    // a fresh checkout of main: the example's own tests pass
    let check = root.join("check-main");
    git(
        root,
        &[
            "clone",
            "--quiet",
            "--branch",
            "main",
            clone.to_str().unwrap(),
            check.to_str().unwrap(),
        ],
    );
    let tests = Command::new("python3")
        .args(["-m", "unittest"])
        .current_dir(&check)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap();
    assert!(
        tests.status.success(),
        "the example's tests fail on main:\n{}",
        stderr(&tests)
    );
    std::fs::remove_dir_all(&check).unwrap();
    tasks
}

#[test]
fn the_demo_runs_the_whole_day_offline_and_fixes_the_example() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("demo");
    // run from a folder that is not this repository: the binary carries the example
    let out = must(
        dayshift(dir.path())
            .arg("demo")
            .arg(&root)
            .output()
            .unwrap(),
        "dayshift demo",
    );
    let (out_text, err_text) = (stdout(&out), stderr(&out));

    let first = out_text.lines().next().unwrap_or_default();
    let cassette = root.join(CASSETTE_PATH);
    assert!(
        first.contains("no API key, no network")
            && first.contains("REPLAYED")
            && first.contains(&cassette.display().to_string()),
        "the first line says the answers are replayed, and from where: {first}"
    );
    for progress in [
        "[1/7] monitor: scanned ",
        ": 1 finding(s), 1 new, 0 fixed; task(s) T-0001 opened",
        "[2/7] morning: 3 goals today",
        "[3/7] research: skipped — the researcher has no search provider",
        "[4/7] plan: 3 task(s) created",
        "[5/7] work: 4 task(s) completed, 0 waiting for a person, 0 failed",
        "[6/7] deploy: skipped — nothing to deploy with",
        "[7/7] wrapup: report for",
    ] {
        assert!(
            err_text.contains(progress),
            "progress `{progress}` was shown:\n{err_text}"
        );
    }

    let tasks = assert_the_day_fixed_the_example(&root);

    let report_path = root.join(format!("reports/daily/{DAY}.md"));
    let report = std::fs::read_to_string(&report_path).unwrap();
    let done = report
        .split("## Done")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .unwrap_or_default();
    for task in &tasks {
        let id = task["id"].as_str().unwrap();
        // a goal's tasks are listed under its goal; the scan's task has no goal
        assert!(
            task["goal"].is_null() || report.contains(&format!("{id} completed")),
            "the report lists {id} as completed:\n{report}"
        );
        assert!(
            done.contains(id),
            "{id} is under the report's Done (on a day other than {DAY}, look at the day events are \
             stored under: the wall clock's, not the day being run):\n{report}"
        );
    }
    assert!(
        out_text.contains(&format!("# Daily report — {DAY}")),
        "the report is shown:\n{out_text}"
    );
    for shown in [
        root.join("DAILY_PLAN.md"),
        report_path.clone(),
        root.join("workspace/target"),
    ] {
        assert!(
            out_text.contains(&shown.display().to_string()),
            "where {} is, is said:\n{out_text}",
            shown.display()
        );
    }
    assert!(
        out_text.contains("agent/T-0001-"),
        "the branches are listed:\n{out_text}"
    );

    let plan = std::fs::read_to_string(root.join("DAILY_PLAN.md")).unwrap();
    assert!(
        plan.contains("## Reasoning (orchestrator)"),
        "the orchestrator's recorded answer chose the day:\n{plan}"
    );
    let scan = std::fs::read_to_string(root.join(format!("reports/scan/{DAY}.md"))).unwrap();
    assert!(scan.contains("shop/prices.py:6"), "{scan}");
    assert!(
        report.contains("## Scan")
            && report
                .contains("T-0001 opened for builtin/patterns.python.eval at shop/prices.py:6"),
        "the daily report's Scan section:\n{report}"
    );

    // no request could reach a network: every provider replays, and HTTP went to a dead proxy
    let agents = std::fs::read_to_string(root.join("config/agents.yaml")).unwrap();
    assert!(agents.contains(REPLAY_PROVIDER), "{agents}");
    for http in ["kind: anthropic", "kind: openai", "base_url"] {
        assert!(!agents.contains(http), "{agents}");
    }
    assert!(!root.join("config/.env").exists(), "no key was needed");
    assert_eq!(
        std::fs::read_to_string(&cassette).unwrap(),
        std::fs::read_to_string(example_dir().join("cassette.jsonl")).unwrap(),
        "the cassette shipped in examples/ is the one replayed"
    );

    // the merged fixes were pushed back to the example project's repository
    let upstream = root.join(TARGET_PATH);
    assert_eq!(
        git(&upstream, &["rev-parse", "main"]),
        git(&root.join("workspace/target"), &["rev-parse", "main"])
    );
}

#[test]
fn improve_dry_run_on_the_example_prints_proposals_with_risk_and_verdicts_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("demo");
    let prepared = dayshift::cli::demo::prepare(&root, REPLAY_PROVIDER).expect("a demo home");
    let before = (
        git(&prepared.clone, &["rev-parse", "HEAD"]),
        git(&prepared.clone, &["status", "--porcelain"]),
        std::fs::read_to_string(root.join("logs/audit.jsonl")).unwrap_or_default(),
    );
    // a protected path makes a second finding's change a person's to merge
    std::fs::write(
        root.join("config/policy.yaml"),
        "auto_merge: low\nprotected_paths: [\"shop/prices.py\"]\n",
    )
    .unwrap();
    let out = must(
        dayshift(dir.path())
            .args(["--home", root.to_str().unwrap(), "improve", "--dry-run"])
            .output()
            .unwrap(),
        "improve --dry-run",
    );
    let text = stdout(&out);
    for shown in [
        "PROPOSAL",
        "VERDICT",
        "RISK",
        "shop/prices.py:6",
        "builtin/patterns.python.eval",
        "warn",
        "high",
        "a person",
        "protected path",
    ] {
        assert!(text.contains(shown), "`{shown}` is shown:\n{text}");
    }
    assert!(
        stderr(&out).contains("nothing was changed"),
        "{}",
        stderr(&out)
    );
    let json = must(
        dayshift(dir.path())
            .args([
                "--home",
                root.to_str().unwrap(),
                "improve",
                "--dry-run",
                "--json",
            ])
            .output()
            .unwrap(),
        "improve --dry-run --json",
    );
    let proposals: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(proposals.as_array().unwrap().len(), 1, "{proposals:#}");
    assert_eq!(proposals[0]["verdict"], "warn");
    assert_eq!(proposals[0]["risk"], "high");
    assert_eq!(proposals[0]["merges_itself"], false);
    assert_eq!(proposals[0]["files"][0], "shop/prices.py");

    // nothing changed: no task, proposal, report or event, the clone as it was
    for folder in [
        "tasks/backlog",
        "tasks/in_progress",
        "tasks/completed",
        "tasks/failed",
    ] {
        let md = std::fs::read_dir(root.join(folder))
            .map(|d| {
                d.flatten()
                    .filter(|e| e.path().extension().is_some_and(|x| x == "md"))
                    .count()
            })
            .unwrap_or(0);
        assert_eq!(md, 0, "{folder} has no task");
    }
    assert!(!root.join("proposals").exists());
    assert!(
        !root
            .join(format!(
                "reports/scan/{}.md",
                chrono::Local::now().date_naive()
            ))
            .exists()
    );
    let after = (
        git(&prepared.clone, &["rev-parse", "HEAD"]),
        git(&prepared.clone, &["status", "--porcelain"]),
        std::fs::read_to_string(root.join("logs/audit.jsonl")).unwrap_or_default(),
    );
    assert_eq!(
        before, after,
        "the clone and the audit trail are as they were"
    );
}

#[test]
fn every_file_of_the_example_is_embedded() {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let p = entry.path();
            if p.file_name().is_some_and(|n| n == "__pycache__") {
                continue;
            }
            if p.is_dir() {
                walk(&p, base, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().display().to_string());
            }
        }
    }
    let target = example_dir().join("target");
    let mut on_disk = Vec::new();
    walk(&target, &target, &mut on_disk);
    on_disk.sort();
    let mut embedded: Vec<String> = TARGET_FILES.iter().map(|(p, _)| p.to_string()).collect();
    embedded.sort();
    assert_eq!(
        embedded, on_disk,
        "list every file of examples/demo/target in TARGET_FILES (src/cli/demo.rs)"
    );
}

#[test]
fn a_folder_that_is_not_empty_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    let out = dayshift(dir.path())
        .arg("demo")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("not empty"), "{}", stderr(&out));
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
    assert_eq!(names.len(), 1, "nothing was written");
}

#[test]
fn without_python3_the_demo_says_what_to_install() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let found = Command::new("sh")
        .args(["-c", "command -v git"])
        .output()
        .unwrap();
    let git_path = String::from_utf8_lossy(&found.stdout).trim().to_string();
    std::os::unix::fs::symlink(&git_path, bin.join("git")).unwrap();
    let out = dayshift(dir.path())
        .arg("demo")
        .arg(dir.path().join("demo"))
        .env("PATH", &bin)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(
        err.contains("needs `python3`") && err.contains("install python3"),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------
// The recorder: `make demo-cassette` (cargo test --test demo -- --ignored record_the_demo_cassette)

/// The bullet of examples/demo/VISION.md that contains `words`.
fn goal_text(words: &str) -> String {
    let vision = std::fs::read_to_string(example_dir().join("VISION.md")).unwrap();
    vision
        .lines()
        .filter_map(|l| l.strip_prefix("- "))
        .find(|l| l.contains(words))
        .unwrap_or_else(|| panic!("no goal with `{words}` in examples/demo/VISION.md"))
        .trim()
        .to_string()
}

/// One defect of the example: its goal, the planner's task and the coder's fix.
struct Defect {
    file: &'static str,
    title: &'static str,
    description: &'static str,
    acceptance: &'static str,
    fix: &'static str,
}

const DEFECTS: [Defect; 3] = [
    Defect {
        file: "shop/cart.py",
        title: "Ship orders of exactly 50.00 free",
        description: "Cart.shipping compares the subtotal with FREE_SHIPPING_FROM using `>`, so a subtotal of exactly 5000 cents still pays shipping. The store promises free shipping from 50.00, so the comparison must include the threshold (`>=`).",
        acceptance: "python3 -m unittest tests.test_cart passes, including test_an_order_of_exactly_50_ships_free",
        fix: "The store promises free shipping *from* 50.00, so a subtotal equal to the threshold must ship free: the comparison becomes `>=`.\n\nshop/cart.py\n```python\n<<<<<<< SEARCH\n        if self.subtotal() > FREE_SHIPPING_FROM:\n=======\n        if self.subtotal() >= FREE_SHIPPING_FROM:\n>>>>>>> REPLACE\n```\n",
    },
    Defect {
        file: "shop/pagination.py",
        title: "Stop catalogue pages from overlapping",
        description: "page() returns items[start : start + per_page + 1]: one item too many, so the first product of each page also ends the page before it. The slice must end at start + per_page.",
        acceptance: "python3 -m unittest tests.test_pagination passes: each page holds per_page products and the pages do not overlap",
        fix: "The slice took `per_page + 1` items, so every page also showed the first product of the next one. A page ends where the next one starts.\n\nshop/pagination.py\n```python\n<<<<<<< SEARCH\n    return items[start : start + per_page + 1]\n=======\n    return items[start : start + per_page]\n>>>>>>> REPLACE\n```\n",
    },
    Defect {
        file: "shop/slug.py",
        title: "Turn each run of separators in a slug into one dash",
        description: "slugify() replaces every character outside a-z0-9 with its own dash, so \"Rock & Roll\" becomes rock---roll. Replace each run of such characters with a single dash (pattern [^a-z0-9]+) and keep stripping dashes at both ends.",
        acceptance: "python3 -m unittest tests.test_slug passes: \"Rock & Roll T-shirt\" gives rock-roll-t-shirt",
        fix: "Each separator character became a dash of its own. Matching a whole run of them gives one dash; the ends are still stripped.\n\nshop/slug.py\n```python\n<<<<<<< SEARCH\n    slug = re.sub(r\"[^a-z0-9]\", \"-\", name.lower())\n=======\n    slug = re.sub(r\"[^a-z0-9]+\", \"-\", name.lower())\n>>>>>>> REPLACE\n```\n",
    },
];

fn orchestrator_answer() -> String {
    let [cart, pages, slug] = DEFECTS.map(|d| goal_id(&goal_text(d.file)));
    let idea = goal_id(&goal_text("page size"));
    json!({
        "reasoning": "Customers are charged shipping we promised them free, so the cart comes first. The overlapping catalogue pages and the product URLs with double dashes are seen by every shopper; each has a failing test already and should be a one-line fix, so all three fit today. The page-size question is a design choice, not a defect, and nothing waits on it.",
        "today": [
            {"goal_id": cart, "why": "customers pay shipping they were promised free"},
            {"goal_id": pages, "why": "shoppers see the same product twice while browsing"},
            {"goal_id": slug, "why": "broken-looking URLs on every product with punctuation in its name"}
        ],
        "deferred": [{"goal_id": idea, "why": "a design question; no bug depends on it"}],
        "capacity": {"goals": 3, "why": "three small fixes, each with a failing test that proves it"}
    })
    .to_string()
}

fn planner_answer(d: &Defect) -> String {
    json!({"tasks": [{
        "key": "fix",
        "title": d.title,
        "kind": "code",
        "description": d.description,
        "files": [d.file],
        "acceptance": [d.acceptance],
        "difficulty": "S",
        "depends_on": []
    }]})
    .to_string()
}

/// The coder's fix of the finding the monitor's scan makes a task of.
const SCAN_FIX: &str = "`eval` runs whatever the back office types; a price is a number, so parse it as one.\n\nshop/prices.py\n```python\n<<<<<<< SEARCH\n    return round(eval(text) * 100)\n=======\n    return round(float(text) * 100)\n>>>>>>> REPLACE\n```\n";

/// The scripted model: the answer for a request, chosen by what the request is about.
fn script(request: &wiremock::Request) -> ResponseTemplate {
    let body = String::from_utf8_lossy(&request.body);
    let answer = if body.contains("You are the coder") {
        DEFECTS
            .iter()
            .find(|d| body.contains(&format!("Files: {}", d.file)))
            .map(|d| d.fix.to_string())
            .or_else(|| {
                body.contains("Files: shop/prices.py")
                    .then(|| SCAN_FIX.to_string())
            })
    } else if body.contains("You are the planner") {
        DEFECTS
            .iter()
            .find(|d| body.contains(&format!("Goal {} (", goal_id(&goal_text(d.file)))))
            .map(planner_answer)
    } else if body.contains("You are the orchestrator") {
        Some(orchestrator_answer())
    } else if body.contains("You are the reviewer") {
        Some(
            json!({"verdict": "approve", "summary": "The change fixes the defect the task names, in the smallest way, and the tests cover it.", "comments": [], "reasons": ["the acceptance is met"]})
                .to_string(),
        )
    } else {
        None
    };
    match answer {
        Some(text) => {
            let usage = Usage {
                input_tokens: body.len() as u64 / 4,
                output_tokens: text.len() as u64 / 4 + 1,
                cache_read_tokens: 0,
                cache_write_tokens: 0,
            };
            sse(anthropic_sse(&text, usage, "end_turn", true))
        }
        None => ResponseTemplate::new(400).set_body_json(json!({"type": "error", "error": {
            "type": "invalid_request_error",
            "message": "the demo's script has no answer for this request (tests/demo.rs, script)"}})),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "writes examples/demo/cassette.jsonl; run it with `make demo-cassette`"]
async fn record_the_demo_cassette() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(script)
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();

    // the demo's home exactly, with the scripted model in place of the replay
    let root = dir.path().join("record");
    let provider = format!(
        "{{kind: anthropic, model: {MODEL}, base_url: \"{}\", api_key_env: DEMO_RECORDING_KEY}}",
        server.uri()
    );
    dayshift::cli::demo::prepare(&root, &provider).expect("prepare the demo home");
    std::fs::write(
        root.join("config/.env"),
        "DEMO_RECORDING_KEY=sk-demo-recording-not-a-real-key\n",
    )
    .unwrap();
    let cassette = dir.path().join("cassette.jsonl");
    let mut day = Command::new(BIN);
    day.arg("--home")
        .arg(&root)
        .args(["day", "--date", DAY, "--record"])
        .arg(&cassette)
        .env_remove("DAYSHIFT_HOME")
        .env_remove("RUST_LOG");
    must(day.output().unwrap(), "the recorded day");
    assert_the_day_fixed_the_example(&root);
    let requests = server.received_requests().await.unwrap();
    assert_eq!(
        requests.len(),
        12,
        "one orchestrator, three planner, four coder and four reviewer calls"
    );

    // the recording replays in another demo home (other temp paths): the prompts are the same
    let again = dir.path().join("replay");
    let prepared =
        dayshift::cli::demo::prepare(&again, REPLAY_PROVIDER).expect("prepare the replay home");
    std::fs::copy(&cassette, &prepared.cassette).unwrap();
    let mut replay = dayshift(dir.path());
    replay
        .arg("--home")
        .arg(&again)
        .args(["day", "--date", DAY]);
    must(replay.output().unwrap(), "the replayed day");
    assert_the_day_fixed_the_example(&again);

    let text = std::fs::read_to_string(&cassette).unwrap();
    assert!(
        !text.contains("sk-demo-recording"),
        "no key in the cassette"
    );
    let shipped = example_dir().join("cassette.jsonl");
    std::fs::write(&shipped, &text).unwrap();
    println!(
        "wrote {} ({} answers); rebuild dayshift to embed it",
        shipped.display(),
        text.lines().count()
    );
}
