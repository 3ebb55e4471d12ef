//! `dayshift setup` through the binary: clones the target from a bare remote into
//! workspace/target, is idempotent, and says what to set when no repo is configured.

mod common;

use common::{TestHome, bare_remote, stderr, stdout};

#[test]
fn setup_clones_the_target_and_is_idempotent() {
    let home = TestHome::new();
    let out = home.run(&["setup", "--no-aider"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no `repo` is set"),
        "{}",
        stderr(&out)
    );

    let remote = bare_remote(
        home.root.parent().unwrap(),
        "shop",
        &[("app.py", "print('hi')\n")],
    );
    home.write(
        "config/target.yaml",
        &format!("repo: {}\nbase_branch: main\n", remote.display()),
    );

    let first = home.ok(&["setup", "--no-aider"]);
    assert!(
        stdout(&first).contains("target cloned"),
        "{}",
        stdout(&first)
    );
    assert!(home.path("workspace/target/app.py").is_file());
    let second = home.ok(&["setup", "--no-aider"]);
    assert!(
        stdout(&second).contains("target up to date"),
        "{}",
        stdout(&second)
    );
}

#[test]
fn a_relative_home_clones_into_its_own_workspace() {
    let home = TestHome::new();
    let outer = home.root.parent().unwrap();
    bare_remote(outer, "shop", &[("app.py", "print('hi')\n")]);
    home.write("config/target.yaml", "repo: ../seed\nbase_branch: main\n");
    let name = home.root.file_name().unwrap().to_str().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dayshift"))
        .current_dir(outer)
        .args(["--home", name, "setup", "--no-aider"])
        .env_remove("DAYSHIFT_HOME")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(home.path("workspace/target/app.py").is_file());
    assert!(
        !home.path("workspace").join(name).exists(),
        "nothing is cloned into a nested copy of the relative path"
    );
}
