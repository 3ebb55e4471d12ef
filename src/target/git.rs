//! Running git: one small wrapper over [`crate::process::run`], and in-process reads.
//!
//! Everything that writes a repository or talks to a remote goes through the git command
//! (so credential helpers, SSH agents and the user's config behave as in a terminal; hooks
//! do not run, see below).
//! Questions that only read — which commit a name points at, whether a remote exists, what
//! is uncommitted — are answered in-process through git2: a task asks dozens of them, and a
//! process each would be most of dayshift's own time per task. A repository is opened per
//! question, so it always sees what the last git command wrote.
//!
//! The child's environment is built here, not inherited: `PATH`, `HOME` (git config and
//! credential helpers live there) and `LANG`, plus `GIT_TERMINAL_PROMPT=0` so a missing
//! credential fails instead of waiting on a prompt nobody sees. Network commands (clone,
//! fetch, push) also get `SSH_AUTH_SOCK` and `GIT_SSH_COMMAND` when this process has them,
//! so SSH agents work, and a longer timeout. Variables such as `GIT_DIR` are never passed
//! on, so a dayshift started from inside another repository cannot point git elsewhere.
//!
//! Every command runs with hooks off and with the repository's code-running settings
//! neutralised ([`SAFE_CONFIG`], given as command-scope config, which outranks anything a
//! repository's own `.git/config` says): a coding tool that wrote a hook or an fsmonitor
//! command into the clone must not get it run by dayshift's own git calls. Diffs that
//! dayshift reads add `--no-ext-diff --no-textconv` themselves. Credential helpers and SSH
//! keep working: they come from the person's global config, which is left alone.
//!
//! A non-zero exit becomes [`TargetError::Git`] with the command, the exit code, the last
//! lines of stderr and the caller's hint; [`Git::probe`] is for the commands whose exit
//! code is an answer (`rev-parse --verify`, `diff --quiet`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::TargetError;
use crate::process::{self, Output, Spec};

/// Local commands (status, commit, merge, worktree) finish well within this.
const LOCAL_TIMEOUT: Duration = Duration::from_secs(120);
/// Clone, fetch and push of a large repository over a slow link.
const NETWORK_TIMEOUT: Duration = Duration::from_secs(1800);
/// Lines of stderr kept in an error.
const STDERR_LINES: usize = 4;

/// Config every git command gets, above the repository's own: hooks off (`/dev/null` is no
/// folder, so no hook is ever found), no fsmonitor command, no pager; and the per-command
/// housekeeping off (the work loop runs `maintenance run --auto` once at its end, see
/// [`Git::housekeeping`]; a fetch also skips walking history to report forced updates).
pub const SAFE_CONFIG: [(&str, &str); 6] = [
    ("core.hooksPath", "/dev/null"),
    ("core.fsmonitor", "false"),
    ("core.pager", "cat"),
    ("maintenance.auto", "false"),
    ("gc.auto", "0"),
    ("fetch.showForcedUpdates", "false"),
];

/// git, run in one directory.
#[derive(Debug, Clone)]
pub struct Git {
    dir: PathBuf,
    /// `GIT_INDEX_FILE`: an index of dayshift's own instead of the repository's.
    index: Option<PathBuf>,
}

/// The token network commands answer git's password prompt with, for this process: (the
/// variable's name, its value), set once from the config ([`use_token`]).
static TOKEN: std::sync::OnceLock<(String, String)> = std::sync::OnceLock::new();

/// Let every network command of this process (clone, fetch, push) answer an HTTPS
/// password prompt with the token in variable `name`: handed to dayshift's own askpass
/// (`crate::cli::askpass`) through the child's environment — never in a URL, an argument
/// or git's config. A credential helper or SSH agent of the user's still works as before
/// (git asks them first). The first call wins.
pub fn use_token(name: &str, value: &str) {
    let _ = TOKEN.set((name.to_string(), value.to_string()));
}

impl Git {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            index: None,
        }
    }

    /// git in `dir` with `index` (absolute) as its index file, so nothing a tool staged in
    /// the repository's own index is read or changed.
    pub fn with_index(dir: impl Into<PathBuf>, index: &Path) -> Self {
        Self {
            index: Some(index.to_path_buf()),
            ..Self::new(dir)
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Run a local command; its stdout, or an error carrying `hint`.
    pub fn run(&self, args: &[&str], hint: &str) -> Result<String, TargetError> {
        self.checked(args, false, hint)
    }

    /// Run a command that talks to a remote (clone, fetch, push).
    pub fn network(&self, args: &[&str], hint: &str) -> Result<String, TargetError> {
        self.checked(args, true, hint)
    }

    /// Run a local command whose exit code is the answer: `Ok(true)` for 0, `Ok(false)`
    /// for 1, an error for anything else (a broken repository is not a "no").
    pub fn probe(&self, args: &[&str]) -> Result<bool, TargetError> {
        let out = self.output(args, false, "")?;
        match out.status.and_then(|s| s.code()) {
            Some(0) => Ok(true),
            Some(1) => Ok(false),
            _ => Err(self.failure(args, &out, "check that the repository is intact")),
        }
    }

    /// The full output of a local command, whatever its exit code (spawn and timeout
    /// failures are still errors).
    pub fn output_of(&self, args: &[&str]) -> Result<Output, TargetError> {
        self.output(args, false, "")
    }

    /// Git's own housekeeping (`maintenance run --auto`: packing loose objects when there are
    /// many), which [`environment`] turns off per command; the work loop runs it once at its
    /// end.
    pub fn housekeeping(&self) -> Result<(), TargetError> {
        let args = [
            "-c",
            "maintenance.auto=true",
            "-c",
            "gc.auto=6700",
            "maintenance",
            "run",
            "--auto",
            "--quiet",
        ];
        self.checked(&args, false, "").map(drop)
    }

    /// The commit `rev` (a branch, a ref, `HEAD`, a sha) names, or `None` when it names
    /// none. In-process.
    pub fn commit_of(&self, rev: &str) -> Result<Option<String>, TargetError> {
        let repo = self.repository()?;
        match repo.revparse_single(rev).and_then(|o| o.peel_to_commit()) {
            Ok(commit) => Ok(Some(commit.id().to_string())),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) if e.class() == git2::ErrorClass::Object => Ok(None),
            Err(e) => Err(self.unreadable(&e)),
        }
    }

    /// The tree of the commit (or tree) `rev` names, or `None` when it names none.
    /// In-process.
    pub fn tree_of(&self, rev: &str) -> Result<Option<String>, TargetError> {
        let repo = self.repository()?;
        match repo.revparse_single(rev).and_then(|o| o.peel_to_tree()) {
            Ok(tree) => Ok(Some(tree.id().to_string())),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) if e.class() == git2::ErrorClass::Object => Ok(None),
            Err(e) => Err(self.unreadable(&e)),
        }
    }

    /// The branch checked out (short name), `None` when HEAD is detached. In-process.
    pub fn current_branch(&self) -> Result<Option<String>, TargetError> {
        let repo = self.repository()?;
        let head = match repo.head() {
            Ok(head) => head,
            // a branch with no commit yet, or a detached HEAD that cannot be read
            Err(e) if e.code() == git2::ErrorCode::UnbornBranch => return Ok(None),
            Err(e) => return Err(self.unreadable(&e)),
        };
        Ok(head
            .is_branch()
            .then(|| head.shorthand().map(str::to_string))
            .flatten())
    }

    /// Whether the repository has a remote called `name`. In-process.
    pub fn has_remote(&self, name: &str) -> Result<bool, TargetError> {
        let repo = self.repository()?;
        let remotes = repo.remotes().map_err(|e| self.unreadable(&e))?;
        Ok(remotes.iter().flatten().any(|r| r == name))
    }

    /// The URL of remote `name`, `None` when there is no such remote. In-process.
    pub fn remote_url(&self, name: &str) -> Result<Option<String>, TargetError> {
        let repo = self.repository()?;
        let remote = match repo.find_remote(name) {
            Ok(remote) => remote,
            Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(None),
            Err(e) => return Err(self.unreadable(&e)),
        };
        Ok(remote.url().map(str::to_string))
    }

    /// Whether this is a bare repository. In-process.
    pub fn is_bare(&self) -> Result<bool, TargetError> {
        Ok(self.repository()?.is_bare())
    }

    /// The value of config `key` as the repository sees it (its own config, the user's and
    /// the system's), `None` when unset. In-process.
    pub fn config_value(&self, key: &str) -> Result<Option<String>, TargetError> {
        let repo = self.repository()?;
        // libgit2 reads strings only from a snapshot of the config
        let config = repo
            .config()
            .and_then(|mut c| c.snapshot())
            .map_err(|e| self.unreadable(&e))?;
        match config.get_string(key) {
            Ok(value) => Ok(Some(value)),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(self.unreadable(&e)),
        }
    }

    /// The branch each checkout has (the main one and every linked worktree), as full ref
    /// names, read from `HEAD` without resolving it (an unborn branch counts). In-process.
    pub fn checked_out_branches(&self) -> Result<Vec<String>, TargetError> {
        let repo = self.repository()?;
        let symbolic = |r: &git2::Repository| {
            r.find_reference("HEAD")
                .ok()
                .and_then(|h| h.symbolic_target().map(str::to_string))
        };
        let mut branches: Vec<String> = symbolic(&repo).into_iter().collect();
        let names = repo.worktrees().map_err(|e| self.unreadable(&e))?;
        for name in names.iter().flatten() {
            if let Some(branch) = repo
                .find_worktree(name)
                .ok()
                .and_then(|w| git2::Repository::open_from_worktree(&w).ok())
                .and_then(|r| symbolic(&r))
            {
                branches.push(branch);
            }
        }
        Ok(branches)
    }

    /// Up to 10 paths with uncommitted changes: tracked files that differ from HEAD (staged
    /// or not) and untracked files that are not ignored. In-process.
    pub fn dirty_files(&self) -> Result<Vec<String>, TargetError> {
        let repo = self.repository()?;
        let mut options = git2::StatusOptions::new();
        options
            .include_untracked(true)
            .include_ignored(false)
            .exclude_submodules(false);
        let statuses = repo
            .statuses(Some(&mut options))
            .map_err(|e| self.unreadable(&e))?;
        Ok(statuses
            .iter()
            .filter(|s| s.status() != git2::Status::CURRENT && !s.status().is_ignored())
            .filter_map(|s| s.path().map(str::to_string))
            .take(10)
            .collect())
    }

    /// Whether the index holds nothing HEAD does not (nothing to commit). In-process.
    pub fn nothing_staged(&self) -> Result<bool, TargetError> {
        let repo = self.repository()?;
        let diff = (|| {
            let head = repo.head()?.peel_to_tree()?;
            let index = repo.index()?;
            repo.diff_tree_to_index(Some(&head), Some(&index), None)
        })()
        .map_err(|e| self.unreadable(&e))?;
        Ok(diff.deltas().len() == 0)
    }

    /// The linked worktrees git has on record: their folder, and their branch (short name;
    /// `None` when detached or the folder is gone). In-process.
    pub fn worktrees(&self) -> Result<Vec<(PathBuf, Option<String>)>, TargetError> {
        let repo = self.repository()?;
        let names = repo.worktrees().map_err(|e| self.unreadable(&e))?;
        let mut list = Vec::new();
        for name in names.iter().flatten() {
            let Ok(worktree) = repo.find_worktree(name) else {
                continue;
            };
            let branch = git2::Repository::open_from_worktree(&worktree)
                .ok()
                .and_then(|r| {
                    let head = r.head().ok()?;
                    head.is_branch()
                        .then(|| head.shorthand().map(str::to_string))
                        .flatten()
                });
            list.push((worktree.path().to_path_buf(), branch));
        }
        Ok(list)
    }

    fn repository(&self) -> Result<git2::Repository, TargetError> {
        git2::Repository::open(&self.dir).map_err(|e| self.unreadable(&e))
    }

    fn unreadable(&self, e: &git2::Error) -> TargetError {
        TargetError::Unreadable {
            dir: self.dir.clone(),
            message: e.message().to_string(),
        }
    }

    /// The error for a command that failed with `out`.
    pub fn failure(&self, args: &[&str], out: &Output, hint: &str) -> TargetError {
        TargetError::Git {
            command: command_line(args),
            dir: self.dir.clone(),
            code: out.status.and_then(|s| s.code()),
            stderr: stderr_tail(&out.stderr),
            hint: hint.to_string(),
        }
    }

    fn checked(&self, args: &[&str], network: bool, hint: &str) -> Result<String, TargetError> {
        let out = self.output(args, network, hint)?;
        if out.success() {
            Ok(out.stdout)
        } else {
            Err(self.failure(args, &out, hint))
        }
    }

    fn output(&self, args: &[&str], network: bool, hint: &str) -> Result<Output, TargetError> {
        let timeout = if network {
            NETWORK_TIMEOUT
        } else {
            LOCAL_TIMEOUT
        };
        let mut spec = Spec::new("git", args)
            .own_tool()
            .cwd(&self.dir)
            .timeout(timeout);
        spec.env = environment(network, |k| std::env::var(k).ok());
        if network && let Some((name, token)) = TOKEN.get() {
            spec.env.extend(askpass_env(name, token));
        }
        if let Some(index) = &self.index {
            spec.env.insert(
                "GIT_INDEX_FILE".into(),
                index.to_string_lossy().into_owned(),
            );
        }
        let out = process::run(&spec).map_err(TargetError::NoGit)?;
        if out.timed_out() {
            return Err(TargetError::Timeout {
                command: command_line(args),
                dir: self.dir.clone(),
                seconds: timeout.as_secs(),
                hint: if hint.is_empty() {
                    "check the repository and run again".into()
                } else {
                    hint.to_string()
                },
            });
        }
        Ok(out)
    }
}

/// The whole environment of a git child, read through `var`.
pub fn environment(
    network: bool,
    var: impl Fn(&str) -> Option<String>,
) -> BTreeMap<String, String> {
    let mut keys = vec!["PATH", "HOME", "LANG"];
    if network {
        keys.extend(["SSH_AUTH_SOCK", "GIT_SSH_COMMAND"]);
        keys.extend(crate::process::NETWORK_ENV);
    }
    let mut env: BTreeMap<String, String> = keys
        .into_iter()
        .filter_map(|k| var(k).map(|v| (k.to_string(), v)))
        .collect();
    env.insert("GIT_TERMINAL_PROMPT".into(), "0".into());
    for (i, (key, value)) in SAFE_CONFIG.iter().enumerate() {
        env.insert(format!("GIT_CONFIG_KEY_{i}"), (*key).into());
        env.insert(format!("GIT_CONFIG_VALUE_{i}"), (*value).into());
    }
    env.insert("GIT_CONFIG_COUNT".into(), SAFE_CONFIG.len().to_string());
    env
}

/// The variable naming, for dayshift run as git's askpass, which variable holds the token.
pub const ASKPASS_VAR: &str = "DAYSHIFT_ASKPASS_TOKEN_VAR";

/// What a git child needs to ask dayshift (its own executable) for the token in `name`:
/// git runs `$GIT_ASKPASS "Password for 'https://…': "` and reads the answer.
fn askpass_env(name: &str, token: &str) -> BTreeMap<String, String> {
    let exe = std::env::current_exe()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "dayshift".into());
    BTreeMap::from([
        ("GIT_ASKPASS".to_string(), exe),
        (ASKPASS_VAR.to_string(), name.to_string()),
        (name.to_string(), token.to_string()),
    ])
}

fn command_line(args: &[&str]) -> String {
    let mut line = String::from("git");
    for arg in args {
        line.push(' ');
        if arg.is_empty() || arg.contains(char::is_whitespace) {
            line.push_str(&format!("'{arg}'"));
        } else {
            line.push_str(arg);
        }
    }
    line
}

fn stderr_tail(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let tail = &lines[lines.len().saturating_sub(STDERR_LINES)..];
    if tail.is_empty() {
        "no error output".into()
    } else {
        tail.join(" / ")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// `git commit` with an identity, for repositories the tests make.
    const COMMIT: [&str; 8] = [
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.invalid",
        "commit",
        "--quiet",
        "-m",
        "a",
    ];

    #[test]
    fn in_process_reads_agree_with_git() {
        let dir = tempfile::tempdir().unwrap();
        let git = Git::new(dir.path());
        let err = git.commit_of("HEAD").unwrap_err();
        assert!(
            matches!(err, TargetError::Unreadable { .. }) && err.to_string().contains("fsck"),
            "not a repository: {err}"
        );
        git.run(&["init", "--quiet", "-b", "main"], "").unwrap();
        std::fs::write(dir.path().join(".gitignore"), "*.log\n").unwrap();
        std::fs::write(dir.path().join("a.txt"), "a\n").unwrap();
        git.run(&["add", "."], "").unwrap();
        git.run(&COMMIT, "").unwrap();
        let head = git.run(&["rev-parse", "HEAD"], "").unwrap();
        assert_eq!(git.commit_of("HEAD").unwrap().as_deref(), Some(head.trim()));
        assert_eq!(git.commit_of("main").unwrap().as_deref(), Some(head.trim()));
        assert_eq!(git.commit_of("refs/remotes/origin/main").unwrap(), None);
        assert_eq!(git.commit_of("no-such-branch").unwrap(), None);
        assert_eq!(git.current_branch().unwrap().as_deref(), Some("main"));
        assert!(!git.has_remote("origin").unwrap());
        git.run(&["remote", "add", "origin", "/nowhere"], "")
            .unwrap();
        assert!(git.has_remote("origin").unwrap());

        assert!(git.dirty_files().unwrap().is_empty());
        std::fs::write(dir.path().join("a.txt"), "changed\n").unwrap();
        std::fs::write(dir.path().join("new.txt"), "new\n").unwrap();
        std::fs::write(dir.path().join("debug.log"), "ignored\n").unwrap();
        let mut dirty = git.dirty_files().unwrap();
        dirty.sort();
        assert_eq!(dirty, ["a.txt", "new.txt"]);

        assert!(git.nothing_staged().unwrap(), "changes, but none staged");
        git.run(&["add", "a.txt"], "").unwrap();
        assert!(!git.nothing_staged().unwrap());

        assert!(git.worktrees().unwrap().is_empty());
        let linked = dir.path().join("linked");
        let linked_arg = linked.to_str().unwrap();
        git.run(
            &["worktree", "add", "--quiet", "-b", "agent/x", linked_arg],
            "",
        )
        .unwrap();
        let list = git.worktrees().unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].1.as_deref(), Some("agent/x"));
        assert!(list[0].0.ends_with("linked"), "{list:?}");
    }

    #[test]
    fn environment_is_explicit_and_never_prompts() {
        let var = |k: &str| match k {
            "PATH" | "HOME" | "SSH_AUTH_SOCK" | "GIT_DIR" | "HTTPS_PROXY" | "no_proxy" => {
                Some(format!("<{k}>"))
            }
            _ => None,
        };
        let local = environment(false, var);
        assert_eq!(
            local.get("GIT_TERMINAL_PROMPT").map(String::as_str),
            Some("0")
        );
        assert!(local.contains_key("HOME") && !local.contains_key("SSH_AUTH_SOCK"));
        assert!(!local.contains_key("GIT_DIR"));
        let net = environment(true, var);
        assert_eq!(
            net.get("SSH_AUTH_SOCK").map(String::as_str),
            Some("<SSH_AUTH_SOCK>")
        );
        assert!(!net.contains_key("GIT_SSH_COMMAND"));
        // the machine's proxy reaches git's network commands, not its local ones
        assert_eq!(net["HTTPS_PROXY"], "<HTTPS_PROXY>");
        assert_eq!(net["no_proxy"], "<no_proxy>");
        assert!(!local.contains_key("HTTPS_PROXY"));
        for env in [&local, &net] {
            assert_eq!(env["GIT_CONFIG_KEY_0"], "core.hooksPath");
            assert_eq!(env["GIT_CONFIG_VALUE_0"], "/dev/null");
            assert_eq!(env["GIT_CONFIG_COUNT"], SAFE_CONFIG.len().to_string());
        }
    }

    #[test]
    fn hooks_and_fsmonitor_in_the_repository_never_run() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let git = Git::new(dir.path());
        git.run(&["init", "--quiet", "-b", "main"], "").unwrap();
        let ran = dir.path().join("ran");
        let script = format!("#!/bin/sh\necho \"$0\" >> {}\n", ran.display());
        for hook in ["pre-commit", "post-commit", "reference-transaction"] {
            let path = dir.path().join(".git/hooks").join(hook);
            std::fs::write(&path, &script).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let monitor = dir.path().join("monitor.sh");
        std::fs::write(&monitor, &script).unwrap();
        std::fs::set_permissions(&monitor, std::fs::Permissions::from_mode(0o755)).unwrap();
        git.run(&["config", "core.fsmonitor", monitor.to_str().unwrap()], "")
            .unwrap();
        std::fs::write(dir.path().join("a.txt"), "a\n").unwrap();
        git.run(&["add", "."], "").unwrap();
        git.run(&["status", "--porcelain"], "").unwrap();
        git.run(&COMMIT, "").unwrap();
        assert!(
            !ran.exists(),
            "a hook or fsmonitor ran: {:?}",
            std::fs::read_to_string(&ran)
        );
    }

    #[test]
    fn a_failure_names_command_code_stderr_and_fix() {
        let dir = tempfile::tempdir().unwrap();
        let err = Git::new(dir.path())
            .run(&["rev-parse", "--verify", "no such"], "run setup first")
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("`git rev-parse --verify 'no such'` in "),
            "{text}"
        );
        assert!(
            text.contains("(exit 128): fatal: not a git repository"),
            "{text}"
        );
        assert!(text.ends_with("; run setup first"), "{text}");
    }

    #[test]
    fn stderr_keeps_the_last_lines() {
        assert_eq!(stderr_tail("a\n\nb\nc\nd\ne\n"), "b / c / d / e");
        assert_eq!(stderr_tail(""), "no error output");
    }
}
