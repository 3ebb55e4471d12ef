//! `depends_on`: which tasks are ready, which wait, and which are stuck in a cycle or on a
//! dependency that does not exist.

use std::collections::{BTreeMap, BTreeSet};

use super::{TaskId, TaskState};

/// What the dependency graph says about the queue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DepReport {
    /// Backlog tasks whose every dependency is completed and that sit in no cycle.
    pub ready: BTreeSet<TaskId>,
    /// Each cycle once, as the ids along it.
    pub cycles: Vec<Vec<TaskId>>,
    /// (task, the id it depends on that no file has).
    pub missing: Vec<(TaskId, TaskId)>,
}

/// Analyse `(id, state, depends_on)` for every task.
pub fn analyze<'a>(
    tasks: impl IntoIterator<Item = (TaskId, TaskState, &'a [TaskId])>,
) -> DepReport {
    let graph: BTreeMap<TaskId, (TaskState, &[TaskId])> =
        tasks.into_iter().map(|(i, s, d)| (i, (s, d))).collect();
    let mut report = DepReport::default();
    for (id, (_, deps)) in &graph {
        for dep in deps.iter().filter(|d| !graph.contains_key(d)) {
            report.missing.push((*id, *dep));
        }
    }
    report.cycles = find_cycles(&graph);
    let in_cycle: BTreeSet<TaskId> = report.cycles.iter().flatten().copied().collect();
    for (id, (state, deps)) in &graph {
        let deps_done = deps.iter().all(|d| {
            graph
                .get(d)
                .is_some_and(|(s, _)| *s == TaskState::Completed)
        });
        if *state == TaskState::Backlog && deps_done && !in_cycle.contains(id) {
            report.ready.insert(*id);
        }
    }
    report
}

fn find_cycles(graph: &BTreeMap<TaskId, (TaskState, &[TaskId])>) -> Vec<Vec<TaskId>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Visiting,
        Done,
    }
    let mut marks: BTreeMap<TaskId, Mark> = BTreeMap::new();
    let mut cycles = Vec::new();
    for start in graph.keys() {
        if marks.contains_key(start) {
            continue;
        }
        // iterative DFS: (node, index of the next dependency to visit)
        let mut stack: Vec<(TaskId, usize)> = vec![(*start, 0)];
        marks.insert(*start, Mark::Visiting);
        while let Some((node, next)) = stack.last_mut() {
            let deps = graph.get(node).map_or(&[][..], |(_, d)| *d);
            if let Some(dep) = deps.get(*next).copied() {
                *next += 1;
                match marks.get(&dep) {
                    None if graph.contains_key(&dep) => {
                        marks.insert(dep, Mark::Visiting);
                        stack.push((dep, 0));
                    }
                    Some(Mark::Visiting) => {
                        let from = stack.iter().position(|(n, _)| *n == dep).unwrap_or(0);
                        cycles.push(stack[from..].iter().map(|(n, _)| *n).collect());
                    }
                    _ => {}
                }
            } else {
                marks.insert(*node, Mark::Done);
                stack.pop();
            }
        }
    }
    cycles
}

#[cfg(test)]
mod tests {
    use super::*;
    use TaskState::*;

    fn t(n: u32) -> TaskId {
        TaskId::new(n)
    }

    #[test]
    fn ready_means_every_dependency_completed() {
        let deps2 = [t(1)];
        let deps3 = [t(2)];
        let r = analyze([
            (t(1), Completed, &[][..]),
            (t(2), Backlog, &deps2[..]),
            (t(3), Backlog, &deps3[..]),
        ]);
        assert_eq!(r.ready, BTreeSet::from([t(2)]));
        assert!(r.cycles.is_empty());
    }

    #[test]
    fn cycles_and_missing_dependencies_block() {
        let (a, b, c) = ([t(2)], [t(3)], [t(1)]);
        let m = [t(99)];
        let r = analyze([
            (t(1), Backlog, &a[..]),
            (t(2), Backlog, &b[..]),
            (t(3), Backlog, &c[..]),
            (t(4), Backlog, &m[..]),
            (t(5), Backlog, &[][..]),
        ]);
        assert_eq!(r.cycles, vec![vec![t(1), t(2), t(3)]]);
        assert_eq!(r.missing, vec![(t(4), t(99))]);
        assert_eq!(r.ready, BTreeSet::from([t(5)]));
    }
}
