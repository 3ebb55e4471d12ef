//! Containment (issue 8, item 1): what a confined coding tool or test command can reach.
//! Real bubblewrap, real git worktrees in a real home, real processes and sockets. Without
//! bubblewrap these tests fail and say to install it (CI does: .ci/run).

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{TestHome, git, stderr};
use dayshift::config::policy::{SandboxMode, SandboxPolicy};
use dayshift::engine::command::CommandEngine;
use dayshift::engine::{Assignment, Engine};
use dayshift::home::Home;
use dayshift::process::{self, Output, Spec};
use dayshift::qa::{QaCommands, run_checks_confined};
use dayshift::sandbox::{Confinement, Sandbox, SandboxError, State, detect};
use dayshift::target::{Worktree, start_task};
use dayshift::tasks::TaskId;

const CANARY: &str = "sk-canary-sandbox-0123456789";

fn bwrap() -> PathBuf {
    detect::bubblewrap().unwrap_or_else(|why| {
        panic!("{why}: install bubblewrap (`apt-get install -y bubblewrap`; .ci/run does)")
    })
}

/// A home with a secret, a task file, a cloned target and two task worktrees.
struct Fixture {
    _dir: tempfile::TempDir,
    home: Home,
    clone: PathBuf,
    mine: Worktree,
    other: Worktree,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::init(dir.path().join("h"), "UTC").unwrap();
        std::fs::write(home.env_file(), format!("OPENAI_API_KEY={CANARY}\n")).unwrap();
        std::fs::write(
            home.tasks_dir().join("backlog/T-0009-x.md"),
            "approval: pending\n",
        )
        .unwrap();
        let clone = home.target_clone();
        std::fs::create_dir_all(&clone).unwrap();
        git(&clone, &["init", "-q"]);
        std::fs::write(clone.join("app.py"), "x = 1\n").unwrap();
        git(&clone, &["add", "."]);
        git(&clone, &["commit", "-q", "-m", "init"]);
        let mine = start_task(&clone, "main", TaskId::new(1), "mine").unwrap();
        let other = start_task(&clone, "main", TaskId::new(2), "other").unwrap();
        Self {
            _dir: dir,
            home,
            clone,
            mine,
            other,
        }
    }

    fn sandbox(&self, policy: &SandboxPolicy) -> Sandbox {
        Sandbox::decide(policy, self.home.root(), Ok(bwrap())).unwrap()
    }

    /// The confinement the work loop gives task 1 under the default policy.
    fn confinement(&self) -> Confinement {
        self.sandbox(&SandboxPolicy::default())
            .for_task(&self.mine.path, &self.clone)
    }

    /// `sh -c script` in task 1's worktree under `confine`.
    fn sh(&self, confine: &Confinement, script: &str) -> Output {
        let spec = Spec::new("sh", &["-c", script])
            .cwd(&self.mine.path)
            .timeout(Duration::from_secs(20));
        process::run(&confine.wrap(spec)).unwrap()
    }

    /// `script` (a shell script's body) as task 1's coding tool, through the `command`
    /// engine under the default confinement, as the work loop would run it.
    fn tool(&self, script: &str, timeout: Duration) {
        let tools = tempfile::tempdir().unwrap();
        let path = tools.path().join("tool.sh");
        std::fs::write(&path, format!("#!/bin/sh\n{script}")).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let engine = CommandEngine::new(
            "tool",
            vec![path.display().to_string()],
            [("PATH".to_string(), std::env::var("PATH").unwrap())].into(),
            timeout,
        )
        .unwrap();
        let meta = dayshift::tasks::Task::parse(
            Path::new("T-0001-x.md"),
            dayshift::tasks::TaskState::InProgress,
            "---\nid: T-0001\ntitle: A task\npriority: high\ncreated: 2026-11-22T07:46:02+00:00\n---\n",
        )
        .unwrap()
        .meta;
        let confine = self.confinement();
        let job = Assignment {
            task: &meta,
            description: "",
            workdir: &self.mine.path,
            feedback: None,
            attempt: 1,
            notes: &[],
            confine: Some(&confine),
        };
        engine.run(&job).unwrap();
    }
}

fn all_output(out: &Output) -> String {
    format!("{}{}", out.stdout, out.stderr)
}

#[test]
fn a_confined_command_cannot_reach_the_home_the_clones_git_or_other_worktrees() {
    let f = Fixture::new();
    let confine = f.confinement();
    assert!(confine.is_active());
    let home = f.home.root().display().to_string();
    let git_dir = f.clone.join(".git");
    let policy = f.home.config_file("policy.yaml");
    let policy_before = std::fs::read(&policy).unwrap();
    let refused = [
        ("read config/.env", format!("cat {home}/config/.env")),
        ("list tasks/", format!("ls {home}/tasks/backlog")),
        (
            "write policy.yaml",
            format!("echo 'auto_merge: medium' > {}", policy.display()),
        ),
        (
            "write a hook",
            format!("echo 'touch /x' > {}/hooks/post-commit", git_dir.display()),
        ),
        (
            "write .git/config",
            format!("echo '[core]' >> {}/config", git_dir.display()),
        ),
        (
            "move a ref",
            format!("echo 0 > {}/refs/heads/main", git_dir.display()),
        ),
        (
            "rewrite the worktree's gitdir pointer",
            "echo 'gitdir: /tmp/x' > .git".to_string(),
        ),
        (
            "write another worktree",
            format!("echo x > {}/app.py", f.other.path.display()),
        ),
        (
            "write the home's workspace",
            "echo x > ../../escaped.txt".to_string(),
        ),
        (
            "unmount the cover over the home",
            format!("umount {home} || umount -l {home}"),
        ),
    ];
    for (what, script) in &refused {
        let out = f.sh(&confine, script);
        assert!(!out.success(), "{what} was allowed: {}", all_output(&out));
        assert!(!all_output(&out).contains(CANARY), "{what} leaked the key");
    }
    assert_eq!(std::fs::read(&policy).unwrap(), policy_before);
    assert!(!git_dir.join("hooks/post-commit").exists());
    assert!(!f.home.workspace().join("escaped.txt").exists());
    assert_eq!(
        std::fs::read_to_string(f.other.path.join("app.py")).unwrap(),
        "x = 1\n"
    );
    assert!(
        std::fs::read_to_string(git_dir.join("config"))
            .unwrap()
            .matches("[core]")
            .count()
            == 1
    );

    // what it may do: write its worktree, use git read-only, use a private /tmp
    let host_tmp = tempfile::NamedTempFile::new_in("/tmp").unwrap();
    let out = f.sh(
        &confine,
        &format!(
            "echo 'x = 2' > app.py && git status --porcelain && git diff --stat && echo scratch > /tmp/scratch && cat /tmp/scratch && test ! -e {}",
            host_tmp.path().display()
        ),
    );
    assert!(out.success(), "{}", all_output(&out));
    assert!(
        out.stdout.contains("M app.py") && out.stdout.contains("scratch"),
        "{}",
        out.stdout
    );
    assert_eq!(
        std::fs::read_to_string(f.mine.path.join("app.py")).unwrap(),
        "x = 2\n"
    );
    assert!(
        !Path::new("/tmp/scratch").exists(),
        "/tmp inside is private"
    );
}

#[test]
fn the_target_commands_get_no_network_unless_granted_and_the_engine_keeps_it() {
    let f = Fixture::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let connect = format!(
        "python3 -c \"import socket; socket.create_connection(('127.0.0.1', {port}), 2); print('connected')\""
    );
    let checks = QaCommands {
        lint: Some(connect.clone()),
        test: Some("echo '<testsuite tests=\"1\"><testcase name=\"t\"/></testsuite>' > $DAYSHIFT_JUNIT_DIR/r.xml".into()),
        coverage: None,
    };
    let long = Duration::from_secs(30);
    let offline = run_checks_confined(&f.mine.path, &checks, long, &f.confinement()).unwrap();
    let lint = offline.lint.unwrap();
    assert!(
        !lint.outcome.success(),
        "QA reached the network: {}",
        lint.output
    );
    assert_eq!(
        offline.report.passed, 1,
        "the JUnit directory is writable inside"
    );

    let granted = SandboxPolicy {
        network: true,
        ..SandboxPolicy::default()
    };
    let confine = f.sandbox(&granted).for_task(&f.mine.path, &f.clone);
    let online = run_checks_confined(&f.mine.path, &checks, long, &confine).unwrap();
    let lint = online.lint.unwrap();
    assert!(lint.outcome.success(), "{}", lint.output);

    // the coding tool keeps the host's network under the default (no-network) policy
    f.tool(&format!("{connect} > reached.txt\n"), long);
    assert_eq!(
        std::fs::read_to_string(f.mine.path.join("reached.txt")).unwrap(),
        "connected\n"
    );
}

/// Whether any process has `word` in its command line.
fn running(word: &str) -> bool {
    std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
        std::fs::read(e.path().join("cmdline")).is_ok_and(|c| {
            String::from_utf8_lossy(&c)
                .replace('\0', " ")
                .contains(word)
        })
    })
}

#[test]
fn a_setsid_process_dies_with_its_run_confined_or_not() {
    let f = Fixture::new();
    let tag = 700 + std::process::id() % 1000;
    for (n, confine) in [(1, f.confinement()), (2, Confinement::none())] {
        // it ends by itself, leaving a setsid grandchild behind
        let sleeper = format!("sleep {tag}.{n}1");
        let out = f.sh(&confine, &format!("setsid {sleeper} & echo started"));
        assert!(out.success(), "{}", all_output(&out));
        std::thread::sleep(Duration::from_millis(200));
        assert!(!running(&sleeper), "run {n}: `{sleeper}` outlived its run");
        // it times out while a setsid grandchild holds its stdout
        let sleeper = format!("sleep {tag}.{n}2");
        let started = Instant::now();
        let spec = Spec::new("sh", &["-c", &format!("setsid {sleeper} & sleep 30")])
            .cwd(&f.mine.path)
            .timeout(Duration::from_secs(1));
        let out = process::run(&confine.wrap(spec)).unwrap();
        assert!(out.timed_out());
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        std::thread::sleep(Duration::from_millis(200));
        assert!(
            !running(&sleeper),
            "run {n}: `{sleeper}` outlived the timeout"
        );
    }
}

#[test]
fn best_effort_runs_unconfined_without_bubblewrap_required_refuses_off_never_confines() {
    let f = Fixture::new();
    // a bwrap that cannot confine here is found out by trying it
    let broken = detect::probe(Path::new("false")).unwrap_err();
    assert!(broken.contains("failed here"), "{broken}");
    assert_eq!(detect::probe(&bwrap()), Ok(()));
    let missing = || Err("bubblewrap (`bwrap`) is not on PATH".to_string());
    let best_effort = Sandbox::decide(&SandboxPolicy::default(), f.home.root(), missing()).unwrap();
    assert!(
        matches!(best_effort.state(), State::Unavailable { why } if why.contains("not on PATH"))
    );
    let confine = best_effort.for_task(&f.mine.path, &f.clone);
    assert!(!confine.is_active());
    let out = f.sh(&confine, &format!("cat {}", f.home.env_file().display()));
    assert!(out.stdout.contains(CANARY), "unconfined, as the mode says");

    let required = SandboxPolicy {
        mode: SandboxMode::Required,
        ..SandboxPolicy::default()
    };
    let err = Sandbox::decide(&required, f.home.root(), missing()).unwrap_err();
    assert!(
        err.to_string().contains("install bubblewrap (`apt-get install bubblewrap`) or set sandbox.mode: best_effort in config/policy.yaml"),
        "{err}"
    );
    let off = SandboxPolicy {
        mode: SandboxMode::Off,
        ..SandboxPolicy::default()
    };
    let sandbox = Sandbox::decide(&off, f.home.root(), Ok(bwrap())).unwrap();
    assert_eq!(sandbox.state(), &State::Off);
    assert!(!sandbox.for_task(&f.mine.path, &f.clone).is_active());

    // an extra path may not re-expose the home
    let exposing = SandboxPolicy {
        read: vec![f.home.root().join("config")],
        ..SandboxPolicy::default()
    };
    let err = Sandbox::decide(&exposing, f.home.root(), Ok(bwrap())).unwrap_err();
    assert!(
        matches!(err, SandboxError::ExposesHome { key: "read", .. }),
        "{err}"
    );
}

#[test]
fn the_work_loop_refuses_work_when_the_sandbox_is_required_and_missing() {
    let home = TestHome::new();
    let outer = home.root.parent().unwrap().to_path_buf();
    let remote = common::bare_remote(&outer, "calc", &[("calc.py", "x = 1\n")]);
    home.write(
        "config/target.yaml",
        &format!("repo: {}\nbase_branch: main\n", remote.display()),
    );
    home.write(
        "config/agents.yaml",
        "providers: {}\nagents:\n  coder: {engine: command, command: [\"true\"]}\n",
    );
    home.write("config/policy.yaml", "sandbox:\n  mode: required\n");
    home.ok(&["setup", "--no-aider"]);
    home.write(
        "tasks/backlog/T-0001-fix.md",
        "---\nid: T-0001\ntitle: Fix\npriority: high\ncreated: 2026-11-22T07:46:02+00:00\n---\n## Description\nFix.\n",
    );
    let out = home
        .cmd()
        .args(["run", "work"])
        .env("DAYSHIFT_BWRAP", "none")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains(
            "install bubblewrap (`apt-get install bubblewrap`) or set sandbox.mode: best_effort"
        ),
        "{}",
        stderr(&out)
    );
    assert!(
        home.path("tasks/backlog/T-0001-fix.md").exists(),
        "the task was not taken"
    );
}

#[test]
fn doctor_says_what_confinement_the_machine_gives() {
    let home = TestHome::new();
    let doctor = |bwrap: Option<&str>| {
        let mut cmd = home.cmd();
        cmd.arg("doctor");
        if let Some(value) = bwrap {
            cmd.env("DAYSHIFT_BWRAP", value);
        }
        let out = cmd.output().unwrap();
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            out.status.success(),
        )
    };
    let (text, _) = doctor(None);
    assert!(
        text.contains("ok    sandbox: bubblewrap works (mount, pid, net namespaces); Landlock"),
        "{text}"
    );
    let (text, _) = doctor(Some("none"));
    assert!(
        text.lines().any(|l| l.starts_with("warn  sandbox:")
            && l.contains("run unconfined")
            && l.contains("apt-get install bubblewrap")),
        "{text}"
    );
    assert!(!text.contains("FAIL  sandbox"), "{text}");
    home.write("config/policy.yaml", "sandbox: {mode: required}\n");
    let (text, ok) = doctor(Some("none"));
    assert!(!ok);
    assert!(
        text.lines().any(|l| l.starts_with("FAIL  sandbox:") && l.contains("set sandbox.mode: best_effort")),
        "{text}"
    );
}

#[test]
fn credentials_are_hidden_and_a_tool_installed_in_the_home_still_runs() {
    let f = Fixture::new();
    // the user's home with credentials, outside /tmp (private inside the sandbox) — and
    // not beside the checkout, which may itself be under /tmp
    let user = tempfile::tempdir_in("/var/tmp").unwrap();
    std::fs::create_dir_all(user.path().join(".ssh")).unwrap();
    std::fs::write(user.path().join(".ssh/id_ed25519"), CANARY).unwrap();
    std::fs::write(user.path().join(".netrc"), CANARY).unwrap();
    std::fs::write(user.path().join("notes.txt"), "visible\n").unwrap();
    // a tool in a venv inside the home (as `make setup` installs Aider: <home>/.venv)
    let venv = f.home.root().join(".venv");
    std::fs::create_dir_all(venv.join("bin")).unwrap();
    std::fs::create_dir_all(venv.join("lib")).unwrap();
    std::fs::write(venv.join("pyvenv.cfg"), "home = /usr/bin\n").unwrap();
    std::fs::write(venv.join("lib/data.txt"), "from the venv\n").unwrap();
    let tool = venv.join("bin/tool");
    std::fs::write(
        &tool,
        format!(
            "#!/bin/sh\ncat \"$(dirname \"$0\")/../lib/data.txt\"\ncat {u}/notes.txt\ncat {u}/.ssh/id_ed25519 {u}/.netrc {home}/config/.env 2>/dev/null\nexit 0\n",
            u = user.path().display(),
            home = f.home.root().display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&tool, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let confine = Confinement::bubblewrap(
        bwrap(),
        f.home.root(),
        &f.mine.path,
        &[f.clone.join(".git")],
        Some(user.path()),
    );
    let spec = Spec::new(&tool, &[]).cwd(&f.mine.path);
    let out = process::run(&confine.wrap(spec)).unwrap();
    assert!(out.success(), "{}", all_output(&out));
    assert_eq!(
        out.stdout,
        "from the venv\nvisible\n",
        "{}",
        all_output(&out)
    );
}

#[test]
fn a_confined_tool_can_stage_files_but_only_in_a_private_index() {
    let f = Fixture::new();
    let objects = || git(&f.clone, &["count-objects", "-v"]);
    let before = objects();
    f.tool(
        "set -e\necho 'y = 1' > new.py\ngit add new.py\ngit diff --cached --name-only > staged.txt\n",
        Duration::from_secs(30),
    );
    assert_eq!(
        std::fs::read_to_string(f.mine.path.join("staged.txt")).unwrap(),
        "new.py\n",
        "git add worked inside"
    );
    assert_eq!(
        git(&f.mine.path, &["diff", "--cached", "--name-only"]),
        "",
        "the worktree's real index is untouched"
    );
    assert_eq!(objects(), before, "no object was written into the clone");
}

/// A coding tool and the test file it writes, both hostile, through the whole work loop.
#[test]
fn a_hostile_tool_and_its_test_file_change_nothing_outside_the_worktree() {
    let home = TestHome::new();
    let outer = home.root.parent().unwrap().to_path_buf();
    let remote = common::bare_remote(
        &outer,
        "calc",
        &[
            ("calc.py", "def add(a, b):\n    return a - b\n"),
            (
                "test_calc.py",
                "import unittest\nfrom calc import add\n\n\nclass T(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n",
            ),
        ],
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (h, o) = (home.root.display(), outer.display());
    let tag = 800 + std::process::id() % 1000;
    // the test file the tool adds: on import (when QA runs it) it attacks
    let evil_test = format!(
        "import os, socket\n\
         def attempt(name, act):\n    try:\n        act()\n        open('{o}/qa-' + name, 'w').write('done')\n    except Exception:\n        pass\n\
         attempt('policy', lambda: open('{h}/config/policy.yaml', 'a').write('auto_merge: medium\\n'))\n\
         attempt('leak', lambda: open('{o}/qa-key', 'w').write(open('{h}/config/.env').read()))\n\
         attempt('net', lambda: socket.create_connection(('127.0.0.1', {port}), 2))\n\
         attempt('hook', lambda: open('{h}/workspace/target/.git/hooks/post-merge', 'w').write('#!/bin/sh\\ntouch {o}/hook-ran\\n'))\n"
    );
    let tool = outer.join("hostile-cli.sh");
    std::fs::write(
        &tool,
        format!(
            "#!/bin/sh\n\
             cat {h}/config/.env > leaked.txt 2>/dev/null\n\
             echo 'auto_merge: medium' >> {h}/config/policy.yaml\n\
             for f in {h}/tasks/*/*.md; do sed -i 's/approval: pending/approval: approved/' \"$f\"; done\n\
             printf '#!/bin/sh\\ntouch {o}/hook-ran\\n' > {h}/workspace/target/.git/hooks/post-commit\n\
             chmod +x {h}/workspace/target/.git/hooks/post-commit\n\
             git config core.hooksPath /tmp\n\
             setsid sh -c 'sleep {tag}.5; echo late >> calc.py' &\n\
             cat > test_evil.py <<'PY'\n{evil_test}PY\n\
             sed -i 's/a - b/a + b/' calc.py\n\
             exit 0\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&tool, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    home.write(
        "config/target.yaml",
        &format!(
            "repo: {}\nbase_branch: main\ntest_command: python3 -m unittest\n",
            remote.display()
        ),
    );
    home.write(
        "config/agents.yaml",
        &format!(
            "providers: {{}}\nagents:\n  coder: {{engine: command, command: [\"{}\"], attempts: 1}}\n",
            tool.display()
        ),
    );
    // medium: the (empty) leaked.txt the tool's failed `cat` leaves is a file the task does
    // not name, which the reviewer rates medium risk
    home.write(
        "config/policy.yaml",
        "auto_merge: medium\nsandbox: {mode: required}\n",
    );
    std::fs::write(
        home.path("config/.env"),
        format!("OPENAI_API_KEY={CANARY}\n"),
    )
    .unwrap();
    home.ok(&["setup", "--no-aider"]);
    home.write(
        "tasks/backlog/T-0001-fix-add.md",
        "---\nid: T-0001\ntitle: Fix add\npriority: high\nfiles: [calc.py]\ncreated: 2026-11-22T07:46:02+00:00\n---\n## Description\nFix add in calc.py.\n",
    );
    let policy_before = home.read("config/policy.yaml");
    let hooks_before = std::fs::read_dir(home.path("workspace/target/.git/hooks"))
        .unwrap()
        .count();
    let config_before = home.read("workspace/target/.git/config");
    home.run(&["run", "work"]);
    std::thread::sleep(Duration::from_millis(300));

    // the fix itself went through: QA ran the test file (and its attacks) and passed
    let log = git(&remote, &["log", "main", "--format=%B"]);
    assert!(log.contains("Task: T-0001"), "{log}");
    assert!(git(&remote, &["show", "main:test_evil.py"]).contains("attempt("));
    assert_eq!(
        home.read("config/policy.yaml"),
        policy_before,
        "policy is intact"
    );
    assert_eq!(home.read("workspace/target/.git/config"), config_before);
    assert_eq!(
        std::fs::read_dir(home.path("workspace/target/.git/hooks"))
            .unwrap()
            .count(),
        hooks_before,
        "no hook was written"
    );
    for left in [
        "qa-policy",
        "qa-leak",
        "qa-key",
        "qa-net",
        "qa-hook",
        "hook-ran",
    ] {
        assert!(!outer.join(left).exists(), "{left}: the attack got through");
    }
    assert!(
        !running(&format!("sleep {tag}.5")),
        "a process outlived the run"
    );
    let history = git(&remote, &["log", "-p", "--all"]);
    assert!(!history.contains(CANARY), "the key reached the remote");
    for state in ["backlog", "in_progress", "in_review", "completed", "failed"] {
        for file in std::fs::read_dir(home.path(&format!("tasks/{state}"))).unwrap() {
            let text = std::fs::read_to_string(file.unwrap().path()).unwrap();
            assert!(
                !text.contains("approval: approved"),
                "an approval was forged:\n{text}"
            );
        }
    }
}

/// A home whose coder runs `tool` (a shell script body) on one task, with `policy`.
fn home_with_tool(body: &str, policy: &str) -> (TestHome, PathBuf) {
    let home = TestHome::new();
    let outer = home.root.parent().unwrap().to_path_buf();
    let remote = common::bare_remote(&outer, "calc", &[("calc.py", "x = 1\n")]);
    let tool = outer.join("tool.sh");
    std::fs::write(&tool, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&tool, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    home.write(
        "config/target.yaml",
        &format!("repo: {}\nbase_branch: main\n", remote.display()),
    );
    home.write(
        "config/agents.yaml",
        &format!(
            "providers: {{}}\nagents:\n  coder: {{engine: command, command: [\"{}\"], attempts: 2, timeout_minutes: 0.05}}\n",
            tool.display()
        ),
    );
    home.write("config/policy.yaml", policy);
    home.ok(&["setup", "--no-aider"]);
    home.write(
        "tasks/backlog/T-0001-fix.md",
        "---\nid: T-0001\ntitle: Fix\npriority: high\ncreated: 2026-11-22T07:46:02+00:00\n---\n## Description\nFix.\n",
    );
    (home, outer)
}

/// Start `dayshift run work`, wait until `word` runs, then SIGKILL dayshift.
fn kill_dayshift_while(home: &TestHome, word: &str) {
    let mut work = home.spawn(&["run", "work"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !running(word) {
        assert!(Instant::now() < deadline, "`{word}` never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    work.kill().unwrap();
    work.wait().unwrap();
}

#[test]
fn a_killed_dayshift_leaves_nothing_running() {
    let tag = 900 + std::process::id() % 1000;
    // confined: the whole PID namespace goes with dayshift at once
    let sleeper = format!("sleep {tag}.1");
    let (home, _) = home_with_tool(
        &format!("setsid {sleeper} & {sleeper}"),
        "sandbox: {mode: required}\n",
    );
    kill_dayshift_while(&home, &sleeper);
    std::thread::sleep(Duration::from_millis(500));
    assert!(!running(&sleeper), "a confined process outlived dayshift");

    // unconfined: the tool dies with dayshift (PR_SET_PDEATHSIG); what it started is found
    // by its run marker and killed before the task resumes
    let sleeper = format!("sleep {tag}.2");
    let (home, outer) = home_with_tool(
        &format!(
            "[ -e {o}/first ] && exit 0\ntouch {o}/first\n{sleeper}",
            o = "$(dirname \"$0\")"
        ),
        "sandbox: {mode: off}\n",
    );
    kill_dayshift_while(&home, &sleeper);
    std::thread::sleep(Duration::from_millis(300));
    assert!(outer.join("first").exists());
    assert!(
        running(&sleeper),
        "the grandchild is orphaned (no PID namespace)"
    );
    home.run(&["run", "work"]);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !running(&sleeper),
        "the orphan was not killed when the task resumed"
    );
}

#[test]
fn best_effort_without_bubblewrap_still_runs_work_and_the_guard_catches_an_escape() {
    let (home, _) = home_with_tool(
        "echo out > ../../escaped.txt\necho 'x = 2' > calc.py",
        "auto_merge: low\n",
    );
    let out = home
        .cmd()
        .args(["run", "work"])
        .env("DAYSHIFT_BWRAP", "none")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("run unconfined"),
        "the run warns: {}",
        stderr(&out)
    );
    let task = home
        .tasks_json()
        .into_iter()
        .find(|t| t["id"] == "T-0001")
        .unwrap();
    assert_eq!(task["state"], "failed");
    assert!(
        task["reason"].as_str().unwrap_or("").contains("outside"),
        "{task}"
    );
    let audit = home.read("logs/audit.jsonl");
    assert!(
        audit.contains("\"sandbox\":\"unconfined: DAYSHIFT_BWRAP=none"),
        "the attempt records how it ran: {audit}"
    );
}

/// An HTTP server on 127.0.0.1 that answers every request with `name`; returns its port.
fn named_server(name: &'static str) -> u16 {
    use std::io::{BufRead, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let mut reader = std::io::BufReader::new(conn.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let mut conn = conn;
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{name}",
                name.len()
            );
        }
    });
    port
}

#[test]
fn a_confined_tool_reaches_its_model_endpoint_and_nothing_else() {
    let model = named_server("model");
    let other = named_server("other");
    let probe = format!(
        r#"python3 - <<'PY'
import socket, urllib.request
out = []
for name, port in (("model", {model}), ("other", {other})):
    try:
        out.append(name + " via proxy: " + urllib.request.urlopen(f"http://127.0.0.1:{{port}}/v1", timeout=10).read().decode())
    except Exception as e:
        out.append(name + " via proxy refused: " + str(e))
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        out.append(name + " direct: connected")
    except Exception as e:
        out.append(name + " direct refused")
open("net.txt", "w").write("\n".join(out) + "\n")
PY"#
    );
    let (home, outer) = home_with_tool(&probe, "auto_merge: low\nsandbox: {mode: required}\n");
    let agents = home.read("config/agents.yaml");
    home.write(
        "config/agents.yaml",
        &agents.replace(
            "attempts: 2, timeout_minutes: 0.05",
            &format!("attempts: 1, timeout_minutes: 0.5, egress: [\"http://127.0.0.1:{model}\"]"),
        ),
    );
    let out = home.run(&["run", "work"]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let net = git(&outer.join("calc.git"), &["show", "main:net.txt"]);
    assert!(net.contains("model via proxy: model"), "{net}");
    assert!(
        net.contains("other via proxy refused: HTTP Error 403"),
        "the proxy lets through the model only:\n{net}"
    );
    assert!(
        net.contains("model direct refused") && net.contains("other direct refused"),
        "no route but the proxy:\n{net}"
    );
}
