//! Running git: one small wrapper over [`crate::process::run`].
//!
//! The child's environment is built here, not inherited: `PATH`, `HOME` (git config and
//! credential helpers live there) and `LANG`, plus `GIT_TERMINAL_PROMPT=0` so a missing
//! credential fails instead of waiting on a prompt nobody sees. Network commands (clone,
//! fetch, push) also get `SSH_AUTH_SOCK` and `GIT_SSH_COMMAND` when this process has them,
//! so SSH agents work, and a longer timeout. Variables such as `GIT_DIR` are never passed
//! on, so a dayshift started from inside another repository cannot point git elsewhere.
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

/// git, run in one directory.
#[derive(Debug, Clone)]
pub struct Git {
    dir: PathBuf,
}

impl Git {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
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
        let mut spec = Spec::new("git", args).cwd(&self.dir).timeout(timeout);
        spec.env = environment(network, |k| std::env::var(k).ok());
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
    }
    let mut env: BTreeMap<String, String> = keys
        .into_iter()
        .filter_map(|k| var(k).map(|v| (k.to_string(), v)))
        .collect();
    env.insert("GIT_TERMINAL_PROMPT".into(), "0".into());
    // Per command, git would check for housekeeping after every fetch, merge and commit,
    // and walk history to report forced updates: dozens of milliseconds a task. The clone
    // is dayshift's own; the work loop runs `maintenance run --auto` once at its end.
    for (i, (key, value)) in [
        ("maintenance.auto", "false"),
        ("gc.auto", "0"),
        ("fetch.showForcedUpdates", "false"),
    ]
    .iter()
    .enumerate()
    {
        env.insert(format!("GIT_CONFIG_KEY_{i}"), (*key).into());
        env.insert(format!("GIT_CONFIG_VALUE_{i}"), (*value).into());
    }
    env.insert("GIT_CONFIG_COUNT".into(), "3".into());
    env
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

    #[test]
    fn environment_is_explicit_and_never_prompts() {
        let var = |k: &str| match k {
            "PATH" | "HOME" | "SSH_AUTH_SOCK" | "GIT_DIR" => Some(format!("<{k}>")),
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
