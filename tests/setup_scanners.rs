//! `dayshift setup --scanners` with stand-in `pip` (in the home's .venv) and `cargo` (on
//! PATH) that record their arguments and create the tools they were asked for in
//! `.venv/bin`: what each was asked, and the final table of what is installed. Never
//! reaches the network.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::{TestHome, stderr, stdout};

/// A script that appends its arguments to `log`, then makes an executable answering
/// `--version` for each of `tools` in `bin`.
fn recorder(path: &Path, log: &Path, bin: &Path, tools: &str) {
    let script = format!(
        "#!/bin/sh\necho \"$*\" >> '{log}'\nfor t in {tools}; do printf '#!/bin/sh\\necho %s 9.9\\n' \"$t\" > '{bin}'/$t; chmod +x '{bin}'/$t; done\n",
        log = log.display(),
        bin = bin.display()
    );
    std::fs::write(path, script).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn pip_and_cargo_install_into_the_venv_and_the_table_shows_what_is_there() {
    let home = TestHome::new();
    let bin = home.root.join(".venv/bin");
    let fake_path = home.root.join("fake-path");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(&fake_path).unwrap();
    let log = home.root.join("installs.log");
    recorder(
        &bin.join("pip"),
        &log,
        &bin,
        "ruff bandit semgrep pip-audit",
    );
    recorder(&fake_path.join("cargo"), &log, &bin, "cargo-audit");
    let out = home
        .cmd()
        .args(["setup", "--scanners"])
        .env("PATH", format!("{}:/usr/bin:/bin", fake_path.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let asked = std::fs::read_to_string(&log).unwrap();
    let venv = home.root.join(".venv");
    assert_eq!(
        asked.lines().collect::<Vec<_>>(),
        [
            "install --quiet ruff bandit semgrep pip-audit".to_string(),
            format!("install --locked --root {} cargo-audit", venv.display()),
        ]
    );
    let table = stdout(&out);
    for tool in ["ruff", "bandit", "semgrep", "pip-audit", "cargo-audit"] {
        let row = table.lines().find(|l| l.starts_with(tool)).unwrap();
        assert!(row.contains(&format!("{tool} 9.9")), "{table}");
        assert!(row.contains(&format!(".venv/bin/{tool}")), "{table}");
    }
    let gitleaks = table.lines().find(|l| l.starts_with("gitleaks")).unwrap();
    assert!(gitleaks.contains("not installed"), "{table}");
    assert!(stderr(&out).contains("installing ruff, bandit, semgrep, pip-audit with pip"));
}

#[test]
fn a_failing_pip_says_what_failed_and_what_to_do() {
    let home = TestHome::new();
    let bin = home.root.join(".venv/bin");
    std::fs::create_dir_all(&bin).unwrap();
    let pip = bin.join("pip");
    std::fs::write(
        &pip,
        "#!/bin/sh\necho 'No matching distribution found for semgrep' >&2\nexit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&pip, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = home.run(&["setup", "--scanners"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("No matching distribution found for semgrep"),
        "{err}"
    );
    assert!(
        err.contains("run `dayshift setup --scanners` again"),
        "{err}"
    );
}
