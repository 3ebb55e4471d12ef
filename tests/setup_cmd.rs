//! `dayshift setup` through the binary: clones the target from a bare remote into
//! workspace/target, is idempotent, and says what to set when no repo is configured.

mod common;

use common::{TestHome, git, stderr, stdout};

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

    let remote = home.root.parent().unwrap().join("shop.git");
    let seed = home.root.parent().unwrap().join("seed");
    std::fs::create_dir_all(&seed).unwrap();
    git(&seed, &["init", "-q"]);
    std::fs::write(seed.join("app.py"), "print('hi')\n").unwrap();
    git(&seed, &["add", "."]);
    git(&seed, &["commit", "-q", "-m", "init"]);
    git(
        home.root.parent().unwrap(),
        &[
            "clone",
            "-q",
            "--bare",
            seed.to_str().unwrap(),
            remote.to_str().unwrap(),
        ],
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
