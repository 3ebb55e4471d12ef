//! Every process a run started, found so it can be killed with the run.
//!
//! A process group is not enough: a grandchild that calls `setsid` leaves it, and one whose
//! parent exits is re-parented to init, out of reach of a walk from the child. So a run is
//! found three ways, and all of them are killed when it ends:
//!
//! - its process group (`killpg`);
//! - its descendants, walked through `/proc/<pid>/stat` while it runs (every
//!   [`super::CANCEL_CHECK`]) and again at the end — a process seen once is remembered with
//!   its start time, so an orphan is still killed and a reused pid never is;
//! - every process whose environment carries the run's marker ([`MARKER_ENV`]), which
//!   children inherit, so a double fork that orphans itself between two walks is still found.
//!
//! A hostile process that clears its environment and double-forks within one walk's
//! interval can still escape here; confinement ([`crate::sandbox`]: a PID namespace that
//! dies with the run) closes that, and this is what holds without it.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::Read;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

/// The environment variable that marks every process of one run.
pub const MARKER_ENV: &str = "DAYSHIFT_RUN";

/// A value of [`MARKER_ENV`] unique to one run of this process:
/// `<owner pid>.<owner start time>-<n>`, so [`kill_orphans`] can tell whether the dayshift
/// that started a process is still alive.
pub fn marker() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    format!("{}-{}", owner(), COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// `<pid>.<start time>` of this process.
fn owner() -> &'static str {
    static OWNER: OnceLock<String> = OnceLock::new();
    OWNER.get_or_init(|| {
        let pid = std::process::id() as i32;
        format!("{pid}.{}", stat(pid).map_or(0, |s| s.started))
    })
}

/// Kill every process left by a dayshift that is gone (a crash, a SIGKILL): it carries a
/// run marker whose owner no longer runs. Returns how many were killed. The work loop calls
/// this before resuming a task, so nothing from the interrupted attempt writes on into the
/// worktree the new one uses. Processes of a dayshift still running are left alone.
pub fn kill_orphans() -> usize {
    let all = all_processes();
    let alive = |owner: &str| {
        let Some((pid, started)) = owner.split_once('.') else {
            return false;
        };
        let (Ok(pid), Ok(started)) = (pid.parse::<i32>(), started.parse::<u64>()) else {
            return false;
        };
        all.get(&pid)
            .is_some_and(|s| s.started == started && !s.zombie)
    };
    let prefix = format!("{MARKER_ENV}=");
    let mut killed = 0;
    for (pid, s) in &all {
        if s.zombie {
            continue;
        }
        let Ok(env) = std::fs::read(format!("/proc/{pid}/environ")) else {
            continue;
        };
        let owner = env
            .split(|b| *b == 0)
            .filter_map(|var| std::str::from_utf8(var).ok()?.strip_prefix(&prefix))
            .find_map(|value| value.rsplit_once('-').map(|(owner, _)| owner.to_string()));
        if let Some(owner) = owner
            && !alive(&owner)
            && kill(Pid::from_raw(*pid), Signal::SIGKILL).is_ok()
        {
            killed += 1;
        }
    }
    killed
}

/// One line of `/proc/<pid>/stat`, the parts we need.
#[derive(Debug, Clone, Copy)]
struct Stat {
    /// A zombie: dead, waiting to be reaped; it cannot start anything.
    zombie: bool,
    ppid: i32,
    /// Clock ticks after boot: with the pid, it names one process (pids are reused).
    started: u64,
}

fn stat(pid: i32) -> Option<Stat> {
    // one open and one read: a walk reads this for every process on the machine, and the
    // fields needed come well within the buffer (a command name is at most 64 bytes)
    let mut line = [0u8; 1024];
    let read = File::open(format!("/proc/{pid}/stat"))
        .and_then(|mut file| file.read(&mut line))
        .ok()?;
    let text = std::str::from_utf8(&line[..read]).ok()?;
    // `pid (comm) state ppid …`; comm may hold spaces and parentheses
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(Stat {
        zombie: *fields.first()? == "Z",
        ppid: fields.get(1)?.parse().ok()?,
        started: fields.get(19)?.parse().ok()?,
    })
}

fn all_processes() -> BTreeMap<i32, Stat> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return BTreeMap::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| Some((pid, stat(pid)?)))
        .collect()
}

fn carries(pid: i32, marker: &[u8]) -> bool {
    std::fs::read(format!("/proc/{pid}/environ"))
        .is_ok_and(|env| env.split(|b| *b == 0).any(|var| var == marker))
}

/// The processes of one run.
pub struct Family {
    root: i32,
    /// `MARKER_ENV=<value>`, as it appears in `/proc/<pid>/environ`.
    marker: Vec<u8>,
    /// When the root started: nothing that started earlier can be of this run.
    since: u64,
    /// Every process seen in the run, with its start time.
    known: BTreeMap<i32, u64>,
}

impl Family {
    pub fn new(root: i32, marker: String) -> Self {
        let since = stat(root).map_or(0, |s| s.started);
        let mut known = BTreeMap::new();
        known.insert(root, since);
        Self {
            root,
            marker: format!("{MARKER_ENV}={marker}").into_bytes(),
            since,
            known,
        }
    }

    /// Remember the descendants of every process seen so far.
    pub fn collect(&mut self) {
        self.scan(false);
    }

    /// Scan /proc; add descendants (and, when `marked`, carriers of the marker). Returns
    /// whether anything new was found, and what the scan saw.
    fn scan(&mut self, marked: bool) -> (bool, BTreeMap<i32, Stat>) {
        let all = all_processes();
        let mut found = false;
        let alive: BTreeSet<i32> = self
            .known
            .iter()
            .filter(|(pid, started)| all.get(pid).is_some_and(|s| s.started == **started))
            .map(|(pid, _)| *pid)
            .collect();
        let mut parents = alive;
        loop {
            let children: Vec<(i32, u64)> = all
                .iter()
                .filter(|(pid, s)| parents.contains(&s.ppid) && !self.known.contains_key(pid))
                .map(|(pid, s)| (*pid, s.started))
                .collect();
            if children.is_empty() {
                break;
            }
            for (pid, started) in children {
                self.known.insert(pid, started);
                parents.insert(pid);
                found = true;
            }
        }
        if marked {
            for (pid, s) in &all {
                if s.started >= self.since
                    && !self.known.contains_key(pid)
                    && carries(*pid, &self.marker)
                {
                    self.known.insert(*pid, s.started);
                    found = true;
                }
            }
        }
        (found, all)
    }

    /// SIGKILL the group and every process of the run, until a scan finds nothing new and
    /// nothing living (one scan in the usual case: the run left nothing behind). A process
    /// that forked between a scan and its kill is found by the next scan.
    pub fn kill_all(&mut self) {
        let _ = killpg(Pid::from_raw(self.root), Signal::SIGKILL);
        for _ in 0..10 {
            let (found, all) = self.scan(true);
            let mut killed = false;
            for (pid, started) in &self.known {
                if all
                    .get(pid)
                    .is_some_and(|s| s.started == *started && !s.zombie)
                {
                    let _ = kill(Pid::from_raw(*pid), Signal::SIGKILL);
                    killed = true;
                }
            }
            if !found && !killed {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_process_is_read_from_proc_whatever_its_name_holds() {
        let dir = tempfile::tempdir().unwrap();
        let program = dir.path().join("x) (y z");
        std::fs::copy("/bin/sleep", &program).unwrap();
        let mut child =
            super::super::spawn(std::process::Command::new(&program).arg("30")).unwrap();
        let read = stat(child.id() as i32);
        let _ = child.kill();
        let _ = child.wait();
        let read = read.expect("the child's stat");
        let me = stat(std::process::id() as i32).expect("this process's stat");
        assert_eq!(read.ppid, std::process::id() as i32);
        assert!(!read.zombie);
        assert!(read.started >= me.started && me.started > 0);
        assert!(stat(i32::MAX).is_none());
    }
}
