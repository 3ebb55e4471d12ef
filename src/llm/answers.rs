//! The shapes the orchestrator and the planner must answer in, and the rules each answer
//! must pass before dayshift uses it. Model output is data: it can pick among the goals it
//! was shown and describe tasks, nothing more (ids, paths and sizes are checked here).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path};

use serde::{Deserialize, Serialize};

use crate::tasks::{Difficulty, TaskKind};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrchestratorAnswer {
    pub reasoning: String,
    pub today: Vec<GoalChoice>,
    #[serde(default)]
    pub deferred: Vec<GoalChoice>,
    pub capacity: Capacity,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoalChoice {
    pub goal_id: String,
    pub why: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capacity {
    pub goals: u32,
    pub why: String,
}

impl OrchestratorAnswer {
    /// Only open goals, each once; no more than `max_goals` today.
    pub fn check(&self, open_goals: &BTreeSet<String>, max_goals: u32) -> Result<(), String> {
        if self.reasoning.trim().is_empty() {
            return Err("`reasoning` is empty".into());
        }
        let mut seen = BTreeSet::new();
        for choice in self.today.iter().chain(&self.deferred) {
            if !open_goals.contains(&choice.goal_id) {
                return Err(format!(
                    "`{}` is not one of the open goals listed",
                    choice.goal_id
                ));
            }
            if !seen.insert(&choice.goal_id) {
                return Err(format!("`{}` appears more than once", choice.goal_id));
            }
        }
        if self.today.len() > max_goals as usize {
            return Err(format!(
                "`today` has {} goals; at most {max_goals} are allowed",
                self.today.len()
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannerAnswer {
    pub tasks: Vec<PlannedTask>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannedTask {
    pub key: String,
    pub title: String,
    #[serde(default = "code")]
    pub kind: TaskKind,
    pub description: String,
    #[serde(default)]
    pub files: Vec<String>,
    pub acceptance: Vec<String>,
    #[serde(default)]
    pub difficulty: Option<Difficulty>,
    #[serde(default)]
    pub depends_on: Vec<String>,
}

fn code() -> TaskKind {
    TaskKind::Code
}

impl PlannerAnswer {
    /// 1..=`max_tasks` tasks, unique keys, dependencies on keys of this answer without a
    /// cycle, titles and acceptance present, files relative and inside the repository, and
    /// no title that repeats an open task (`open_titles`).
    pub fn check(&self, max_tasks: usize, open_titles: &[String]) -> Result<(), String> {
        let same = |a: &str, b: &str| {
            crate::vision::identity::normalize(a) == crate::vision::identity::normalize(b)
        };
        if let Some(t) = self
            .tasks
            .iter()
            .find(|t| open_titles.iter().any(|o| same(o, &t.title)))
        {
            return Err(format!(
                "task `{}` repeats the open task \"{}\"; leave it out",
                t.key, t.title
            ));
        }
        if self.tasks.is_empty() || self.tasks.len() > max_tasks {
            return Err(format!(
                "give between 1 and {max_tasks} tasks, not {}",
                self.tasks.len()
            ));
        }
        let keys: BTreeSet<&str> = self.tasks.iter().map(|t| t.key.as_str()).collect();
        if keys.len() != self.tasks.len() {
            return Err("two tasks share a `key`".into());
        }
        for t in &self.tasks {
            if t.title.trim().is_empty() || t.title.chars().count() > 120 {
                return Err(format!(
                    "task `{}`: the title must be 1 to 120 characters",
                    t.key
                ));
            }
            if t.acceptance.iter().all(|a| a.trim().is_empty()) {
                return Err(format!(
                    "task `{}`: give at least one acceptance check",
                    t.key
                ));
            }
            if let Some(f) = t.files.iter().find(|f| !is_inside(f)) {
                return Err(format!(
                    "task `{}`: `{f}` is not a relative path inside the repository",
                    t.key
                ));
            }
            if let Some(d) = t.depends_on.iter().find(|d| !keys.contains(d.as_str())) {
                return Err(format!(
                    "task `{}` depends on `{d}`, which is not a key in this answer",
                    t.key
                ));
            }
        }
        if let Some(cycle) = self.cycle() {
            return Err(format!(
                "the dependencies form a cycle: {}",
                cycle.join(" → ")
            ));
        }
        Ok(())
    }

    /// The tasks in an order where every dependency comes first (checked acyclic).
    pub fn in_dependency_order(&self) -> Vec<&PlannedTask> {
        let mut done: BTreeSet<&str> = BTreeSet::new();
        let mut ordered = Vec::with_capacity(self.tasks.len());
        while ordered.len() < self.tasks.len() {
            let before = ordered.len();
            for t in &self.tasks {
                if !done.contains(t.key.as_str())
                    && t.depends_on.iter().all(|d| done.contains(d.as_str()))
                {
                    done.insert(&t.key);
                    ordered.push(t);
                }
            }
            if ordered.len() == before {
                break; // a cycle: `check` refuses those
            }
        }
        ordered
    }

    fn cycle(&self) -> Option<Vec<String>> {
        let deps: BTreeMap<&str, &[String]> = self
            .tasks
            .iter()
            .map(|t| (t.key.as_str(), t.depends_on.as_slice()))
            .collect();
        let ordered = self.in_dependency_order();
        if ordered.len() == self.tasks.len() {
            return None;
        }
        let placed: BTreeSet<&str> = ordered.iter().map(|t| t.key.as_str()).collect();
        let mut path: Vec<String> = Vec::new();
        let mut at = deps.keys().find(|k| !placed.contains(*k)).copied()?;
        while !path.iter().any(|p| p == at) {
            path.push(at.to_string());
            at = deps[at]
                .iter()
                .map(String::as_str)
                .find(|d| !placed.contains(d))?;
        }
        let from = path.iter().position(|p| p == at).unwrap_or(0);
        let mut cycle = path[from..].to_vec();
        cycle.push(at.to_string());
        Some(cycle)
    }
}

fn is_inside(path: &str) -> bool {
    let p = Path::new(path);
    !path.trim().is_empty()
        && p.is_relative()
        && p.components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(key: &str, deps: &[&str]) -> PlannedTask {
        PlannedTask {
            key: key.into(),
            title: format!("Task {key}"),
            kind: TaskKind::Code,
            description: "d".into(),
            files: vec!["src/a.rs".into()],
            acceptance: vec!["tests pass".into()],
            difficulty: None,
            depends_on: deps.iter().map(|d| d.to_string()).collect(),
        }
    }

    #[test]
    fn orchestrator_may_pick_only_open_goals_once_within_the_cap() {
        let open: BTreeSet<String> = ["g-aaaaaa", "g-bbbbbb"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let choice = |g: &str| GoalChoice {
            goal_id: g.into(),
            why: "w".into(),
        };
        let mut a = OrchestratorAnswer {
            reasoning: "r".into(),
            today: vec![choice("g-aaaaaa")],
            deferred: vec![choice("g-bbbbbb")],
            capacity: Capacity {
                goals: 1,
                why: "w".into(),
            },
        };
        assert_eq!(a.check(&open, 1), Ok(()));
        a.today.push(choice("g-cccccc"));
        assert!(
            a.check(&open, 5)
                .unwrap_err()
                .contains("not one of the open goals")
        );
        a.today[1] = choice("g-bbbbbb");
        assert!(a.check(&open, 5).unwrap_err().contains("more than once"));
        a.deferred.clear();
        assert!(a.check(&open, 1).unwrap_err().contains("at most 1"));
    }

    #[test]
    fn planner_tasks_are_checked() {
        let ok = PlannerAnswer {
            tasks: vec![task("a", &[]), task("b", &["a"])],
        };
        assert_eq!(ok.check(5, &[]), Ok(()));
        assert_eq!(
            ok.in_dependency_order()
                .iter()
                .map(|t| t.key.as_str())
                .collect::<Vec<_>>(),
            ["a", "b"]
        );
        let cyc = PlannerAnswer {
            tasks: vec![task("a", &["b"]), task("b", &["a"])],
        };
        assert!(
            cyc.check(5, &[]).unwrap_err().contains("cycle"),
            "{:?}",
            cyc.check(5, &[])
        );
        let missing = PlannerAnswer {
            tasks: vec![task("a", &["z"])],
        };
        assert!(missing.check(5, &[]).unwrap_err().contains("`z`"));
        let mut escape = task("a", &[]);
        escape.files = vec!["../etc/passwd".into()];
        assert!(
            PlannerAnswer {
                tasks: vec![escape]
            }
            .check(5, &[])
            .unwrap_err()
            .contains("inside the repository")
        );
        assert!(PlannerAnswer { tasks: vec![] }.check(5, &[]).is_err());
        let open = vec!["task  A!".to_string()];
        assert!(
            PlannerAnswer {
                tasks: vec![task("a", &[])]
            }
            .check(5, &open)
            .unwrap_err()
            .contains("repeats the open task")
        );
        assert!(
            PlannerAnswer {
                tasks: vec![task("a", &[]), task("b", &[])]
            }
            .check(1, &[])
            .is_err()
        );
    }
}
