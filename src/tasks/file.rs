//! One task file: YAML front matter between `---` lines, then a markdown body whose last
//! section is `## Log`. Parsing reports problems with the file and line; rendering keeps a
//! person's own front matter text untouched unless a field actually changed.

use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use super::id::TaskId;
use super::{Approval, Difficulty, Risk, TaskKind, TaskState};
use crate::config::yaml;
use crate::problem::{At, FileProblem};
use crate::vision::Priority;

/// The front matter of a task file (DESIGN §4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskMeta {
    pub id: TaskId,
    pub title: String,
    pub priority: Priority,
    /// The VISION goal it serves.
    #[serde(default)]
    pub goal: Option<String>,
    /// Where it came from when not a goal: `github#12`, `scan:F-0042`, `human`.
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default = "default_kind")]
    pub kind: TaskKind,
    #[serde(default)]
    pub files: Vec<String>,
    #[serde(default)]
    pub depends_on: Vec<TaskId>,
    #[serde(default)]
    pub acceptance: Vec<String>,
    #[serde(default)]
    pub difficulty: Option<Difficulty>,
    #[serde(default)]
    pub risk: Option<Risk>,
    #[serde(default)]
    pub attempts: u32,
    #[serde(default)]
    pub branch: Option<String>,
    #[serde(default)]
    pub pr: Option<u64>,
    #[serde(default)]
    pub approval: Option<Approval>,
    pub created: DateTime<FixedOffset>,
    /// Why it failed or was cancelled, in one line.
    #[serde(default)]
    pub reason: Option<String>,
    /// The planner's label for it within its goal's plan (to finish a plan a crash cut short).
    #[serde(default)]
    pub plan_key: Option<String>,
    /// The task removes tests on purpose (a dead feature's tests go with it). QA still
    /// reports every removed test, and the change then waits for a person, never merged
    /// by policy alone. Without it, a removed test is a failure like any other.
    #[serde(default)]
    pub removes_tests: bool,
    /// How far the coder got, written with every step so a run after a crash knows where
    /// to pick up without reading the log: `engine` (an attempt is under way) or `committed`.
    #[serde(default)]
    pub stage: Option<Stage>,
    /// The commit the coder made on the task's branch (with `stage: committed`).
    #[serde(default)]
    pub commit: Option<String>,
    /// The attempt a task paused between attempts resumes at (a stop, not a failure, ended
    /// the last one, so it is not consumed).
    #[serde(default)]
    pub next_attempt: Option<u32>,
    /// The reviewer model's last verdict on the change (absent: no model reviewed it).
    #[serde(default)]
    pub reviewer: Option<super::ModelDecision>,
    /// How many times the reviewer sent the change back (`review_rounds` in agents.yaml
    /// is the most; then a person decides).
    #[serde(default)]
    pub review_rounds: u32,
    /// The checks on the pull request's head while its merge waits for them (GitHub).
    #[serde(default)]
    pub checks: Option<Checks>,
    /// Since when the checks have been pending: past `checks_timeout_minutes` a person
    /// is asked.
    #[serde(default)]
    pub checks_since: Option<DateTime<FixedOffset>>,
    /// The commit that reverted this task's merge when its deploy was unhealthy or the
    /// base's tests broke after it (devops): the change is no longer on the base; the
    /// evidence is in `reason` and the log.
    #[serde(default)]
    pub reverted: Option<String>,
}

/// Where the required checks on a task's pull request stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Checks {
    /// Not all reported yet, or still running: the merge waits, other tasks are worked.
    Pending,
    /// A required check failed: the task went back to the coder.
    Failed,
}

/// Where a task in progress stood when it was last written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// The coding tool is (or was, at a crash) at work.
    Engine,
    /// The change is committed on the task's branch (`commit:`).
    Committed,
}

impl TaskMeta {
    /// A new task's front matter: everything but these four at its default.
    pub fn new(
        id: TaskId,
        title: String,
        priority: Priority,
        created: DateTime<FixedOffset>,
    ) -> Self {
        Self {
            id,
            title,
            priority,
            goal: None,
            source: None,
            kind: TaskKind::Code,
            files: Vec::new(),
            depends_on: Vec::new(),
            acceptance: Vec::new(),
            difficulty: None,
            risk: None,
            attempts: 0,
            branch: None,
            pr: None,
            approval: None,
            created,
            reason: None,
            plan_key: None,
            removes_tests: false,
            stage: None,
            commit: None,
            next_attempt: None,
            reviewer: None,
            review_rounds: 0,
            checks: None,
            checks_since: None,
            reverted: None,
        }
    }

    /// A stand-in for a change that is no task (`dayshift validate --diff`): what the
    /// reviewer's model is told it is.
    pub fn for_review(what: &str, now: DateTime<FixedOffset>) -> Self {
        Self {
            source: Some("validate".into()),
            ..Self::new(
                TaskId::new(0),
                format!("review the change {what}"),
                Priority::Medium,
                now,
            )
        }
    }
}

fn default_kind() -> TaskKind {
    TaskKind::Code
}

/// A task as read from (or about to be written to) its file.
#[derive(Debug, Clone)]
pub struct Task {
    pub meta: TaskMeta,
    /// Everything after the closing `---`.
    pub body: String,
    /// The folder it was found in.
    pub state: TaskState,
    /// Its file.
    pub path: PathBuf,
    /// The front matter as read, and the meta it parsed to: kept verbatim on rewrite when
    /// the meta did not change, so a person's comments and layout survive a log append.
    original: Option<(String, TaskMeta)>,
}

impl Task {
    pub fn new(meta: TaskMeta, body: String, state: TaskState, path: PathBuf) -> Self {
        Self {
            meta,
            body,
            state,
            path,
            original: None,
        }
    }

    /// Parse `text`, the contents of the task file at `path` in the folder of `state`.
    pub fn parse(path: &Path, state: TaskState, text: &str) -> Result<Self, FileProblem> {
        let problem =
            |line: u64, what: &str, fix: &str| FileProblem::new(At::line(path, line), what, fix);
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let Some(rest) = text
            .strip_prefix("---\n")
            .or_else(|| text.strip_prefix("---\r\n"))
        else {
            return Err(problem(
                1,
                "no front matter",
                "a task file starts with a `---` line, then YAML, then `---`",
            ));
        };
        let Some((front, body)) = split_front(rest) else {
            return Err(problem(
                1,
                "the front matter is never closed",
                "add a `---` line after the YAML",
            ));
        };
        let meta: TaskMeta = yaml::parse_required(path, front, 1)?;
        let line_of = |key: &str| {
            front
                .lines()
                .position(|l| l.starts_with(&format!("{key}:")))
                .map_or(2, |i| i as u64 + 2)
        };
        let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        match TaskId::from_file_name(file_name) {
            Some((id, _)) if id == meta.id => {}
            Some((id, _)) => {
                return Err(problem(
                    line_of("id"),
                    &format!(
                        "the file name says {id} but the front matter says {}",
                        meta.id
                    ),
                    "make the two agree (rename the file or fix `id:`)",
                ));
            }
            None => {
                return Err(problem(
                    1,
                    &format!("`{file_name}` is not a task file name"),
                    &format!(
                        "name it {}-<slug>.md with a slug of a-z, 0-9 and dashes",
                        meta.id
                    ),
                ));
            }
        }
        if meta.title.trim().is_empty() {
            return Err(problem(
                line_of("title"),
                "the title is empty",
                "give the task a title",
            ));
        }
        if let Some(branch) = &meta.branch
            && !is_safe_branch(branch)
        {
            return Err(problem(
                line_of("branch"),
                &format!("`{branch}` is not an acceptable branch name"),
                "use agent/<ID>-<slug>, or remove the key",
            ));
        }
        if let Some(bad) = meta.files.iter().find(|f| !is_relative_inside(f)) {
            return Err(problem(
                line_of("files"),
                &format!("`{bad}` in `files` is not a path inside the target"),
                "list paths relative to the target's root, without `..`",
            ));
        }
        if let Some(commit) = &meta.commit
            && !((7..=64).contains(&commit.len()) && commit.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return Err(problem(
                line_of("commit"),
                &format!("`{commit}` is not a commit id"),
                "write the full hexadecimal commit id, or remove the key",
            ));
        }
        if meta.depends_on.contains(&meta.id) {
            return Err(problem(
                line_of("depends_on"),
                "the task depends on itself",
                "remove its own id from `depends_on`",
            ));
        }
        Ok(Self {
            original: Some((front.to_string(), meta.clone())),
            meta,
            body: body.to_string(),
            state,
            path: path.to_path_buf(),
        })
    }

    /// The whole file. The front matter as read is kept unless a field changed.
    pub fn render(&self) -> String {
        let front = match &self.original {
            Some((raw, meta)) if *meta == self.meta => raw.clone(),
            _ => render_front(&self.meta),
        };
        format!("---\n{front}---\n{}", self.body)
    }

    /// Append `- <at> <actor>: <message>` to the `## Log` section (created if missing).
    pub fn log(&mut self, at: DateTime<FixedOffset>, actor: &str, message: &str) {
        if !self.body.contains("\n## Log") && !self.body.starts_with("## Log") {
            if !self.body.ends_with('\n') && !self.body.is_empty() {
                self.body.push('\n');
            }
            self.body.push_str("\n## Log\n");
        } else if !self.body.ends_with('\n') {
            self.body.push('\n');
        }
        let message = message.split_whitespace().collect::<Vec<_>>().join(" ");
        self.body.push_str(&format!(
            "- {} {actor}: {message}\n",
            at.format("%Y-%m-%dT%H:%M:%S%:z")
        ));
    }

    /// The text of the body's `## <heading>` section, if it has one (up to the next `## `).
    pub fn section(&self, heading: &str) -> Option<&str> {
        let head = format!("## {heading}\n");
        let start = if self.body.starts_with(&head) {
            head.len()
        } else {
            self.body.find(&format!("\n{head}"))? + head.len() + 1
        };
        let rest = &self.body[start..];
        let end = rest.find("\n## ").map_or(rest.len(), |i| i + 1);
        Some(&rest[..end])
    }

    /// Replace the body's `## <heading>` section with `content` (it goes before `## Log`
    /// when it is new). Only a line that is exactly the heading starts the section.
    pub fn set_section(&mut self, heading: &str, content: &str) {
        let head = format!("## {heading}");
        let section = format!("{head}\n\n{}\n", content.trim_end());
        let lines: Vec<&str> = self.body.split_inclusive('\n').collect();
        let start = lines.iter().position(|l| l.trim_end() == head);
        let mut out = String::new();
        match start {
            Some(start) => {
                let end = lines[start + 1..]
                    .iter()
                    .position(|l| l.starts_with("## "))
                    .map_or(lines.len(), |i| start + 1 + i);
                out.extend(lines[..start].iter().copied());
                out.push_str(&section);
                if end < lines.len() {
                    out.push('\n');
                }
                out.extend(lines[end..].iter().copied());
            }
            None => {
                let log = lines.iter().position(|l| l.trim_end() == "## Log");
                let at = log.unwrap_or(lines.len());
                out.extend(lines[..at].iter().copied());
                if !out.is_empty() && !out.ends_with("\n\n") {
                    out.push_str(if out.ends_with('\n') { "\n" } else { "\n\n" });
                }
                out.push_str(&section);
                if at < lines.len() {
                    out.push('\n');
                }
                out.extend(lines[at..].iter().copied());
            }
        }
        self.body = out;
    }

    /// Whether the log already has this entry (at any time), so re-runs do not repeat it.
    pub fn has_log(&self, actor: &str, message: &str) -> bool {
        let tail = format!(" {actor}: {message}");
        self.body
            .lines()
            .any(|l| l.starts_with("- ") && l.ends_with(&tail))
    }

    /// The file name this task should have: `<ID>-<slug>.md`.
    pub fn file_name(&self) -> String {
        let current = self.path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        match TaskId::from_file_name(current) {
            Some((id, _)) if id == self.meta.id => current.to_string(),
            _ => format!(
                "{}-{}.md",
                self.meta.id,
                super::id::slugify(&self.meta.title)
            ),
        }
    }
}

/// Split the text after the opening `---` at the closing `---` line.
fn split_front(rest: &str) -> Option<(&str, &str)> {
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == "---" {
            return Some((&rest[..offset], &rest[offset + line.len()..]));
        }
        offset += line.len();
    }
    None
}

fn render_front(m: &TaskMeta) -> String {
    let mut out = String::new();
    let mut field = |key: &str, value: String| out.push_str(&format!("{key}: {value}\n"));
    field("id", m.id.to_string());
    field("title", quoted(&m.title));
    field("priority", m.priority.to_string());
    if let Some(goal) = &m.goal {
        field("goal", quoted(goal));
    }
    if let Some(source) = &m.source {
        field("source", quoted(source));
    }
    field("kind", enum_word(&m.kind));
    field("files", list(m.files.iter().map(|f| quoted(f))));
    field(
        "depends_on",
        list(m.depends_on.iter().map(|d| d.to_string())),
    );
    if m.acceptance.is_empty() {
        field("acceptance", "[]".into());
    } else {
        let items: String = m
            .acceptance
            .iter()
            .map(|a| format!("\n  - {}", quoted(a)))
            .collect();
        field("acceptance", items.trim_start_matches(' ').to_string());
    }
    if let Some(d) = &m.difficulty {
        field("difficulty", enum_word(d));
    }
    if let Some(r) = &m.risk {
        field("risk", enum_word(r));
    }
    field("attempts", m.attempts.to_string());
    field("branch", m.branch.as_deref().map_or("null".into(), quoted));
    field("pr", m.pr.map_or("null".into(), |n| n.to_string()));
    field(
        "approval",
        m.approval.as_ref().map_or("null".into(), enum_word),
    );
    field(
        "created",
        m.created.format("%Y-%m-%dT%H:%M:%S%:z").to_string(),
    );
    if let Some(reason) = &m.reason {
        field("reason", quoted(reason));
    }
    if let Some(key) = &m.plan_key {
        field("plan_key", quoted(key));
    }
    if m.removes_tests {
        field("removes_tests", "true".into());
    }
    if let Some(stage) = &m.stage {
        field("stage", enum_word(stage));
    }
    if let Some(commit) = &m.commit {
        field("commit", quoted(commit));
    }
    if let Some(n) = m.next_attempt {
        field("next_attempt", n.to_string());
    }
    if let Some(r) = &m.reviewer {
        field("reviewer", enum_word(r));
    }
    if m.review_rounds > 0 {
        field("review_rounds", m.review_rounds.to_string());
    }
    if let Some(checks) = &m.checks {
        field("checks", enum_word(checks));
    }
    if let Some(since) = &m.checks_since {
        field(
            "checks_since",
            since.format("%Y-%m-%dT%H:%M:%S%:z").to_string(),
        );
    }
    if let Some(commit) = &m.reverted {
        field("reverted", quoted(commit));
    }
    out
}

/// A YAML scalar for any string: JSON's double-quoted form is valid YAML.
fn quoted(s: &str) -> String {
    serde_json::to_string(s).expect("a string always serializes")
}

fn enum_word<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn list(items: impl Iterator<Item = String>) -> String {
    format!("[{}]", items.collect::<Vec<_>>().join(", "))
}

fn is_safe_branch(branch: &str) -> bool {
    !branch.is_empty()
        && !branch.contains("..")
        && !branch.starts_with(['/', '-'])
        && !branch.ends_with(['/', '.'])
        && branch
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/-_.".contains(&b))
}

fn is_relative_inside(path: &str) -> bool {
    let p = Path::new(path);
    !path.is_empty()
        && p.is_relative()
        && !p
            .components()
            .any(|c| matches!(c, std::path::Component::ParentDir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_section_is_added_before_the_log_and_replaced_in_place() {
        let meta_text = "---\nid: T-0001\ntitle: \"x\"\npriority: high\ncreated: 2026-11-22T07:46:02+00:00\n---\n## Description\nDo it.\n\n## Log\n- a: b\n";
        let path = std::path::Path::new("tasks/in_review/T-0001-x.md");
        let mut task = Task::parse(path, TaskState::InReview, meta_text).unwrap();
        task.set_section("Review", "Risk: **low**\n");
        assert_eq!(task.section("Review").map(str::trim), Some("Risk: **low**"));
        assert_eq!(task.section("Nothing"), None);
        assert_eq!(
            task.body,
            "## Description\nDo it.\n\n## Review\n\nRisk: **low**\n\n## Log\n- a: b\n"
        );
        task.set_section("Review", "Risk: **high**");
        assert_eq!(
            task.body,
            "## Description\nDo it.\n\n## Review\n\nRisk: **high**\n\n## Log\n- a: b\n"
        );
        // a person's text mentioning the heading mid-line is not the section
        let mut other = Task::parse(
            path,
            TaskState::InReview,
            &meta_text.replace("Do it.", "See ## Review below."),
        )
        .unwrap();
        other.set_section("Review", "r");
        assert!(
            other
                .body
                .starts_with("## Description\nSee ## Review below.\n\n## Review\n\nr\n\n## Log"),
            "{}",
            other.body
        );
    }

    const EXAMPLE: &str = "---\nid: T-0007\ntitle: Fix CSRF_TRUSTED_ORIGINS concatenation\npriority: critical          # a comment a person wrote\ngoal: g-3f2a91\nkind: code\nfiles: [core/settings.py]\ndepends_on: []\nacceptance:\n  - settings load with two origins\ndifficulty: S\nrisk: low\nattempts: 0\nbranch: agent/T-0007-fix-csrf-trusted-origins\npr: null\napproval: null\ncreated: 2026-11-22T07:46:02+06:00\n---\n## Description\nThe bug.\n## Log\n- 2026-11-22T08:01:10+06:00 coder: attempt 1 started (engine aider)\n";

    fn parse_named(name: &str, text: &str) -> Result<Task, FileProblem> {
        Task::parse(
            &Path::new("tasks/backlog").join(name),
            TaskState::Backlog,
            text,
        )
    }

    #[test]
    fn design_example_parses_and_round_trips_verbatim() {
        let task = parse_named("T-0007-fix-csrf.md", EXAMPLE).unwrap();
        assert_eq!(task.meta.id, TaskId::new(7));
        assert_eq!(task.meta.priority, Priority::Critical);
        assert_eq!(task.meta.files, vec!["core/settings.py"]);
        assert_eq!(task.render(), EXAMPLE);
    }

    #[test]
    fn changed_meta_is_rendered_and_parses_back() {
        let mut task = parse_named("T-0007-fix-csrf.md", EXAMPLE).unwrap();
        task.meta.title = "Quote \"this\": and # that".into();
        task.meta.approval = Some(Approval::Approved);
        task.meta.reason = Some("line one".into());
        task.meta.removes_tests = true;
        task.meta.stage = Some(Stage::Committed);
        task.meta.commit = Some("0123456789abcdef0123456789abcdef01234567".into());
        task.meta.next_attempt = Some(2);
        task.log(task.meta.created, "human", "approved\nwith a newline");
        let again = parse_named("T-0007-fix-csrf.md", &task.render()).unwrap();
        assert_eq!(again.meta, task.meta);
        assert!(again.has_log("human", "approved with a newline"));
    }

    #[test]
    fn resume_state_is_read_from_front_matter_and_checked() {
        let old = parse_named("T-0007-fix-csrf.md", EXAMPLE).unwrap();
        assert_eq!(
            (
                old.meta.stage,
                old.meta.next_attempt,
                old.meta.removes_tests
            ),
            (None, None, false),
            "a file from before these fields still loads"
        );
        let text = EXAMPLE.replace(
            "approval: null\n",
            "approval: null\nstage: engine\nnext_attempt: 3\ncommit: \"../../etc\"\n",
        );
        let err = parse_named("T-0007-fix-csrf.md", &text).unwrap_err();
        assert!(err.problem.contains("is not a commit id"), "{err}");
        let text = text.replace("\"../../etc\"", "abcdef0");
        let task = parse_named("T-0007-fix-csrf.md", &text).unwrap();
        assert_eq!(
            (task.meta.stage, task.meta.next_attempt),
            (Some(Stage::Engine), Some(3))
        );
    }

    #[test]
    fn broken_front_matter_names_the_line() {
        let text = EXAMPLE.replace("kind: code", "kind: [code");
        let err = parse_named("T-0007-fix-csrf.md", &text).unwrap_err();
        assert_eq!(err.at.file, Path::new("tasks/backlog/T-0007-fix-csrf.md"));
        assert!(err.at.line.is_some_and(|l| l >= 6), "{err}");
        assert!(
            parse_named("T-0007-x.md", "no front matter\n")
                .unwrap_err()
                .problem
                .contains("no front matter")
        );
        assert!(
            parse_named("T-0007-x.md", "---\nid: T-0007\n")
                .unwrap_err()
                .problem
                .contains("never closed")
        );
    }

    #[test]
    fn ids_and_paths_that_try_to_escape_are_refused() {
        let err = parse_named(
            "T-0007-x.md",
            &EXAMPLE.replace("id: T-0007", "id: ../../T-0007"),
        )
        .unwrap_err();
        assert!(err.problem.contains("not a task id"), "{err}");
        assert_eq!(err.at.line, Some(2));
        let err =
            parse_named("T-0007-x.md", &EXAMPLE.replace("id: T-0007", "id: T-7")).unwrap_err();
        assert!(err.problem.contains("T-0007"), "{err}");
        let err = parse_named(
            "T-0007-x.md",
            &EXAMPLE.replace("branch: agent/", "branch: ../../"),
        )
        .unwrap_err();
        assert!(err.problem.contains("branch"), "{err}");
        let err = parse_named(
            "T-0007-x.md",
            &EXAMPLE.replace("[core/settings.py]", "[../outside.py]"),
        )
        .unwrap_err();
        assert!(err.problem.contains("inside the target"), "{err}");
        let err = parse_named("T-0008-x.md", EXAMPLE).unwrap_err();
        assert!(err.problem.contains("file name says T-0008"), "{err}");
    }

    #[test]
    fn unknown_key_and_bad_priority_are_refused() {
        let err =
            parse_named("T-0007-x.md", &EXAMPLE.replace("kind: code", "knd: code")).unwrap_err();
        assert!(err.problem.contains("unknown field `knd`"), "{err}");
        let err = parse_named(
            "T-0007-x.md",
            &EXAMPLE.replace("priority: critical ", "priority: urgent "),
        )
        .unwrap_err();
        assert_eq!(err.at.line, Some(4));
    }
}
