//! `max_coverage_drop` in config/policy.yaml (issue 11, point 1.5): a value out of range
//! stops the binary with the file and line named, and nothing is written.

mod common;

use common::{TestHome, stderr};

#[test]
fn a_negative_max_coverage_drop_is_refused_naming_the_file_and_line() {
    let home = TestHome::new();
    home.write(
        "config/policy.yaml",
        "auto_merge: low\nmax_coverage_drop: -3\n",
    );
    let before = home.files();
    let out = home.run(&["run", "morning", "--date", "2026-11-27"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let at = format!("error: {}:2:", home.path("config/policy.yaml").display());
    assert!(err.starts_with(&at), "expected `{at}…`, got: {err}");
    assert!(
        err.contains("`max_coverage_drop` is -3") && err.contains("between 0 and 100"),
        "{err}"
    );
    assert_eq!(home.files(), before, "nothing is written");

    home.write(
        "config/policy.yaml",
        "auto_merge: low\nmax_coverage_drop: 2.5\n",
    );
    home.ok(&["run", "morning", "--date", "2026-11-27"]);
}
