//! The cache on a real tree with a recording analyzer: what it is asked to read, and what
//! comes back from the cache.

use std::cell::RefCell;

use super::*;
use crate::scan::Severity;

/// An analyzer that finds one `eval` per line containing it, and records what it read.
struct Recorder {
    calls: RefCell<Vec<Option<Vec<String>>>>,
}

impl Recorder {
    fn new() -> Self {
        Self {
            calls: RefCell::new(Vec::new()),
        }
    }

    fn scan(&self, slot: &Slot, plan: &Plan, root: &Path, day: &str) -> (Vec<Finding>, Reuse) {
        let tree = Tree::walk(root);
        let today = day.parse().unwrap();
        through(slot, plan, &tree, today, |files| {
            self.calls.borrow_mut().push(files.map(<[String]>::to_vec));
            let all = crate::scan::builtin::files_under(root);
            let read = files.map(<[String]>::to_vec).unwrap_or(all);
            Ok::<_, String>(evals(root, &read))
        })
        .unwrap()
    }

    fn last_call(&self) -> Option<Option<Vec<String>>> {
        self.calls.borrow().last().cloned()
    }

    fn count(&self) -> usize {
        self.calls.borrow().len()
    }
}

fn evals(root: &Path, files: &[String]) -> Vec<Finding> {
    let mut found = Vec::new();
    for file in files.iter().filter(|f| f.ends_with(".py")) {
        let text = std::fs::read_to_string(root.join(file)).unwrap_or_default();
        for (i, line) in text.lines().enumerate() {
            if line.contains("eval") {
                let at = Finding::at("probe", "eval", Severity::High, file, i as u32 + 1, "eval");
                found.push(at);
            }
        }
    }
    found
}

fn tree_of(files: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..files {
        std::fs::write(dir.path().join(format!("m{i}.py")), format!("eval({i})\n")).unwrap();
    }
    settle();
    dir
}

/// Wait past the clock tick in which files were just written: a first scan trusts only
/// the hashes of files that had settled before it (see the test below).
fn settle() {
    std::thread::sleep(tree::FINE_TICK * 2);
}

fn places(found: &[Finding]) -> Vec<String> {
    let mut places: Vec<String> = found.iter().map(Finding::located).collect();
    places.sort();
    places
}

#[test]
fn only_changed_files_are_read_again_and_a_removed_file_takes_its_findings() {
    let tree = tree_of(4);
    let state = tempfile::tempdir().unwrap();
    let slot = Slot::new(state.path(), "probe", &["probe 1.0"]);
    let plan = Plan::PerFile(Matcher::extensions(&["py"]));
    let probe = Recorder::new();
    let (first, reuse) = probe.scan(&slot, &plan, tree.path(), "2026-03-01");
    assert_eq!(
        (first.len(), reuse.to_string().as_str()),
        (4, "0 of 4 files from cache")
    );
    assert_eq!(probe.last_call(), Some(None), "no cache: the whole tree");

    let (again, reuse) = probe.scan(&slot, &plan, tree.path(), "2026-03-01");
    assert_eq!(probe.count(), 1, "nothing changed: the analyzer is not run");
    assert_eq!(reuse.to_string(), "4 of 4 files from cache");
    assert_eq!(places(&again), places(&first));

    std::fs::write(tree.path().join("m1.py"), "x = 1\neval(1)\neval(2)\n").unwrap();
    std::fs::remove_file(tree.path().join("m3.py")).unwrap();
    let (changed, reuse) = probe.scan(&slot, &plan, tree.path(), "2026-03-01");
    assert_eq!(probe.last_call(), Some(Some(vec!["m1.py".to_string()])));
    assert_eq!(reuse.to_string(), "2 of 3 files from cache");
    assert_eq!(
        places(&changed),
        ["m0.py:1", "m1.py:2", "m1.py:3", "m2.py:1"]
    );

    // more than half changed: the whole tree, one run
    for i in 0..2 {
        std::fs::write(tree.path().join(format!("m{i}.py")), "pass\n").unwrap();
    }
    let (_, reuse) = probe.scan(&slot, &plan, tree.path(), "2026-03-01");
    assert_eq!(probe.last_call(), Some(None));
    assert_eq!(reuse.cached, 0);
}

#[test]
fn a_file_that_changes_while_the_first_run_reads_is_read_again_next_time() {
    let tree = tree_of(3);
    let state = tempfile::tempdir().unwrap();
    let slot = Slot::new(state.path(), "probe", &["probe 1.0"]);
    let plan = Plan::PerFile(Matcher::extensions(&["py"]));
    let walked = Tree::walk(tree.path());
    let today = "2026-03-01".parse().unwrap();
    // with nothing kept the tool starts before any hash is taken; m1.py changes under it
    let (found, _) = through(&slot, &plan, &walked, today, |files| {
        assert_eq!(files, None);
        let found = evals(tree.path(), walked.files());
        std::fs::write(tree.path().join("m1.py"), "eval(1)\neval(11)\n").unwrap();
        Ok::<_, String>(found)
    })
    .unwrap();
    assert_eq!(places(&found), ["m0.py:1", "m1.py:1", "m2.py:1"]);

    let probe = Recorder::new();
    let (again, reuse) = probe.scan(&slot, &plan, tree.path(), "2026-03-01");
    assert_eq!(
        probe.last_call(),
        Some(Some(vec!["m1.py".to_string()])),
        "the hash of m1.py is not of what the tool read: {reuse}"
    );
    assert_eq!(places(&again), ["m0.py:1", "m1.py:1", "m1.py:2", "m2.py:1"]);
    let _ = probe.scan(&slot, &plan, tree.path(), "2026-03-01");
    assert_eq!(probe.count(), 1, "then it is settled");
}

#[test]
fn another_key_or_a_corrupt_cache_reads_everything_and_a_failure_keeps_nothing() {
    let tree = tree_of(3);
    let state = tempfile::tempdir().unwrap();
    let plan = Plan::PerFile(Matcher::extensions(&["py"]));
    let probe = Recorder::new();
    let old = Slot::new(state.path(), "probe", &["probe 1.0"]);
    probe.scan(&old, &plan, tree.path(), "2026-03-01");
    let new = Slot::new(state.path(), "probe", &["probe 1.1"]);
    assert_eq!(old.file, new.file);
    let (found, _) = probe.scan(&new, &plan, tree.path(), "2026-03-01");
    assert_eq!((probe.count(), probe.last_call()), (2, Some(None)));
    assert_eq!(found.len(), 3);

    // damaged, or empty as a power loss can leave a cache (it is not flushed)
    for (damaged, calls) in [("{ not json", 3), ("", 4)] {
        std::fs::write(&new.file, damaged).unwrap();
        let (found, reuse) = probe.scan(&new, &plan, tree.path(), "2026-03-01");
        assert_eq!((probe.count(), reuse.cached, found.len()), (calls, 0, 3));
        assert!(
            serde_json::from_slice::<serde_json::Value>(&std::fs::read(&new.file).unwrap()).is_ok()
        );
    }

    std::fs::write(tree.path().join("m0.py"), "eval(9)\neval(8)\n").unwrap();
    let failed = through(
        &new,
        &plan,
        &Tree::walk(tree.path()),
        "2026-03-01".parse().unwrap(),
        |_| Err::<Vec<Finding>, _>("the tool crashed"),
    );
    assert_eq!(failed.unwrap_err(), "the tool crashed");
    let (_, reuse) = probe.scan(&new, &plan, tree.path(), "2026-03-01");
    assert_eq!(
        probe.last_call(),
        Some(Some(vec!["m0.py".to_string()])),
        "{reuse}"
    );
}

#[test]
fn a_whole_tree_analyzer_runs_again_on_changed_inputs_or_a_new_day_for_advisories() {
    let tree = tree_of(1);
    std::fs::write(tree.path().join("requirements.txt"), "flask==1.0\n").unwrap();
    let state = tempfile::tempdir().unwrap();
    let slot = Slot::new(state.path(), "audit", &["audit 2"]);
    let plan = Plan::Whole {
        inputs: Matcher::names(&["requirements.txt"]),
        advisories: true,
    };
    let probe = Recorder::new();
    probe.scan(&slot, &plan, tree.path(), "2026-03-01");
    std::fs::write(tree.path().join("m0.py"), "eval(1)\neval(2)\n").unwrap();
    let (found, reuse) = probe.scan(&slot, &plan, tree.path(), "2026-03-01");
    assert_eq!(probe.count(), 1, "not an input: the findings hold");
    assert_eq!(
        (found.len(), reuse.to_string().as_str()),
        (1, "1 of 1 files from cache")
    );
    probe.scan(&slot, &plan, tree.path(), "2026-03-02");
    assert_eq!(probe.count(), 2, "a new day, new advisories");
    std::fs::write(tree.path().join("requirements.txt"), "flask==3.0\n").unwrap();
    let (found, _) = probe.scan(&slot, &plan, tree.path(), "2026-03-02");
    assert_eq!((probe.count(), found.len()), (3, 2));
}

#[test]
fn findings_in_files_not_asked_about_are_kept_by_their_file() {
    let tree = tree_of(2);
    let state = tempfile::tempdir().unwrap();
    let slot = Slot::new(state.path(), "probe", &["1"]);
    let plan = Plan::PerFile(Matcher::extensions(&["py"]));
    std::fs::write(tree.path().join("setup.cfg"), "[x]\n").unwrap();
    let run = |files: Option<&[String]>| {
        let mut found = evals(
            tree.path(),
            files.unwrap_or(&["m0.py".into(), "m1.py".into()]),
        );
        found.push(Finding::at(
            "probe",
            "cfg",
            Severity::Low,
            "setup.cfg",
            1,
            "c",
        ));
        Ok::<_, String>(found)
    };
    let walk = || Tree::walk(tree.path());
    let day = "2026-03-01".parse().unwrap();
    assert_eq!(through(&slot, &plan, &walk(), day, run).unwrap().0.len(), 3);
    std::fs::write(tree.path().join("m1.py"), "pass\n").unwrap();
    let (found, _) = through(&slot, &plan, &walk(), day, run).unwrap();
    assert_eq!(
        places(&found),
        ["m0.py:1", "setup.cfg:1"],
        "one setup.cfg finding, not two"
    );
    std::fs::remove_file(tree.path().join("setup.cfg")).unwrap();
    let (found, _) = through(&slot, &plan, &walk(), day, |_| Ok::<_, String>(Vec::new())).unwrap();
    assert_eq!(places(&found), ["m0.py:1"]);
}
