//! `cargo bench --bench review`: the reviewer's layers on realistic diffs (issue 11).
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
        files.push(FileDiff {
            path: format!("src/module_{n}.rs"),
            status: Status::Added,
            binary: false,
            added: chunk
                .iter()
                .enumerate()
                .map(|(i, text)| Line {
                    number: i as u32 + 1,
                    text: text.clone(),
                })
                .collect(),
            removed: Vec::new(),
        });
    }
    Diff { files }
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
        let file = FileDiff {
            path: name.to_string_lossy().into_owned(),
            status: Status::Added,
            binary: false,
            added: text
                .lines()
                .enumerate()
                .map(|(i, t)| Line {
                    number: i as u32 + 1,
                    text: t.to_string(),
                })
                .collect(),
            removed: Vec::new(),
        };
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
