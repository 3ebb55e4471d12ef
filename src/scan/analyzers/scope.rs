//! What each analyzer reads: a list of files it can be given ([`Scope::Files`], so a scan
//! can re-run it on the changed files only), or a whole project whose inputs decide when it
//! must run again ([`Scope::Project`]) — and whether a tree has anything for it at all
//! ([`Analyzer::applies`]: no `Cargo.toml`, no clippy).

use std::path::Path;

use super::Analyzer;

/// What an analyzer reads, as a scan's cache needs to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// It reads files one by one and accepts a list of them: the extensions it reads
    /// (`["py"]`); empty means every file (its own rules choose).
    Files(&'static [&'static str]),
    /// It reads the project as a whole.
    Project {
        /// File names whose change means it must run again: a name (`Cargo.lock`) or a
        /// pattern with one `*` (`*.rs`, `requirements*.txt`); `*` alone is any file.
        inputs: &'static [&'static str],
        /// Its results depend on a vulnerability database: re-run daily even when no
        /// input changed.
        advisories: bool,
    },
}

/// The lockfiles and manifests osv-scanner reads.
pub const OSV_LOCKFILES: &[&str] = &[
    "Cargo.lock",
    "package-lock.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lock",
    "requirements*.txt",
    "poetry.lock",
    "Pipfile.lock",
    "pdm.lock",
    "uv.lock",
    "go.mod",
    "Gemfile.lock",
    "composer.lock",
    "pom.xml",
    "gradle.lockfile",
    "mix.lock",
    "pubspec.lock",
    "packages.lock.json",
    "renv.lock",
];

const PYTHON_PROJECT: &[&str] = &["requirements*.txt", "pyproject.toml"];

/// The manifests and lockfiles the `outdated` analyzer reads (at the root).
const MANIFESTS: &[&str] = &[
    "requirements*.txt",
    "pyproject.toml",
    "uv.lock",
    "poetry.lock",
    "pdm.lock",
    "package.json",
    "package-lock.json",
    "Cargo.toml",
    "Cargo.lock",
];

const ESLINT_CONFIGS: &[&str] = &[
    "package.json",
    "eslint.config.*",
    ".eslintrc",
    ".eslintrc.*",
];

/// Folders never walked looking for a lockfile: dependencies and build output.
const NOT_WALKED: &[&str] = &[".git", "node_modules", "target", "build", "dist", "vendor"];

impl Analyzer {
    /// What it reads ([`Scope`]).
    pub fn scope(&self) -> Scope {
        let project = |inputs, advisories| Scope::Project { inputs, advisories };
        match self {
            Analyzer::Builtin | Analyzer::Health | Analyzer::Semgrep { .. } => Scope::Files(&[]),
            Analyzer::Ruff => Scope::Files(&["py", "pyi"]),
            Analyzer::Bandit => Scope::Files(&["py"]),
            Analyzer::Eslint => {
                Scope::Files(&["js", "jsx", "mjs", "cjs", "ts", "tsx", "mts", "cts"])
            }
            // `gitleaks dir` takes one path, and a configured tool's arguments are its own
            Analyzer::Gitleaks | Analyzer::Sarif { .. } => project(&["*"], false),
            Analyzer::Clippy => project(
                &[
                    "*.rs",
                    "Cargo.toml",
                    "Cargo.lock",
                    "clippy.toml",
                    ".clippy.toml",
                ],
                false,
            ),
            Analyzer::OsvScanner => project(OSV_LOCKFILES, true),
            Analyzer::PipAudit => project(PYTHON_PROJECT, true),
            Analyzer::CargoAudit => project(&["Cargo.lock"], true),
            Analyzer::NpmAudit => project(&["package-lock.json"], true),
            Analyzer::Outdated => project(MANIFESTS, true),
        }
    }

    /// Whether `root` has what it reads. Cheap: only the root's own entries are looked at,
    /// but for osv-scanner, which finds lockfiles anywhere (three folders deep here).
    pub fn applies(&self, root: &Path) -> bool {
        match self {
            Analyzer::CargoAudit => has_all(root, &["Cargo.toml", "Cargo.lock"]),
            Analyzer::Clippy => has_all(root, &["Cargo.toml"]),
            Analyzer::NpmAudit => has_all(root, &["package-lock.json"]),
            Analyzer::PipAudit => has_any(root, PYTHON_PROJECT, 0),
            Analyzer::Eslint => has_any(root, ESLINT_CONFIGS, 0),
            Analyzer::OsvScanner => has_any(root, OSV_LOCKFILES, 3),
            Analyzer::Outdated => has_any(root, MANIFESTS, 0),
            _ => true,
        }
    }
}

/// The paths a [`Scope::Files`] analyzer is given: `files` (as `./file`, so none reads as
/// an option), or the root.
pub(super) fn targets(analyzer: &Analyzer, root: &Path, files: Option<&[String]>) -> Vec<String> {
    match (analyzer.scope(), files) {
        (Scope::Files(_), Some(files)) => files.iter().map(|f| format!("./{f}")).collect(),
        _ => vec![root.display().to_string()],
    }
}

/// Whether `name` matches `pattern` (a name, or a pattern with one `*`).
pub fn matches(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((prefix, suffix)) => {
            name.len() >= prefix.len() + suffix.len()
                && name.starts_with(prefix)
                && name.ends_with(suffix)
        }
    }
}

fn has_all(root: &Path, names: &[&str]) -> bool {
    names.iter().all(|name| root.join(name).is_file())
}

/// Whether a file in `root`, or in a folder at most `depth` below it, matches a pattern.
fn has_any(root: &Path, patterns: &[&str], depth: usize) -> bool {
    let Ok(entries) = std::fs::read_dir(root) else {
        return false;
    };
    let mut folders = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        match entry.file_type() {
            Ok(kind) if kind.is_file() && patterns.iter().any(|p| matches(p, &name)) => {
                return true;
            }
            Ok(kind) if kind.is_dir() && !NOT_WALKED.contains(&name.as_str()) => {
                folders.push(entry.path());
            }
            _ => {}
        }
    }
    depth > 0 && folders.iter().any(|f| has_any(f, patterns, depth - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for file in files {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "").unwrap();
        }
        dir
    }

    #[test]
    fn every_known_name_is_an_analyzer_of_that_name() {
        for name in Analyzer::KNOWN {
            let analyzer = Analyzer::named(name).unwrap();
            assert_eq!(analyzer.name(), *name);
        }
        assert_eq!(Analyzer::named("pylint"), None);
        assert_eq!(Analyzer::NpmAudit.program(), "npm");
        assert_eq!(Analyzer::Clippy.program(), "cargo");
        assert_eq!(Analyzer::CargoAudit.program(), "cargo-audit");
    }

    #[test]
    fn project_analyzers_apply_only_where_their_inputs_are() {
        let empty = tree(&["README.md"]);
        let rust = tree(&["Cargo.toml", "Cargo.lock", "src/main.rs"]);
        let unlocked = tree(&["Cargo.toml"]);
        let node = tree(&["package.json", "package-lock.json"]);
        let python = tree(&["requirements-dev.txt"]);
        let nested = tree(&["services/api/poetry.lock"]);
        let hidden = tree(&["node_modules/x/package-lock.json"]);
        let cases = [
            (Analyzer::CargoAudit, &rust, true),
            (Analyzer::CargoAudit, &unlocked, false),
            (Analyzer::Clippy, &unlocked, true),
            (Analyzer::Clippy, &node, false),
            (Analyzer::NpmAudit, &node, true),
            (Analyzer::Eslint, &node, true),
            (Analyzer::Eslint, &python, false),
            (Analyzer::PipAudit, &python, true),
            (Analyzer::PipAudit, &empty, false),
            (Analyzer::OsvScanner, &nested, true),
            (Analyzer::OsvScanner, &hidden, false),
            (Analyzer::OsvScanner, &empty, false),
            (Analyzer::Ruff, &empty, true),
            (Analyzer::Gitleaks, &empty, true),
        ];
        for (analyzer, dir, expected) in cases {
            assert_eq!(analyzer.applies(dir.path()), expected, "{analyzer:?}");
        }
    }

    #[test]
    fn file_analyzers_get_the_files_and_project_analyzers_the_root() {
        let root = Path::new("/tmp/tree");
        let files = ["-odd.py".to_string(), "app/db.py".to_string()];
        assert_eq!(
            targets(&Analyzer::Ruff, root, Some(&files)),
            ["./-odd.py", "./app/db.py"]
        );
        assert_eq!(targets(&Analyzer::Ruff, root, None), ["/tmp/tree"]);
        assert_eq!(
            targets(&Analyzer::Gitleaks, root, Some(&files)),
            ["/tmp/tree"]
        );
        assert!(matches!(
            Analyzer::CargoAudit.scope(),
            Scope::Project {
                advisories: true,
                ..
            }
        ));
        assert_eq!(Analyzer::Bandit.scope(), Scope::Files(&["py"]));
    }

    #[test]
    fn patterns_match_names_with_one_star() {
        assert!(matches("requirements*.txt", "requirements.txt"));
        assert!(matches("requirements*.txt", "requirements-dev.txt"));
        assert!(!matches("requirements*.txt", "requirements.in"));
        assert!(matches("*.rs", "main.rs"));
        assert!(matches("*", "anything"));
        assert!(matches("Cargo.lock", "Cargo.lock"));
        assert!(!matches("Cargo.lock", "Cargo.lock.bak"));
        assert!(!matches("a*a", "a"));
    }
}
