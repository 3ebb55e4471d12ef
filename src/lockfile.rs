//! Advisory file locks (flock). The kernel drops a lock when its holder dies, so a lock
//! left by a crashed or killed process is never stale: the next taker simply gets it.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

/// An exclusive lock held until dropped.
#[derive(Debug)]
pub struct FileLock {
    _lock: Flock<File>,
}

impl FileLock {
    /// Wait until the lock is ours.
    pub fn acquire(path: &Path) -> io::Result<Self> {
        Self::take(path, FlockArg::LockExclusive)?.ok_or_else(|| io::Error::other("lock not taken"))
    }

    /// Take the lock if it is free right now; `None` when someone else holds it.
    pub fn try_acquire(path: &Path) -> io::Result<Option<Self>> {
        Self::take(path, FlockArg::LockExclusiveNonblock)
    }

    fn take(path: &Path, arg: FlockArg) -> io::Result<Option<Self>> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(path)?;
        match Flock::lock(file, arg) {
            Ok(lock) => Ok(Some(Self { _lock: lock })),
            Err((_, Errno::EWOULDBLOCK)) => Ok(None),
            Err((_, errno)) => Err(io::Error::from(errno)),
        }
    }
}

/// True when some process holds the lock at `path` right now.
pub fn is_held(path: &Path) -> bool {
    matches!(FileLock::try_acquire(path), Ok(None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_taker_is_refused_until_the_first_drops() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lock");
        let first = FileLock::try_acquire(&path).unwrap().unwrap();
        assert!(FileLock::try_acquire(&path).unwrap().is_none());
        assert!(is_held(&path));
        drop(first);
        assert!(FileLock::try_acquire(&path).unwrap().is_some());
    }
}
