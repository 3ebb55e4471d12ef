//! The module graph of a crate's `src/` and the import circles in it.
//!
//! A file's module comes from its path (`src/jobs/work/finish.rs` is `jobs::work::finish`,
//! `mod.rs` is its folder). Paths are resolved the way the compiler starts to: `crate::`,
//! `super::`, `self::`, child modules and names a `use` bound; a name a parent module
//! re-exports (`pub use runner::Outcome`) counts as the module that defines it. Paths
//! into other crates resolve to nothing, and so does what a parent module defines itself:
//! the graph of a scope is between its children only.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::lex;
use crate::scan::{self, FileScan, RawPath};

type Module = Vec<String>;

/// One edge between two sibling modules and one place that makes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub at: String,
}

/// The scanned files of a crate, by module.
pub struct Crate {
    files: BTreeMap<Module, (String, FileScan)>,
}

impl Crate {
    /// Scan `(path under the crate, text)` pairs; `src/main.rs` and test files are left out.
    pub fn new(sources: &[(String, String)]) -> Self {
        let mut files = BTreeMap::new();
        for (path, text) in sources {
            let Some(module) = module_of(path) else {
                continue;
            };
            let found = scan::scan(&module, &lex::tokens(text));
            files.insert(module, (path.clone(), found));
        }
        let test_only: Vec<Module> = files
            .iter()
            .flat_map(|(module, (_, found))| {
                found
                    .test_modules
                    .iter()
                    .map(move |name| child(module, name))
            })
            .collect();
        files.retain(|module, _| !test_only.iter().any(|t| module.starts_with(t)));
        Self { files }
    }

    fn is_module(&self, module: &[String]) -> bool {
        self.files.keys().any(|m| m.starts_with(module))
    }

    /// The crate path `raw` names, if it is inside this crate.
    fn resolve(&self, file: &FileScan, raw: &RawPath, hops: usize) -> Option<Module> {
        let (first, rest) = raw.segments.split_first()?;
        match first.as_str() {
            "crate" => Some(rest.to_vec()),
            "super" => {
                let ups = raw.segments.iter().take_while(|s| *s == "super").count();
                let base = raw.module.len().checked_sub(ups)?;
                let mut path = raw.module[..base].to_vec();
                path.extend_from_slice(&raw.segments[ups..]);
                Some(path)
            }
            "self" => Some([raw.module.as_slice(), rest].concat()),
            name if file.child_modules.iter().any(|c| c == name) => {
                Some([raw.module.as_slice(), &raw.segments].concat())
            }
            name if hops < 8 => {
                let binding = file.bindings.iter().find(|b| b.name == name)?;
                let bound = self.resolve(file, &binding.path, hops + 1)?;
                Some([bound.as_slice(), rest].concat())
            }
            _ => None,
        }
    }

    /// The child of `scope` that crate path `path` lands in, following the scope's re-exports.
    fn node_in(&self, scope: &[String], path: &[String], hops: usize) -> Option<String> {
        let head = path.get(scope.len()).filter(|_| path.starts_with(scope))?;
        if self.is_module(&child(scope, head)) {
            return Some(head.clone());
        }
        let (_, root) = self.files.get(scope)?;
        let binding = root.bindings.iter().find(|b| &b.name == head)?;
        let target = self.resolve(root, &binding.path, 0)?;
        let rest = &path[scope.len() + 1..];
        (hops < 8).then(|| self.node_in(scope, &[target.as_slice(), rest].concat(), hops + 1))?
    }

    /// The edges between the child modules of `scope`, one place for each.
    pub fn edges(&self, scope: &[String]) -> Vec<Edge> {
        let mut found: BTreeMap<(String, String), String> = BTreeMap::new();
        for (path, file) in self.files.values() {
            for raw in &file.paths {
                let Some(from) = raw
                    .module
                    .get(scope.len())
                    .filter(|_| raw.module.starts_with(scope))
                else {
                    continue;
                };
                let Some(target) = self.resolve(file, raw, 0) else {
                    continue;
                };
                let Some(to) = self.node_in(scope, &target, 0).filter(|to| to != from) else {
                    continue;
                };
                found
                    .entry((from.clone(), to))
                    .or_insert_with(|| format!("{path}:{}", raw.line));
            }
        }
        found
            .into_iter()
            .map(|((from, to), at)| Edge { from, to, at })
            .collect()
    }
}

/// The module of the file at `path`, or `None` for the crate roots and test files.
fn module_of(path: &str) -> Option<Module> {
    let inner = path.strip_prefix("src/")?.strip_suffix(".rs")?;
    let file = inner.rsplit('/').next()?;
    if matches!(inner, "lib" | "main") {
        return (inner == "lib").then(Vec::new);
    }
    if file == "tests" || file.ends_with("_tests") {
        return None;
    }
    let mut module: Module = inner.split('/').map(str::to_string).collect();
    if file == "mod" {
        module.pop();
    }
    Some(module)
}

fn child(module: &[String], name: &str) -> Module {
    let mut path = module.to_vec();
    path.push(name.to_string());
    path
}

/// Every circle in `edges`, each as the edges that make it: for each edge on a circle, the
/// shortest way back, with rotations of the same circle reported once.
pub fn cycles(edges: &[Edge]) -> Vec<Vec<Edge>> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for edge in edges {
        let Some(back) = shortest_path(edges, &edge.to, &edge.from) else {
            continue;
        };
        let mut circle = vec![edge.clone()];
        circle.extend(back);
        let mut key: Vec<String> = circle.iter().map(|e| e.from.clone()).collect();
        let smallest = key
            .iter()
            .enumerate()
            .min_by_key(|(_, n)| *n)
            .map_or(0, |(i, _)| i);
        key.rotate_left(smallest);
        if seen.insert(key) {
            circle.rotate_left(smallest);
            out.push(circle);
        }
    }
    out
}

fn shortest_path(edges: &[Edge], from: &str, to: &str) -> Option<Vec<Edge>> {
    let mut came_by: BTreeMap<&str, &Edge> = BTreeMap::new();
    let mut queue = VecDeque::from([from]);
    while let Some(node) = queue.pop_front() {
        if node == to {
            let mut path = Vec::new();
            let mut at = to;
            while at != from {
                let edge = came_by[at];
                path.push(edge.clone());
                at = &edge.from;
            }
            path.reverse();
            return Some(path);
        }
        for edge in edges.iter().filter(|e| e.from == node) {
            if edge.to != from && !came_by.contains_key(edge.to.as_str()) {
                came_by.insert(&edge.to, edge);
                queue.push_back(&edge.to);
            }
        }
    }
    None
}

/// `a → b → a` and the place of each step, one circle per paragraph.
pub fn describe(circles: &[Vec<Edge>]) -> String {
    let mut text = String::new();
    for circle in circles {
        let mut names: Vec<&str> = circle.iter().map(|e| e.from.as_str()).collect();
        names.push(&circle[0].from);
        text.push_str(&names.join(" → "));
        text.push('\n');
        for edge in circle {
            text.push_str(&format!("    {} → {}: {}\n", edge.from, edge.to, edge.at));
        }
    }
    text
}
