//! One run's confinement, and the bubblewrap command line it becomes.
//!
//! The mounts, in the order bwrap applies them (later ones cover earlier ones):
//!
//! 1. `--ro-bind / /`, a fresh `/dev` and `/proc`, a private `/tmp` (tmpfs; `TMPDIR=/tmp`);
//! 2. hidden: the whole dayshift home (tmpfs: it holds config/.env, tasks/, .dayshift/ and
//!    every other worktree) and the user's credential paths under `$HOME` (tmpfs over a
//!    directory, `/dev/null` over a file); a home under /tmp gets its own tmpfs inside the
//!    private one, so it can be made read-only in step 6;
//! 3. read-only again: the program itself when it lives under a hidden path (a venv's root
//!    when it is a venv's `bin/` entry), and the extra read paths;
//! 4. writable: the task's worktree and the extra write paths (an engine's private HOME,
//!    `sandbox.write`);
//! 5. read-only on top of everything: the clone's `.git` (so `git status` and `git diff`
//!    work but no hook, config, ref or index can be written) and the worktree's `.git`
//!    pointer file;
//! 6. the hidden tmpfs mounts remounted read-only: writing there fails ("Read-only file
//!    system") rather than vanishing silently with the run.
//!
//! Bind sources are resolved on the host, so re-exposing a path under a hidden one (a home
//! in /tmp) works. The process gets its own PID, IPC and (unless network is granted) network
//! namespace, a new session (no TIOCSTI into a terminal), no capabilities, and dies with
//! dayshift.

use std::path::{Path, PathBuf};

use super::Endpoint;
use crate::process::Spec;

/// Credential paths under `$HOME` a tool has no business reading.
pub const CREDENTIALS: [&str; 10] = [
    ".ssh",
    ".aws",
    ".gnupg",
    ".config/gh",
    ".docker",
    ".kube",
    ".netrc",
    ".git-credentials",
    ".pypirc",
    ".cargo/credentials",
];

/// How one run is confined. Built by [`super::Sandbox::for_task`]; an engine or QA adds
/// what it needs (network, a private HOME, a report directory) and calls [`wrap`](Self::wrap).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confinement {
    /// `None`: unconfined ([`wrap`](Self::wrap) changes nothing).
    bwrap: Option<PathBuf>,
    /// Directories covered by an empty tmpfs (besides `/tmp`).
    hidden_dirs: Vec<PathBuf>,
    /// Files covered by `/dev/null`.
    hidden_files: Vec<PathBuf>,
    read: Vec<PathBuf>,
    write: Vec<PathBuf>,
    /// Read-only over everything else (git's metadata).
    protected: Vec<PathBuf>,
    network: bool,
    /// Where a coding tool may connect ([`super::egress`]); empty: as `network` says.
    egress: Vec<Endpoint>,
    /// The relay program and the proxy's socket, once [`Confinement::wrap_tool`] started
    /// the proxy: the command runs behind `<relay> sandbox-relay --socket <socket> --`.
    relay: Option<(PathBuf, PathBuf)>,
}

impl Confinement {
    /// No confinement: [`wrap`](Self::wrap) returns the spec as it is.
    pub fn none() -> Self {
        Self {
            bwrap: None,
            hidden_dirs: vec![],
            hidden_files: vec![],
            read: vec![],
            write: vec![],
            protected: vec![],
            network: true,
            egress: vec![],
            relay: None,
        }
    }

    /// Confinement through `bwrap` of a run that may write `worktree` only; `home` is
    /// hidden whole, `git_dirs` stay readable but not writable, and the [`CREDENTIALS`]
    /// under `user_home` (the user's `$HOME`) are hidden.
    pub fn bubblewrap(
        bwrap: PathBuf,
        home: &Path,
        worktree: &Path,
        git_dirs: &[PathBuf],
        user_home: Option<&Path>,
    ) -> Self {
        let mut hidden_dirs = vec![real(home)];
        let mut hidden_files = vec![];
        if let Some(user_home) = user_home {
            for entry in CREDENTIALS {
                let path = user_home.join(entry);
                if path.is_dir() {
                    hidden_dirs.push(real(&path));
                } else if path.is_file() {
                    hidden_files.push(real(&path));
                }
            }
            // ~/.cargo/credentials.toml
            let toml = user_home.join(".cargo/credentials.toml");
            if toml.is_file() {
                hidden_files.push(real(&toml));
            }
        }
        let mut protected: Vec<PathBuf> = git_dirs.iter().map(|d| real(d)).collect();
        let pointer = worktree.join(".git");
        if pointer.is_file() {
            protected.push(real(&pointer));
        }
        Self {
            bwrap: Some(bwrap),
            hidden_dirs,
            hidden_files,
            read: vec![],
            write: vec![real(worktree)],
            protected,
            network: false,
            egress: vec![],
            relay: None,
        }
    }

    /// Whether runs are confined at all.
    pub fn is_active(&self) -> bool {
        self.bwrap.is_some()
    }

    /// Whether the run keeps the host's network.
    pub fn network(&self) -> bool {
        self.network
    }

    /// Keep the host's network (`true`) or give the run none.
    pub fn with_network(mut self, on: bool) -> Self {
        self.network = on;
        self
    }

    /// A coding tool that may reach `endpoints` only (its model), through a proxy
    /// ([`Confinement::wrap_tool`] starts it); no endpoints: as [`with_network`](Self::with_network) says.
    pub fn with_egress(mut self, endpoints: Vec<Endpoint>) -> Self {
        self.egress = endpoints;
        self
    }

    /// Where a coding tool may connect; empty when it is not limited.
    pub fn egress(&self) -> &[Endpoint] {
        &self.egress
    }

    /// Run the command behind `relay sandbox-relay`, whose socket is in `dir`: no network
    /// but the proxy's.
    pub(super) fn behind_relay(mut self, relay: &Path, socket: &Path, dir: &Path) -> Self {
        self.network = false;
        self.relay = Some((relay.to_path_buf(), socket.to_path_buf()));
        self.with_write(dir)
    }

    /// Re-expose `path` read-only (it is skipped when it does not exist).
    pub fn with_read(mut self, path: &Path) -> Self {
        self.read.push(real(path));
        self
    }

    /// Re-expose `path` writable (it is skipped when it does not exist).
    pub fn with_write(mut self, path: &Path) -> Self {
        self.write.push(real(path));
        self
    }

    /// The confined form of `spec`: bwrap with the mounts above, then `--` and the
    /// original command. Unchanged when the confinement is not active.
    pub fn wrap(&self, mut spec: Spec) -> Spec {
        let Some(bwrap) = &self.bwrap else {
            return spec;
        };
        // a bare name is found on the run's PATH now, so the place it lives is known (and
        // re-exposed below when it is hidden: a venv under /tmp)
        if let Some(found) = on_path(&spec) {
            spec.program = found;
        }
        let hidden = |p: &Path| {
            p.starts_with("/tmp")
                || self.hidden_dirs.iter().any(|d| p.starts_with(d))
                || self.hidden_files.iter().any(|f| p == f)
        };
        let mut args: Vec<String> = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
            .map(String::from)
            .to_vec();
        // empty tmpfs mounts first: the binds after them show through
        for dir in [Path::new("/tmp")]
            .into_iter()
            .chain(self.hidden_dirs.iter().map(PathBuf::as_path))
        {
            args.extend(["--tmpfs".to_string(), dir.display().to_string()]);
        }
        let mut bind = |flag: &str, src: &Path, dest: &Path| {
            args.extend([flag.to_string(), src.display().to_string()]);
            args.push(dest.display().to_string());
        };
        for file in &self.hidden_files {
            bind("--ro-bind", Path::new("/dev/null"), file);
        }
        for path in &self.read {
            bind("--ro-bind-try", path, path);
        }
        // the program, where the caller names it, when that place is hidden
        if spec.program.is_absolute() && (hidden(&spec.program) || hidden(&real(&spec.program))) {
            let dest = venv_root(&spec.program).unwrap_or_else(|| spec.program.clone());
            bind("--ro-bind-try", &real(&dest), &dest);
        }
        if let Some((relay, _)) = &self.relay
            && (hidden(relay) || hidden(&real(relay)))
        {
            bind("--ro-bind-try", &real(relay), relay);
        }
        for path in &self.write {
            bind("--bind-try", path, path);
        }
        for path in &self.protected {
            bind("--ro-bind-try", path, path);
        }
        // a hidden place is empty and read-only: a write there fails loudly instead of
        // vanishing with the run (the binds inside stay as they are)
        for dir in &self.hidden_dirs {
            args.extend(["--remount-ro".to_string(), dir.display().to_string()]);
        }
        if let Some(dir) = &spec.cwd {
            args.extend(["--chdir".into(), real(dir).display().to_string()]);
        }
        for flag in [
            "--unshare-pid",
            "--unshare-ipc",
            "--die-with-parent",
            "--new-session",
        ] {
            args.push(flag.into());
        }
        // bwrap keeps root's capabilities unless told (an unprivileged run has none): without
        // them nothing inside can unmount the covers over the home
        // SAFETY: geteuid has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } == 0 {
            args.extend(["--cap-drop".into(), "ALL".into()]);
        }
        if !self.network {
            args.push("--unshare-net".into());
        }
        args.push("--".into());
        if let Some((relay, socket)) = &self.relay {
            args.push(relay.display().to_string());
            args.extend(["sandbox-relay".into(), "--socket".into()]);
            args.push(socket.display().to_string());
            args.push("--".into());
        }
        args.push(spec.program.display().to_string());
        args.append(&mut spec.args);
        spec.args = args;
        spec.program = bwrap.clone();
        spec.env.insert("TMPDIR".into(), "/tmp".into());
        spec
    }
}

/// Where a bare program name (`aider`) is found on the spec's own `PATH`.
fn on_path(spec: &Spec) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let name = spec.program.to_str()?;
    if name.contains('/') {
        return None;
    }
    std::env::split_paths(spec.env.get("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// A path with symlinks resolved where it exists (mounts apply to real paths; the symlink
/// the caller knows still leads there inside the sandbox).
fn real(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// `…/venv` for `…/venv/bin/tool` when `…/venv/pyvenv.cfg` exists: the tool needs its
/// whole environment, not just its entry script.
fn venv_root(program: &Path) -> Option<PathBuf> {
    let bin = program.parent()?;
    let root = bin.parent()?;
    (bin.file_name()? == "bin" && root.join("pyvenv.cfg").is_file()).then(|| root.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn position(args: &[String], words: &[&str]) -> usize {
        args.windows(words.len())
            .position(|w| w.iter().zip(words).all(|(a, b)| a == b))
            .unwrap_or_else(|| panic!("{words:?} not in {args:?}"))
    }

    #[test]
    fn a_program_named_on_path_in_a_hidden_venv_is_found_and_its_venv_shown() {
        // a checkout under /tmp (CI) with Aider in its .venv, found on PATH as `aider`
        let dir = tempfile::tempdir_in("/tmp").unwrap();
        let venv = real(dir.path()).join(".venv");
        std::fs::create_dir_all(venv.join("bin")).unwrap();
        std::fs::write(venv.join("pyvenv.cfg"), "home = /usr/bin\n").unwrap();
        let tool = venv.join("bin/aider");
        std::fs::write(&tool, "#!/bin/sh\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut spec = Spec::new("aider", &["--version"]);
        spec.env.insert(
            "PATH".into(),
            format!("{}:/usr/bin:/bin", venv.join("bin").display()),
        );
        let home = real(dir.path()).join("home");
        let wrapped =
            Confinement::bubblewrap("/usr/bin/bwrap".into(), &home, &home, &[], None).wrap(spec);
        let v = venv.display().to_string();
        position(&wrapped.args, &["--ro-bind-try", &v, &v]);
        let a = &wrapped.args;
        assert_eq!(
            a[a.len() - 3..],
            ["--", tool.display().to_string().as_str(), "--version"]
        );
    }

    #[test]
    fn covers_come_before_binds_and_read_only_git_and_remounts_come_last() {
        let dir = tempfile::tempdir().unwrap();
        let root = real(dir.path());
        let home = root.join("h");
        let worktree = home.join("workspace/worktrees/T-0001");
        let git = home.join("workspace/target/.git");
        std::fs::create_dir_all(&worktree).unwrap();
        std::fs::create_dir_all(&git).unwrap();
        let confinement = Confinement::bubblewrap(
            "/usr/bin/bwrap".into(),
            &home,
            &worktree,
            std::slice::from_ref(&git),
            None,
        )
        .with_read(Path::new("/opt/jdk"));
        let spec = Spec::new("/bin/sh", &["-c", "true"]).cwd(&worktree);
        let wrapped = confinement.wrap(spec);
        assert_eq!(wrapped.program, Path::new("/usr/bin/bwrap"));
        let a = &wrapped.args;
        let (h, w, g) = (
            home.display().to_string(),
            worktree.display().to_string(),
            git.display().to_string(),
        );
        let tmp = position(a, &["--tmpfs", "/tmp"]);
        let cover = position(a, &["--tmpfs", &h]);
        let read = position(a, &["--ro-bind-try", "/opt/jdk", "/opt/jdk"]);
        let write = position(a, &["--bind-try", &w, &w]);
        let git_ro = position(a, &["--ro-bind-try", &g, &g]);
        let remount = position(a, &["--remount-ro", &h]);
        assert!(position(a, &["--ro-bind", "/", "/"]) < tmp);
        assert!(tmp < cover && cover < read && read < write && write < git_ro && git_ro < remount);
        assert!(
            a.contains(&"--unshare-net".to_string()),
            "no network by default"
        );
        assert_eq!(a[a.len() - 4..], ["--", "/bin/sh", "-c", "true"]);
        assert_eq!(wrapped.env.get("TMPDIR").map(String::as_str), Some("/tmp"));
        let online = confinement
            .with_network(true)
            .wrap(Spec::new("/bin/sh", &[]));
        assert!(!online.args.contains(&"--unshare-net".to_string()));
        // unconfined, nothing changes
        let plain = Confinement::none().wrap(Spec::new("/bin/sh", &["-c", "true"]));
        assert_eq!(
            (plain.program.as_path(), plain.args.len()),
            (Path::new("/bin/sh"), 2)
        );
    }
}
