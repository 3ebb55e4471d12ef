//! `dayshift setup --scanners`: the scanner's tools into the home's `.venv/` (made when
//! missing) where their ecosystem allows — pip for ruff, bandit, semgrep and pip-audit,
//! cargo for cargo-audit when cargo is there — and how to install the rest; then a table
//! of what is installed (name, version, where).

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use super::table;
use crate::error::{Error, Result};
use crate::home::Home;
use crate::scan::analyzers;

/// What pip installs.
const PIP_TOOLS: [&str; 4] = ["ruff", "bandit", "semgrep", "pip-audit"];
/// The tools dayshift cannot install here, and how a person does.
const BY_HAND: [(&str, &str); 3] = [
    (
        "gitleaks",
        "a release from github.com/gitleaks/gitleaks, or your package manager",
    ),
    (
        "osv-scanner",
        "`go install github.com/google/osv-scanner/v2/cmd/osv-scanner@latest`",
    ),
    // the scan never runs the target's own node_modules/.bin/eslint
    ("eslint", "`npm install -g eslint`"),
];

pub fn setup(home: &Home) -> Result<ExitCode> {
    let venv = home.root().join(".venv");
    let bin = venv.join("bin");
    if !bin.join("pip").is_file() {
        eprintln!("making {} …", home.display_path(&venv));
        let venv_arg = venv.display().to_string();
        install("python3", &["-m", "venv", &venv_arg])
            .map_err(|why| Error::Refused(format!("{why}; install python3 (with venv)")))?;
    }
    eprintln!("installing {} with pip …", PIP_TOOLS.join(", "));
    let pip = bin.join("pip").display().to_string();
    let mut args = vec!["install", "--quiet"];
    args.extend(PIP_TOOLS);
    install(&pip, &args).map_err(|why| {
        Error::Refused(format!(
            "{why}; fix it and run `dayshift setup --scanners` again"
        ))
    })?;
    let bin_dirs = [bin.clone()];
    match analyzers::find_program("cargo", &[]) {
        Some(cargo) => {
            eprintln!("installing cargo-audit with cargo (a few minutes) …");
            let cargo = cargo.display().to_string();
            let root = venv.display().to_string();
            if let Err(why) = install(
                &cargo,
                &["install", "--locked", "--root", &root, "cargo-audit"],
            ) {
                eprintln!("cargo-audit was not installed: {why}");
            }
        }
        None => eprintln!("cargo-audit: no cargo on PATH (it is for Rust targets)"),
    }
    let mut rows = Vec::new();
    let everything = PIP_TOOLS
        .iter()
        .chain(&["cargo-audit"])
        .map(|name| (*name, ""));
    for (name, how) in everything.chain(BY_HAND) {
        let row = match analyzers::find_program(name, &bin_dirs) {
            Some(program) => vec![
                name.to_string(),
                analyzers::version(&program).unwrap_or_else(|| "version unknown".into()),
                home.display_path(&program).to_string(),
            ],
            None => vec![name.to_string(), "not installed".into(), how.to_string()],
        };
        rows.push(row);
    }
    print!(
        "{}",
        table::render(&["TOOL", "VERSION", "WHERE"], &rows, 70)
    );
    Ok(ExitCode::SUCCESS)
}

/// Run one install step (with the network settings a person set for pip and cargo); why
/// it failed, with the end of its error output.
pub(super) fn install(program: &str, args: &[&str]) -> std::result::Result<(), String> {
    let spec = crate::process::Spec::new(Path::new(program), args)
        .timeout(Duration::from_secs(1800))
        .inherit(&crate::process::NETWORK_ENV)
        .inherit(&crate::process::PIP_ENV);
    let out = crate::process::run(&spec).map_err(|e| e.to_string())?;
    if out.success() {
        return Ok(());
    }
    Err(format!(
        "`{program} {}` failed: {}",
        args.join(" "),
        crate::engine::tail(&out.stderr, 800).trim()
    ))
}
