//! Work spread over the machine's cores: the scan's analyzers, its built-in layers, its
//! parsers and its last reads all use these, so "as many threads as cores" is said once.

use std::num::NonZeroUsize;
use std::sync::OnceLock;

/// How many threads run at once: the cores this process may use (its CPU quota and
/// affinity count), read once.
pub fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, NonZeroUsize::get))
}

/// Lower the calling thread's priority below the tools' processes (its nice value + 10,
/// at most 19; threads it starts inherit it): the scan's own work takes the cores the
/// tools leave, so a tool's start and its busiest part never wait for it. It cannot be
/// undone (raising a priority needs privileges): only a thread that ends with its work
/// calls this.
pub fn yield_to_tools() {
    // SAFETY: nice(3) changes the calling thread's priority (a per-thread attribute on
    // Linux) and touches no memory; where it is refused, the work runs as it was.
    unsafe {
        nix::libc::nice(10);
    }
}

/// `f` of each item, a chunk of items per core, in the items' order. The items of a
/// chunk whose thread panicked give `lost(item)`: one bad input costs its own result,
/// not the others'.
pub fn map<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&T) -> R + Sync,
    lost: impl Fn(&T) -> R,
) -> Vec<R> {
    let threads = cores().min(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let per_thread = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(per_thread)
            .map(|chunk| (chunk, scope.spawn(move || chunk.iter().map(f).collect())))
            .collect();
        handles
            .into_iter()
            .flat_map(|(chunk, handle)| {
                handle
                    .join()
                    .unwrap_or_else(|_| chunk.iter().map(&lost).collect::<Vec<R>>())
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_that_yields_to_the_tools_runs_below_them_and_alone() {
        // SAFETY: getpriority reads the calling thread's nice value (errno is not needed:
        // 0 and 10 are the answers this test expects).
        let nice = || unsafe { nix::libc::getpriority(nix::libc::PRIO_PROCESS, 0) };
        let before = nice();
        let yielded = std::thread::spawn(move || {
            yield_to_tools();
            let own = nice();
            let started = std::thread::spawn(nice).join().unwrap();
            (own, started)
        })
        .join()
        .unwrap();
        let below = (before + 10).min(19);
        assert_eq!(yielded, (below, below));
        assert_eq!(
            nice(),
            before,
            "the calling thread's priority changed elsewhere"
        );
    }

    #[test]
    fn results_keep_the_items_order() {
        let items: Vec<u32> = (0..1000).collect();
        let doubled = map(&items, |n| n * 2, |_| u32::MAX);
        assert_eq!(doubled, items.iter().map(|n| n * 2).collect::<Vec<_>>());
        assert!(map(&[] as &[u32], |n| *n, |_| 0).is_empty());
    }

    #[test]
    fn a_panic_costs_only_the_items_of_its_chunk() {
        let items: Vec<u32> = (0..100).collect();
        let found = map(
            &items,
            |&n| {
                assert!(n != 99, "an input this test makes fail");
                n + 1
            },
            |_| 0,
        );
        assert_eq!(found.len(), 100);
        assert_eq!(found[99], 0, "the failing item's chunk is lost");
        if cores() > 1 {
            assert_eq!(found[0], 1, "the first chunk is kept");
        }
    }
}
