//! The trees the scan benchmark reads, made once and kept under `target/bench-data/`:
//! Django 5.1.4's `django/` from its PyPI sdist (what issue 15's bar was measured on), or,
//! when it cannot be fetched, a generated Python tree of the same size; its Python files
//! alone; and a million-line tree, that tree copied 8× side by side.

use std::path::{Path, PathBuf};
use std::process::Command;

const DJANGO: &str = "Django-5.1.4";
const COPIES: usize = 8;
const GENERATED_MODULES: usize = 480;
const GENERATED_FUNCTIONS: usize = 30;

/// A tree to scan and what it is, for the output.
pub struct Corpus {
    pub root: PathBuf,
    pub what: String,
}

/// Django's `django/` when it is (or can be) downloaded, else the generated tree.
pub fn base_tree(data: &Path, venv_bin: &Path) -> Corpus {
    let django = data.join(DJANGO).join("django");
    if django.is_dir() || fetch_django(data, venv_bin) {
        return Corpus {
            root: django,
            what: format!("{DJANGO}'s django/ (PyPI sdist)"),
        };
    }
    let root = data.join("generated");
    if !root.join("complete").exists() {
        generate(&root.join("pkg"));
        std::fs::write(root.join("complete"), "").expect("mark the generated tree");
    }
    Corpus {
        root: root.join("pkg"),
        what: "a generated Python tree (Django could not be downloaded)".into(),
    }
}

/// `base` copied 8× side by side under `data/million/`, once.
pub fn million_tree(data: &Path, base: &Corpus) -> Corpus {
    let million = made_once(data, "million", base, |million| {
        for copy in 1..=COPIES {
            let into = million.join(format!("copy{copy}"));
            std::fs::create_dir_all(&into).expect("make the million-line tree");
            run(Command::new("cp").arg("-R").arg(&base.root).arg(&into));
        }
    });
    Corpus {
        root: million,
        what: format!("{COPIES}× {}", base.what),
    }
}

/// `base`'s Python files alone, under `data/python-<name>/`, once: the files ruff and
/// bandit read, without the translations, templates and vendored JavaScript only
/// dayshift's own layers read.
pub fn python_tree(data: &Path, base: &Corpus) -> Corpus {
    let python = made_once(data, "python", base, |python| {
        copy_python(&base.root, python)
    });
    Corpus {
        root: python,
        what: format!("the .py files of {}", base.what),
    }
}

/// `data/<kind>-<base's name>/`, made by `make` the first time (a tree made halfway is
/// made again: it is marked complete only at the end).
fn made_once(data: &Path, kind: &str, base: &Corpus, make: impl FnOnce(&Path)) -> PathBuf {
    let name = base.root.file_name().expect("a named tree");
    let tree = data.join(format!("{kind}-{}", name.to_string_lossy()));
    let done = tree.with_extension("complete");
    if !done.exists() {
        let _ = std::fs::remove_dir_all(&tree);
        make(&tree);
        std::fs::write(&done, "").expect("mark the tree complete");
    }
    tree
}

fn copy_python(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read the tree").flatten() {
        let path = entry.path();
        if path.is_dir() {
            copy_python(&path, &to.join(entry.file_name()));
        } else if path.extension().is_some_and(|e| e == "py") {
            std::fs::create_dir_all(to).expect("make the Python-only tree");
            std::fs::copy(&path, to.join(entry.file_name())).expect("copy a Python file");
        }
    }
}

/// Lines in the tree's `.py` files.
pub fn python_lines(root: &Path) -> usize {
    let mut lines = 0;
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("read the tree").flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "py") {
                let text = std::fs::read(&path).unwrap_or_default();
                lines += text.iter().filter(|b| **b == b'\n').count();
            }
        }
    }
    lines
}

fn fetch_django(data: &Path, venv_bin: &Path) -> bool {
    std::fs::create_dir_all(data).expect("make target/bench-data");
    let sdist = data.join(format!("{DJANGO}.tar.gz"));
    if !sdist.exists() {
        let venv_pip = venv_bin.join("pip");
        let mut pip = if venv_pip.exists() {
            Command::new(venv_pip)
        } else {
            let mut python = Command::new("python3");
            python.args(["-m", "pip"]);
            python
        };
        pip.args([
            "download",
            "django==5.1.4",
            "--no-deps",
            "--no-binary",
            ":all:",
        ])
        .args(["--quiet", "-d"])
        .arg(data);
        if !pip.status().is_ok_and(|s| s.success()) || !sdist.exists() {
            eprintln!("Django 5.1.4 could not be downloaded from PyPI: generating a tree instead");
            return false;
        }
    }
    // unpacked beside, then renamed: a half-unpacked tree is never taken for a whole one
    let unpacking = data.join("unpacking");
    let _ = std::fs::remove_dir_all(&unpacking);
    std::fs::create_dir_all(&unpacking).expect("make the unpacking folder");
    run(Command::new("tar")
        .arg("xzf")
        .arg(&sdist)
        .arg("-C")
        .arg(&unpacking));
    std::fs::rename(unpacking.join(DJANGO), data.join(DJANGO)).expect("move Django in place");
    let _ = std::fs::remove_dir_all(&unpacking);
    true
}

/// A deterministic Python package of about 150k lines: plain code, with a few of the
/// patterns the analyzers report (eval, a shell, pickle, assert, a weak hash) here and there.
fn generate(root: &Path) {
    for module in 0..GENERATED_MODULES {
        let dir = root.join(format!("area{}", module % 24));
        std::fs::create_dir_all(&dir).expect("make the generated tree");
        let mut text = format!(
            "\"\"\"Generated module {module} for dayshift's scan benchmark.\"\"\"\nimport hashlib\nimport pickle\nimport subprocess\n\n\n"
        );
        for function in 0..GENERATED_FUNCTIONS {
            text.push_str(&function_text(module, function));
        }
        std::fs::write(dir.join(format!("module{module}.py")), text).expect("write a module");
    }
}

fn function_text(module: usize, function: usize) -> String {
    let risky = match (module * GENERATED_FUNCTIONS + function) % 40 {
        0 => "    return eval(value)\n",
        1 => "    return subprocess.run(value, shell=True)\n",
        2 => "    return pickle.loads(value)\n",
        3 => "    assert value, \"a value is needed\"\n    return value\n",
        4 => "    return hashlib.md5(value).hexdigest()\n",
        _ => "    return total\n",
    };
    format!(
        "def compute_{module}_{function}(value, limit=10):\n    \"\"\"Sum what is below the limit.\"\"\"\n    total = 0\n    for index in range(limit):\n        if index % 3 == 0:\n            total += index * 2\n        elif index % 3 == 1:\n            total -= index\n        else:\n            total += len(str(value))\n{risky}\n\n"
    )
}

fn run(command: &mut Command) {
    let status = command.status().expect("run a command");
    assert!(status.success(), "{command:?} failed");
}
