//! Whether confinement works on this machine: bubblewrap, tried once per process (and per
//! bwrap path), and the Landlock ABI for `doctor`'s information.
//!
//! Found, not assumed: some distributions forbid unprivileged user namespaces, containers
//! often forbid mounts, and an old kernel has no Landlock. A `bwrap` that is installed but
//! cannot make its namespaces here counts as unavailable, with bwrap's own words as why.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use super::{Confinement, Scratch};
use crate::process::{self, Spec};

/// Overrides where dayshift looks for bubblewrap: a path to the program, or `none` to run
/// as on a machine without it (for tests and for people who must run elsewhere).
pub const BWRAP_ENV: &str = "DAYSHIFT_BWRAP";

/// The bwrap to use, after trying it: its path, or why confinement is unavailable.
pub fn bubblewrap() -> Result<PathBuf, String> {
    let program = match std::env::var_os(BWRAP_ENV) {
        Some(v) if v == "none" || v.is_empty() => {
            return Err(format!("{BWRAP_ENV}=none turns bubblewrap off"));
        }
        Some(v) => PathBuf::from(v),
        None => {
            on_path("bwrap").ok_or_else(|| "bubblewrap (`bwrap`) is not on PATH".to_string())?
        }
    };
    probe(&program).map(|()| program)
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Run `true` confined exactly as a task's run would be (a home hidden, a worktree
/// re-exposed, every namespace and flag), once per program per process; the answer is
/// cached. A bwrap that cannot do one of them here (a setuid build refusing a flag, no user
/// namespaces, no network namespace) fails this, not a task.
pub fn probe(program: &Path) -> Result<(), String> {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, Result<(), String>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(answer) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(program) {
        return answer.clone();
    }
    let answer = try_confined(program);
    cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(program.to_path_buf(), answer.clone());
    answer
}

fn try_confined(program: &Path) -> Result<(), String> {
    let scratch = Scratch::create("probe").map_err(|e| format!("cannot make a temp dir: {e}"))?;
    let (home, worktree) = (scratch.path().join("home"), scratch.path().join("home/wt"));
    std::fs::create_dir_all(&worktree).map_err(|e| format!("cannot make a temp dir: {e}"))?;
    let confinement = Confinement::bubblewrap(program.to_path_buf(), &home, &worktree, &[], None);
    let spec = confinement.wrap(
        Spec::new("true", &[])
            .cwd(&worktree)
            .timeout(Duration::from_secs(10)),
    );
    match process::run(&spec) {
        Err(e) => Err(e.to_string()),
        Ok(out) if out.success() => Ok(()),
        Ok(out) => Err(format!(
            "`{} … true` failed here: {}",
            program.display(),
            out.stderr.trim().lines().last().unwrap_or("no message")
        )),
    }
}

/// The kernel's Landlock ABI version, or `None` when Landlock is not enabled. dayshift
/// confines with namespaces (bubblewrap) today; this is reported so a person knows what
/// the machine could add.
pub fn landlock_abi() -> Option<i64> {
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
    // SAFETY: with a null attribute and size 0 the call only returns the ABI version.
    let abi = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    (abi > 0).then_some(abi)
}
