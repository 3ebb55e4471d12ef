//! Shared helpers for tests that run the real `dayshift` binary on a temp home.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

pub mod fake_discord;
pub mod fake_github;
pub mod fake_web;
pub mod notify_home;

pub const BIN: &str = env!("CARGO_BIN_EXE_dayshift");

/// A wiremock server on 127.0.0.1 answering every request through `responder`, with the
/// runtime it was started on (keep both alive as long as the server is used).
pub fn serve(
    responder: impl wiremock::Respond + 'static,
) -> (wiremock::MockServer, tokio::runtime::Runtime) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime for a fake server");
    let server = runtime.block_on(async {
        let server = wiremock::MockServer::start().await;
        wiremock::Mock::given(wiremock::matchers::any())
            .respond_with(responder)
            .mount(&server)
            .await;
        server
    });
    (server, runtime)
}

/// A fresh home made by `dayshift init` in a temp dir.
pub struct TestHome {
    _dir: tempfile::TempDir,
    pub root: PathBuf,
}

impl TestHome {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().join("home");
        let out = std::process::Command::new(BIN)
            .arg("init")
            .arg(&root)
            .env("TZ", "UTC")
            .output()
            .expect("run init");
        assert!(
            out.status.success(),
            "init failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // a test's `run work` must not depend on the hour it runs at: the default window
        // ends at the wrap-up (23:00), so work until midnight instead
        let schedules = root.join("config/schedules.yaml");
        let mut text = fs::read_to_string(&schedules).expect("schedules.yaml");
        text.push_str("work_until: \"24:00\"\n");
        fs::write(&schedules, text).expect("write schedules.yaml");
        Self { _dir: dir, root }
    }

    pub fn cmd(&self) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.arg("--home")
            .arg(&self.root)
            .env_remove("DAYSHIFT_HOME")
            .env_remove("RUST_LOG");
        cmd
    }

    /// Start dayshift with args in the background, its output piped (for tests that
    /// signal or kill it while it runs).
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        std::process::Command::new(BIN)
            .arg("--home")
            .arg(&self.root)
            .args(args)
            .env_remove("DAYSHIFT_HOME")
            .env_remove("RUST_LOG")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start dayshift")
    }

    /// Run with args; return the output whatever the exit code.
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().expect("run dayshift")
    }

    /// Run with args and insist on success.
    pub fn ok(&self, args: &[&str]) -> Output {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "`dayshift {}` failed ({:?}):\nstdout: {}\nstderr: {}",
            args.join(" "),
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    pub fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    pub fn write(&self, rel: &str, text: &str) {
        fs::write(self.path(rel), text).unwrap_or_else(|e| panic!("write {rel}: {e}"));
    }

    /// Every file a person sees (not .dayshift/, not logs/), by path relative to the home.
    pub fn files(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        collect(&self.root, &self.root, &mut out);
        out
    }

    /// Task file names per state folder.
    pub fn task_files(&self, state: &str) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(self.path(&format!("tasks/{state}")))
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.ends_with(".md"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// Task T-000n in `tasks/<state>/`, high priority, on calc.py, with `extra` front matter
    /// lines (each ending in a newline).
    /// A task naming calc.py, unless `extra` names its own `files:`.
    pub fn add_task(&self, n: u32, title: &str, state: &str, extra: &str) {
        let id = format!("T-{n:04}");
        let files = if extra.contains("files:") {
            ""
        } else {
            "files: [calc.py]\n"
        };
        let slug = dayshift::tasks::id::slugify(title);
        self.write(
            &format!("tasks/{state}/{id}-{slug}.md"),
            &format!("---\nid: {id}\ntitle: \"{title}\"\npriority: high\n{files}acceptance: [\"the tests pass\"]\n{extra}created: 2026-11-22T07:46:02+00:00\n---\n## Description\n{title} in calc.py.\n\n## Log\n"),
        );
    }

    /// Task `id` as `tasks list --json` shows it.
    pub fn task(&self, id: &str) -> serde_json::Value {
        self.tasks_json()
            .into_iter()
            .find(|t| t["id"] == id)
            .unwrap_or_else(|| panic!("{id} is not in the queue"))
    }

    /// `tasks list --json`, parsed.
    pub fn tasks_json(&self) -> Vec<serde_json::Value> {
        let out = self.run(&["tasks", "list", "--json"]);
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "tasks list --json: {e}: {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }
}

fn collect(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let rel = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .to_string_lossy()
            .into_owned();
        if rel == ".dayshift" || rel == "logs" {
            continue;
        }
        if path.is_dir() {
            collect(root, &path, out);
        } else {
            out.insert(rel, fs::read_to_string(&path).unwrap_or_default());
        }
    }
}

/// Replace ISO timestamps (2026-11-22T07:46:02+06:00) with a marker.
pub fn mask_timestamps(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        if is_stamp_at(bytes, i) {
            out.push_str("<TS>");
            i += 19;
            while i < bytes.len() && (bytes[i].is_ascii_digit() || b"+-:.Z".contains(&bytes[i])) {
                i += 1;
            }
        } else {
            let ch = text[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

fn is_stamp_at(b: &[u8], i: usize) -> bool {
    let pattern = b"dddd-dd-ddTdd:dd:dd";
    b.len() >= i + pattern.len()
        && pattern.iter().enumerate().all(|(k, p)| {
            if *p == b'd' {
                b[i + k].is_ascii_digit()
            } else {
                b[i + k] == *p
            }
        })
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Run git in `dir` with a fixed identity and no global config; panic with its stderr on
/// failure; return its stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.invalid",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A target repository for tests: `files` committed in `<dir>/seed` and cloned bare to
/// `<dir>/<name>.git` (the remote dayshift clones from and pushes to). Returns the remote.
pub fn bare_remote(dir: &Path, name: &str, files: &[(&str, &str)]) -> PathBuf {
    let seed = dir.join("seed");
    fs::create_dir_all(&seed).unwrap();
    git(&seed, &["init", "-q"]);
    for (path, text) in files {
        let file = seed.join(path);
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        fs::write(file, text).unwrap();
    }
    git(&seed, &["add", "."]);
    git(&seed, &["commit", "-q", "-m", "seed"]);
    let remote = dir.join(format!("{name}.git"));
    let (seed, bare) = (seed.to_str().unwrap(), remote.to_str().unwrap());
    git(dir, &["clone", "-q", "--bare", seed, bare]);
    remote
}

/// The id dayshift gives a new goal, computed independently: `g-` and the first 6 hex
/// digits of the SHA-256 of its normalized text.
pub fn goal_id(text: &str) -> String {
    use sha2::{Digest, Sha256};
    let norm = dayshift::vision::identity::normalize(text);
    let hex: String = Sha256::digest(norm.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("g-{}", &hex[..6])
}

/// How [`home_with_tool`] sets a home up: its target's files, the coding tool (a script run
/// through the `command` engine, prompt on stdin), the rest of the coder's settings and of
/// agents.yaml, and policy.yaml.
pub struct ToolHome<'a> {
    pub files: &'a [(&'a str, &'a str)],
    /// The script's text; written executable beside the home as `tool`.
    pub tool: &'a str,
    /// More keys of the coder, e.g. `attempts: 1, timeout_minutes: 1`.
    pub coder: &'a str,
    /// More of agents.yaml after the agents, e.g. `budget: {daily_usd: 5.0}\n`; when it
    /// has `providers:`, it replaces the empty list.
    pub agents_tail: &'a str,
    pub policy: &'a str,
}

/// A home whose target is a bare remote holding `files` (tested with
/// `python3 -m unittest -v`), with the tool as the coder; set up. Returns the home and the
/// remote; the tool and the remote live in the home's parent folder.
pub fn home_with_tool(setup: ToolHome) -> (TestHome, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let home = TestHome::new();
    let outer = home.root.parent().unwrap().to_path_buf();
    let remote = bare_remote(&outer, "calc", setup.files);
    let tool = outer.join("tool");
    fs::write(&tool, setup.tool).unwrap();
    fs::set_permissions(&tool, fs::Permissions::from_mode(0o755)).unwrap();
    home.write(
        "config/target.yaml",
        &format!(
            "repo: {}\nbase_branch: main\ntest_command: python3 -m unittest -v\n",
            remote.display()
        ),
    );
    home.write(
        "config/agents.yaml",
        &format!(
            "{}agents:\n  coder: {{engine: command, command: [\"{}\"], {}}}\n{}",
            // a tail that names providers (a reviewer's model) replaces the empty list
            if setup.agents_tail.contains("providers:") {
                ""
            } else {
                "providers: {}\n"
            },
            tool.display(),
            setup.coder,
            setup.agents_tail
        ),
    );
    home.write("config/policy.yaml", setup.policy);
    home.ok(&["setup", "--no-aider"]);
    (home, remote)
}
