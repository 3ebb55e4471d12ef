//! Secrets are redacted everywhere dayshift writes or passes on (issue 8, item 4), through
//! the binary with a real home: a canary key under a custom `api_key_env` name set only in
//! the environment, and one in config/.env, printed by a failing coding tool, appear
//! nowhere in the home (every file's bytes, and every text column of state.db), nor in the
//! next attempt's prompt as the tool receives it; a `--record` cassette redacts the
//! custom-named key; `find_known` names a known value in a diff.

mod common;
#[path = "common/fake_model.rs"]
mod fake_model;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::{TestHome, bare_remote};
use dayshift::config::Config;
use dayshift::home::Home;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer};

/// Set only in the environment of the dayshift process, named by `api_key_env`.
const ENV_NAME: &str = "ACME_SECRETS_CRED";
const ENV_CANARY: &str = "envcanary-5c1f0e9a7b3d";
/// In config/.env only, under a name that does not look like a secret's.
const FILE_NAME: &str = "FILE_CANARY";
const FILE_CANARY: &str = "filecanary-8e2d4b6f1a0c";

/// A coding tool that records what it was given (argv, stdin, and any file an argument
/// names) in a file outside the home, prints both keys and fails.
fn leaky_tool(record_dir: &Path) -> String {
    format!(
        r#"#!/bin/sh
n=$(ls "{dir}" | wc -l)
out="{dir}/call-$n.txt"
{{
  printf 'argv:'; for a in "$@"; do printf ' %s' "$a"; done; echo
  echo 'stdin:'; cat
  for a in "$@"; do if [ -f "$a" ]; then echo "file $a:"; cat "$a"; fi; done
}} > "$out" 2>&1
echo "leaking ${env} and ${file} while failing"
echo "again ${env}" >&2
exit 1
"#,
        dir = record_dir.display(),
        env = ENV_NAME,
        file = FILE_NAME,
    )
}

fn home_with_leaky_tool() -> (TestHome, PathBuf) {
    let home = TestHome::new();
    let outer = home.root.parent().unwrap().to_path_buf();
    let remote = bare_remote(&outer, "calc", &[("calc.py", "x = 1\n")]);
    let records = outer.join("records");
    std::fs::create_dir_all(&records).unwrap();
    let tool = outer.join("leaky-tool.sh");
    std::fs::write(&tool, leaky_tool(&records)).unwrap();
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
    home.write(
        "config/target.yaml",
        &format!("repo: {}\nbase_branch: main\n", remote.display()),
    );
    home.write(
        "config/agents.yaml",
        &format!(
            "providers:\n  acme: {{kind: openai, base_url: \"http://127.0.0.1:9/v1\", model: m, api_key_env: {ENV_NAME}}}\nagents:\n  coder: {{engine: command, command: [\"{}\"], env: [{ENV_NAME}, {FILE_NAME}], attempts: 2, timeout_minutes: 1}}\n",
            tool.display()
        ),
    );
    home.write("config/.env", &format!("{FILE_NAME}={FILE_CANARY}\n"));
    // the tool records what it was given in a folder outside the home, granted to it
    home.write(
        "config/policy.yaml",
        &format!("sandbox: {{write: [\"{}\"]}}\n", records.display()),
    );
    std::fs::set_permissions(
        home.path("config/.env"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    home.ok(&["setup", "--no-aider"]);
    home.write(
        "tasks/backlog/T-0001-fix-it.md",
        "---\nid: T-0001\ntitle: \"Fix it\"\npriority: high\ncreated: 2026-11-22T07:46:02+00:00\n---\n## Description\nFix it.\n\n## Log\n",
    );
    (home, records)
}

/// Every file under `dir` whose bytes contain `needle`, except config/.env (where the
/// file canary lives by design).
fn files_containing(dir: &Path, root: &Path, needle: &str, found: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() && !path.is_symlink() {
            files_containing(&path, root, needle, found);
        } else if path != root.join("config/.env") {
            let bytes = std::fs::read(&path).unwrap_or_default();
            if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                found.push(path.display().to_string());
            }
        }
    }
}

/// Every text value of every table of state.db that contains `needle`.
fn db_values_containing(db: &Path, needle: &str) -> Vec<String> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(tables.len() >= 5, "the store has its tables: {tables:?}");
    let mut found = Vec::new();
    for table in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
        let columns = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for i in 0..columns {
                if let Ok(rusqlite::types::ValueRef::Text(text)) = row.get_ref(i) {
                    let text = String::from_utf8_lossy(text);
                    if text.contains(needle) {
                        found.push(format!("{table}: {text}"));
                    }
                }
            }
        }
    }
    found
}

#[test]
fn a_tool_that_prints_its_keys_leaks_them_nowhere() {
    let (home, records) = home_with_leaky_tool();
    home.cmd()
        .args(["run", "work"])
        .env(ENV_NAME, ENV_CANARY)
        .assert()
        .success();
    home.ok(&["run", "wrapup"]);

    let task = home
        .tasks_json()
        .into_iter()
        .find(|t| t["id"] == "T-0001")
        .unwrap();
    assert_eq!(task["state"], "failed");
    let file = home.read(task["path"].as_str().unwrap());
    assert!(
        file.contains(&format!("[redacted:{ENV_NAME}]"))
            && file.contains(&format!("[redacted:{FILE_NAME}]")),
        "the tool's words are kept, its keys replaced by their names:\n{file}"
    );

    for canary in [ENV_CANARY, FILE_CANARY] {
        let mut found = Vec::new();
        files_containing(&home.root, &home.root, canary, &mut found);
        assert!(found.is_empty(), "{canary} written to {found:#?}");
        let in_db = db_values_containing(&home.path(".dayshift/state.db"), canary);
        assert!(in_db.is_empty(), "{canary} in state.db: {in_db:#?}");
    }

    // what the tool received: the first attempt the task, the second also the first's
    // failure — with its keys redacted
    let second = std::fs::read_to_string(records.join("call-1.txt")).expect("a second attempt");
    assert!(
        second.contains(&format!("[redacted:{ENV_NAME}]"))
            && second.contains(&format!("[redacted:{FILE_NAME}]")),
        "the feedback reached the next prompt:\n{second}"
    );
    for canary in [ENV_CANARY, FILE_CANARY] {
        assert!(
            !second.contains(canary),
            "{canary} in the next attempt's prompt:\n{second}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_cassette_redacts_a_key_named_only_by_api_key_env() {
    // a model (or a proxy) that echoes the key it was sent
    let server = MockServer::start().await;
    let usage = dayshift::llm::Usage {
        input_tokens: 10,
        output_tokens: 5,
        cache_read_tokens: 0,
        cache_write_tokens: 0,
    };
    Mock::given(method("POST"))
        .respond_with(fake_model::sse(fake_model::openai_sse(
            &format!("your key is {ENV_CANARY}"),
            usage,
            "stop",
            true,
        )))
        .mount(&server)
        .await;
    let home = TestHome::new();
    home.write(
        "config/agents.yaml",
        &format!(
            "providers:\n  acme: {{kind: openai, base_url: \"{}/v1\", model: m, api_key_env: {ENV_NAME}}}\ndefault_provider: acme\n",
            server.uri()
        ),
    );
    let cassette = home.root.parent().unwrap().join("tape.jsonl");
    let out = home
        .cmd()
        .args(["run", "morning", "--record", cassette.to_str().unwrap()])
        .env(ENV_NAME, ENV_CANARY)
        .output()
        .unwrap();
    assert!(
        !server.received_requests().await.unwrap().is_empty(),
        "the model was called: {}",
        common::stderr(&out)
    );
    let tape = std::fs::read_to_string(&cassette).expect("a cassette was recorded");
    assert!(
        tape.contains(&format!("your key is [redacted:{ENV_NAME}]")),
        "{tape}"
    );
    assert!(!tape.contains(ENV_CANARY), "{tape}");
}

#[test]
fn find_known_names_a_known_value_in_a_diff_and_ignores_short_ones() {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::init(dir.path().join("h"), "UTC").unwrap();
    std::fs::write(
        home.env_file(),
        format!("{FILE_NAME}={FILE_CANARY}\nDEBUG_TOKEN=true\nSHORT_KEY=abc1234\n"),
    )
    .unwrap();
    let config = Config::load(&home).unwrap();
    let added = format!("+++ b/settings.py\n+API = \"{FILE_CANARY}\"\n");
    assert_eq!(
        config.secrets.find_known(&added).as_deref(),
        Some(FILE_NAME)
    );
    assert_eq!(
        config
            .secrets
            .find_known("+++ b/settings.py\n+API = None\n"),
        None
    );
    let removed = format!("+++ b/settings.py\n-API = \"{FILE_CANARY}\"\n+API = None\n");
    assert_eq!(
        config.secrets.find_known_added(&removed),
        None,
        "removing a key is no leak"
    );
    assert_eq!(
        config.secrets.find_known_added(&added).as_deref(),
        Some(FILE_NAME)
    );
    assert_eq!(
        config.secrets.find_known("+DEBUG = true\n+PIN = abc1234\n"),
        None,
        "values under 8 characters are not secrets"
    );
}

#[test]
fn a_key_pasted_into_vision_md_never_reaches_a_task_file() {
    let home = TestHome::new();
    home.write("config/.env", &format!("{FILE_NAME}={FILE_CANARY}\n"));
    home.write(
        "VISION.md",
        &format!("# Vision\n\n## Priority: HIGH\n- Rotate the key {FILE_CANARY} in settings.py\n"),
    );
    home.ok(&["run", "morning"]);
    home.ok(&["run", "plan"]);
    let tasks = home.task_files("backlog");
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    let text = home.read(&format!("tasks/backlog/{}", tasks[0]));
    assert!(
        !text.contains(FILE_CANARY) && text.contains(&format!("[redacted:{FILE_NAME}]")),
        "{text}"
    );
    assert!(!tasks[0].contains("filecanary"), "{tasks:?}");
}
