//! Stable goal ids and the day-to-day diff of VISION.md (DESIGN §3).
//!
//! A goal's id is `g-` plus the first hex digits of the SHA-256 of its normalized text,
//! taken the first time it is seen and then carried by the snapshot. Next day, in order:
//! an identical (normalized) bullet keeps its id; a bullet that closely rewords a vanished
//! goal of the same kind and priority keeps that goal's id ("changed"); anything else is
//! new; a known goal that matched nothing is "removed". Matching is deterministic.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::parse::RawGoal;
use super::snapshot::SnapshotGoal;
use super::{Goal, GoalKind, Priority};

/// How close a rewording must be to keep the goal's id (0–1).
const SIMILAR_ENOUGH: f64 = 0.6;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "lowercase")]
pub enum Change {
    New,
    Changed {
        old_text: String,
        old_priority: Priority,
    },
    Removed,
    Unchanged,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffEntry {
    pub goal_id: String,
    pub text: String,
    pub priority: Priority,
    pub kind: GoalKind,
    #[serde(flatten)]
    pub change: Change,
}

/// What changed in VISION.md since the snapshot of `since` (None: the first snapshot).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisionDiff {
    pub since: Option<chrono::NaiveDate>,
    pub entries: Vec<DiffEntry>,
}

impl VisionDiff {
    /// Entries other than unchanged ones.
    pub fn changes(&self) -> impl Iterator<Item = &DiffEntry> {
        self.entries
            .iter()
            .filter(|e| e.change != Change::Unchanged)
    }

    pub fn removed_ids(&self) -> impl Iterator<Item = &str> {
        self.entries
            .iter()
            .filter(|e| e.change == Change::Removed)
            .map(|e| e.goal_id.as_str())
    }
}

/// Lowercase words of letters and digits, single-spaced.
pub fn normalize(text: &str) -> String {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Give every goal an id and classify it against `previous` (the last day's snapshot).
/// `earlier_today` (today's snapshot from an earlier run, if any) lends its ids to goals
/// that are new since `previous`, so re-running the morning after an edit keeps them.
pub fn identify(
    goals: Vec<RawGoal>,
    previous: &[SnapshotGoal],
    earlier_today: &[SnapshotGoal],
    since: Option<chrono::NaiveDate>,
) -> (Vec<Goal>, VisionDiff) {
    let prev_ids: HashSet<&str> = previous.iter().map(|g| g.id.as_str()).collect();
    let mut pool: Vec<&SnapshotGoal> = previous.iter().collect();
    pool.extend(
        earlier_today
            .iter()
            .filter(|g| !prev_ids.contains(g.id.as_str())),
    );
    let norms: Vec<String> = goals.iter().map(|g| normalize(&g.text)).collect();
    let mut matched: Vec<Option<&SnapshotGoal>> = vec![None; goals.len()];
    let mut used: HashSet<&str> = HashSet::new();

    // 1. identical text
    for (i, norm) in norms.iter().enumerate() {
        if let Some(known) = pool
            .iter()
            .find(|k| !used.contains(k.id.as_str()) && normalize(&k.text) == *norm)
        {
            used.insert(&known.id);
            matched[i] = Some(known);
        }
    }
    // 2. close rewording within the same kind and priority, best pairs first
    let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
    for (i, goal) in goals
        .iter()
        .enumerate()
        .filter(|(i, _)| matched[*i].is_none())
    {
        for (j, known) in pool.iter().enumerate() {
            if used.contains(known.id.as_str())
                || known.kind != goal.kind
                || known.priority != goal.priority
            {
                continue;
            }
            let score = similarity(&norms[i], &normalize(&known.text));
            if score >= SIMILAR_ENOUGH {
                pairs.push((score, i, j));
            }
        }
    }
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    for (_, i, j) in pairs {
        if matched[i].is_none() && !used.contains(pool[j].id.as_str()) {
            used.insert(&pool[j].id);
            matched[i] = Some(pool[j]);
        }
    }
    // 3. new ids for the rest, never colliding with a known or assigned id
    let mut taken: HashSet<String> = pool.iter().map(|k| k.id.clone()).collect();
    let mut out = Vec::with_capacity(goals.len());
    let mut entries = Vec::with_capacity(goals.len() + previous.len());
    for (i, raw) in goals.into_iter().enumerate() {
        let (id, change) = match matched[i] {
            Some(known) if prev_ids.contains(known.id.as_str()) => {
                let same = normalize(&known.text) == norms[i] && known.priority == raw.priority;
                let change = if same {
                    Change::Unchanged
                } else {
                    Change::Changed {
                        old_text: known.text.clone(),
                        old_priority: known.priority,
                    }
                };
                (known.id.clone(), change)
            }
            Some(known) => (known.id.clone(), Change::New),
            None => (fresh_id(&norms[i], &mut taken), Change::New),
        };
        taken.insert(id.clone());
        entries.push(DiffEntry {
            goal_id: id.clone(),
            text: raw.text.clone(),
            priority: raw.priority,
            kind: raw.kind,
            change,
        });
        out.push(Goal {
            id,
            text: raw.text,
            priority: raw.priority,
            kind: raw.kind,
            section: raw.section,
            line: raw.line,
        });
    }
    for known in previous.iter().filter(|k| !used.contains(k.id.as_str())) {
        entries.push(DiffEntry {
            goal_id: known.id.clone(),
            text: known.text.clone(),
            priority: known.priority,
            kind: known.kind,
            change: Change::Removed,
        });
    }
    (out, VisionDiff { since, entries })
}

fn fresh_id(norm: &str, taken: &mut HashSet<String>) -> String {
    let hex = crate::hex::lower(&Sha256::digest(norm.as_bytes()));
    (6..=hex.len())
        .step_by(2)
        .map(|len| format!("g-{}", &hex[..len]))
        .find(|id| !taken.contains(id))
        .unwrap_or_else(|| format!("g-{hex}-{}", taken.len()))
}

/// The better of word overlap (Jaccard) and normalized edit distance.
fn similarity(a: &str, b: &str) -> f64 {
    let wa: HashSet<&str> = a.split(' ').collect();
    let wb: HashSet<&str> = b.split(' ').collect();
    let union = wa.union(&wb).count().max(1) as f64;
    let jaccard = wa.intersection(&wb).count() as f64 / union;
    jaccard.max(strsim::normalized_levenshtein(a, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str, priority: Priority) -> RawGoal {
        RawGoal {
            text: text.into(),
            priority,
            kind: GoalKind::Code,
            section: "s".into(),
            line: 1,
        }
    }

    fn snap(goals: &[Goal]) -> Vec<SnapshotGoal> {
        goals.iter().map(SnapshotGoal::from).collect()
    }

    #[test]
    fn ids_are_stable_and_diff_finds_new_changed_removed() {
        let day1 = vec![
            raw("Fix the CSRF bug in settings", Priority::Critical),
            raw("Add Gunicorn as WSGI server in Docker", Priority::High),
            raw("Drop the legacy exporter", Priority::Low),
        ];
        let (g1, d1) = identify(day1, &[], &[], None);
        assert!(d1.entries.iter().all(|e| e.change == Change::New));
        assert!(g1[0].id.starts_with("g-") && g1[0].id.len() == 8);

        let day2 = vec![
            raw("Fix the CSRF bug in settings", Priority::Critical),
            raw(
                "Add Gunicorn as the WSGI server in the Docker image",
                Priority::High,
            ),
            raw("Write a health check endpoint", Priority::High),
        ];
        let (g2, d2) = identify(day2, &snap(&g1), &[], None);
        assert_eq!(g2[0].id, g1[0].id);
        assert_eq!(g2[1].id, g1[1].id, "a close rewording keeps its id");
        assert_ne!(g2[2].id, g1[2].id);
        let kinds: Vec<_> = d2
            .entries
            .iter()
            .map(|e| (e.goal_id.clone(), e.change.clone()))
            .collect();
        assert_eq!(kinds[0].1, Change::Unchanged);
        assert!(matches!(kinds[1].1, Change::Changed { .. }));
        assert_eq!(kinds[2].1, Change::New);
        assert_eq!(kinds[3], (g1[2].id.clone(), Change::Removed));
        assert_eq!(d2.changes().count(), 3);
    }

    #[test]
    fn a_different_goal_in_another_priority_is_not_a_rewording() {
        let (g1, _) = identify(
            vec![raw("Add caching to exams", Priority::High)],
            &[],
            &[],
            None,
        );
        let (g2, d2) = identify(
            vec![raw("Add caching to exams list", Priority::Low)],
            &snap(&g1),
            &[],
            None,
        );
        assert_ne!(g2[0].id, g1[0].id);
        assert_eq!(d2.removed_ids().count(), 1);
    }

    #[test]
    fn priority_move_with_same_text_keeps_id_and_is_changed() {
        let (g1, _) = identify(vec![raw("Ship it", Priority::Low)], &[], &[], None);
        let (g2, d2) = identify(vec![raw("Ship it", Priority::High)], &snap(&g1), &[], None);
        assert_eq!(g2[0].id, g1[0].id);
        assert_eq!(
            d2.entries[0].change,
            Change::Changed {
                old_text: "Ship it".into(),
                old_priority: Priority::Low
            }
        );
    }

    #[test]
    fn colliding_hash_prefix_gets_a_longer_id() {
        let mut taken = HashSet::new();
        let a = fresh_id("same", &mut taken);
        taken.insert(a.clone());
        let b = fresh_id("same", &mut taken);
        assert_ne!(a, b);
        assert!(b.starts_with(&a));
    }
}
