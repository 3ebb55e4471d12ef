//! The direct dependencies a tree pins, with the version it uses and the manifest line that
//! names each: `requirements*.txt` (`name==version`), `pyproject.toml` with the version its
//! `uv.lock`, `poetry.lock` or `pdm.lock` locked, `package.json` with the version its
//! `package-lock.json` locked, `Cargo.toml` with the version its `Cargo.lock` locked. Only
//! the root's own manifests are read; one that cannot be parsed is said so, never guessed.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use crate::fsx::Beneath;

/// A package registry dayshift asks for latest versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Ecosystem {
    PyPi,
    Npm,
    Crates,
}

/// One direct dependency: where it is named, and the version in use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    pub ecosystem: Ecosystem,
    pub name: String,
    pub version: String,
    /// The manifest naming it (relative to the root) and the line.
    pub file: String,
    pub line: u32,
}

/// Every direct dependency of the tree at `root` with a known version; the error names the
/// manifest that could not be read and why.
pub fn direct_dependencies(root: &Path) -> Result<Vec<Dependency>, String> {
    let mut found = requirements(root)?;
    found.extend(python_project(root)?);
    found.extend(npm(root)?);
    found.extend(cargo(root)?);
    Ok(found)
}

/// `name==version` pins of the root's `requirements*.txt` (extras and markers allowed; other
/// specifiers say nothing of the version in use).
fn requirements(root: &Path) -> Result<Vec<Dependency>, String> {
    let mut names: Vec<String> = std::fs::read_dir(root)
        .map_err(|e| format!("{}: {e}", root.display()))?
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| super::super::analyzers::matches("requirements*.txt", n))
        .collect();
    names.sort();
    let mut found = Vec::new();
    for file in names {
        let text = read(root, &file)?.unwrap_or_default();
        for (at, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("");
            let line = line.split(';').next().unwrap_or("").trim();
            let Some((name, version)) = line.split_once("==") else {
                continue;
            };
            let name = name.split('[').next().unwrap_or("").trim();
            let version = version.trim().trim_start_matches('=');
            if !name.is_empty() && !version.is_empty() && !version.contains('*') {
                found.push(Dependency {
                    ecosystem: Ecosystem::PyPi,
                    name: name.to_string(),
                    version: version.to_string(),
                    file: file.clone(),
                    line: at as u32 + 1,
                });
            }
        }
    }
    Ok(found)
}

/// `pyproject.toml`'s dependencies — `[project]`'s, its optional groups, `[dependency-groups]`,
/// Poetry's `[tool.poetry…dependencies]` — at the versions the project's lockfile locked.
fn python_project(root: &Path) -> Result<Vec<Dependency>, String> {
    let Some(text) = read(root, "pyproject.toml")? else {
        return Ok(Vec::new());
    };
    let mut lock = None;
    for name in ["uv.lock", "poetry.lock", "pdm.lock"] {
        if let Some(locked) = read(root, name)? {
            lock = Some((name, locked));
            break;
        }
    }
    let Some((lock_name, lock)) = lock else {
        return Ok(Vec::new());
    };
    let manifest: toml::Table =
        toml::from_str(&text).map_err(|e| format!("pyproject.toml is not TOML ({e}); fix it"))?;
    let lock: toml::Table = toml::from_str(&lock)
        .map_err(|e| format!("{lock_name} is not TOML ({e}); lock the project again"))?;
    let locked: BTreeMap<String, &str> = locked_packages(&lock)
        .map(|(name, version)| (python_name(name), version))
        .collect();
    let mut names: Vec<String> = Vec::new();
    let project = manifest.get("project");
    let requirement_lists = project
        .and_then(|p| p.get("dependencies"))
        .into_iter()
        .chain(values_of(
            project.and_then(|p| p.get("optional-dependencies")),
        ))
        .chain(values_of(manifest.get("dependency-groups")));
    for list in requirement_lists {
        let requirements = list.as_array().into_iter().flatten();
        names.extend(requirements.filter_map(|r| requirement_name(r.as_str()?)));
    }
    let poetry = manifest.get("tool").and_then(|t| t.get("poetry"));
    let poetry_tables = poetry
        .and_then(|p| p.get("dependencies"))
        .into_iter()
        .chain(
            values_of(poetry.and_then(|p| p.get("group")))
                .filter_map(|group| group.get("dependencies")),
        );
    for table in poetry_tables {
        let keys = table.as_table().into_iter().flat_map(|t| t.keys());
        names.extend(keys.filter(|k| *k != "python").cloned());
    }
    let mut found = Vec::new();
    for name in names {
        if let Some(version) = locked.get(&python_name(&name)) {
            found.push(Dependency {
                ecosystem: Ecosystem::PyPi,
                name: name.clone(),
                version: version.to_string(),
                file: "pyproject.toml".into(),
                line: line_mentioning(&text, &name),
            });
        }
    }
    Ok(found)
}

/// A requirement's package name: `flask[async]>=3 ; python_version > "3.8"` → `flask`.
fn requirement_name(requirement: &str) -> Option<String> {
    let name: String = requirement
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "._-".contains(*c))
        .collect();
    (!name.is_empty()).then_some(name)
}

/// A Python package name as PyPI compares them (PEP 503): lowercase, `-_.` runs as `-`.
fn python_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if "-_.".contains(c) {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// `package.json`'s dependencies (all kinds) at the versions `package-lock.json` locked.
fn npm(root: &Path) -> Result<Vec<Dependency>, String> {
    let (Some(text), Some(lock)) = (
        read(root, "package.json")?,
        read(root, "package-lock.json")?,
    ) else {
        return Ok(Vec::new());
    };
    let manifest: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("package.json is not JSON ({e}); fix it"))?;
    let lock: serde_json::Value = serde_json::from_str(&lock).map_err(|e| {
        format!("package-lock.json is not JSON ({e}); run `npm install` to write it again")
    })?;
    let mut found = Vec::new();
    for kind in ["dependencies", "devDependencies", "optionalDependencies"] {
        let Some(deps) = manifest.get(kind).and_then(|d| d.as_object()) else {
            continue;
        };
        for name in deps.keys() {
            // lockfile v2/v3 list `node_modules/<name>`; v1 lists `dependencies.<name>`
            let locked = lock
                .pointer(&format!(
                    "/packages/node_modules~1{}",
                    name.replace('~', "~0").replace('/', "~1")
                ))
                .or_else(|| lock.get("dependencies").and_then(|d| d.get(name)))
                .and_then(|p| p.get("version"))
                .and_then(|v| v.as_str());
            if let Some(version) = locked {
                found.push(Dependency {
                    ecosystem: Ecosystem::Npm,
                    name: name.clone(),
                    version: version.to_string(),
                    file: "package.json".into(),
                    line: line_naming(&text, &format!("\"{name}\"")),
                });
            }
        }
    }
    Ok(found)
}

/// `Cargo.toml`'s dependencies (all kinds, renamed ones by their package) at the version
/// `Cargo.lock` locked (the highest, when it locks several).
fn cargo(root: &Path) -> Result<Vec<Dependency>, String> {
    let (Some(text), Some(lock)) = (read(root, "Cargo.toml")?, read(root, "Cargo.lock")?) else {
        return Ok(Vec::new());
    };
    let manifest: toml::Table =
        toml::from_str(&text).map_err(|e| format!("Cargo.toml is not TOML ({e}); fix it"))?;
    let lock: toml::Table = toml::from_str(&lock)
        .map_err(|e| format!("Cargo.lock is not TOML ({e}); run `cargo generate-lockfile`"))?;
    let mut locked: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, version) in locked_packages(&lock) {
        locked.entry(name).or_default().push(version);
    }
    let mut found = Vec::new();
    for kind in ["dependencies", "dev-dependencies", "build-dependencies"] {
        let Some(deps) = manifest.get(kind).and_then(|d| d.as_table()) else {
            continue;
        };
        for (key, spec) in deps {
            let package = spec.get("package").and_then(|p| p.as_str()).unwrap_or(key);
            let newest = locked
                .get(package)
                .and_then(|versions| versions.iter().max_by(|a, b| super::compare(a, b)));
            if let Some(version) = newest {
                found.push(Dependency {
                    ecosystem: Ecosystem::Crates,
                    name: package.to_string(),
                    version: version.to_string(),
                    file: "Cargo.toml".into(),
                    line: line_naming(&text, key),
                });
            }
        }
    }
    Ok(found)
}

/// The root's `name`, `None` when it is not there.
/// Only the tree's own files are read, opened beneath it in one step ([`Beneath`]): a
/// manifest that is a symbolic link (to a file outside the tree, the home's `.env`…), or
/// becomes one while the scan runs, is refused, as is one larger than
/// [`MAX_MANIFEST_BYTES`].
fn read(root: &Path, name: &str) -> Result<Option<String>, String> {
    let file = match Beneath::new(root).open(name) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e)
            if e.kind() == std::io::ErrorKind::InvalidInput
                || e.raw_os_error() == Some(nix::libc::ELOOP) =>
        {
            return Err(format!(
                "{name} is not a plain file (a link or a folder): dayshift reads only the tree's own files; make it one"
            ));
        }
        Err(e) => return Err(format!("{name} cannot be read: {e}")),
    };
    let size = file
        .metadata()
        .map_err(|e| format!("{name} cannot be read: {e}"))?
        .len();
    if size > MAX_MANIFEST_BYTES {
        return Err(format!(
            "{name} is {} MB, more than a manifest or lockfile is: not read",
            size / (1024 * 1024)
        ));
    }
    let mut text = String::new();
    file.take(MAX_MANIFEST_BYTES)
        .read_to_string(&mut text)
        .map_err(|e| format!("{name} cannot be read: {e}"))?;
    Ok(Some(text))
}

/// The largest manifest or lockfile read (npm's lockfiles of big projects run to a few MB).
const MAX_MANIFEST_BYTES: u64 = 32 * 1024 * 1024;

/// A lockfile's `[[package]]` entries (Cargo, uv, Poetry and PDM write them alike): name and
/// version.
fn locked_packages(lock: &toml::Table) -> impl Iterator<Item = (&str, &str)> {
    let packages = lock.get("package").and_then(|p| p.as_array());
    packages.into_iter().flatten().filter_map(|package| {
        let name = package.get("name")?.as_str()?;
        Some((name, package.get("version")?.as_str()?))
    })
}

/// The values of a TOML table (none when it is not one).
fn values_of(table: Option<&toml::Value>) -> impl Iterator<Item = &toml::Value> {
    table
        .and_then(|t| t.as_table())
        .into_iter()
        .flat_map(|t| t.values())
}

/// The first line of `text` naming `name` as a TOML key or a quoted requirement (one per
/// line first, then one in an inline list); 1 when none does.
fn line_mentioning(text: &str, name: &str) -> u32 {
    let name_ends =
        |rest: &str| !rest.starts_with(|c: char| c.is_ascii_alphanumeric() || "-_.".contains(c));
    let leads = |line: &str| {
        let line = line.trim_start();
        let line = line.strip_prefix(['"', '\'']).unwrap_or(line);
        line.strip_prefix(name).is_some_and(name_ends)
    };
    let quoted = |line: &str| {
        ['"', '\''].iter().any(|quote| {
            line.match_indices(&format!("{quote}{name}"))
                .any(|(at, found)| name_ends(&line[at + found.len()..]))
        })
    };
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| leads(l))
        .or_else(|| lines.iter().position(|l| quoted(l)));
    at.map_or(1, |at| at as u32 + 1)
}

/// The first line of `text` that starts (after spaces) with `key`; 1 when none does.
fn line_naming(text: &str, key: &str) -> u32 {
    text.lines()
        .position(|l| l.trim_start().starts_with(key))
        .map_or(1, |at| at as u32 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    fn named(found: &[Dependency]) -> Vec<(Ecosystem, &str, &str, &str, u32)> {
        found
            .iter()
            .map(|d| {
                (
                    d.ecosystem,
                    d.name.as_str(),
                    d.version.as_str(),
                    d.file.as_str(),
                    d.line,
                )
            })
            .collect()
    }

    #[test]
    fn pins_of_each_ecosystem_are_read_with_their_line() {
        let dir = tree(&[
            (
                "requirements.txt",
                "# web\nrequests==2.31.0  # http\nflask>=2\nuvicorn[standard]==0.23.1 ; python_version > '3.8'\n",
            ),
            (
                "package.json",
                "{\n  \"name\": \"app\",\n  \"dependencies\": {\n    \"left-pad\": \"^1.0.0\",\n    \"@scope/ui\": \"2.0.0\"\n  },\n  \"devDependencies\": {\n    \"jest\": \"^29\"\n  }\n}\n",
            ),
            (
                "package-lock.json",
                r#"{"lockfileVersion": 3, "packages": {"": {}, "node_modules/left-pad": {"version": "1.3.0"}, "node_modules/@scope/ui": {"version": "2.0.0"}, "node_modules/jest": {"version": "29.7.0"}}}"#,
            ),
            (
                "Cargo.toml",
                "[package]\nname = \"app\"\n\n[dependencies]\nserde = \"1\"\nold = { package = \"rand\", version = \"0.7\" }\n",
            ),
            (
                "Cargo.lock",
                "[[package]]\nname = \"serde\"\nversion = \"1.0.200\"\n\n[[package]]\nname = \"rand\"\nversion = \"0.7.3\"\n\n[[package]]\nname = \"rand\"\nversion = \"0.8.5\"\n",
            ),
        ]);
        let found = direct_dependencies(dir.path()).unwrap();
        assert_eq!(
            named(&found),
            [
                (Ecosystem::PyPi, "requests", "2.31.0", "requirements.txt", 2),
                (Ecosystem::PyPi, "uvicorn", "0.23.1", "requirements.txt", 4),
                (Ecosystem::Npm, "@scope/ui", "2.0.0", "package.json", 5),
                (Ecosystem::Npm, "left-pad", "1.3.0", "package.json", 4),
                (Ecosystem::Npm, "jest", "29.7.0", "package.json", 8),
                (Ecosystem::Crates, "rand", "0.8.5", "Cargo.toml", 6),
                (Ecosystem::Crates, "serde", "1.0.200", "Cargo.toml", 5),
            ]
        );
    }

    #[test]
    fn a_python_project_is_read_from_its_pyproject_and_lockfile() {
        let pyproject = "[project]\nname = \"app\"\ndependencies = [\n  \"Requests[socks]>=2.31 ; python_version > '3.8'\",\n  \"requests-toolbelt\",\n]\n\n[project.optional-dependencies]\nweb = [\"flask>=3\", \"Zope.Interface\"]\n\n[dependency-groups]\ndev = [\"pytest\"]\n";
        let lock = "version = 1\n\n[[package]]\nname = \"requests\"\nversion = \"2.31.0\"\n\n[[package]]\nname = \"requests-toolbelt\"\nversion = \"1.0.0\"\n\n[[package]]\nname = \"flask\"\nversion = \"3.0.3\"\n\n[[package]]\nname = \"zope-interface\"\nversion = \"6.4\"\n\n[[package]]\nname = \"pytest\"\nversion = \"8.2.0\"\n";
        let uv = tree(&[("pyproject.toml", pyproject), ("uv.lock", lock)]);
        assert_eq!(
            named(&direct_dependencies(uv.path()).unwrap()),
            [
                (Ecosystem::PyPi, "Requests", "2.31.0", "pyproject.toml", 4),
                (
                    Ecosystem::PyPi,
                    "requests-toolbelt",
                    "1.0.0",
                    "pyproject.toml",
                    5
                ),
                (Ecosystem::PyPi, "flask", "3.0.3", "pyproject.toml", 9),
                (
                    Ecosystem::PyPi,
                    "Zope.Interface",
                    "6.4",
                    "pyproject.toml",
                    9
                ),
                (Ecosystem::PyPi, "pytest", "8.2.0", "pyproject.toml", 12),
            ]
        );
        let poetry = "[tool.poetry.dependencies]\npython = \"^3.11\"\ndjango = \"^4.2\"\n\n[tool.poetry.group.dev.dependencies]\nblack = \"^24\"\n";
        let poetry_lock = "[[package]]\nname = \"django\"\nversion = \"4.2.11\"\n\n[[package]]\nname = \"black\"\nversion = \"24.4.0\"\n";
        let dir = tree(&[("pyproject.toml", poetry), ("poetry.lock", poetry_lock)]);
        assert_eq!(
            named(&direct_dependencies(dir.path()).unwrap()),
            [
                (Ecosystem::PyPi, "django", "4.2.11", "pyproject.toml", 3),
                (Ecosystem::PyPi, "black", "24.4.0", "pyproject.toml", 6),
            ]
        );
        let unlocked = tree(&[("pyproject.toml", poetry)]);
        assert!(direct_dependencies(unlocked.path()).unwrap().is_empty());
        let broken = tree(&[("pyproject.toml", poetry), ("uv.lock", "[[package")]);
        let why = direct_dependencies(broken.path()).unwrap_err();
        assert!(why.starts_with("uv.lock is not TOML"), "{why}");
    }

    #[test]
    fn a_broken_manifest_is_named_and_a_lone_manifest_says_nothing() {
        let broken = tree(&[("package.json", "{"), ("package-lock.json", "{}")]);
        let why = direct_dependencies(broken.path()).unwrap_err();
        assert!(why.starts_with("package.json is not JSON"), "{why}");
        let lock = tree(&[
            ("Cargo.toml", "[dependencies]\nserde = \"1\"\n"),
            ("Cargo.lock", "[[package"),
        ]);
        let why = direct_dependencies(lock.path()).unwrap_err();
        assert!(why.contains("cargo generate-lockfile"), "{why}");
        let alone = tree(&[("Cargo.toml", "[dependencies]\nserde = \"1\"\n")]);
        assert!(direct_dependencies(alone.path()).unwrap().is_empty());
        // a link out of the tree is never followed
        let outside = tree(&[(".env", "ghp_secret==1.0\n")]);
        let linked = tree(&[]);
        std::os::unix::fs::symlink(
            outside.path().join(".env"),
            linked.path().join("requirements.txt"),
        )
        .unwrap();
        let why = direct_dependencies(linked.path()).unwrap_err();
        assert!(
            why.starts_with("requirements.txt is not a plain file"),
            "{why}"
        );
    }
}
