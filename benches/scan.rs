//! `cargo bench --bench scan`: the scanner's figures from issue 15, printed as a table with
//! each goal met or missed (timings are reported, never asserted).
//!
//! On Django 5.1.4's `django/` (a generated tree of the same size when it cannot be
//! downloaded): a cold `dayshift scan` with every installed analyzer, the re-scan of the
//! unchanged tree (median of 5), dayshift's own layers alone and with ruff (cold), then
//! ruff alone and bandit alone on the same tree — wall time and peak memory of each; the
//! same tree's Python files alone, with dayshift (builtin + ruff) and ruff alone. Each
//! comparison with ruff alone is taken in pairs, run one after the other (the order
//! alternating), and its figure is the median of the pairs' ratios: this VM's speed drifts
//! by a third within minutes, and five runs of one program followed by five of the other
//! compare the drift as much as the programs. Then
//! the tree copied 8× side by side (a million lines and more): the built-in layers cold and
//! warm, and their peak memory. Every run of dayshift keeps its cache in a fresh
//! `XDG_CACHE_HOME`, and finds ruff and bandit on PATH through the checkout's `.venv/bin`.

#[path = "scan/data.rs"]
mod data;
#[path = "scan/measure.rs"]
mod measure;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use measure::{Run, measure};

const BIN: &str = env!("CARGO_BIN_EXE_dayshift");
const WARM_RUNS: usize = 5;
/// Cold scans and tool runs measured for each figure the goals compare (their median).
const COLD_RUNS: usize = 5;
/// Pairs of a cold scan and ruff alone, for the goal "within 1.2× of ruff alone".
const PAIRS: usize = 11;
const RULES: &str = "E9,F63,F7,F82,S";

fn main() {
    let target = Path::new(BIN)
        .ancestors()
        .nth(2)
        .expect("the target folder");
    let venv_bin = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin");
    let data = target.join("bench-data");
    let base = data::base_tree(&data, &venv_bin);
    let python = data::python_tree(&data, &base);
    let million = data::million_tree(&data, &base);
    let bench = Bench::new(&venv_bin);

    println!("dayshift scan benchmark — {}", base.what);
    // timings on a busy machine are not the tools' own: say how busy it was
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load.split_whitespace().next().unwrap_or("unknown");
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    println!("{cores} cores, load average {load} at the start");
    println!(
        "{}: {} lines of Python; whole commands, process start included\n",
        base.root.display(),
        data::python_lines(&base.root)
    );
    let (cold, report) = bench.scan(&base.root, None, &bench.fresh_cache("full"));
    for analyzer in report["analyzers"].as_array().into_iter().flatten() {
        println!(
            "  {}: {} — {}",
            text(&analyzer["name"]),
            text(&analyzer["status"]),
            text(&analyzer["detail"])
        );
    }
    let warm_cache = bench.cache_dir("full");
    let warm = bench.median_scan(&base.root, None, &warm_cache);
    let builtin = bench.median_cold(&base.root, "[builtin]");
    let ruff_args = [
        "check",
        "--select",
        RULES,
        "--output-format",
        "json",
        "--no-cache",
        ".",
    ];
    let with_ruff = bench.paired(&base.root, "[builtin, ruff]", &ruff_args);
    let ruff = with_ruff.ruff;
    let bandit = bench.tool(&base.root, "bandit", &["-r", "-f", "json", "-q", "."]);
    // dayshift and ruff on the Python files alone: what only dayshift reads is gone
    let python_files = bench.paired(&python.root, "[builtin, ruff]", &ruff_args);

    let mut table = Table::default();
    table.row("scan, every installed analyzer, cold", Some(cold), "");
    table.row(
        &format!("re-scan, unchanged (median of {WARM_RUNS})"),
        Some(warm),
        &goal(warm.wall.as_secs_f64() < 0.3, "under 300 ms"),
    );
    table.row(
        &format!("scan, builtin alone, cold (median of {COLD_RUNS})"),
        Some(builtin),
        "",
    );
    with_ruff.rows(&mut table, "");
    table.row("bandit alone", bandit.map(|(run, _)| run), &found(&bandit));
    if let Some((ruff, _)) = ruff {
        table.line("builtin / ruff alone", ratio(builtin, ruff), "");
    }
    if let Some((bandit, _)) = bandit {
        table.line("bandit alone / builtin", ratio(bandit, builtin), "");
        let faster = ratio(bandit, with_ruff.dayshift);
        table.line(
            "bandit alone / builtin + ruff",
            faster,
            &goal(faster >= 20.0, "≥ 20× faster"),
        );
    }
    python_files.rows(&mut table, "python files: ");

    println!(
        "\n{}: {} lines of Python ({})",
        million.root.display(),
        data::python_lines(&million.root),
        million.what
    );
    let million_cache = bench.fresh_cache("million");
    let million_cold = bench
        .scan(&million.root, Some("[builtin]"), &million_cache)
        .0;
    let million_warm = bench.median_scan(&million.root, Some("[builtin]"), &million_cache);
    table.row("million lines: builtin, cold", Some(million_cold), "");
    table.row(
        &format!("million lines: builtin re-scan (median of {WARM_RUNS})"),
        Some(million_warm),
        "",
    );
    println!();
    table.print();
    println!(
        "\nown peak: the program's process alone; tree peak: the largest of it and the programs it started (VmHWM, polled)"
    );
}

/// Where the runs keep their files, and the PATH they see.
struct Bench {
    work: tempfile::TempDir,
    path: OsString,
}

impl Bench {
    fn new(venv_bin: &Path) -> Self {
        let mut dirs = vec![venv_bin.to_path_buf()];
        dirs.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        Self {
            work: tempfile::tempdir().expect("a temp folder"),
            path: std::env::join_paths(dirs).expect("a PATH"),
        }
    }

    fn cache_dir(&self, name: &str) -> PathBuf {
        self.work.path().join("cache").join(name)
    }

    /// An empty `XDG_CACHE_HOME` (one used before is emptied): a cold scan.
    fn fresh_cache(&self, name: &str) -> PathBuf {
        let dir = self.cache_dir(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("make a cache folder");
        dir
    }

    /// `dayshift scan TREE --json`, with `analyzers` as config/scan.yaml's when given.
    fn scan(&self, tree: &Path, analyzers: Option<&str>, cache: &Path) -> (Run, serde_json::Value) {
        let mut command = Command::new(BIN);
        // run outside any home (a checkout is one): the scan's state goes to XDG_CACHE_HOME
        command
            .arg("scan")
            .arg(tree)
            .arg("--json")
            .current_dir(self.work.path())
            .env_remove("DAYSHIFT_HOME")
            .env("XDG_CACHE_HOME", cache)
            .env("PATH", &self.path);
        if let Some(analyzers) = analyzers {
            let config = self.work.path().join("scan.yaml");
            std::fs::write(&config, format!("analyzers: {analyzers}\n")).expect("write scan.yaml");
            command.arg("--config").arg(config);
        }
        let (run, stdout) = self.measure("dayshift", command);
        // 1: a new finding at or above --fail-on (high), which a first scan of Django has
        assert!(
            run.exit_code <= 1,
            "dayshift scan failed: {}",
            self.stderr("dayshift")
        );
        let report = serde_json::from_slice(&stdout).expect("dayshift scan's JSON");
        (run, report)
    }

    /// The median (by wall time) of re-scans with `cache`.
    fn median_scan(&self, tree: &Path, analyzers: Option<&str>, cache: &Path) -> Run {
        let mut runs: Vec<Run> = (0..WARM_RUNS)
            .map(|_| self.scan(tree, analyzers, cache).0)
            .collect();
        runs.sort_by_key(|run| run.wall);
        runs[WARM_RUNS / 2]
    }

    /// The median (by wall time) of cold scans, each with an empty cache: one run on a
    /// busy machine says little of a scan this short.
    fn median_cold(&self, tree: &Path, analyzers: &str) -> Run {
        let mut runs: Vec<Run> = (0..COLD_RUNS)
            .map(|_| {
                self.scan(tree, Some(analyzers), &self.fresh_cache("cold"))
                    .0
            })
            .collect();
        runs.sort_by_key(|run| run.wall);
        runs[COLD_RUNS / 2]
    }

    /// [`PAIRS`] pairs of a cold scan with `analyzers` and a run of ruff alone on `tree`,
    /// one right after the other, ruff first in every other pair; without ruff, cold scans
    /// alone.
    fn paired(&self, tree: &Path, analyzers: &str, ruff_args: &[&str]) -> Paired {
        let mut scans = Vec::new();
        let mut ruffs = Vec::new();
        let mut ratios = Vec::new();
        // once ruff is found missing, it is not looked for (nor said missing) again
        let mut ruff_installed = true;
        for pair in 0..PAIRS {
            let scan = || {
                self.scan(tree, Some(analyzers), &self.fresh_cache("cold"))
                    .0
            };
            let mut ruff = || {
                let run = ruff_installed
                    .then(|| self.tool(tree, "ruff", ruff_args))
                    .flatten();
                ruff_installed = run.is_some();
                run
            };
            let (scan, ruff) = if pair % 2 == 0 {
                let scan = scan();
                (scan, ruff())
            } else {
                let ruff = ruff();
                (scan(), ruff)
            };
            if let Some((ruff, _)) = ruff {
                ratios.push(ratio(scan, ruff));
            }
            scans.push(scan);
            ruffs.extend(ruff);
        }
        scans.sort_by_key(|run| run.wall);
        ruffs.sort_by_key(|(run, _)| run.wall);
        ratios.sort_by(f64::total_cmp);
        Paired {
            dayshift: scans[scans.len() / 2],
            ruff: ruffs.get(ruffs.len() / 2).copied(),
            ratio: ratios.get(ratios.len() / 2).copied(),
        }
    }

    /// One run of `program` (from PATH) in `tree`, and how many results its JSON lists;
    /// `None` when it is not installed.
    fn tool(&self, tree: &Path, program: &str, args: &[&str]) -> Option<(Run, usize)> {
        let Some(found) = std::env::split_paths(&self.path)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
        else {
            println!(
                "  {program} is not installed (`make test-deps` installs it into .venv/): not measured"
            );
            return None;
        };
        let mut command = Command::new(found);
        command.args(args).current_dir(tree);
        let (run, stdout) = self.measure(program, command);
        // ruff and bandit exit 1 when they found something
        assert!(
            run.exit_code <= 1,
            "{program} failed: {}",
            self.stderr(program)
        );
        let json: serde_json::Value = serde_json::from_slice(&stdout).expect("the tool's JSON");
        let results = json.get("results").unwrap_or(&json);
        Some((run, results.as_array().map_or(0, Vec::len)))
    }

    fn measure(&self, name: &str, command: Command) -> (Run, Vec<u8>) {
        let stdout = self.work.path().join(format!("{name}.out"));
        let run = measure(
            command,
            &stdout,
            &self.work.path().join(format!("{name}.err")),
        );
        (run, std::fs::read(&stdout).expect("read the run's stdout"))
    }

    fn stderr(&self, name: &str) -> String {
        std::fs::read_to_string(self.work.path().join(format!("{name}.err"))).unwrap_or_default()
    }
}

/// A cold scan compared with ruff alone, in pairs ([`Bench::paired`]): each one's median
/// run, and the median of the pairs' ratios (`None` without ruff).
struct Paired {
    dayshift: Run,
    ruff: Option<(Run, usize)>,
    ratio: Option<f64>,
}

impl Paired {
    /// Its rows, each name after `prefix`, and the goal: within 1.2× of ruff alone.
    fn rows(&self, table: &mut Table, prefix: &str) {
        table.row(
            &format!("{prefix}scan, builtin + ruff, cold (median of {PAIRS})"),
            Some(self.dayshift),
            "",
        );
        table.row(
            &format!("{prefix}ruff alone (median of {PAIRS}, paired)"),
            self.ruff.map(|(run, _)| run),
            &found(&self.ruff),
        );
        if let Some(slower) = self.ratio {
            table.line(
                &format!("{prefix}builtin + ruff / ruff alone, paired"),
                slower,
                &goal(slower <= 1.2, "within 1.2×"),
            );
        }
    }
}

/// The figures, printed at the end.
#[derive(Default)]
struct Table {
    rows: Vec<[String; 5]>,
}

impl Table {
    fn row(&mut self, name: &str, run: Option<Run>, goal: &str) {
        self.rows.push(match run {
            Some(run) => [
                name.into(),
                seconds(run.wall),
                mb(run.own_peak_kb),
                mb(run.tree_peak_kb),
                goal.into(),
            ],
            None => [
                name.into(),
                "—".into(),
                "—".into(),
                "—".into(),
                "not installed".into(),
            ],
        });
    }

    /// A ratio between two rows' wall times.
    fn line(&mut self, name: &str, ratio: f64, goal: &str) {
        self.rows.push([
            name.into(),
            format!("{ratio:.2}×"),
            String::new(),
            String::new(),
            goal.into(),
        ]);
    }

    fn print(&self) {
        let header = ["measure", "wall", "own peak", "tree peak", "goal"].map(String::from);
        for [name, wall, own, tree, goal] in std::iter::once(&header).chain(&self.rows) {
            println!("{name:<58} {wall:>9} {own:>10} {tree:>10}   {goal}");
        }
    }
}

fn goal(met: bool, what: &str) -> String {
    format!("{what}: {}", if met { "PASS" } else { "MISS" })
}

fn found(tool: &Option<(Run, usize)>) -> String {
    tool.map(|(_, results)| format!("{results} results"))
        .unwrap_or_default()
}

/// How many times longer `a` took than `b`.
fn ratio(a: Run, b: Run) -> f64 {
    a.wall.as_secs_f64() / b.wall.as_secs_f64().max(f64::EPSILON)
}

fn seconds(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{:.0} ms", d.as_secs_f64() * 1000.0)
    } else {
        format!("{:.2} s", d.as_secs_f64())
    }
}

fn mb(kb: u64) -> String {
    format!("{:.0} MB", kb as f64 / 1024.0)
}

fn text(value: &serde_json::Value) -> String {
    value.as_str().unwrap_or("").to_string()
}
