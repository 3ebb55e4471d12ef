//! One snapshot of VISION.md per day: `.dayshift/snapshots/YYYY-MM-DD.json` (goals with
//! their ids) beside `YYYY-MM-DD.md` (the text, for a textual diff later).

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{Goal, GoalKind, Priority, VisionError};
use crate::fsx;
use crate::problem::{At, FileProblem, IoContext, IoError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotGoal {
    pub id: String,
    pub text: String,
    pub priority: Priority,
    pub kind: GoalKind,
}

impl From<&Goal> for SnapshotGoal {
    fn from(g: &Goal) -> Self {
        Self {
            id: g.id.clone(),
            text: g.text.clone(),
            priority: g.priority,
            kind: g.kind,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub day: NaiveDate,
    pub goals: Vec<SnapshotGoal>,
    pub notes: Vec<String>,
}

impl Snapshot {
    pub fn save(&self, dir: &Path, vision_text: &str) -> Result<(), VisionError> {
        let md = dir.join(format!("{}.md", self.day));
        fsx::write_atomic(&md, vision_text.as_bytes()).at_path(&md)?;
        let json = path_for(dir, self.day);
        let body = serde_json::to_vec_pretty(self).expect("a snapshot always serializes");
        fsx::write_atomic(&json, &body).at_path(&json)?;
        Ok(())
    }

    pub fn load(dir: &Path, day: NaiveDate) -> Result<Option<Self>, VisionError> {
        let path = path_for(dir, day);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(IoError { path, source }.into()),
        };
        serde_json::from_str(&text).map(Some).map_err(|e| {
            VisionError::Invalid(FileProblem::new(
                At::line(&path, e.line() as u64),
                format!("snapshot cannot be read: {e}"),
                "restore it from a backup, or delete it (goal ids of that day are then assigned afresh)",
            ))
        })
    }

    /// The latest snapshot from a day before `day`.
    pub fn latest_before(dir: &Path, day: NaiveDate) -> Result<Option<Self>, VisionError> {
        let latest = snapshot_days(dir).into_iter().filter(|d| *d < day).max();
        match latest {
            Some(d) => Self::load(dir, d),
            None => Ok(None),
        }
    }
}

fn path_for(dir: &Path, day: NaiveDate) -> PathBuf {
    dir.join(format!("{day}.json"))
}

fn snapshot_days(dir: &Path) -> Vec<NaiveDate> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            name.strip_suffix(".json")?.parse().ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latest_before_skips_today_and_later() {
        let dir = tempfile::tempdir().unwrap();
        let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        for d in [20, 21, 22] {
            Snapshot {
                day: day(d),
                goals: vec![],
                notes: vec![format!("{d}")],
            }
            .save(dir.path(), "x")
            .unwrap();
        }
        let s = Snapshot::latest_before(dir.path(), day(22))
            .unwrap()
            .unwrap();
        assert_eq!(s.day, day(21));
        assert!(
            Snapshot::latest_before(dir.path(), day(20))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn corrupt_snapshot_is_an_error_not_an_empty_history() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("2026-11-21.json"), "{ not json").unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        let err = Snapshot::latest_before(dir.path(), day).unwrap_err();
        assert!(err.to_string().contains("2026-11-21.json:1"), "{err}");
    }
}
