//! The analyzers' adapters: run a tool on a tree and read what it reports into
//! [`super::Finding`]s. Each is used only when installed.
//!
//! - [`ruff`]: ruff's JSON (its bandit-derived `S` rules, syntax errors, undefined names).
//! - [`bandit`]: bandit's JSON.
//! - [`sarif`]: any SARIF 2.1.0 log, so any tool that writes one is a config entry.
//!
//! [`run`] is the one way to start an analyzer: through [`crate::process`] (explicit
//! environment, timeout, the whole process tree killed at the end), with the tool's whole
//! raw output kept in a log file, so a finding — or an output that could not be read — can
//! be checked against what the tool really said. The parsers are pure functions of that
//! output and the scanned root, tested on outputs captured from the real tools.

pub mod bandit;
pub mod ruff;
pub mod sarif;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::DeserializeOwned;

use super::{Finding, ScanError};
use crate::process::{self, Output, Spec};

/// What an analyzer reads, so the scan cache knows when its findings still hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Each file on its own, those with these extensions (none: every file): it can be run
    /// on the changed files only.
    Files(&'static [&'static str]),
    /// The project as a whole, from these input files (names or `*.ext`, matched on the
    /// file name); `advisories`: it also reads a database that changes daily.
    Project {
        inputs: &'static [&'static str],
        advisories: bool,
    },
}

/// An analyzer dayshift knows how to run and read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Analyzer {
    /// dayshift's own layers (secrets, dangerous patterns, syntax, size): run in process
    /// by the scan, never as a program.
    Builtin,
    Ruff,
    Bandit,
    /// A configured tool that writes SARIF 2.1.0 to stdout: `command` is its argv, where an
    /// argument `{root}` stands for the scanned root (it also runs in the root).
    Sarif {
        name: String,
        command: Vec<String>,
    },
}

impl Analyzer {
    /// The names of the analyzers `config/scan.yaml` can list.
    pub const KNOWN: &[&str] = &["builtin", "ruff", "bandit"];

    /// The analyzer called `name` in `config/scan.yaml`.
    pub fn named(name: &str) -> Option<Analyzer> {
        match name {
            "builtin" => Some(Analyzer::Builtin),
            "ruff" => Some(Analyzer::Ruff),
            "bandit" => Some(Analyzer::Bandit),
            _ => None,
        }
    }

    /// Whether `root` has what it reads beyond its [`Scope`] (the scan checks the files).
    pub fn applies(&self, _root: &Path) -> bool {
        true
    }

    pub fn scope(&self) -> Scope {
        match self {
            Analyzer::Builtin | Analyzer::Sarif { .. } => Scope::Files(&[]),
            Analyzer::Ruff => Scope::Files(&["py", "pyi"]),
            Analyzer::Bandit => Scope::Files(&["py"]),
        }
    }

    /// The name findings carry and logs use (a SARIF tool's own name is in its findings).
    pub fn name(&self) -> &str {
        match self {
            Analyzer::Builtin => "builtin",
            Analyzer::Ruff => "ruff",
            Analyzer::Bandit => "bandit",
            Analyzer::Sarif { name, .. } => name,
        }
    }

    /// What a person does when the tool is missing.
    pub fn install_hint(&self) -> String {
        match self {
            Analyzer::Builtin => "it is part of dayshift".into(),
            Analyzer::Ruff => "install it with `pip install ruff`".into(),
            Analyzer::Bandit => "install it with `pip install bandit`".into(),
            Analyzer::Sarif { name, command } => format!(
                "install `{}` or change the command of `{name}` in config/scan.yaml",
                command.first().map(String::as_str).unwrap_or("")
            ),
        }
    }

    /// Its arguments for scanning `root`, or only `files` in it (after the program
    /// itself); `log` is where its output goes (bandit's empty settings file is beside it).
    pub fn args(&self, root: &Path, files: Option<&[String]>, log: &Path) -> Vec<String> {
        let mut args = self.args_for_root(root, log);
        if let (Some(files), Analyzer::Ruff | Analyzer::Bandit) = (files, self) {
            args.pop();
            args.extend(files.iter().map(|f| root.join(f).display().to_string()));
        }
        args
    }

    fn args_for_root(&self, root: &Path, log: &Path) -> Vec<String> {
        let root_arg = root.display().to_string();
        match self {
            Analyzer::Builtin => Vec::new(),
            Analyzer::Ruff => ruff::args(&ruff::default_select(), root),
            Analyzer::Bandit => bandit::args(root, &log.with_extension("ini")),
            Analyzer::Sarif { command, .. } => command
                .iter()
                .skip(1)
                .map(|arg| arg.replace("{root}", &root_arg))
                .collect(),
        }
    }

    /// Exit codes that mean "it ran" (a finding is not a failure).
    fn ran(&self, code: i32) -> bool {
        match self {
            // --exit-zero: anything else is ruff's own error
            Analyzer::Ruff | Analyzer::Builtin => code == 0,
            // bandit, eslint, gitleaks, semgrep --error: 1 means findings
            Analyzer::Bandit | Analyzer::Sarif { .. } => code == 0 || code == 1,
        }
    }

    fn parse(&self, stdout: &str, root: &Path) -> Result<Vec<Finding>, String> {
        match self {
            Analyzer::Builtin => Ok(Vec::new()),
            Analyzer::Ruff => ruff::parse(stdout, root),
            Analyzer::Bandit => {
                let report = bandit::parse(stdout, root)?;
                for skipped in &report.unparsed {
                    tracing::warn!(
                        "bandit could not read {}: {} (not a finding; ruff reports syntax errors)",
                        skipped.file,
                        skipped.reason
                    );
                }
                Ok(report.findings)
            }
            Analyzer::Sarif { name, .. } => sarif::parse(stdout, root, name),
        }
    }
}

/// Bytes of an analyzer's stdout (and of its stderr) kept: far above what a large tree's
/// findings take, yet a bound.
pub const OUTPUT_CAP: usize = 256 << 20;

/// Where `name` is: itself when it is a path, else the first executable `name` on PATH,
/// then in `extra_dirs` (e.g. a home's `.venv/bin`).
pub fn find_program(name: &str, extra_dirs: &[PathBuf]) -> Option<PathBuf> {
    if name.is_empty() {
        return None;
    }
    if name.contains('/') {
        let path = PathBuf::from(name);
        return is_executable(&path).then_some(path);
    }
    let path_dirs = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    path_dirs
        .iter()
        .chain(extra_dirs)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The first line of `program --version` (`ruff 0.17.6`, `bandit 1.9.4`), or `None` when
/// it does not answer within 10 s with a success.
pub fn version(program: &Path) -> Option<String> {
    let spec = Spec::new(program, &["--version"]).timeout(Duration::from_secs(10));
    let out = process::run(&spec).ok().filter(Output::success)?;
    out.stdout
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .map(str::to_string)
}

/// Run `analyzer` (the executable `program`) on `root` (or only `files` in it, relative)
/// and read its findings, keeping its whole output in `log` (stdout as written, then
/// stderr after a `--- stderr ---` line).
pub fn run(
    analyzer: &Analyzer,
    program: &Path,
    root: &Path,
    files: Option<&[String]>,
    timeout: Duration,
    log: &Path,
) -> Result<Vec<Finding>, ScanError> {
    let name = analyzer.name().to_string();
    let failed = |why: String| ScanError::Failed {
        analyzer: name.clone(),
        why,
    };
    if *analyzer == Analyzer::Builtin {
        return Err(failed(
            "the built-in analyzer runs inside dayshift's scan, not as a program".into(),
        ));
    }
    if *analyzer == Analyzer::Bandit {
        let ini = log.with_extension("ini");
        let written = ini
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&ini, bandit::EMPTY_INI));
        written.map_err(|e| failed(format!("cannot write {}: {e}", ini.display())))?;
    }
    let mut spec = Spec::new(program, &[]).cwd(root).timeout(timeout);
    spec.args = analyzer.args(root, files, log);
    spec.output_cap = OUTPUT_CAP;
    let out = process::run(&spec).map_err(|e| match e.source.kind() {
        std::io::ErrorKind::NotFound => ScanError::NotInstalled {
            analyzer: name.clone(),
            hint: format!(
                "{} not found; {}",
                program.display(),
                analyzer.install_hint()
            ),
        },
        _ => failed(e.to_string()),
    })?;
    keep_log(log, &out);
    let stderr = || crate::engine::tail(out.stderr.trim(), 2000).to_string();
    let stderr_note = || match stderr() {
        tail if tail.is_empty() => "no error output".to_string(),
        tail => format!("its error output ends: {tail}"),
    };
    match out.status.map(|s| (s.code(), s)) {
        None if out.cancelled => return Err(failed("it was stopped: dayshift is stopping".into())),
        None => {
            return Err(failed(format!(
                "it did not finish within {} s and was stopped; {}; its output is in {}",
                timeout.as_secs_f32(),
                stderr_note(),
                log.display()
            )));
        }
        Some((Some(code), _)) if analyzer.ran(code) => {}
        Some((_, status)) => {
            return Err(failed(format!(
                "it ended with {status}; {}; its output is in {}",
                stderr_note(),
                log.display()
            )));
        }
    }
    let unreadable = |why: String| ScanError::Unreadable {
        analyzer: name.clone(),
        why,
        log: log.to_path_buf(),
    };
    if out.truncated {
        return Err(unreadable(format!(
            "it wrote more than {} MiB",
            OUTPUT_CAP >> 20
        )));
    }
    analyzer.parse(&out.stdout, root).map_err(unreadable)
}

/// Run a configured SARIF tool: `argv[0]` found on PATH (or as a path), the rest its
/// arguments (`{root}` stands for `root`); findings carry the SARIF's tool name, or `name`.
pub fn run_sarif(
    name: &str,
    argv: &[String],
    root: &Path,
    timeout: Duration,
    log: &Path,
) -> Result<Vec<Finding>, ScanError> {
    let analyzer = Analyzer::Sarif {
        name: name.to_string(),
        command: argv.to_vec(),
    };
    let program = argv
        .first()
        .and_then(|program| find_program(program, &[]))
        .ok_or_else(|| ScanError::NotInstalled {
            analyzer: name.to_string(),
            hint: analyzer.install_hint(),
        })?;
    run(&analyzer, &program, root, None, timeout, log)
}

/// Keep the tool's raw output; a log that cannot be written costs the evidence, not the
/// findings.
fn keep_log(log: &Path, out: &Output) {
    let mut text = out.stdout.clone();
    if !out.stderr.is_empty() {
        text.push_str("\n--- stderr ---\n");
        text.push_str(&out.stderr);
    }
    let written = log
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::write(log, text));
    if let Err(e) = written {
        tracing::warn!(
            "cannot keep the analyzer's output in {}: {e}",
            log.display()
        );
    }
}

/// `file` as the findings carry it: relative to `root`, `/`-separated, without `file://`
/// or `./`. A path outside `root` stays as the tool wrote it.
pub(crate) fn relative(file: &str, root: &Path) -> String {
    let file = file.strip_prefix("file://").unwrap_or(file);
    let path = Path::new(file);
    let inside = path.strip_prefix(root).ok().or_else(|| {
        let canonical = root.canonicalize().ok()?;
        path.strip_prefix(canonical).ok()
    });
    let rel = inside.unwrap_or(path).to_string_lossy().replace('\\', "/");
    let mut rel = rel.as_str();
    while let Some(rest) = rel.strip_prefix("./") {
        rel = rest;
    }
    rel.to_string()
}

/// Decode a tool's JSON into `T`, telling "not JSON" from "JSON of another shape".
pub(crate) fn decode<T: DeserializeOwned>(
    tool: &str,
    expected: &str,
    json: &str,
) -> Result<T, String> {
    serde_json::from_str(json).map_err(|e| {
        if e.is_data() {
            format!("{tool}'s output is JSON but not {expected}: {e}")
        } else {
            format!("{tool}'s output is not JSON ({expected} was expected): {e}")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_relative_to_the_root_and_slash_separated() {
        let root = Path::new("/tmp/dayshift-scan/tree");
        assert_eq!(
            relative("/tmp/dayshift-scan/tree/app/db.py", root),
            "app/db.py"
        );
        assert_eq!(
            relative("file:///tmp/dayshift-scan/tree/a.py", root),
            "a.py"
        );
        assert_eq!(relative("./app/db.py", root), "app/db.py");
        assert_eq!(relative("app\\db.py", root), "app/db.py");
        assert_eq!(relative("/elsewhere/x.py", root), "/elsewhere/x.py");
    }

    #[test]
    fn decode_tells_not_json_from_another_shape() {
        let not_json = decode::<Vec<u32>>("ruff", "a list", "not json").unwrap_err();
        assert!(not_json.contains("ruff's output is not JSON"), "{not_json}");
        let shape = decode::<Vec<u32>>("ruff", "a list", "{\"a\": 1}").unwrap_err();
        assert!(shape.contains("is JSON but not a list"), "{shape}");
    }

    #[test]
    fn find_program_looks_on_path_then_in_the_extra_dirs() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let tool = dir.path().join("dayshift-probe-tool");
        std::fs::write(&tool, "#!/bin/sh\n").unwrap();
        assert_eq!(
            find_program("dayshift-probe-tool", &[dir.path().into()]),
            None
        );
        std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(
            find_program("dayshift-probe-tool", &[dir.path().into()]),
            Some(tool.clone())
        );
        assert_eq!(find_program("dayshift-probe-tool", &[]), None);
        assert!(find_program("sh", &[]).is_some());
        assert_eq!(find_program(tool.to_str().unwrap(), &[]), Some(tool));
    }
}
