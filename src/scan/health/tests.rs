use std::path::Path;
use std::process::Command;

use chrono::NaiveDate;

use super::*;

const PYTHON: &str = r#"
def tangled(xs, flag):
    total = 0
    for x in xs:
        if x > 0 and flag:
            total += x
        elif x < 0 or not flag:
            total -= x
    while total > 100:
        total //= 2
    try:
        y = [v for v in xs if v]
    except ValueError:
        y = []
    match flag:
        case True:
            pass
        case _:
            pass
    def inner(z):
        return 1 if z else 0
    return total if y else 0
"#;

const JAVASCRIPT: &str = r#"
const pick = (a, b) => {
  if (a && b) { return 1; }
  for (let i = 0; i < 3; i++) {}
  for (const k of a) {}
  while (b) { b = null; }
  do { a = null; } while (a);
  switch (a) { case 1: break; case 2: break; default: break; }
  try { x(); } catch (e) {}
  return a ? b : (a || b) ?? 0;
};
function plain() { return 1; }
"#;

const TYPESCRIPT: &str = r#"
class Box {
  size(n: number): number { return n > 1 ? n : 0; }
}
"#;

const TSX: &str = r#"
function View(p: { ok: boolean }) {
  return p.ok && p.ok ? <a /> : <b />;
}
"#;

const RUST: &str = r#"
fn route(x: Option<u32>, y: bool) -> u32 {
    let f = |v: u32| if v > 1 { v } else { 0 };
    if let Some(v) = x {
        if v > 2 && y || !y {
            return f(v);
        }
    }
    for _ in 0..3 {}
    while y {}
    match x {
        Some(1) => 1,
        Some(_) => 2,
        None => 3,
    }
}
"#;

const GO: &str = r#"package main

func (s *S) Decide(a int, b bool) int {
	if a > 1 && b {
		return 1
	}
	for i := 0; i < a; i++ {
	}
	switch a {
	case 1:
	case 2, 3:
	default:
	}
	go func() {
		if b {
		}
	}()
	return 0
}
"#;

const SHELL: &str = r#"
deploy() {
  if [ -n "$1" ] && [ -f x ]; then
    echo a
  elif [ -z "$2" ] || true; then
    echo b
  fi
  for f in *; do echo "$f"; done
  while false; do :; done
  case "$1" in
    a) echo a ;;
    b) echo b ;;
  esac
}
"#;

fn functions_of(file: &str, text: &str) -> Vec<(String, u32)> {
    let lang = Language::of(file).unwrap();
    let tree = crate::review::syntax::tree(lang, text).unwrap();
    assert!(!tree.root_node().has_error(), "{file} must parse");
    functions(lang, &tree, text)
        .into_iter()
        .map(|f| (f.name, f.complexity))
        .collect()
}

#[test]
fn complexity_counts_each_languages_decision_points_and_nested_functions_count_alone() {
    // (file, text, each function's name and complexity)
    type Case = (&'static str, &'static str, &'static [(&'static str, u32)]);
    let cases: [Case; 7] = [
        ("a.py", PYTHON, &[("tangled", 13), ("inner", 2)]),
        ("a.js", JAVASCRIPT, &[("pick", 13), ("plain", 1)]),
        ("a.ts", TYPESCRIPT, &[("size", 2)]),
        ("a.tsx", TSX, &[("View", 3)]),
        ("a.rs", RUST, &[("route", 11)]),
        ("a.go", GO, &[("Decide", 7)]),
        ("a.sh", SHELL, &[("deploy", 9)]),
    ];
    for (file, text, expected) in cases {
        let expected: Vec<(String, u32)> =
            expected.iter().map(|(n, c)| (n.to_string(), *c)).collect();
        assert_eq!(functions_of(file, text), expected, "{file}");
    }
}

/// A function of `body_lines` lines plus its `def` line, in Python.
fn python_function(name: &str, body_lines: usize) -> String {
    let mut text = format!("def {name}():\n");
    for i in 0..body_lines {
        text.push_str(&format!("    v{i} = {i}\n"));
    }
    text
}

#[test]
fn long_and_complex_functions_and_big_files_are_findings_at_their_first_line() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // 1 + 90 lines: over 80; 1 + 170: over twice 80; 1 + 79: within
    let text = [
        python_function("long", 90),
        python_function("longer", 170),
        python_function("fine", 79),
    ]
    .concat();
    std::fs::write(root.join("big.py"), &text).unwrap();
    std::fs::write(root.join("route.rs"), RUST).unwrap();
    std::fs::write(root.join("notes.txt"), "x\n".repeat(5000)).unwrap();
    let files = ["big.py", "notes.txt", "route.rs"].map(String::from);
    let limits = HealthLimits {
        max_file_lines: 150,
        max_complexity: 5,
        ..HealthLimits::default()
    };
    let found: Vec<(String, String, u32, Severity)> = scan(root, &files, &limits)
        .into_iter()
        .map(|f| (f.file, f.rule, f.start_line, f.severity))
        .collect();
    let at = |file: &str, rule: &str, line, severity| {
        (file.to_string(), rule.to_string(), line, severity)
    };
    assert_eq!(
        found,
        vec![
            at("big.py", "size-file", 1, Severity::Medium),
            at("big.py", "size-function", 1, Severity::Low),
            at("big.py", "size-function", 92, Severity::Medium),
            at("route.rs", "complexity", 2, Severity::Medium),
        ]
    );
    let messages: Vec<String> = scan(root, &files, &limits)
        .into_iter()
        .map(|f| f.message)
        .collect();
    assert!(
        messages[0].starts_with("342 lines long (the limit is 150)"),
        "{messages:?}"
    );
    assert!(
        messages[1].contains("`long` is 91 lines long"),
        "{messages:?}"
    );
    assert!(
        messages[3].contains("`route` has cyclomatic complexity 11 (the limit is 5)"),
        "{messages:?}"
    );
}

#[test]
fn limits_read_from_yaml_default_per_field_and_reject_unknown_keys() {
    let limits: HealthLimits = serde_saphyr::from_str("max_complexity: 20\n").unwrap();
    assert_eq!(
        limits,
        HealthLimits {
            max_complexity: 20,
            ..HealthLimits::default()
        }
    );
    assert_eq!(HealthLimits::default().max_function_lines, 80);
    assert!(serde_saphyr::from_str::<HealthLimits>("max_complexty: 20\n").is_err());
}

const BLOCK: [&str; 10] = [
    "def charge(order, card):",
    "    amount = order.total()",
    "    if amount <= 0:",
    "        raise ValueError(amount)",
    "    fee = amount * RATE",
    "    receipt = card.charge(amount + fee)",
    "    order.mark_paid(receipt)",
    "    log.info(receipt.id)",
    "    notify(order.owner, receipt)",
    "    return receipt",
];

#[test]
fn a_copied_block_is_one_finding_at_each_later_copy_naming_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let write = |name: &str, text: String| std::fs::write(root.join(name), text).unwrap();
    write("a.py", format!("import os\n\n{}\n", BLOCK.join("\n")));
    // re-indented, with a blank line and a comment inside, and other code around
    let mut copy: Vec<String> = BLOCK.iter().map(|l| format!("  {l}")).collect();
    copy.insert(4, String::new());
    copy.insert(6, "    # the fee is ours".into());
    write(
        "b.py",
        format!("x = 1\ny = 2\n{}\nprint(x)\n", copy.join("\n")),
    );
    write("c.py", format!("{}\n", BLOCK.join("\n")));
    // seven lines only: no copy; nine equal lines in one file: not a copy of itself
    write("d.py", format!("{}\n", BLOCK[..7].join("\n")));
    write("e.py", "total = total + 1\n".repeat(9));
    write("notes.txt", format!("{}\n", BLOCK.join("\n")));
    // a type stub repeats signatures by nature
    write("stub.pyi", format!("{}\n", BLOCK.join("\n")));
    let files = [
        "e.py",
        "d.py",
        "c.py",
        "b.py",
        "a.py",
        "notes.txt",
        "stub.pyi",
    ]
    .map(String::from);
    let found = duplicates(root, &files);
    let got: Vec<(&str, u32, u32, &str)> = found
        .iter()
        .map(|f| {
            (
                f.file.as_str(),
                f.start_line,
                f.end_line,
                f.message.as_str(),
            )
        })
        .collect();
    let message = "10 lines repeat a.py:3: keep one copy and call it from both places";
    assert_eq!(
        got,
        vec![("b.py", 3, 14, message), ("c.py", 1, 10, message)]
    );
    assert!(
        found
            .iter()
            .all(|f| f.rule == "duplication" && f.severity == Severity::Low)
    );
}

fn git(dir: &Path, date: &str, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
        .args(["-c", "commit.gpgsign=false"])
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_DATE", date)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn todos_older_than_the_limit_by_git_blame_are_findings_young_and_uncommitted_ones_not() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let year_ago = "2025-01-01T12:00:00+00:00";
    git(root, year_ago, &["init", "-q", "-b", "main"]);
    std::fs::write(
        root.join("old.py"),
        "import os\n# TODO: use pathlib\nx = 1  # FIXME later\nlabel = 'TODO'\n",
    )
    .unwrap();
    git(root, year_ago, &["add", "old.py"]);
    git(root, year_ago, &["commit", "-qm", "old"]);
    std::fs::write(root.join("young.rs"), "fn f() {}\n// TODO: young\n").unwrap();
    let days_ago = "2026-01-10T12:00:00+00:00";
    git(root, days_ago, &["add", "young.rs"]);
    git(root, days_ago, &["commit", "-qm", "young"]);
    // uncommitted: a marker added to a tracked file, and an untracked file
    let mut old = std::fs::read_to_string(root.join("old.py")).unwrap();
    old.push_str("# HACK: just added\n");
    std::fs::write(root.join("old.py"), old).unwrap();
    std::fs::write(root.join("new.py"), "# XXX new\n").unwrap();
    let files = ["new.py", "old.py", "young.rs"].map(String::from);
    let today = NaiveDate::from_ymd_opt(2026, 1, 15).unwrap();
    let found = old_todos(root, &files, 180, today).unwrap();
    let got: Vec<(&str, u32, &str)> = found
        .iter()
        .map(|f| (f.file.as_str(), f.start_line, f.message.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "old.py",
                2,
                "TODO comment from 2025-01-01, 379 days old (the limit is 180): do it, file it as a task, or remove it"
            ),
            (
                "old.py",
                3,
                "FIXME comment from 2025-01-01, 379 days old (the limit is 180): do it, file it as a task, or remove it"
            ),
        ]
    );
    assert!(
        found
            .iter()
            .all(|f| f.rule == "todo-age" && f.severity == Severity::Low)
    );
    // a longer limit: nothing
    assert!(old_todos(root, &files, 400, today).unwrap().is_empty());
}

#[test]
fn a_tree_outside_git_gives_no_todo_age_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.py"), "# TODO: someday\n").unwrap();
    let today = NaiveDate::from_ymd_opt(2026, 1, 15).unwrap();
    let why = old_todos(dir.path(), &["a.py".to_string()], 1, today).unwrap_err();
    assert!(why.contains("not in a git repository"), "{why}");
}

#[test]
fn markers_count_only_as_whole_words_in_comments() {
    let python = "x = 'TODO'\n# TODO: a\ny = 1  # XXXL size\n#FIXME\n";
    assert_eq!(
        todo_age::marked_lines(Language::Python, python),
        vec![(2, "TODO"), (4, "FIXME")]
    );
    let go = "s := \"HACK\"\n/* HACK: b\n * TODO: c */\nx := 1 // todo lower\n";
    assert_eq!(
        todo_age::marked_lines(Language::Go, go),
        vec![(2, "HACK"), (3, "TODO")]
    );
}
