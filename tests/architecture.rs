//! Imports flow one way: no module of `src/` reaches, through others, back to itself.
//!
//! Reads every `src/**/*.rs`, resolves the `crate::`, `super::` and `self::` paths in them
//! (in `use` lines, code and macro bodies; not in comments or strings) and checks three
//! graphs for circles: the top-level modules (config, home, tasks, store, llm, jobs …; the
//! crate roots `lib.rs` and `main.rs` left out), the modules of `jobs` (the runner and the
//! jobs it runs) and the modules of `jobs::work` (attempt, finish …). Test code is left
//! out: items under `#[cfg(test)]`, the files they declare, and `tests.rs`/`*_tests.rs`.
//! A circle is printed as `a → b → a`, each step with one file:line that makes it.

#[path = "architecture/graph.rs"]
mod graph;
#[path = "architecture/lex.rs"]
mod lex;
#[path = "architecture/scan.rs"]
mod scan;

use std::path::Path;

use graph::{Crate, Edge, cycles, describe};

fn sources_under(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            sources_under(root, &path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
            let name = path.strip_prefix(root).expect("under the crate");
            out.push((name.to_string_lossy().replace('\\', "/"), text));
        }
    }
}

fn this_crate() -> Crate {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut sources = Vec::new();
    sources_under(root, &root.join("src"), &mut sources);
    Crate::new(&sources)
}

fn scope(path: &str) -> Vec<String> {
    path.split("::")
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn assert_one_way(krate: &Crate, under: &str) {
    let circles = cycles(&krate.edges(&scope(under)));
    assert!(
        circles.is_empty(),
        "the modules of {} import in circles; move the shared types down so one side no \
         longer imports the other:\n{}",
        if under.is_empty() { "src/" } else { under },
        describe(&circles)
    );
}

#[test]
fn top_level_modules_import_one_way() {
    assert_one_way(&this_crate(), "");
}

#[test]
fn the_runner_and_the_jobs_import_one_way() {
    assert_one_way(&this_crate(), "jobs");
}

#[test]
fn the_work_loop_modules_import_one_way() {
    assert_one_way(&this_crate(), "jobs::work");
}

#[test]
fn the_graph_sees_the_edges_everyone_knows() {
    let edges = this_crate().edges(&[]);
    for (from, to) in [("jobs", "config"), ("cli", "jobs"), ("jobs", "store")] {
        assert!(
            edges.iter().any(|e| e.from == from && e.to == to),
            "no edge {from} → {to} found in src/: the architecture scan is broken"
        );
    }
}

fn fixture(files: &[(&str, &str)]) -> Crate {
    let sources: Vec<(String, String)> = files
        .iter()
        .map(|(path, text)| (path.to_string(), text.to_string()))
        .collect();
    Crate::new(&sources)
}

#[test]
fn a_circle_through_a_re_export_and_super_paths_is_found_with_its_places() {
    let krate = fixture(&[
        ("src/lib.rs", "pub mod a;\npub mod b;\n"),
        ("src/a.rs", "use crate::b::Helper;\n"),
        ("src/b/mod.rs", "mod inner;\npub use inner::Helper;\n"),
        (
            "src/b/inner.rs",
            "pub struct Helper;\nfn f() {\n    super::super::a::g();\n}\n",
        ),
    ]);
    let circles = cycles(&krate.edges(&[]));
    let text = describe(&circles);
    assert_eq!(
        text,
        "a → b → a\n    a → b: src/a.rs:1\n    b → a: src/b/inner.rs:3\n"
    );
}

#[test]
fn test_code_comments_and_strings_make_no_edge() {
    let krate = fixture(&[
        ("src/lib.rs", "pub mod a;\npub mod b;\n"),
        ("src/a.rs", "use crate::b::Helper;\n"),
        (
            "src/b/mod.rs",
            concat!(
                "// crate::a::X\n/* crate::a::Y */\nconst S: &str = \"crate::a::Z\";\n",
                "const R: &str = r#\"crate::a::W\"#;\n",
                "#[cfg(test)]\nmod tests { use crate::a::T; }\n",
                "#[cfg(test)]\n#[path = \"b_tests.rs\"]\nmod more;\n",
            ),
        ),
        ("src/b/more.rs", "use crate::a::U;\n"),
        ("src/b/b_tests.rs", "use crate::a::V;\n"),
    ]);
    assert_eq!(
        krate.edges(&[]),
        vec![Edge {
            from: "a".into(),
            to: "b".into(),
            at: "src/a.rs:1".into()
        }]
    );
}

#[test]
fn a_bound_module_name_and_a_macro_body_are_followed() {
    let krate = fixture(&[
        ("src/lib.rs", "pub mod a;\npub mod b;\n"),
        ("src/a.rs", "use crate::b;\nfn f() { b::run(); }\n"),
        (
            "src/b.rs",
            "fn g() { assert!(matches!(x, crate::a::Kind::One)); }\n",
        ),
    ]);
    let edges = krate.edges(&[]);
    assert_eq!(edges.len(), 2, "{edges:?}");
    assert_eq!(cycles(&edges).len(), 1);
}
