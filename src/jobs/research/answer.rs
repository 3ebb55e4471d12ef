//! The researcher's answer, as data: a recommendation, pros, cons, effort, risks and
//! follow-ups, where every point names what backs it — a numbered source dayshift fetched
//! or a `path:line` of the target's code it was shown. The checks are deterministic: a
//! point with no backing, a source number that was not given or a line that was not shown
//! sends the answer back once, then fails the research (never a report with an invented
//! citation).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// One claim and what backs it: source numbers (`"1"`) and code lines (`"src/app.py:12"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Point {
    pub text: String,
    pub refs: Vec<String>,
}

/// A follow-up task the research suggests (a proposal; a person promotes it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowUp {
    pub title: String,
    pub why: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Effort {
    S,
    M,
    L,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResearchAnswer {
    pub recommendation: Point,
    #[serde(default)]
    pub pros: Vec<Point>,
    #[serde(default)]
    pub cons: Vec<Point>,
    pub effort: Effort,
    pub effort_why: String,
    #[serde(default)]
    pub risks: Vec<Point>,
    #[serde(default)]
    pub follow_ups: Vec<FollowUp>,
}

/// What the researcher was shown, to check its references against.
#[derive(Debug, Clone, Default)]
pub struct Shown {
    /// How many numbered sources were given (1..=n).
    pub sources: usize,
    /// The `path:line` of every code line given.
    pub lines: BTreeSet<String>,
}

impl ResearchAnswer {
    /// Every point backed by something it was shown; at most 5 follow-ups, each titled.
    pub fn check(&self, shown: &Shown) -> Result<(), String> {
        let points = std::iter::once(("recommendation", &self.recommendation))
            .chain(self.pros.iter().map(|p| ("pros", p)))
            .chain(self.cons.iter().map(|p| ("cons", p)))
            .chain(self.risks.iter().map(|p| ("risks", p)));
        for (section, point) in points {
            if point.text.trim().is_empty() {
                return Err(format!("a point in `{section}` is empty"));
            }
            if point.refs.is_empty() {
                return Err(format!(
                    "`{section}`: \"{}\" names no source and no code line; back every point with a source number or a path:line you were shown",
                    short(&point.text)
                ));
            }
            for reference in &point.refs {
                if !shown.backs(reference) {
                    return Err(format!(
                        "`{section}`: \"{reference}\" is neither a source number from 1 to {} nor a path:line you were shown",
                        shown.sources
                    ));
                }
            }
        }
        if self.follow_ups.len() > 5 {
            return Err("more than 5 follow-ups; keep the most useful".into());
        }
        if self.follow_ups.iter().any(|f| f.title.trim().is_empty()) {
            return Err("a follow-up has no title".into());
        }
        Ok(())
    }
}

impl Shown {
    /// Whether `reference` is a source number given or a code line shown.
    pub fn backs(&self, reference: &str) -> bool {
        let reference = reference
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']');
        match reference.parse::<usize>() {
            Ok(n) => (1..=self.sources).contains(&n),
            Err(_) => self.lines.contains(reference),
        }
    }
}

fn short(text: &str) -> String {
    let cut: String = text.chars().take(60).collect();
    if cut.len() < text.len() {
        format!("{cut}…")
    } else {
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(text: &str, refs: &[&str]) -> Point {
        Point {
            text: text.into(),
            refs: refs.iter().map(|r| r.to_string()).collect(),
        }
    }

    fn answer() -> ResearchAnswer {
        ResearchAnswer {
            recommendation: point("Use Redis for sessions", &["1", "app/cache.py:3"]),
            pros: vec![point("fast", &["2"])],
            cons: vec![point("one more service", &["[1]"])],
            effort: Effort::M,
            effort_why: "a client and a config".into(),
            risks: vec![],
            follow_ups: vec![FollowUp {
                title: "Add a Redis client".into(),
                why: "the recommendation".into(),
            }],
        }
    }

    fn shown() -> Shown {
        Shown {
            sources: 2,
            lines: ["app/cache.py:3".to_string()].into(),
        }
    }

    #[test]
    fn every_point_must_be_backed_by_what_was_shown() {
        assert_eq!(answer().check(&shown()), Ok(()));
        let mut unbacked = answer();
        unbacked.pros.push(point("everyone loves it", &[]));
        assert!(
            unbacked
                .check(&shown())
                .unwrap_err()
                .contains("names no source")
        );
        let mut invented = answer();
        invented.cons.push(point("slow", &["7"]));
        assert!(invented.check(&shown()).unwrap_err().contains("\"7\""));
        let mut made_up_line = answer();
        made_up_line
            .risks
            .push(point("a bug", &["app/cache.py:99"]));
        assert!(made_up_line.check(&shown()).is_err());
    }

    #[test]
    fn the_shape_is_strict() {
        let text = r#"{"recommendation": {"text": "x", "refs": ["1"]}, "effort": "XL", "effort_why": "y"}"#;
        assert!(crate::llm::structured::parse_json::<ResearchAnswer>(text).is_err());
        let ok =
            r#"{"recommendation": {"text": "x", "refs": ["1"]}, "effort": "S", "effort_why": "y"}"#;
        assert!(crate::llm::structured::parse_json::<ResearchAnswer>(ok).is_ok());
    }
}
