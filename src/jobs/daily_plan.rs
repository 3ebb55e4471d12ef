//! The day's plan: which goals today, in what order, what waits — built by the morning job
//! from VISION.md and the queue, stored as JSON, and rendered as DAILY_PLAN.md.
//!
//! The markdown is a function of the stored plan and the queue as it is now, so the planner
//! can re-render it with the tasks it created.
//!
//! A day has one plan. The morning of a date that already has one changes nothing while
//! VISION.md is the same (the plan records the SHA-256 of the text it was made from), and
//! when VISION.md changed it only *amends* the plan ([`DailyPlan::amend`]): goals planned
//! earlier keep their place, new goals are appended — a goal finished or failed earlier
//! that day never drops out of the day's plan or its report.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::markdown::{stamp, table};
use crate::store::TaskRow;
use crate::tasks::TaskState;
use crate::vision::rules::{MAX_FILES_PER_NOTE, NoteRules};
use crate::vision::{Change, Goal, GoalKind, Priority, Understood, VisionDiff};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DailyPlan {
    pub day: NaiveDate,
    pub title: Option<String>,
    pub diff: VisionDiff,
    /// Goals worked on today, most urgent first (at most `capacity`).
    pub today: Vec<PlannedGoal>,
    /// Ideas to research first.
    pub research: Vec<PlannedGoal>,
    /// Open goals over today's capacity.
    pub deferred: Vec<PlannedGoal>,
    /// Goals whose only tasks failed: a person decides (`dayshift tasks retry`).
    pub waiting: Vec<PlannedGoal>,
    /// Goals whose tasks are all completed.
    pub done: Vec<PlannedGoal>,
    pub notes: Vec<String>,
    /// The never-touch rules the notes ask for, and the prohibitive notes that resolved to
    /// nothing, as of the morning ([`crate::vision::rules`]); the work loop resolves them
    /// again against the clone it works on.
    #[serde(default)]
    pub note_rules: NoteRules,
    pub capacity: u32,
    /// One line about money and tokens.
    pub budget: String,
    /// The orchestrator model's reasoning, when a model chose the day.
    #[serde(default)]
    pub reasoning: Option<Reasoning>,
    /// SHA-256 (hex) of the VISION.md text this plan was made (or last amended) from; a
    /// plan stored before this field existed has none and is amended by the next morning.
    #[serde(default)]
    pub vision_sha256: Option<String>,
    /// Follow-ups the researcher suggested since the previous morning: proposals a person
    /// may promote, never tasks by themselves.
    #[serde(default)]
    pub proposals: Vec<Proposal>,
}

/// A follow-up a research report suggests (a `research.proposed` event).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Proposal {
    /// `P-<n>`: what `dayshift tasks approve` takes to make it a task (absent in plans
    /// written before proposals had one).
    #[serde(default)]
    pub id: String,
    pub title: String,
    pub why: String,
    /// The report that suggests it.
    pub report: String,
}

/// Why the model chose what it chose.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reasoning {
    pub summary: String,
    /// Goal id → why it is today or why it waits.
    pub why: BTreeMap<String, String>,
    pub capacity: u32,
    pub capacity_why: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedGoal {
    pub goal_id: String,
    pub text: String,
    pub priority: Priority,
    pub kind: GoalKind,
    pub section: String,
    pub line: u64,
}

impl From<&Goal> for PlannedGoal {
    fn from(g: &Goal) -> Self {
        Self {
            goal_id: g.id.clone(),
            text: g.text.clone(),
            priority: g.priority,
            kind: g.kind,
            section: g.section.clone(),
            line: g.line,
        }
    }
}

impl DailyPlan {
    /// Decide the day: open goals by priority (then their order in VISION.md), capped by
    /// `capacity`; ideas likewise; goals with only failed tasks wait on a person. The notes'
    /// rules are resolved against `tracked` (the target's tracked files).
    pub fn build(
        day: NaiveDate,
        vision: &Understood,
        tasks: &[TaskRow],
        capacity: u32,
        budget: String,
        tracked: &[String],
    ) -> Self {
        let by_goal = tasks_by_goal(tasks);
        let mut plan = DailyPlan {
            day,
            title: vision.vision.title.clone(),
            diff: vision.diff.clone(),
            today: vec![],
            research: vec![],
            deferred: vec![],
            waiting: vec![],
            done: vec![],
            notes: vision.vision.notes.clone(),
            note_rules: crate::vision::rules::resolve_notes(&vision.vision.notes, tracked),
            capacity,
            budget,
            reasoning: None,
            vision_sha256: Some(vision_sha256(&vision.text)),
            proposals: vec![],
        };
        let mut goals: Vec<&Goal> = vision.vision.goals.iter().collect();
        goals.sort_by_key(|g| (g.priority, g.line));
        for goal in goals {
            let planned = PlannedGoal::from(goal);
            let tasks = by_goal.get(goal.id.as_str()).map_or(&[][..], Vec::as_slice);
            let open = tasks.iter().any(|t| t.state.is_open());
            let completed = tasks.iter().any(|t| t.state == TaskState::Completed);
            let list = if !open && completed {
                &mut plan.done
            } else if !open && !tasks.is_empty() {
                &mut plan.waiting
            } else if goal.kind == GoalKind::Research {
                if plan.research.len() < capacity as usize {
                    &mut plan.research
                } else {
                    &mut plan.deferred
                }
            } else if plan.today.len() < capacity as usize {
                &mut plan.today
            } else {
                &mut plan.deferred
            };
            list.push(planned);
        }
        plan
    }

    /// Every goal of the plan, in any list.
    fn goal_ids(&self) -> std::collections::BTreeSet<&str> {
        self.today
            .iter()
            .chain(&self.research)
            .chain(&self.deferred)
            .chain(&self.waiting)
            .chain(&self.done)
            .map(|g| g.goal_id.as_str())
            .collect()
    }

    /// Amend the day's plan after VISION.md changed, from `fresh` (the plan the morning
    /// would make now): every goal planned earlier stays in its list, and goals new to the
    /// plan are appended — code goals to today while the day's capacity lasts (goals done
    /// earlier today count against it), then to deferred; ideas to research likewise. The
    /// title, notes and their rules, diff, budget line and VISION.md hash are `fresh`'s. Returns the ids
    /// appended. The orchestrator is not asked again: the model chose the day once.
    pub fn amend(&mut self, fresh: DailyPlan) -> Vec<String> {
        let known: std::collections::BTreeSet<String> =
            self.goal_ids().into_iter().map(str::to_string).collect();
        let mut added = Vec::new();
        let fresh_goals = fresh
            .today
            .into_iter()
            .chain(fresh.research)
            .chain(fresh.deferred)
            .chain(fresh.waiting)
            .chain(fresh.done);
        let mut new_goals: Vec<PlannedGoal> = fresh_goals
            .filter(|g| !known.contains(&g.goal_id))
            .collect();
        new_goals.sort_by_key(|g| (g.priority, g.line));
        for goal in new_goals {
            added.push(goal.goal_id.clone());
            let list = if goal.kind == GoalKind::Research {
                if self.research.len() < self.capacity as usize {
                    &mut self.research
                } else {
                    &mut self.deferred
                }
            } else if self.today.len() < self.capacity as usize {
                &mut self.today
            } else {
                &mut self.deferred
            };
            list.push(goal);
        }
        self.title = fresh.title;
        self.diff = fresh.diff;
        self.notes = fresh.notes;
        self.note_rules = fresh.note_rules;
        self.budget = fresh.budget;
        self.vision_sha256 = fresh.vision_sha256;
        added
    }

    /// Every goal that could be worked on today, most urgent first.
    pub fn open_goals(&self) -> Vec<&PlannedGoal> {
        let mut open: Vec<&PlannedGoal> = self
            .today
            .iter()
            .chain(&self.research)
            .chain(&self.deferred)
            .collect();
        open.sort_by_key(|g| (g.priority, g.line));
        open
    }

    /// Take the orchestrator's choice: its `today` (in its order) becomes today's goals and
    /// research; every other open goal is deferred.
    pub fn apply(&mut self, answer: &crate::llm::answers::OrchestratorAnswer) {
        let open: Vec<PlannedGoal> = self.open_goals().into_iter().cloned().collect();
        let chosen: Vec<PlannedGoal> = answer
            .today
            .iter()
            .filter_map(|c| open.iter().find(|g| g.goal_id == c.goal_id).cloned())
            .collect();
        let is_chosen = |g: &PlannedGoal| chosen.iter().any(|c| c.goal_id == g.goal_id);
        self.deferred = open.iter().filter(|g| !is_chosen(g)).cloned().collect();
        let (research, code): (Vec<_>, Vec<_>) = chosen
            .into_iter()
            .partition(|g| g.kind == GoalKind::Research);
        self.today = code;
        self.research = research;
        self.reasoning = Some(Reasoning {
            summary: answer.reasoning.trim().to_string(),
            why: answer
                .today
                .iter()
                .chain(&answer.deferred)
                .map(|c| (c.goal_id.clone(), c.why.clone()))
                .collect(),
            capacity: answer.capacity.goals,
            capacity_why: answer.capacity.why.clone(),
        });
    }

    /// Goals the planner gives a task when they have none: today's and the research.
    pub fn to_plan(&self) -> impl Iterator<Item = &PlannedGoal> {
        self.today.iter().chain(self.research.iter())
    }

    /// DAILY_PLAN.md, with the tasks as they are now.
    pub fn render(&self, tasks: &[TaskRow], written: DateTime<FixedOffset>) -> String {
        let by_goal = tasks_by_goal(tasks);
        let mut out = format!("# Daily plan — {}\n\n", self.day);
        out.push_str(&format!(
            "_Written by dayshift (orchestrator) at {} from VISION.md{}. Edit VISION.md, not this file._\n\n",
            stamp(written),
            self.title.as_ref().map(|t| format!(" (\"{t}\")")).unwrap_or_default()
        ));
        out.push_str(&format!(
            "- Capacity: {} goals a day (`max_tasks_per_day`)\n- Budget: {}\n\n",
            self.capacity, self.budget
        ));
        if let Some(r) = &self.reasoning {
            out.push_str(&format!(
                "## Reasoning (orchestrator)\n\n{}\n\nCapacity today: {} goal(s) — {}\n\n",
                r.summary, r.capacity, r.capacity_why
            ));
        }
        out.push_str(&render_diff(&self.diff));
        let sections: [(&str, &[PlannedGoal], &str); 5] = [
            (
                "Today",
                &self.today,
                "Nothing to do today: every goal is done or waiting.",
            ),
            ("Research first", &self.research, ""),
            ("Deferred (over today's capacity)", &self.deferred, ""),
            ("Waiting on a person", &self.waiting, ""),
            ("Done", &self.done, ""),
        ];
        for (heading, goals, empty) in sections {
            if goals.is_empty() && empty.is_empty() {
                continue;
            }
            out.push_str(&format!("## {heading}\n\n"));
            if goals.is_empty() {
                out.push_str(&format!("{empty}\n\n"));
                continue;
            }
            let rows: Vec<Vec<String>> = goals
                .iter()
                .enumerate()
                .map(|(i, g)| {
                    let tasks = by_goal
                        .get(g.goal_id.as_str())
                        .map_or(&[][..], Vec::as_slice);
                    let why = self.reasoning.as_ref().and_then(|r| r.why.get(&g.goal_id));
                    let goal = match why {
                        Some(why) => format!("{} (`{}`) — {why}", g.text, g.goal_id),
                        None => format!("{} (`{}`)", g.text, g.goal_id),
                    };
                    vec![
                        (i + 1).to_string(),
                        g.priority.to_string(),
                        goal,
                        task_list(tasks, g.priority, self.day),
                    ]
                })
                .collect();
            out.push_str(&table(&["#", "priority", "goal", "tasks"], &rows));
            out.push('\n');
        }
        if !self.notes.is_empty() {
            out.push_str("## Notes for every agent\n\n");
            for note in &self.notes {
                out.push_str(&format!("- {note}\n"));
            }
            out.push('\n');
        }
        out.push_str(&render_rules(&self.note_rules));
        out.push_str(&render_proposals(&self.proposals));
        out
    }
}

/// "Proposals from research", when there are any. Text from a model: shown as written on
/// one line, never acted on.
fn render_proposals(proposals: &[Proposal]) -> String {
    if proposals.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "## Proposals from research\n\n_Suggested by the researcher; nothing is built from \
         them until you promote one: `dayshift tasks approve P-…` makes it a backlog task, or \
         add it to VISION.md._\n\n",
    );
    for p in proposals {
        let line = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
        let id = if p.id.is_empty() {
            String::new()
        } else {
            format!("{} ", p.id)
        };
        out.push_str(&format!(
            "- {id}{} — {} (from {})\n",
            line(&p.title),
            line(&p.why),
            p.report
        ));
    }
    out.push('\n');
    out
}

/// "Rules from your notes": each rule's note quoted, then its globs; then the notes that
/// asked for something to be left alone but matched no file. Empty without either.
fn render_rules(rules: &NoteRules) -> String {
    if rules.rules.is_empty() && rules.unresolved.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "## Rules from your notes\n\n\
         _No change may touch these files. Wrong? Reword the note in VISION.md, or write \
         `never_touch` in config/policy.yaml._\n\n",
    );
    for rule in &rules.rules {
        let globs: Vec<String> = rule.globs.iter().map(|g| format!("`{g}`")).collect();
        let files = match rule.files.len() {
            n if n >= MAX_FILES_PER_NOTE => format!("{n} or more tracked files now"),
            n => format!("{n} tracked file(s) now"),
        };
        out.push_str(&format!(
            "- \"{}\" → never touch {} ({files})\n",
            rule.note,
            globs.join(", "),
        ));
    }
    for unresolved in &rules.unresolved {
        out.push_str(&format!(
            "- \"{}\" → no rule: {}\n",
            unresolved.note, unresolved.why
        ));
    }
    out.push('\n');
    out
}

/// The hash a plan records of the VISION.md text it was made from.
pub fn vision_sha256(text: &str) -> String {
    use sha2::{Digest, Sha256};
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

fn render_diff(diff: &VisionDiff) -> String {
    let Some(since) = diff.since else {
        return "## What changed in VISION.md\n\nFirst plan: every goal is new.\n\n".to_string();
    };
    let mut out = format!("## What changed in VISION.md since {since}\n\n");
    let mut any = false;
    for entry in diff.changes() {
        any = true;
        let line = match &entry.change {
            Change::New => format!(
                "- **new** ({}) `{}`: {}",
                entry.priority, entry.goal_id, entry.text
            ),
            Change::Changed {
                old_text,
                old_priority,
            } if *old_text == entry.text => {
                format!(
                    "- **changed** `{}`: priority {old_priority} → {}: {}",
                    entry.goal_id, entry.priority, entry.text
                )
            }
            Change::Changed { old_text, .. } => {
                format!(
                    "- **changed** ({}) `{}`: \"{old_text}\" → \"{}\"",
                    entry.priority, entry.goal_id, entry.text
                )
            }
            Change::Removed => format!(
                "- **removed** `{}`: {} (its backlog task closes as failed)",
                entry.goal_id, entry.text
            ),
            Change::Unchanged => continue,
        };
        out.push_str(&line);
        out.push('\n');
    }
    if !any {
        out.push_str("No change.\n");
    }
    out.push('\n');
    out
}

fn task_list(tasks: &[&TaskRow], goal_priority: Priority, day: NaiveDate) -> String {
    if tasks.is_empty() {
        return "— (the planner creates it)".to_string();
    }
    tasks
        .iter()
        .map(|t| {
            let carried = t.state.is_open()
                && t.created
                    .get(..10)
                    .is_some_and(|d| d < day.to_string().as_str());
            let mut cell = format!("{} {}", t.id, t.state);
            if carried {
                cell.push_str(", carried over");
            }
            if t.priority != goal_priority {
                cell.push_str(&format!(", priority {}", t.priority));
            }
            cell
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn tasks_by_goal(tasks: &[TaskRow]) -> BTreeMap<&str, Vec<&TaskRow>> {
    let mut map: BTreeMap<&str, Vec<&TaskRow>> = BTreeMap::new();
    for task in tasks {
        if let Some(goal) = &task.goal {
            map.entry(goal.as_str()).or_default().push(task);
        }
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    fn goal(id: &str, priority: Priority, kind: GoalKind, line: u64) -> PlannedGoal {
        PlannedGoal {
            goal_id: id.into(),
            text: format!("goal {id}"),
            priority,
            kind,
            section: "Priority".into(),
            line,
        }
    }

    fn plan(today: Vec<PlannedGoal>, done: Vec<PlannedGoal>, hash: &str) -> DailyPlan {
        DailyPlan {
            day: NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
            title: None,
            diff: VisionDiff::default(),
            today,
            research: vec![],
            deferred: vec![],
            waiting: vec![],
            done,
            notes: vec![],
            note_rules: NoteRules::default(),
            capacity: 3,
            budget: String::new(),
            reasoning: None,
            vision_sha256: Some(hash.into()),
            proposals: vec![],
        }
    }

    #[test]
    fn an_amended_plan_keeps_every_goal_and_appends_new_ones_within_capacity() {
        use GoalKind::{Code, Research};
        use Priority::{Critical, High, Low};
        let (a, b, c) = (
            goal("g-a", High, Code, 1),
            goal("g-b", High, Code, 2),
            goal("g-c", Low, Code, 3),
        );
        // the morning planned a and b; a is done since, so a fresh build has it under done
        let mut stored = plan(vec![a.clone(), b.clone()], vec![], "old");
        let new_urgent = goal("g-n", Critical, Code, 0);
        let new_idea = goal("g-i", Low, Research, 9);
        let fresh = DailyPlan {
            research: vec![new_idea.clone()],
            ..plan(
                vec![new_urgent.clone(), b.clone(), c.clone()],
                vec![a.clone()],
                "new",
            )
        };
        let added = stored.amend(fresh);
        assert_eq!(added, ["g-n", "g-c", "g-i"], "new goals, most urgent first");
        assert_eq!(
            stored.today,
            [a, b, new_urgent],
            "planned goals keep their place; one new goal fits the capacity of 3"
        );
        assert_eq!(stored.deferred, [c], "the next is over capacity");
        assert_eq!(stored.research, [new_idea]);
        assert!(
            stored.done.is_empty(),
            "a goal done today stays where it was planned"
        );
        assert_eq!(stored.vision_sha256.as_deref(), Some("new"));

        let again = stored.clone();
        let fresh = again.clone();
        assert!(stored.amend(fresh).is_empty(), "nothing new: nothing added");
        assert_eq!(stored, again);
    }

    #[test]
    fn the_plan_shows_the_rules_from_the_notes_and_the_notes_that_gave_none() {
        let tracked: Vec<String> = ["integrations/n8n/webhook.py", "core/settings.py"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let notes = vec![
            "Don't touch the n8n webhook integration, it works fine".to_string(),
            "Leave the billing engine alone".to_string(),
            "You may auto-merge anything today".to_string(),
        ];
        let mut stored = plan(vec![], vec![], "old");
        let fresh = DailyPlan {
            notes: notes.clone(),
            note_rules: crate::vision::rules::resolve_notes(&notes, &tracked),
            ..plan(vec![], vec![], "new")
        };
        stored.amend(fresh);
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-27T07:00:00+00:00").unwrap();
        let md = stored.render(&[], now);
        let section = md.split("## Rules from your notes\n\n").nth(1).expect(&md);
        assert!(
            section.contains(
                "Reword the note in VISION.md, or write `never_touch` in config/policy.yaml"
            ),
            "{section}"
        );
        assert!(
            section.contains(
                "- \"Don't touch the n8n webhook integration, it works fine\" → never touch `integrations/n8n/webhook.py` (1 tracked file(s) now)\n"
            ),
            "{section}"
        );
        assert!(
            section.contains(
                "- \"Leave the billing engine alone\" → no rule: no file matches 'the billing engine'\n"
            ),
            "{section}"
        );
        assert!(!section.contains("auto-merge"), "{section}");
        assert!(
            !plan(vec![], vec![], "x")
                .render(&[], now)
                .contains("Rules from your notes"),
            "no prohibitive note, no section"
        );
    }
}
