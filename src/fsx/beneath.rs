//! Reading the files of a tree that something hostile may be changing at the same time.
//!
//! A scan reads the files of a tree while analyzers that run the tree's own code (clippy's
//! build scripts, eslint's plugins) can write to it, and reads files that analyzers named.
//! Checking a path and then opening it leaves a window: between the two, `src/app.py` can
//! become a link to `~/.aws/credentials`, or a folder on the way a link to `/home/me`, and
//! dayshift — which is not confined — would read the user's file and report what it holds.
//!
//! [`Beneath::open`] makes the check and the open one step: on Linux 5.6 and later,
//! `openat2(2)` resolves the path from the tree's folder with `RESOLVE_BENEATH` (no absolute
//! path, no `..` and no link that leads out of the tree, at any step — nor a link with an
//! absolute target, even one back into the tree) and `O_NOFOLLOW` (the file itself is not a
//! link). Where `openat2` is missing (an older kernel, a container whose seccomp filter
//! refuses it), the path is checked first (plain, resolved inside the tree) and opened with
//! `O_NOFOLLOW`: the window stays for a folder on the way only. Either way the file is
//! opened without blocking (a named pipe cannot hang the scan) and must be a regular file.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

/// Flags of every open: read only, no link as the file itself, no waiting on a pipe or a
/// device, and nothing inherited by the tools dayshift starts.
const OPEN_FLAGS: i32 =
    nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK | nix::libc::O_NOCTTY | nix::libc::O_CLOEXEC;

/// Set once `openat2` turned out to be missing: the checked open is used from then on.
static NO_OPENAT2: AtomicBool = AtomicBool::new(false);

/// A tree whose files are opened so that nothing can lead the open out of it.
#[derive(Debug)]
pub struct Beneath {
    root: PathBuf,
    /// The tree's folder, the start of every `openat2` (none when it cannot be opened).
    #[cfg(target_os = "linux")]
    dir: Option<std::os::fd::OwnedFd>,
    /// The tree's resolved path, for the checked open.
    real_root: OnceLock<Option<PathBuf>>,
}

impl Beneath {
    pub fn new(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
            #[cfg(target_os = "linux")]
            dir: std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(nix::libc::O_DIRECTORY | nix::libc::O_CLOEXEC)
                .open(root)
                .ok()
                .map(std::os::fd::OwnedFd::from),
            real_root: OnceLock::new(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The regular file `relative` (`/`-separated, as the tree's walk or an analyzer names
    /// it) of the tree, opened for reading. An absolute path, one with `..`, a link, a file
    /// reached through a linked folder that leads out of the tree, or anything but a regular
    /// file is refused (`InvalidInput`, or the open's own error).
    pub fn open(&self, relative: &str) -> io::Result<File> {
        if !plain(relative) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{relative}: not a plain relative path in the tree"),
            ));
        }
        let file = match self.open_beneath(relative) {
            Some(opened) => opened?,
            None => self.open_checked(relative)?,
        };
        if !file.metadata()?.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{relative}: not a regular file"),
            ));
        }
        Ok(file)
    }

    /// The text of `relative` (see [`Beneath::open`]) when it is at most `max_bytes` long and
    /// UTF-8.
    pub fn read_to_string(&self, relative: &str, max_bytes: u64) -> io::Result<String> {
        let file = self.open(relative)?;
        let size = file.metadata()?.len();
        if size > max_bytes {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{relative}: larger than {max_bytes} bytes"),
            ));
        }
        // room for the whole file at once: `take` hides the file's size from the read, which
        // would otherwise grow the string from a few bytes, a read and a copy at a time
        let mut text = String::with_capacity(usize::try_from(size).unwrap_or(0));
        // a file that grows after the size was read is cut at the limit, not read on
        file.take(max_bytes).read_to_string(&mut text)?;
        Ok(text)
    }

    /// The `openat2` open; `None` when the system has no `openat2`.
    #[cfg(target_os = "linux")]
    fn open_beneath(&self, relative: &str) -> Option<io::Result<File>> {
        use nix::fcntl::{OFlag, OpenHow, ResolveFlag};

        if NO_OPENAT2.load(Ordering::Relaxed) {
            return None;
        }
        let Some(dir) = &self.dir else {
            return Some(Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "{}: the tree's folder cannot be opened",
                    self.root.display()
                ),
            )));
        };
        let how = OpenHow::new()
            .flags(OFlag::O_RDONLY | OFlag::from_bits_retain(OPEN_FLAGS))
            .resolve(ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_MAGICLINKS);
        match nix::fcntl::openat2(dir, relative, how) {
            Ok(fd) => Some(Ok(File::from(fd))),
            // no such call (kernel before 5.6), or a seccomp filter that refuses it
            Err(nix::errno::Errno::ENOSYS | nix::errno::Errno::EPERM) => {
                NO_OPENAT2.store(true, Ordering::Relaxed);
                None
            }
            Err(errno) => Some(Err(io::Error::from(errno))),
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn open_beneath(&self, _relative: &str) -> Option<io::Result<File>> {
        None
    }

    /// The open where `openat2` is missing: the path resolved first, and refused when it
    /// leaves the tree; the file itself opened without following a link.
    fn open_checked(&self, relative: &str) -> io::Result<File> {
        let path = self.root.join(relative);
        let real = std::fs::canonicalize(&path)?;
        let real_root = self
            .real_root
            .get_or_init(|| std::fs::canonicalize(&self.root).ok());
        if !real_root
            .as_ref()
            .is_some_and(|root| real.starts_with(root))
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{relative}: leads out of the tree"),
            ));
        }
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(OPEN_FLAGS)
            .open(path)
    }
}

/// Whether `relative` is a non-empty path of plain names: no root, no `.` or `..`.
fn plain(relative: &str) -> bool {
    let path = Path::new(relative);
    !relative.is_empty()
        && path
            .components()
            .all(|part| matches!(part, Component::Normal(_)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;
    use std::time::Duration;

    /// A tree with a file, a folder, a folder linked inside and one linked outside, links to a
    /// file inside and outside, and a named pipe; the outside holds a secret.
    fn hostile_tree() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("home");
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join(".env"), "AWS_SECRET=outside\n").unwrap();
        let root = dir.path().join("tree");
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::write(root.join("src/app.py"), "print('inside')\n").unwrap();
        symlink(root.join("src"), root.join("lib")).unwrap();
        symlink("src", root.join("relative")).unwrap();
        symlink(&outside, root.join("out")).unwrap();
        symlink("../home", root.join("up")).unwrap();
        symlink(root.join("src/app.py"), root.join("app-link.py")).unwrap();
        symlink(outside.join(".env"), root.join(".env")).unwrap();
        nix::unistd::mkfifo(&root.join("pipe.py"), nix::sys::stat::Mode::S_IRWXU).unwrap();
        (dir, root)
    }

    /// What opening each of `names` gives: its text, or `None` when refused. The opens run
    /// on a thread, so an open that would block on the pipe fails the test instead of
    /// hanging it.
    fn opened(tree: Beneath, names: &[&'static str]) -> Vec<(&'static str, Option<String>)> {
        let names = names.to_vec();
        let (sent, got) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let texts = names
                .iter()
                .map(|name| (*name, tree.read_to_string(name, 1024).ok()))
                .collect::<Vec<_>>();
            let _ = sent.send(texts);
        });
        got.recv_timeout(Duration::from_secs(10))
            .expect("an open blocked: a named pipe must be refused at once")
    }

    const NAMES: [&str; 14] = [
        "src/app.py",
        "lib/app.py",
        "relative/app.py",
        "out/.env",
        "up/.env",
        "app-link.py",
        ".env",
        "pipe.py",
        "src",
        "../home/.env",
        "src/../../home/.env",
        "./src/app.py",
        "",
        "/etc/hostname",
    ];

    /// Every result is the file's text when `inside` names it, and none else.
    fn check(results: Vec<(&str, Option<String>)>, inside: &[&str]) {
        for (name, text) in results {
            if inside.contains(&name) {
                assert_eq!(text.as_deref(), Some("print('inside')\n"), "{name}");
            } else {
                assert_eq!(text, None, "{name} was read");
            }
        }
    }

    /// What `openat2` opens: a link with an absolute target is refused even when it points
    /// back into the tree (`lib`), as it would break in any other clone of the tree.
    const OPENED_BENEATH: [&str; 2] = ["src/app.py", "relative/app.py"];

    /// What the checked open opens: whatever resolves inside the tree.
    const OPENED_CHECKED: [&str; 3] = ["src/app.py", "lib/app.py", "relative/app.py"];

    #[test]
    fn only_the_trees_own_regular_files_are_opened() {
        let (_dir, root) = hostile_tree();
        let inside: &[&str] = if NO_OPENAT2.load(Ordering::Relaxed) {
            &OPENED_CHECKED
        } else {
            &OPENED_BENEATH
        };
        check(opened(Beneath::new(&root), &NAMES), inside);
        // and from a root given through a link, or with a trailing slash
        let linked = root.with_file_name("tree-link");
        symlink(&root, &linked).unwrap();
        check(opened(Beneath::new(&linked), &NAMES), inside);
        check(opened(Beneath::new(&root.join("")), &NAMES), inside);
    }

    #[test]
    fn where_openat2_is_missing_the_checked_open_refuses_what_leads_out() {
        let (_dir, root) = hostile_tree();
        let tree = Beneath::new(&root);
        let results: Vec<(&str, Option<String>)> = NAMES
            .iter()
            .filter(|name| **name != "pipe.py")
            .map(|name| {
                let text = plain(name)
                    .then(|| tree.open_checked(name).ok())
                    .flatten()
                    .filter(|file| file.metadata().is_ok_and(|m| m.is_file()))
                    .map(|mut file| {
                        let mut text = String::new();
                        file.read_to_string(&mut text).unwrap();
                        text
                    });
                (*name, text)
            })
            .collect();
        check(results, &OPENED_CHECKED);
        // the pipe: opened without blocking, then refused as not a regular file
        let pipe = tree.open_checked("pipe.py").unwrap();
        assert!(!pipe.metadata().unwrap().is_file());
    }

    #[test]
    fn a_file_over_the_limit_is_not_read_and_a_missing_tree_opens_nothing() {
        let (_dir, root) = hostile_tree();
        let tree = Beneath::new(&root);
        assert!(tree.read_to_string("src/app.py", 4).is_err());
        assert!(tree.read_to_string("src/app.py", 16).is_ok());
        let gone = Beneath::new(&root.join("no-such-folder"));
        assert!(gone.open("src/app.py").is_err());
    }
}
