//! An analyzer's version without starting it on every scan: `program --version` is kept
//! per analyzer, with the program's path, size and modification time; a program that
//! changed (an upgrade rewrites it) is asked again.

use std::path::Path;

use serde::{Deserialize, Serialize};

#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Kept {
    program: String,
    size: u64,
    modified_ns: u128,
    version: String,
}

/// `program`'s version (the first line of `--version`), asked only when `program` is not
/// the one kept in `dir` for `name`. `None`: it gave none.
pub fn version(name: &str, program: &Path, dir: &Path) -> Option<String> {
    let file = dir.join(format!("{name}.json"));
    let now = identity(program)?;
    let kept: Option<Kept> = std::fs::read(&file)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    if let Some(kept) = kept.filter(|k| same_program(k, &now)) {
        return Some(kept.version);
    }
    let version = crate::scan::analyzers::version(program)?;
    let kept = Kept { version, ..now };
    let written = std::fs::create_dir_all(dir).and_then(|()| {
        let json = serde_json::to_vec(&kept).map_err(std::io::Error::other)?;
        crate::fsx::write_cache(&file, &json)
    });
    if let Err(e) = written {
        tracing::warn!("cannot keep {name}'s version in {}: {e}", file.display());
    }
    Some(kept.version)
}

fn identity(program: &Path) -> Option<Kept> {
    let meta = std::fs::metadata(program).ok()?;
    let modified_ns = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_nanos();
    Some(Kept {
        program: program.display().to_string(),
        size: meta.len(),
        modified_ns,
        version: String::new(),
    })
}

fn same_program(kept: &Kept, now: &Kept) -> bool {
    (&kept.program, kept.size, kept.modified_ns) == (&now.program, now.size, now.modified_ns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_is_asked_once_and_again_when_the_program_changes() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let (program, count) = (dir.path().join("tool"), dir.path().join("count"));
        let write = |version: &str| {
            let script = format!("#!/bin/sh\necho x >> {}\necho {version}\n", count.display());
            std::fs::write(&program, script).unwrap();
            std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
        };
        let asked = || std::fs::read_to_string(&count).unwrap().lines().count();
        let kept = dir.path().join("versions");
        write("tool 1.0");
        assert_eq!(version("tool", &program, &kept).unwrap(), "tool 1.0");
        assert_eq!(version("tool", &program, &kept).unwrap(), "tool 1.0");
        assert_eq!(asked(), 1);
        write("tool 1.10");
        assert_eq!(version("tool", &program, &kept).unwrap(), "tool 1.10");
        assert_eq!(asked(), 2);
    }
}
