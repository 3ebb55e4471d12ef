//! `cargo bench --bench review`: the reviewer's layers on realistic diffs (issue 11).
//!
//! Deterministic layers: a change of 400 lines over 20 whole files of real code
//! (more-itertools' Python, dayshift's Rust) in a real git repository, read the way the work loop and
//! `dayshift validate` read it — the diff parsed, policy, secrets, patterns and syntax
//! (tree-sitter parses of every changed file, from git) — goal under 50 ms, median of runs.
//!
//! Secrets layer: 100,000 added lines of real code — dayshift's own Rust sources and the
//! Python and JavaScript files the secrets tests read — in 500-line files, with a
//! credential every 5,000 lines so the rule regexes run too; goal over 50 MB/s once the
//! rules are loaded (the first scan's extra cost, loading and compiling the rules it
//! needs, is printed beside it).
//!
//! `SECRETS_CORPUS=<dir> cargo bench --bench review` instead prints what the secrets
//! layer finds in every text file under `<dir>`, each as if added under `src/` — how its
//! thresholds were tuned on real code.

use std::path::Path;
use std::time::{Duration, Instant};

use dayshift::review::diff::{Diff, FileDiff, Line, Status};
use dayshift::review::secrets;

const LINES: usize = 100_000;
const FILE_LINES: usize = 500;
const RUNS: usize = 5;

fn main() {
    if let Ok(dir) = std::env::var("SECRETS_CORPUS") {
        return scan_corpus(Path::new(&dir));
    }
    let corpus = corpus();
    let diff = added_diff(&corpus);
    let bytes: usize = diff
        .files
        .iter()
        .flat_map(|f| &f.added)
        .map(|l| l.text.len() + 1)
        .sum();

    let load = Instant::now();
    let rules = secrets::Scanner::new().rule_count();
    let load = load.elapsed();
    // what `dayshift validate` pays once: the shared scanner's rules and the regexes a
    // small change needs
    let small = Diff {
        files: diff.files[..20]
            .iter()
            .map(|f| FileDiff {
                added: f.added[..20].to_vec(),
                ..f.clone()
            })
            .collect(),
    };
    let cold = Instant::now();
    secrets::check(&small);
    let cold = cold.elapsed();
    let expected = secrets::check(&diff).len();
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            let found = secrets::check(&diff).len();
            assert_eq!(found, expected);
            start.elapsed()
        })
        .collect();
    times.sort();
    let median = times[RUNS / 2];
    let mb = bytes as f64 / 1e6;
    println!(
        "secrets layer: {LINES} lines, {mb:.1} MB in {:.0} ms = {:.0} MB/s  (goal > 50 MB/s; median of {RUNS}; {expected} findings)",
        median.as_secs_f64() * 1e3,
        mb / median.as_secs_f64(),
    );
    println!(
        "secrets layer, cold: loading its {rules} rules {:.1} ms; a first 400-line, 20-file diff, rules loaded and the regexes it needs compiled, {:.0} ms",
        load.as_secs_f64() * 1e3,
        cold.as_secs_f64() * 1e3,
    );
    deterministic_layers();
}

/// The four deterministic layers on a 400-line, 20-file change in a real git repository.
fn deterministic_layers() {
    use dayshift::config::policy::Policy;
    use dayshift::review::contents::GitRevisions;
    use dayshift::review::{self, NoteRules, PolicyInput, Subject};

    let dir = tempfile::tempdir().expect("a temp dir");
    let repo = dir.path();
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(repo)
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    git(&["init", "-q", "-b", "main"]);
    let commit = |message: &str| {
        git(&["add", "-A"]);
        git(&[
            "-c",
            "user.name=b",
            "-c",
            "user.email=b@b",
            "commit",
            "-qm",
            message,
        ]);
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python =
        std::fs::read_to_string(root.join("tests/fixtures/review/more_itertools_recipes.py"))
            .expect("the more-itertools sample");
    // 10 Python files (more-itertools' recipes.py, 461 lines) and 10 whole Rust files of
    // dayshift's own (src/qa), 20 lines added to each
    let mut sources = Vec::new();
    collect(&root.join("src/qa"), &mut sources);
    sources.retain(|p| p.extension().is_some_and(|e| e == "rs"));
    sources.sort();
    assert!(sources.len() >= 10, "src/qa has ten Rust files");
    let rust: Vec<String> = sources[..10]
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("a Rust source"))
        .collect();
    for (i, source) in rust.iter().enumerate() {
        std::fs::write(repo.join(format!("pkg_{i}.py")), &python).unwrap();
        std::fs::write(repo.join(format!("mod_{i}.rs")), source).unwrap();
    }
    commit("base");
    let base = git(&["rev-parse", "HEAD"]).trim().to_string();
    let added_py: String = (0..5)
        .map(|n| format!("\n\ndef helper_{n}(items):\n    return [x for x in items if x]\n"))
        .collect();
    for (i, source) in rust.iter().enumerate() {
        let py = repo.join(format!("pkg_{i}.py"));
        let text = std::fs::read_to_string(&py).unwrap();
        std::fs::write(&py, format!("{text}{added_py}")).unwrap();
        let added_rs: String = (0..20)
            .map(|n| format!("pub fn helper_{i}_{n}(x: u32) -> u32 {{ x.wrapping_mul({n}) }}\n"))
            .collect();
        std::fs::write(
            repo.join(format!("mod_{i}.rs")),
            format!("{source}{added_rs}"),
        )
        .unwrap();
    }
    commit("change");
    let patch = git(&["diff", &base, "HEAD"]);
    let policy = Policy::default();
    let notes = NoteRules::default();
    let mut shape = (0, 0);
    let mut run = || {
        let start = Instant::now();
        let diff = review::diff::parse(&patch).expect("git's diff parses");
        let contents = GitRevisions::open(repo, Some(&base), "HEAD").expect("the repo opens");
        let layers = review::deterministic(&Subject {
            diff: &diff,
            contents: &contents,
            policy: PolicyInput {
                policy: &policy,
                notes: &notes,
                named: &[],
            },
            removes_tests: false,
        });
        let took = start.elapsed();
        shape = (diff.files.len(), diff.lines_changed());
        (took, layers)
    };
    let (cold, _) = run();
    let mut runs: Vec<(Duration, Vec<review::LayerReport>)> =
        (0..RUNS * 2).map(|_| run()).collect();
    runs.sort_by_key(|(t, _)| *t);
    let (median, layers) = &runs[runs.len() / 2];
    let (files, lines) = shape;
    println!(
        "deterministic layers: {files} files, {lines} lines changed in {:.1} ms  (goal < 50 ms; median of {}; the first run {:.1} ms)",
        median.as_secs_f64() * 1e3,
        runs.len(),
        cold.as_secs_f64() * 1e3,
    );
    for l in layers {
        println!(
            "    {:<9} {:>7.2} ms  {}; {} finding(s)",
            l.layer.name(),
            l.micros as f64 / 1e3,
            l.summary,
            l.findings.len()
        );
    }
}

/// Real code: every `.rs` file under src/ and the secrets tests' Python and JavaScript.
fn corpus() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    collect(&root.join("src"), &mut files);
    files.sort();
    let mut lines = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read a source file");
        lines.extend(text.lines().map(str::to_string));
    }
    assert!(lines.len() > 10_000, "the corpus is dayshift's own sources");
    lines
}

fn collect(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read a source dir") {
        let path = entry.expect("a dir entry").path();
        if path.is_dir() {
            collect(&path, out);
        } else if path
            .extension()
            .is_some_and(|e| e == "rs" || e == "py" || e == "js")
        {
            out.push(path);
        }
    }
}

/// `LINES` added lines cycled from the corpus, in files of `FILE_LINES`, with a GitHub
/// token (built here, not written) every 5,000 lines.
fn added_diff(corpus: &[String]) -> Diff {
    let token = format!("{}{}", "ghp_", "x7Qm2Lp9Rt4Vb8Nc1Zk6Hw3Jd5Fs0Ga2Ye7U");
    let mut files = Vec::new();
    for (n, chunk) in (0..LINES)
        .map(|i| {
            if i % 5_000 == 4_999 {
                format!("GITHUB_TOKEN = \"{token}\"")
            } else {
                corpus[i % corpus.len()].clone()
            }
        })
        .collect::<Vec<_>>()
        .chunks(FILE_LINES)
        .enumerate()
    {
        files.push(added_file(
            format!("src/module_{n}.rs"),
            chunk.iter().cloned(),
        ));
    }
    Diff { files }
}

/// A new file of `lines`.
fn added_file(path: String, lines: impl Iterator<Item = String>) -> FileDiff {
    FileDiff {
        path,
        status: Status::Added,
        binary: false,
        added: lines
            .enumerate()
            .map(|(i, text)| Line {
                number: i as u32 + 1,
                text,
            })
            .collect(),
        removed: Vec::new(),
    }
}

/// Every text file under `dir` as an added file: the findings and the line each is on.
fn scan_corpus(dir: &Path) {
    let mut files = Vec::new();
    walk(dir, &mut files);
    let (mut lines, mut found) = (0, 0);
    for path in files {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let name = Path::new("src").join(path.strip_prefix(dir).unwrap_or(&path));
        let file = added_file(
            name.to_string_lossy().into_owned(),
            text.lines().map(str::to_string),
        );
        lines += file.added.len();
        for f in secrets::check(&Diff {
            files: vec![file.clone()],
        }) {
            found += 1;
            let text = &file.added[f.line.unwrap_or(1) as usize - 1].text;
            println!(
                "{}\n    {}",
                f.located(),
                text.chars().take(160).collect::<String>()
            );
        }
    }
    println!(
        "secrets layer: {found} findings in {lines} lines under {}",
        dir.display()
    );
}

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read a corpus dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}
