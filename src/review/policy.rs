//! Layer 1, policy: what config/policy.yaml and the person's VISION.md notes say about the
//! paths and the size of a change — never-touch paths (a final block), the size limits (a
//! block: the coder makes it smaller), protected paths (high risk: a person merges), a
//! change near the limits or in files the task did not name (medium risk).

use globset::{Glob, GlobSet, GlobSetBuilder};

use super::diff::Diff;
use super::{Finding, Layer};
use crate::config::policy::Policy;
use crate::tasks::Risk;

/// Above this share of a size limit a change is large: medium risk.
const LARGE_SHARE: f64 = 0.5;

/// Never-touch globs from VISION.md notes, each with the note that asked for it.
#[derive(Debug, Clone, Default)]
pub struct NoteRules {
    set: Option<GlobSet>,
    /// (glob, note) in the set's order.
    rules: Vec<(String, String)>,
}

impl NoteRules {
    /// Compile `(glob, note)` pairs; a glob that does not compile is left out (it was
    /// made from a tracked path, so this is only a name with glob syntax in it).
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut builder = GlobSetBuilder::new();
        let mut rules = Vec::new();
        for (glob, note) in pairs {
            if let Ok(g) = Glob::new(&glob) {
                builder.add(g);
                rules.push((glob, note));
            }
        }
        Self {
            set: builder.build().ok(),
            rules,
        }
    }

    /// The glob and note that forbid `path`, if one does.
    pub fn matching(&self, path: &str) -> Option<(&str, &str)> {
        let i = *self.set.as_ref()?.matches(path).first()?;
        self.rules.get(i).map(|(g, n)| (g.as_str(), n.as_str()))
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

/// What the policy layer judges a change against.
pub struct PolicyInput<'a> {
    pub policy: &'a Policy,
    pub notes: &'a NoteRules,
    /// The files the task names (`files:`); empty: it named none, nothing is "unnamed".
    pub named: &'a [String],
}

pub fn check(diff: &Diff, input: &PolicyInput) -> Vec<Finding> {
    let policy = input.policy;
    let mut found = Vec::new();
    for file in &diff.files {
        let path = file.path.as_str();
        if let Some(rule) = policy.never_touch.matching(path) {
            found.push(
                Finding::block(
                    Layer::Policy,
                    "policy.never_touch",
                    Risk::Critical,
                    format!("policy.yaml never lets an agent touch this (never_touch: `{rule}`)"),
                )
                .at(path, None)
                .final_block(),
            );
        } else if let Some((glob, note)) = input.notes.matching(path) {
            found.push(
                Finding::block(
                    Layer::Policy,
                    "policy.note",
                    Risk::Critical,
                    format!("your VISION.md note says not to touch it (`{glob}`): \"{note}\""),
                )
                .at(path, None)
                .final_block(),
            );
        } else if let Some(rule) = policy.protected_paths.matching(path) {
            found.push(
                Finding::warn(
                    Layer::Policy,
                    "policy.protected",
                    Risk::High,
                    format!("it touches a protected path (protected_paths: `{rule}`): a person merges it"),
                )
                .at(path, None),
            );
        }
    }
    found.extend(size(diff, policy));
    if !input.named.is_empty() {
        let unnamed: Vec<String> = diff
            .files
            .iter()
            .map(|f| f.path.clone())
            .filter(|p| !input.named.contains(p) && !is_test_path(p))
            .collect();
        if !unnamed.is_empty() {
            found.push(Finding::warn(
                Layer::Policy,
                "policy.unnamed_files",
                Risk::Medium,
                crate::qa::name_list("changes files the task does not name", unnamed.iter(), 200),
            ));
        }
    }
    found
}

/// The size limits: over one is a block, over half of one is medium risk.
fn size(diff: &Diff, policy: &Policy) -> Vec<Finding> {
    let files = diff.files.len() as u64;
    let lines = diff.lines_changed() as u64;
    let mut found = Vec::new();
    for (count, max, what, key) in [
        (
            files,
            u64::from(policy.max_files_changed),
            "files",
            "max_files_changed",
        ),
        (
            lines,
            u64::from(policy.max_lines_changed),
            "lines",
            "max_lines_changed",
        ),
    ] {
        if count > max {
            found.push(Finding::block(
                Layer::Policy,
                &format!("policy.{key}"),
                Risk::High,
                format!("changes {count} {what}; policy.yaml allows at most {max} ({key}): make the change smaller"),
            ));
        } else if count as f64 > max as f64 * LARGE_SHARE {
            found.push(Finding::warn(
                Layer::Policy,
                "policy.large",
                Risk::Medium,
                format!("a large change: {count} {what} of the {max} policy.yaml allows"),
            ));
        }
    }
    found
}

/// A test file by the usual conventions (a change to a named file's tests is expected).
pub fn is_test_path(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    path.split('/')
        .any(|part| matches!(part, "tests" | "test" | "__tests__" | "spec" | "testing"))
        || name.starts_with("test_")
        || name.ends_with("_test.py")
        || name.ends_with("_test.go")
        || name.ends_with("_test.rs")
        || name.contains(".test.")
        || name.contains(".spec.")
        || name == "conftest.py"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::review::Verdict;
    use crate::review::diff::parse;

    fn diff_of(paths: &[&str], lines_each: usize) -> Diff {
        let mut text = String::new();
        for p in paths {
            text.push_str(&format!(
                "--- a/{p}\n+++ b/{p}\n@@ -1,0 +1,{lines_each} @@\n"
            ));
            for i in 0..lines_each {
                text.push_str(&format!("+line {i}\n"));
            }
        }
        parse(&text).unwrap()
    }

    fn policy(yaml: &str) -> Policy {
        Policy::parse(std::path::Path::new("policy.yaml"), yaml).unwrap()
    }

    fn run(diff: &Diff, policy: &Policy, notes: &NoteRules, named: &[String]) -> Vec<Finding> {
        check(
            diff,
            &PolicyInput {
                policy,
                notes,
                named,
            },
        )
    }

    #[test]
    fn a_small_clean_change_has_no_finding() {
        let found = run(
            &diff_of(&["app/x.py"], 5),
            &Policy::default(),
            &NoteRules::default(),
            &[],
        );
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn never_touch_and_note_rules_are_final_blocks_and_protected_is_high() {
        let p = policy("never_touch: [\"vendor/**\"]\n");
        let notes = NoteRules::new([(
            "integrations/n8n/**".to_string(),
            "Don't touch the n8n webhook integration".to_string(),
        )]);
        let d = diff_of(
            &[
                "vendor/lib.py",
                "integrations/n8n/hook.py",
                "app/settings.py",
            ],
            1,
        );
        let found = run(&d, &p, &notes, &[]);
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found[0].final_block && found[0].verdict == Verdict::Block);
        assert!(found[0].message.contains("vendor/**"));
        assert!(found[1].final_block);
        assert!(
            found[1]
                .message
                .contains("Don't touch the n8n webhook integration")
        );
        assert_eq!(found[2].risk, Risk::High);
        assert_eq!(found[2].verdict, Verdict::Warn);
    }

    #[test]
    fn size_over_the_limit_blocks_and_over_half_is_medium() {
        let p = policy("max_lines_changed: 10\n");
        let over = run(&diff_of(&["a.py"], 11), &p, &NoteRules::default(), &[]);
        assert_eq!(over[0].verdict, Verdict::Block);
        assert!(!over[0].final_block, "a smaller change can pass");
        let large = run(&diff_of(&["a.py"], 6), &p, &NoteRules::default(), &[]);
        assert_eq!(
            (large[0].verdict, large[0].risk),
            (Verdict::Warn, Risk::Medium)
        );
    }

    #[test]
    fn files_the_task_does_not_name_warn_except_tests() {
        let named = vec!["app/x.py".to_string()];
        let d = diff_of(&["app/x.py", "tests/test_x.py", "app/other.py"], 1);
        let found = run(&d, &Policy::default(), &NoteRules::default(), &named);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].rule, "policy.unnamed_files");
        assert!(found[0].message.contains("app/other.py"));
        assert!(!found[0].message.contains("test_x"));
    }
}
