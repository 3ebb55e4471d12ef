//! Starting an analyzer: finding its program, asking its version, running it through
//! [`crate::process`] (explicit environment, timeout, the whole process tree killed at the
//! end) and keeping its whole raw output in a log, so a finding — or an output that could
//! not be read — can be checked against what the tool really said.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::Analyzer;
use crate::process::{self, Output, Spec};
use crate::sandbox::Confinement;
use crate::scan::{Finding, ScanError};

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
    // outside the tree, `--version` runs none of its code and leaves nothing behind: its
    // process group goes with it
    let mut spec = Spec::new(program, &["--version"])
        .timeout(Duration::from_secs(10))
        .own_tool();
    // semgrep asks its server for the newest release before it answers (97 s, then its
    // version, with no route to the server); the variable means nothing to the others
    spec.env
        .insert("SEMGREP_ENABLE_VERSION_CHECK".into(), "0".into());
    let out = process::run(&spec).ok().filter(Output::success)?;
    out.stdout
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .map(str::to_string)
}

/// Run `analyzer` (the executable `program`) on `root` and read its findings, keeping its
/// whole output in `log` (stdout as written, then stderr after a `--- stderr ---` line).
///
/// `files` (relative to `root`) are scanned instead of the whole tree by the analyzers whose
/// [`Analyzer::scope`] is [`super::Scope::Files`]; the others read the project and ignore it.
/// Under an active `confine` the tool may write the tree and its log's folder only (where
/// clippy builds).
pub fn run(
    analyzer: &Analyzer,
    program: &Path,
    root: &Path,
    files: Option<&[String]>,
    timeout: Duration,
    log: &Path,
    confine: &Confinement,
) -> Result<Vec<Finding>, ScanError> {
    let name = analyzer.name().to_string();
    let failed = |why: String| ScanError::Failed {
        analyzer: name.clone(),
        why,
    };
    if analyzer.in_process() {
        return Err(failed(format!(
            "the {name} analyzer runs inside dayshift's scan, not as a program"
        )));
    }
    if let Analyzer::Semgrep { rules: None } = analyzer {
        return Err(ScanError::NotConfigured {
            analyzer: name,
            hint: "semgrep needs rules, and its registry (`auto`, `p/…`) is on the internet: \
                   set `semgrep_config` in config/scan.yaml to a rules file or folder"
                .into(),
        });
    }
    if let (Analyzer::PipAudit, Some(hint)) = (analyzer, super::pip_audit::not_run(root)) {
        return Err(ScanError::NotConfigured {
            analyzer: name,
            hint,
        });
    }
    let no_files = files.is_some_and(|f| f.is_empty());
    if no_files && matches!(analyzer.scope(), super::Scope::Files(_)) {
        // given no path, these tools would read the whole folder they run in
        return Ok(Vec::new());
    }
    for (file, text) in analyzer.settings(log) {
        let written = file
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&file, text));
        written.map_err(|e| failed(format!("cannot write {}: {e}", file.display())))?;
    }
    let runs_in = analyzer.runs_in(root, log);
    std::fs::create_dir_all(&runs_in)
        .map_err(|e| failed(format!("cannot make {}: {e}", runs_in.display())))?;
    if *analyzer == Analyzer::NpmAudit {
        super::npm_audit::copy_project(root, &runs_in).map_err(|e| {
            failed(format!(
                "cannot copy the project into {}: {e}",
                runs_in.display()
            ))
        })?;
    }
    let mut spec = Spec::new(program, &[])
        .cwd(&runs_in)
        .timeout(timeout)
        .inherit(&analyzer.environment());
    spec.args = analyzer.args(root, files, log);
    spec.output_cap = OUTPUT_CAP;
    if analyzer.leaves_no_orphans() {
        spec = spec.own_tool();
    }
    if confine.is_active() {
        let logs = log.parent().unwrap_or(root);
        std::fs::create_dir_all(logs)
            .map_err(|e| failed(format!("cannot make {}: {e}", logs.display())))?;
        spec = confine.clone().with_write(root).with_write(logs).wrap(spec);
    }
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
    run(
        &analyzer,
        &program,
        root,
        None,
        timeout,
        log,
        &Confinement::none(),
    )
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

#[cfg(test)]
#[path = "launch_tests.rs"]
mod tests;
