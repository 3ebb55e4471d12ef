//! The work loop with the REAL Aider (installed into .venv by `make setup` and `.ci/run`)
//! against a fake OpenAI-compatible model on 127.0.0.1 — nothing here reaches the internet.
//!
//! It proves, through the binary (`dayshift run work`, then `dayshift run wrapup`): two tasks,
//! one fixed at the first attempt, one at the second after the failing test output was fed
//! back to the model; the base branch has both merges; the daily report lists them with their
//! token counts; and the API key is never written anywhere.
//!
//! The target is a bare remote holding calc.py with two defects (`add` subtracts, `sub` adds)
//! and a unittest suite. The fake model answers in Aider's `diff` edit format, picking the
//! answer from the request body: the fix of `add`; for `sub`, first an edit that fixes `sub`
//! but breaks `mul`, then — once the prompt carries the previous attempt's failure — the
//! right edit. Every answer carries its own `usage`, below 1000 tokens so that Aider's
//! `Tokens: … sent, … received.` line gives the exact figures (it abbreviates from 1000 up).

mod common;
#[path = "common/fake_model.rs"]
mod fake_model;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{TestHome, bare_remote, git, stderr, stdout};
use serde_json::json;
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Planted in config/.env; must never be written by dayshift.
const KEY: &str = "sk-work-aider-canary-9f8e7d6c5b4a";

const CALC: &str = "def add(a, b):\n    return a - b\n\n\ndef sub(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n";
const FIXED: &str = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n";
const TESTS: &str = "import unittest\n\nfrom calc import add, sub, mul\n\n\nclass Calc(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n\n    def test_sub(self):\n        self.assertEqual(sub(5, 3), 2)\n\n    def test_mul(self):\n        self.assertEqual(mul(2, 3), 6)\n\n\nif __name__ == '__main__':\n    unittest.main()\n";

/// One answer of the fake model: the edit, and the usage it reports.
struct Answer {
    edit: &'static str,
    prompt_tokens: u64,
    completion_tokens: u64,
}

impl Answer {
    fn tokens(&self) -> u64 {
        self.prompt_tokens + self.completion_tokens
    }

    fn response(&self) -> ResponseTemplate {
        ResponseTemplate::new(200).set_body_json(json!({
            "id": "c1", "object": "chat.completion", "created": 1, "model": "fake-coder",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": self.edit}, "finish_reason": "stop"}],
            "usage": {
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
                "total_tokens": self.tokens(),
            }
        }))
    }
}

/// T-0001, attempt 1: the right fix of `add`.
const FIX_ADD: Answer = Answer {
    edit: "calc.py\n```python\n<<<<<<< SEARCH\ndef add(a, b):\n    return a - b\n=======\ndef add(a, b):\n    return a + b\n>>>>>>> REPLACE\n```\n",
    prompt_tokens: 901,
    completion_tokens: 41,
};

/// T-0002, attempt 1: fixes `sub` but breaks `mul` (a new failure: test_mul).
const SUB_BREAKS_MUL: Answer = Answer {
    edit: "calc.py\n```python\n<<<<<<< SEARCH\ndef sub(a, b):\n    return a + b\n=======\ndef sub(a, b):\n    return a - b\n>>>>>>> REPLACE\n```\n\ncalc.py\n```python\n<<<<<<< SEARCH\ndef mul(a, b):\n    return a * b\n=======\ndef mul(a, b):\n    return a ** b\n>>>>>>> REPLACE\n```\n",
    prompt_tokens: 902,
    completion_tokens: 42,
};

/// T-0002, attempt 2 (the prompt carries the failure): the right fix of `sub` alone.
const FIX_SUB: Answer = Answer {
    edit: "calc.py\n```python\n<<<<<<< SEARCH\ndef sub(a, b):\n    return a + b\n=======\ndef sub(a, b):\n    return a - b\n>>>>>>> REPLACE\n```\n",
    prompt_tokens: 903,
    completion_tokens: 43,
};

/// Mount `answers` on `server`: (priority, words the request must contain, answer); the
/// lowest priority number wins when several match.
async fn mount_answers<const N: usize>(
    server: &MockServer,
    answers: [(u8, Vec<&str>, &Answer); N],
) {
    for (priority, words, answer) in answers {
        let mut mock = Mock::given(method("POST")).and(path("/v1/chat/completions"));
        for word in words {
            mock = mock.and(body_string_contains(word));
        }
        mock.respond_with(answer.response())
            .with_priority(priority)
            .mount(server)
            .await;
    }
}

/// Words only a retry's prompt has (`engine::task_prompt`).
const RETRY: &str = "the previous attempt failed";

/// The fake model: the answer is chosen from the request body (priority 1 wins over 2 …).
async fn fake_model() -> MockServer {
    let server = MockServer::start().await;
    let answers = [
        (1, vec!["Task T-0002: Fix sub", RETRY, "test_mul"], &FIX_SUB),
        (2, vec!["Task T-0002: Fix sub"], &SUB_BREAKS_MUL),
        (3, vec!["Task T-0001: Fix add"], &FIX_ADD),
    ];
    mount_answers(&server, answers).await;
    server
}

/// A home whose target is a bare remote with calc.py, set up, with Aider as the coder,
/// talking to `model`.
fn home_with_target(model: &MockServer) -> (TestHome, PathBuf) {
    aider_home(
        model,
        "calc",
        &[("calc.py", CALC), ("test_calc.py", TESTS)],
        "python3 -m unittest -v",
    )
}

/// A home whose target is a bare remote `name` holding `files`, set up, with Aider as the
/// coder talking to `model` and `test_command` as the target's tests.
fn aider_home(
    model: &MockServer,
    name: &str,
    files: &[(&str, &str)],
    test_command: &str,
) -> (TestHome, PathBuf) {
    let home = TestHome::new();
    let outer = home.root.parent().unwrap().to_path_buf();
    let remote = bare_remote(&outer, name, files);
    let bare = remote.to_str().unwrap();
    home.write(
        "config/target.yaml",
        &format!("repo: {bare}\nbase_branch: main\ntest_command: {test_command}\n"),
    );
    home.write(
        "config/agents.yaml",
        &format!(
            "providers:\n  fake: {{kind: openai, base_url: \"{}/v1\", model: fake-coder, api_key_env: FAKE_MODEL_KEY}}\nagents:\n  coder: {{engine: aider, provider: fake, attempts: 3, timeout_minutes: 3}}\n",
            model.uri()
        ),
    );
    home.write("config/.env", &format!("FAKE_MODEL_KEY={KEY}\n"));
    home.write(
        "config/policy.yaml",
        "auto_merge: low\nmax_files_changed: 20\nmax_lines_changed: 400\n",
    );
    home.ok(&["setup", "--no-aider"]);
    (home, remote)
}

/// Run dayshift with the repo's Aider first on PATH (the home has no .venv of its own);
/// insist on success.
fn dayshift(home: &TestHome, args: &[&str]) -> Output {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin");
    assert!(
        venv.join("aider").is_file(),
        "Aider is not installed at {}: run `make setup` (it installs Aider into .venv/)",
        venv.display()
    );
    let path = std::env::join_paths(std::iter::once(venv).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();
    let out = home.cmd().args(args).env("PATH", path).output().unwrap();
    assert!(
        out.status.success(),
        "`dayshift {}` failed ({:?}):\nstdout: {}\nstderr: {}",
        args.join(" "),
        out.status.code(),
        stdout(&out),
        stderr(&out)
    );
    out
}

fn task_file(home: &TestHome, id: &str) -> String {
    home.read(home.task(id)["path"].as_str().unwrap())
}

/// The lines of `## <heading>` in a report, up to the next heading.
fn section<'a>(report: &'a str, heading: &str) -> Vec<&'a str> {
    report
        .lines()
        .skip_while(|l| *l != format!("## {heading}"))
        .skip(1)
        .take_while(|l| !l.starts_with("## "))
        .collect()
}

fn cells(row: &str) -> Vec<String> {
    row.trim()
        .trim_matches('|')
        .split(" | ")
        .map(|c| c.trim().to_string())
        .collect()
}

/// The cell under `column` in the row of `id` of a section's table.
fn cell(table: &[&str], id: &str, column: &str) -> Option<String> {
    let header = cells(table.iter().find(|l| l.starts_with("| task |"))?);
    let at = header.iter().position(|h| h == column)?;
    let row = table.iter().find(|l| l.starts_with(&format!("| {id} |")))?;
    cells(row).get(at).cloned()
}

/// Every file under `dir`, with its text.
fn files_under(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
            out.push((path, text));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aider_fixes_one_task_at_once_and_one_after_the_failing_test_is_fed_back() {
    let server = fake_model().await;
    let (home, remote) = home_with_target(&server);
    home.add_task(1, "Fix add", "backlog", "");
    home.add_task(2, "Fix sub", "backlog", "");
    // Events (what the report lists) carry the real clock's day in the home's zone (UTC,
    // as TestHome makes it), so the day pinned is today's.
    let day = chrono::Utc::now().date_naive().to_string();
    let mut outputs = vec![dayshift(&home, &["run", "work", "--date", &day])];

    // 1. both completed: T-0001 at the first attempt, T-0002 at the second
    for id in ["T-0001", "T-0002"] {
        assert_eq!(
            home.task(id)["state"],
            "completed",
            "{id}:\n{}",
            task_file(&home, id)
        );
    }
    let first = task_file(&home, "T-0001");
    assert!(
        first.contains("attempt 1 started") && !first.contains("attempt 2 started"),
        "fixed at the first attempt:\n{first}"
    );
    let second = task_file(&home, "T-0002");
    assert!(
        second.contains("attempt 1 failed: new test failures (1): test_calc.Calc.test_mul"),
        "the first attempt broke test_mul:\n{second}"
    );
    assert!(
        second.contains("attempt 2 started") && !second.contains("attempt 3 started"),
        "fixed at the second attempt:\n{second}"
    );

    // 2. one request per attempt, and the retry carried the failing test's output
    let requests = server.received_requests().await.unwrap();
    let bodies: Vec<String> = requests
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    assert_eq!(
        bodies.len(),
        3,
        "one model request per attempt (Aider asked again?)"
    );
    let retry = bodies
        .iter()
        .find(|b| b.contains("Task T-0002: Fix sub") && b.contains(RETRY))
        .expect("the second attempt at T-0002 asked the model");
    assert!(
        retry.contains("test_mul") && retry.contains("8 != 6"),
        "the failing test and its output were fed back: {retry}"
    );
    assert!(
        bodies.iter().filter(|b| b.contains(RETRY)).count() == 1,
        "only T-0002's second attempt is a retry"
    );
    for r in &requests {
        assert_eq!(
            r.headers.get("authorization").unwrap().to_str().unwrap(),
            format!("Bearer {KEY}"),
            "Aider got the key from config/.env"
        );
    }

    // 3. the remote's base branch has both merges and the fixed calc.py
    let log = git(&remote, &["log", "main", "--format=%B"]);
    assert!(
        log.contains("Task: T-0001") && log.contains("Task: T-0002"),
        "both are on the remote's base branch:\n{log}"
    );
    assert_eq!(git(&remote, &["show", "main:calc.py"]), FIXED);
    let authors = git(&remote, &["log", "main", "--format=%an <%ae>"]);
    assert!(
        !authors.contains("you@example.com"),
        "Aider's placeholder git identity reached the clone's config: {authors}"
    );

    // 4. the daily report's Done section lists both
    outputs.push(dayshift(&home, &["run", "wrapup", "--date", &day]));
    let report = home.read(&format!("reports/daily/{day}.md"));
    let done = section(&report, "Done");
    for (id, title) in [("T-0001", "Fix add"), ("T-0002", "Fix sub")] {
        assert_eq!(
            cell(&done, id, "title").as_deref(),
            Some(title),
            "{id} is done:\n{report}"
        );
    }

    // 5. the key is nowhere dayshift wrote or said
    outputs.push(dayshift(&home, &["budget", "--json"]));
    for out in &outputs {
        assert!(
            !stdout(out).contains(KEY) && !stderr(out).contains(KEY),
            "the key was printed"
        );
    }
    for dir in ["logs", "tasks", "reports"] {
        for (file, text) in files_under(&home.path(dir)) {
            assert!(!text.contains(KEY), "the key is in {}", file.display());
        }
    }

    // tokens: depends on the work loop recording engine usage
    // Each Done row carries the task's tokens — every attempt's, as Aider reported them —
    // and the budget has the coder's spend.
    for (id, answers) in [
        ("T-0001", vec![&FIX_ADD]),
        ("T-0002", vec![&SUB_BREAKS_MUL, &FIX_SUB]),
    ] {
        let expected: u64 = answers.iter().map(|a| a.tokens()).sum();
        assert_eq!(
            cell(&done, id, "tokens"),
            Some(expected.to_string()),
            "{id}'s tokens in the Done table:\n{report}"
        );
    }
    let budget: serde_json::Value = serde_json::from_str(&stdout(&outputs[2])).unwrap();
    let coder = budget["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["agent"] == "coder" && r["day"] == day.as_str())
        .unwrap_or_else(|| panic!("the coder's spend is in the budget: {budget}"));
    let all = [&FIX_ADD, &SUB_BREAKS_MUL, &FIX_SUB];
    assert_eq!(
        (
            coder["input_tokens"].as_u64(),
            coder["output_tokens"].as_u64()
        ),
        (
            Some(all.iter().map(|a| a.prompt_tokens).sum()),
            Some(all.iter().map(|a| a.completion_tokens).sum())
        ),
        "{budget}"
    );
}

// ── issue 9: the retry hears what the change broke, though the base fails a dozen tests ──

/// api.py with one defect (`version` returns "0"); test_a_api.py, which sorts — and so
/// prints — first; test_z_legacy.py with 12 tests that fail on the base, each printing 30
/// long lines, after the new failure: the end of the output is all about them.
const BROKEN_BASE_API: &str =
    "def status():\n    return 200\n\n\ndef version():\n    return \"0\"\n";
const BROKEN_BASE_API_FIXED: &str =
    "def status():\n    return 200\n\n\ndef version():\n    return \"1\"\n";
const BROKEN_BASE_API_TESTS: &str = "import unittest\n\nfrom api import status, version\n\n\nclass ApiTest(unittest.TestCase):\n    def test_status(self):\n        self.assertEqual(status(), 200)\n\n    def test_version(self):\n        self.assertEqual(version(), \"1\")\n";

/// The id of the test attempt 1 breaks, and the line that says how.
const BROKEN_BASE_NEW_FAILURE: &str = "test_a_api.ApiTest.test_status";
const BROKEN_BASE_ASSERTION: &str = "AssertionError: 503 != 200";

fn broken_base_legacy_tests() -> String {
    let mut code = String::from("import unittest\n\n\nclass LegacyTest(unittest.TestCase):\n");
    for i in 0..12 {
        code.push_str(&format!(
            "    def test_legacy_{i:02}(self):\n        noise = \"\\n\".join(\"legacy noise {i} %d \" % n + \"x\" * 60 for n in range(30))\n        self.fail(\"legacy breakage {i:02}\\n\" + noise)\n\n"
        ));
    }
    code
}

/// Attempt 1: fixes `version` but makes `status` answer 503.
const BROKEN_BASE_BREAKS_STATUS: Answer = Answer {
    edit: "api.py\n```python\n<<<<<<< SEARCH\ndef status():\n    return 200\n\n\ndef version():\n    return \"0\"\n=======\ndef status():\n    return 503\n\n\ndef version():\n    return \"1\"\n>>>>>>> REPLACE\n```\n",
    prompt_tokens: 911,
    completion_tokens: 51,
};

/// Attempt 2, only when the prompt names the broken test and its assertion: the fix alone.
const BROKEN_BASE_FIX_VERSION: Answer = Answer {
    edit: "api.py\n```python\n<<<<<<< SEARCH\ndef version():\n    return \"0\"\n=======\ndef version():\n    return \"1\"\n>>>>>>> REPLACE\n```\n",
    prompt_tokens: 912,
    completion_tokens: 52,
};

/// The fake model of this case: the right fix only for a retry that heard what broke.
async fn broken_base_model() -> MockServer {
    let server = MockServer::start().await;
    let heard = vec![
        "Task T-0001: Fix version",
        RETRY,
        BROKEN_BASE_NEW_FAILURE,
        BROKEN_BASE_ASSERTION,
    ];
    let answers = [
        (1, heard, &BROKEN_BASE_FIX_VERSION),
        (
            2,
            vec!["Task T-0001: Fix version"],
            &BROKEN_BASE_BREAKS_STATUS,
        ),
    ];
    mount_answers(&server, answers).await;
    server
}

/// A home whose target's base fails 13 tests (the 12 legacy ones and `test_version`).
fn broken_base_home(model: &MockServer) -> (TestHome, PathBuf) {
    let legacy = broken_base_legacy_tests();
    aider_home(
        model,
        "api",
        &[
            ("api.py", BROKEN_BASE_API),
            ("test_a_api.py", BROKEN_BASE_API_TESTS),
            ("test_z_legacy.py", &legacy),
        ],
        "python3 -m unittest",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aider_retry_hears_the_new_failure_though_the_base_fails_many_tests_after_it() {
    let server = broken_base_model().await;
    let (home, remote) = broken_base_home(&server);
    home.write(
        "tasks/backlog/T-0001-fix-version.md",
        "---\nid: T-0001\ntitle: \"Fix version\"\npriority: high\nfiles: [api.py]\nacceptance: [\"the tests pass\"]\ncreated: 2026-11-22T07:46:02+00:00\n---\n## Description\nversion() in api.py must return \"1\".\n\n## Log\n",
    );
    let day = chrono::Utc::now().date_naive().to_string();
    dayshift(&home, &["run", "work", "--date", &day]);

    // merged at attempt 2, after attempt 1 broke test_status
    let log = task_file(&home, "T-0001");
    assert_eq!(home.task("T-0001")["state"], "completed", "{log}");
    assert!(
        log.contains(&format!(
            "attempt 1 failed: new test failures (1): {BROKEN_BASE_NEW_FAILURE}\n"
        )),
        "the log line names the new failure, on one line:\n{log}"
    );
    assert!(
        log.contains("attempt 2 started") && !log.contains("attempt 3 started"),
        "fixed at the second attempt:\n{log}"
    );
    assert_eq!(
        git(&remote, &["show", "main:api.py"]),
        BROKEN_BASE_API_FIXED
    );

    // what the model received at attempt 2: the new failure first, none of the old ones
    let bodies: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    assert_eq!(bodies.len(), 2, "one model request per attempt");
    let retry = bodies
        .iter()
        .find(|b| b.contains(RETRY))
        .expect("attempt 2 asked the model");
    // the prompt's feedback part (Aider's repo map around it quotes the legacy tests' code)
    let heard_part = retry
        .split(RETRY)
        .nth(1)
        .and_then(|rest| rest.split("Change only what the task needs").next())
        .expect("the retry prompt");
    for heard in [
        format!("new test failures (1): {BROKEN_BASE_NEW_FAILURE}"),
        "also failing on the base, not yours: 12 tests".to_string(),
        BROKEN_BASE_ASSERTION.to_string(),
        format!("FAIL: test_status ({BROKEN_BASE_NEW_FAILURE}"),
    ] {
        assert!(
            heard_part.contains(&heard),
            "the retry heard `{heard}`: {heard_part}"
        );
    }
    assert!(
        !heard_part.contains("legacy"),
        "the base's failures are counted, never shown: {heard_part}"
    );
}

// --- keys and keyless local servers (issue 9, items 2 and 3) ---

/// Run dayshift with the repo's Aider first on PATH, whatever its exit.
fn dayshift_any(home: &TestHome, args: &[&str]) -> Output {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin");
    let path = std::env::join_paths(std::iter::once(venv).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();
    home.cmd().args(args).env("PATH", path).output().unwrap()
}

/// The one-word request `dayshift doctor`'s preflight sends, answered.
async fn answer_preflight(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .and(body_string_contains("the one word: ok"))
        .respond_with(
            Answer {
                edit: "ok",
                prompt_tokens: 10,
                completion_tokens: 1,
            }
            .response(),
        )
        .with_priority(1)
        .mount(server)
        .await;
}

/// A local model server with no key (Ollama, llama.cpp, vLLM): Aider starts with the
/// placeholder key, the task merges; doctor's preflight passes against the server, and
/// fails naming the problem when the server does not have the model.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyless_local_server_works_and_doctor_tries_it() {
    let server = fake_model().await;
    answer_preflight(&server).await;
    let (home, remote) = home_with_target(&server);
    let keyless = |uri: &str| {
        format!(
            "providers:\n  local: {{kind: openai, base_url: \"{uri}/v1\", model: fake-coder}}\nagents:\n  coder: {{engine: aider, provider: local, attempts: 3, timeout_minutes: 3}}\n"
        )
    };
    home.write("config/agents.yaml", &keyless(&server.uri()));
    home.write("config/.env", "");
    let env = home.path("config/.env");
    std::fs::set_permissions(&env, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    home.add_task(1, "Fix add", "backlog", "");

    let doctor = dayshift_any(&home, &["doctor"]);
    assert!(
        doctor.status.success(),
        "doctor passes against the keyless server:\n{}",
        stdout(&doctor)
    );
    assert!(
        stdout(&doctor).contains("ok    engine preflight: aider reached openai/fake-coder"),
        "{}",
        stdout(&doctor)
    );
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "the preflight costs one request"
    );

    let day = chrono::Utc::now().date_naive().to_string();
    dayshift(&home, &["run", "work", "--date", &day]);
    assert_eq!(
        home.task("T-0001")["state"],
        "completed",
        "{}",
        task_file(&home, "T-0001")
    );
    assert!(git(&remote, &["log", "main", "--format=%B"]).contains("Task: T-0001"));
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2, "the preflight and one attempt");
    for r in &requests {
        assert_eq!(
            r.headers.get("authorization").unwrap().to_str().unwrap(),
            "Bearer dayshift-no-key",
            "Aider got the documented placeholder"
        );
    }

    // the same home pointed at a server that does not have the model
    let missing = fake_model::openai_refusing(404, "model_not_found").await;
    home.write("config/agents.yaml", &keyless(&missing.uri()));
    let doctor = dayshift_any(&home, &["doctor"]);
    let text = stdout(&doctor);
    assert_eq!(doctor.status.code(), Some(1), "{text}");
    let line = text
        .lines()
        .find(|l| l.starts_with("FAIL  engine preflight:"))
        .unwrap_or_else(|| panic!("one line for the preflight:\n{text}"));
    assert!(
        line.contains(&format!("the model was not found at {}/v1", missing.uri()))
            && line.contains("check `model`"),
        "{line}"
    );
    assert_eq!(missing.received_requests().await.unwrap().len(), 1);
    // and --offline sends nothing
    let offline = dayshift_any(&home, &["doctor", "--offline"]);
    assert!(offline.status.success(), "{}", stdout(&offline));
    assert!(stdout(&offline).contains("skip  engine preflight: --offline"));
    assert_eq!(missing.received_requests().await.unwrap().len(), 1);
}

/// A wrong key stops the loop after the first run with one message naming the variable;
/// no task is failed, no attempt is used; fixed, the next run resumes and merges them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_stops_the_loop_at_once_and_the_fix_resumes_it() {
    const WRONG: &str = "sk-wrong-but-configured-31337";
    let server = fake_model().await;
    // the provider refuses every request without the right key
    let good = format!("Bearer {KEY}");
    Mock::given(method("POST"))
        .and(move |r: &wiremock::Request| {
            r.headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(good.as_str())
        })
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": {
            "message": "Incorrect API key provided", "type": "invalid_request_error", "code": "invalid_api_key"
        }})))
        .with_priority(1)
        .mount(&server)
        .await;
    let (home, remote) = home_with_target(&server);
    home.write("config/.env", &format!("FAKE_MODEL_KEY={WRONG}\n"));
    home.add_task(1, "Fix add", "backlog", "");
    home.add_task(2, "Fix sub", "backlog", "");
    let day = chrono::Utc::now().date_naive().to_string();

    let out = dayshift_any(&home, &["run", "work", "--date", &day]);
    let said = format!("{}{}", stdout(&out), stderr(&out));
    assert!(
        !out.status.success(),
        "a stopped loop is not a success:\n{said}"
    );
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "stopped after the first tool run:\n{said}"
    );
    let fix = format!(
        "FAKE_MODEL_KEY was refused by {}/v1: check it in config/.env",
        server.uri()
    );
    assert!(
        said.contains(&fix),
        "one message naming the variable:\n{said}"
    );
    assert!(!said.contains(WRONG), "never the key:\n{said}");
    // nothing failed; the first task waits at the attempt it was on, the second untouched
    let first = home.task("T-0001");
    assert_eq!(
        first["state"],
        "in_progress",
        "{}",
        task_file(&home, "T-0001")
    );
    let text = task_file(&home, "T-0001");
    assert!(
        text.contains("next_attempt: 1"),
        "the attempt was not used:\n{text}"
    );
    assert!(text.contains("FAKE_MODEL_KEY was refused"), "{text}");
    assert_eq!(home.task("T-0002")["state"], "backlog");
    // the run's whole output is kept, redacted, and the task log names it
    assert!(
        text.contains("the tool's whole output is in logs/runs/T-0001/attempt-1.log"),
        "{text}"
    );
    let kept = home.read("logs/runs/T-0001/attempt-1.log");
    assert!(
        kept.contains("litellm.AuthenticationError") && !kept.contains(WRONG),
        "{kept}"
    );
    // the report says what stopped work and what to do
    dayshift(&home, &["run", "wrapup", "--date", &day]);
    let report = home.read(&format!("reports/daily/{day}.md"));
    let stopped = section(&report, "Work stopped: the setup needs a fix");
    assert!(
        stopped.iter().any(|l| l.contains(&fix)),
        "the report names the fix:\n{report}"
    );

    // fixed: the next run resumes T-0001 at attempt 1 and merges both
    home.write("config/.env", &format!("FAKE_MODEL_KEY={KEY}\n"));
    dayshift(&home, &["run", "work", "--date", &day]);
    for id in ["T-0001", "T-0002"] {
        assert_eq!(
            home.task(id)["state"],
            "completed",
            "{}",
            task_file(&home, id)
        );
    }
    let first = task_file(&home, "T-0001");
    assert!(
        first.contains("resumed after an interruption, at attempt 1")
            && !first.contains("attempt 2 started"),
        "{first}"
    );
    let log = git(&remote, &["log", "main", "--format=%B"]);
    assert!(
        log.contains("Task: T-0001") && log.contains("Task: T-0002"),
        "{log}"
    );
}
