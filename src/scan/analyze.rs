//! Running the analyzers of one scan side by side, up to the machine's cores: the ones
//! `config/scan.yaml` asks for (every known one by default) and its SARIF tools, each
//! through the cache ([`super::cache`]), so only what changed is read again. One that
//! does not apply to the tree, is not installed or fails is said so, with what to do;
//! none stops the others. The tree is walked and hashed once, for all of them.

use std::cell::{Cell, OnceCell};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use super::analyzers::{self, Analyzer, Scope};
use super::cache::{self, Matcher, Plan, Reuse, Slot, Tree};
use super::config::ScanConfig;
use super::run::{AnalyzerRun, FAILED, NOT_APPLICABLE, NOT_CONFIGURED, NOT_INSTALLED, RAN};
use super::{Finding, ScanError, builtin, health};
use crate::parallel;
use crate::review::Language;
use crate::sandbox::Confinement;

/// How long one tool may take on a tree.
pub const TOOL_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// Where the scan looks for tools besides PATH (a home's `.venv/bin`), keeps their logs
/// and its cache, and what `config/scan.yaml` asks for.
#[derive(Debug, Clone)]
pub struct Setup {
    pub extra_dirs: Vec<PathBuf>,
    pub log_dir: PathBuf,
    /// The cache of this root's findings, one file per analyzer.
    pub cache_dir: PathBuf,
    /// The analyzers' versions, by program.
    pub versions_dir: PathBuf,
    pub config: ScanConfig,
    /// How the analyzers that run the tree's own code ([`Analyzer::runs_tree_code`]) are
    /// confined.
    pub tree_code: TreeCode,
}

/// How the analyzers that run the tree's own code are confined, worked out the first time
/// one of them runs: finding out can start a process (a bubblewrap probe) that a scan
/// without them should not wait for. `Err(why)`: they cannot be confined (policy requires
/// a sandbox this machine lacks), so they do not run.
#[derive(Clone)]
pub struct TreeCode(Arc<LazyLock<Result<Confinement, String>, FindConfinement>>);

type FindConfinement = Box<dyn FnOnce() -> Result<Confinement, String> + Send>;

impl TreeCode {
    /// Confined as `find` says, asked once, when first needed.
    pub fn when_needed(
        find: impl FnOnce() -> Result<Confinement, String> + Send + 'static,
    ) -> Self {
        Self(Arc::new(LazyLock::new(Box::new(find))))
    }

    /// Never run: `why`.
    pub fn refused(why: impl Into<String>) -> Self {
        let why = why.into();
        Self::when_needed(move || Err(why))
    }

    pub fn get(&self) -> &Result<Confinement, String> {
        &self.0
    }
}

impl std::fmt::Debug for TreeCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TreeCode")
    }
}

/// How one analyzer ran, and its findings.
type Done = (AnalyzerRun, Vec<Finding>);

/// One analyzer to run and what it reads.
struct Job {
    analyzer: Analyzer,
    plan: Plan,
    /// What it reads, for a person: `.py files`, `one of requirements.txt`.
    reads: String,
}

/// Every analyzer asked for on `root`: how each ran, and all their findings (not yet
/// deduplicated).
pub fn analyze(root: &Path, setup: &Setup) -> (Vec<AnalyzerRun>, Vec<Finding>) {
    if !setup.config.without_builtin() {
        // the secrets rules load and their keywords build an automaton on a thread of its
        // own, below the tools (as all of the scan's own work: [`parallel::yield_to_tools`]);
        // without the thread, the built-in analyzer loads them itself
        let _ = std::thread::Builder::new().spawn(|| {
            parallel::yield_to_tools();
            crate::review::secrets::Scanner::shared();
        });
    }
    // walked on a thread below, while the tools start: they read the tree themselves
    let tree = Tree::at(root);
    let jobs = jobs(&setup.config);
    let elsewhere = checked_elsewhere(&jobs, setup);
    let results: Mutex<Vec<Option<Done>>> = Mutex::new(jobs.iter().map(|_| None).collect());
    // the tools start first: they run longest, and in-process work started before them
    // would hold the cores they start on. A worker that takes an in-process job runs below
    // the tools from then on, and only in-process jobs are left after it (the order)
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by_key(|&at| jobs[at].analyzer.in_process());
    let next = AtomicUsize::new(0);
    let cores = parallel::cores();
    std::thread::scope(|scope| {
        for _ in 0..cores.min(jobs.len()) {
            scope.spawn(|| {
                while let Some(&at) = order.get(next.fetch_add(1, Ordering::SeqCst)) {
                    let job = &jobs[at];
                    if job.analyzer.in_process() {
                        parallel::yield_to_tools();
                    }
                    let done = run_job(job, &tree, setup, &elsewhere);
                    if let Ok(mut results) = results.lock() {
                        results[at] = Some(done);
                    }
                }
            });
        }
        scope.spawn(|| {
            parallel::yield_to_tools();
            tree.files();
        });
    });
    let mut runs = Vec::new();
    let mut found = Vec::new();
    if setup.config.without_builtin() {
        runs.push(skipped(
            "builtin",
            "left out",
            "config/scan.yaml's `analyzers` does not list it: secrets, dangerous patterns and \
             syntax are not checked; add `builtin` back"
                .into(),
        ));
    }
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    if !elsewhere.is_empty() && !ruff_spoke(&results) {
        // ruff was to check Python but did not: the built-in layers do, this time
        let builtin = jobs.iter().position(|j| j.analyzer == Analyzer::Builtin);
        if let Some(at) = builtin {
            results[at] = Some(run_job(&jobs[at], &tree, setup, &[]));
        }
    }
    for (job, result) in jobs.iter().zip(results) {
        let (run, findings) = result.unwrap_or_else(|| {
            let why = "it panicked; this is a bug in dayshift".to_string();
            (skipped(job.analyzer.name(), "failed", why), Vec::new())
        });
        runs.push(run);
        found.extend(findings);
    }
    (runs, found)
}

/// The languages whose dangerous patterns and syntax another analyzer of this scan
/// checks, so the built-in analyzer reads their files for secrets only: Python, when ruff
/// runs (its `S` rules are bandit's, on the syntax tree, and it reports syntax errors).
fn checked_elsewhere(jobs: &[Job], setup: &Setup) -> Vec<Language> {
    let ruff = jobs.iter().any(|j| j.analyzer == Analyzer::Ruff)
        && analyzers::find_program(Analyzer::Ruff.program(), &setup.extra_dirs).is_some();
    if ruff {
        vec![Language::Python]
    } else {
        Vec::new()
    }
}

/// Whether ruff's run says what is in the tree's Python files: it ran, or the tree has
/// none.
fn ruff_spoke(results: &[Option<Done>]) -> bool {
    results.iter().flatten().any(|(run, _)| {
        run.name == Analyzer::Ruff.name() && [RAN, NOT_APPLICABLE].contains(&run.status.as_str())
    })
}

fn jobs(config: &ScanConfig) -> Vec<Job> {
    let known = config.analyzers.iter().map(|analyzer| {
        // semgrep's rules are the config's (registry rules need the internet)
        let analyzer = match analyzer {
            Analyzer::Semgrep { .. } => &Analyzer::Semgrep {
                rules: config.semgrep_config.clone(),
            },
            other => other,
        };
        let (plan, reads) = match analyzer.scope() {
            Scope::Files(extensions) => (
                Plan::PerFile(Matcher::extensions(extensions)),
                files_with(extensions),
            ),
            Scope::Project { inputs, advisories } => (
                Plan::Whole {
                    inputs: Matcher::names(inputs),
                    advisories,
                },
                match inputs.split_last() {
                    Some((last, [])) => last.to_string(),
                    Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
                    None => "files".into(),
                },
            ),
        };
        Job {
            analyzer: analyzer.clone(),
            plan,
            reads,
        }
    });
    let tools = config.tools.iter().map(|tool| Job {
        analyzer: tool.analyzer(),
        plan: Plan::Whole {
            inputs: Matcher::extensions(&tool.extensions),
            advisories: false,
        },
        reads: files_with(&tool.extensions),
    });
    known.chain(tools).collect()
}

fn files_with<S: AsRef<str>>(extensions: &[S]) -> String {
    if extensions.is_empty() {
        return "files".into();
    }
    let names: Vec<String> = extensions
        .iter()
        .map(|e| format!(".{}", e.as_ref()))
        .collect();
    format!("{} files", names.join(", "))
}

/// One analyzer's run; `elsewhere`: what the built-in analyzer leaves to another
/// ([`checked_elsewhere`]).
fn run_job(job: &Job, tree: &Tree, setup: &Setup, elsewhere: &[Language]) -> Done {
    let name = job.analyzer.name().to_string();
    let inputs = match &job.plan {
        Plan::PerFile(matcher)
        | Plan::Whole {
            inputs: matcher, ..
        } => matcher,
    };
    if !job.analyzer.applies(tree.root()) || !tree.has_any(inputs) {
        let why = format!("the tree has no {}", job.reads);
        return (skipped(&name, NOT_APPLICABLE, why), Vec::new());
    }
    let started = Instant::now();
    let today = chrono::Local::now().date_naive();
    if job.analyzer == Analyzer::Health {
        let limits = &setup.config.code_health;
        let version = concat!("dayshift ", env!("CARGO_PKG_VERSION"));
        let (scanned, note) =
            match health::cached::scan(tree, &job.plan, limits, &setup.cache_dir, today) {
                Ok(m) => (Ok((m.found, m.reuse)), m.note),
                Err(e) => (Err(e), None),
            };
        let mut done = ran(&name, version, scanned, started);
        if let Some(note) = note {
            done.0.detail = done.0.detail.map(|d| format!("{d}; {note}"));
        }
        return done;
    }
    if job.analyzer == Analyzer::Outdated {
        let registries = &setup.config.registries;
        let key = format!("{registries:?}");
        let slot = Slot::new(&setup.cache_dir, &name, &[&key]);
        let scanned = cache::through(&slot, &job.plan, tree, today, |_| {
            super::outdated::scan(tree.root(), registries)
        });
        return ran(
            &name,
            concat!("dayshift ", env!("CARGO_PKG_VERSION")),
            scanned,
            started,
        );
    }
    if job.analyzer == Analyzer::Builtin {
        let left: Vec<&str> = elsewhere.iter().map(|l| l.id()).collect();
        let slot = Slot::new(
            &setup.cache_dir,
            &name,
            &[builtin::REVISION, &left.join(",")],
        );
        let scanned = cache::through(&slot, &job.plan, tree, today, |files| {
            let files = files.unwrap_or(tree.files());
            Ok::<_, ScanError>(builtin::scan(tree, files, elsewhere))
        });
        let version = concat!("dayshift ", env!("CARGO_PKG_VERSION"));
        let mut done = ran(&name, version, scanned, started);
        if !left.is_empty() {
            let detail = done.0.detail.take().unwrap_or_default();
            done.0.detail = Some(format!(
                "{detail}; {}: secrets only, ruff checks the rest",
                left.join(", ")
            ));
        }
        return done;
    }
    let Some(program) = analyzers::find_program(job.analyzer.program(), &setup.extra_dirs) else {
        let hint = format!(
            "{}; `dayshift setup --scanners` installs the ones it can",
            job.analyzer.install_hint()
        );
        return (skipped(&name, NOT_INSTALLED, hint), Vec::new());
    };
    let confine = match job.analyzer.runs_tree_code().then(|| setup.tree_code.get()) {
        None => Confinement::none(),
        Some(Ok(confine)) => confine.clone(),
        Some(Err(why)) => {
            let why = format!("not run: it runs the tree's own code, and {why}");
            return (skipped(&name, FAILED, why), Vec::new());
        }
    };
    let log = setup.log_dir.join(format!("{name}.log"));
    let argv = job.analyzer.args(tree.root(), None, &log).join("\0");
    let rules = rules_digest(&job.analyzer, &setup.config);
    let program_text = program.display().to_string();
    std::thread::scope(|scope| {
        // learning the version can take a process: it is asked alongside the run, and
        // waited for when the cache's key needs it (with nothing kept, after the run)
        let asking = scope.spawn(|| {
            // asked while the tool starts: its start comes first
            parallel::yield_to_tools();
            cache::version(&name, &program, &setup.versions_dir)
        });
        let asking = Cell::new(Some(asking));
        let version = OnceCell::new();
        let version = || -> &str {
            version.get_or_init(|| {
                let asked = asking.take().and_then(|a| a.join().ok()).flatten();
                asked.unwrap_or_else(|| "version unknown".into())
            })
        };
        let parts = || {
            [version(), &program_text, &argv, &rules]
                .map(String::from)
                .to_vec()
        };
        let slot = Slot::later(&setup.cache_dir, &name, parts);
        let scanned = cache::through(&slot, &job.plan, tree, today, |files| {
            analyzers::run(
                &job.analyzer,
                &program,
                tree.root(),
                files,
                TOOL_TIMEOUT,
                &log,
                &confine,
            )
        });
        ran(&name, version(), scanned, started)
    })
}

/// semgrep's rules file's contents: new rules, new findings.
fn rules_digest(analyzer: &Analyzer, config: &ScanConfig) -> String {
    use sha2::Digest;
    match (&config.semgrep_config, analyzer.name()) {
        (Some(rules), "semgrep") => {
            let bytes = std::fs::read(rules).unwrap_or_default();
            format!("{:x}", sha2::Sha256::digest(bytes))
        }
        _ => String::new(),
    }
}

fn ran(
    name: &str,
    version: &str,
    scanned: Result<(Vec<Finding>, Reuse), ScanError>,
    started: Instant,
) -> Done {
    match scanned {
        Ok((found, reuse)) => (
            AnalyzerRun {
                name: name.to_string(),
                status: RAN.into(),
                detail: Some(format!(
                    "{version}, {reuse}, {:.2} s",
                    started.elapsed().as_secs_f64()
                )),
                findings: found.len(),
            },
            found,
        ),
        Err(ScanError::NotInstalled { hint, .. }) => {
            (skipped(name, NOT_INSTALLED, hint), Vec::new())
        }
        Err(ScanError::NotConfigured { hint, .. }) => {
            (skipped(name, NOT_CONFIGURED, hint), Vec::new())
        }
        Err(e) => (skipped(name, FAILED, e.to_string()), Vec::new()),
    }
}

fn skipped(name: &str, status: &str, detail: String) -> AnalyzerRun {
    AnalyzerRun {
        name: name.to_string(),
        status: status.to_string(),
        detail: Some(detail),
        findings: 0,
    }
}
