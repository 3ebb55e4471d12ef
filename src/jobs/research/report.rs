//! The research report a person reads: `reports/research/YYYY-MM-DD-<slug>.md` — the
//! question, the recommendation, pros, cons, effort, risks, the follow-ups it suggests
//! (proposals, not tasks), and the numbered sources with their URLs; every point carries
//! its references, `[1]` for a source and `path:line` for the target's code.

use chrono::{DateTime, FixedOffset};

use super::answer::{Point, ResearchAnswer};

/// A page the researcher read, numbered as the model saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub title: String,
    pub url: String,
    /// Characters of readable text it gave.
    pub chars: usize,
}

/// What the report is about.
#[derive(Debug, Clone, PartialEq)]
pub struct Question {
    pub text: String,
    /// The research task it answers, if any.
    pub task: Option<String>,
    /// The VISION.md goal it comes from, if any.
    pub goal: Option<String>,
}

/// The report's markdown.
pub fn render(
    question: &Question,
    answer: &ResearchAnswer,
    sources: &[Source],
    written: DateTime<FixedOffset>,
) -> String {
    let mut out = format!("# Research: {}\n\n", one_line(&question.text));
    let mut about = vec![format!(
        "_Written by dayshift (researcher) at {}",
        written.to_rfc3339()
    )];
    if let Some(task) = &question.task {
        about.push(format!("for {task}"));
    }
    if let Some(goal) = &question.goal {
        about.push(format!("goal {goal}"));
    }
    out.push_str(&about.join(", "));
    out.push_str(". Every point names what backs it: [n] is a source below, path:line is the target's code._\n\n");
    out.push_str(&format!(
        "## Recommendation\n\n{}\n\n",
        cited(&answer.recommendation)
    ));
    section(&mut out, "Pros", &answer.pros);
    section(&mut out, "Cons", &answer.cons);
    out.push_str(&format!(
        "## Effort\n\n**{:?}** — {}\n\n",
        answer.effort,
        one_line(&answer.effort_why)
    ));
    section(&mut out, "Risks", &answer.risks);
    out.push_str("## Follow-up tasks it suggests\n\n");
    if answer.follow_ups.is_empty() {
        out.push_str("None.\n\n");
    } else {
        for follow in &answer.follow_ups {
            out.push_str(&format!(
                "- {} — {}\n",
                one_line(&follow.title),
                one_line(&follow.why)
            ));
        }
        out.push_str("\nThese are proposals: the next morning's plan lists them, and nothing is built until a person promotes one (adds it to VISION.md, or `dayshift tasks approve` it).\n\n");
    }
    out.push_str("## Sources\n\n");
    if sources.is_empty() {
        out.push_str("No page could be read; the points rest on the target's code.\n");
    }
    for (n, source) in sources.iter().enumerate() {
        out.push_str(&format!(
            "{}. [{}]({}) — {} characters read\n",
            n + 1,
            one_line(&source.title).replace(['[', ']'], ""),
            source.url,
            source.chars
        ));
    }
    out
}

fn section(out: &mut String, heading: &str, points: &[Point]) {
    out.push_str(&format!("## {heading}\n\n"));
    if points.is_empty() {
        out.push_str("None given.\n\n");
        return;
    }
    for point in points {
        out.push_str(&format!("- {}\n", cited(point)));
    }
    out.push('\n');
}

/// The point's text with its references: `[1]` for sources, `path:line` in code style.
fn cited(point: &Point) -> String {
    let refs: Vec<String> = point
        .refs
        .iter()
        .map(|r| {
            let r = r.trim().trim_start_matches('[').trim_end_matches(']');
            if r.parse::<usize>().is_ok() {
                format!("[{r}]")
            } else {
                format!("`{r}`")
            }
        })
        .collect();
    format!("{} {}", one_line(&point.text), refs.join(" "))
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::research::answer::{Effort, FollowUp};

    #[test]
    fn a_report_has_every_section_and_its_references() {
        let point = |text: &str, refs: &[&str]| Point {
            text: text.into(),
            refs: refs.iter().map(|r| r.to_string()).collect(),
        };
        let answer = ResearchAnswer {
            recommendation: point("Cache exam sessions in Redis", &["1", "app/cache.py:3"]),
            pros: vec![point("reads in microseconds", &["2"])],
            cons: vec![],
            effort: Effort::M,
            effort_why: "a client, a setting\nand a test".into(),
            risks: vec![point("one more service to run", &["1"])],
            follow_ups: vec![FollowUp {
                title: "Add a Redis client".into(),
                why: "to try it".into(),
            }],
        };
        let sources = [
            Source {
                title: "Redis [docs]".into(),
                url: "https://redis.io/docs".into(),
                chars: 1200,
            },
            Source {
                title: "Benchmarks".into(),
                url: "https://example.org/b".into(),
                chars: 300,
            },
        ];
        let question = Question {
            text: "Should we add Redis for caching exam sessions?".into(),
            task: Some("T-0009".into()),
            goal: Some("G-3".into()),
        };
        let at = DateTime::parse_from_rfc3339("2026-12-06T07:15:00+06:00").unwrap();
        let text = render(&question, &answer, &sources, at);
        assert!(text.starts_with("# Research: Should we add Redis for caching exam sessions?\n"));
        assert!(text.contains("Cache exam sessions in Redis [1] `app/cache.py:3`"));
        assert!(text.contains("## Cons\n\nNone given."));
        assert!(text.contains("**M** — a client, a setting and a test"));
        assert!(text.contains("- Add a Redis client — to try it"));
        assert!(text.contains("1. [Redis docs](https://redis.io/docs) — 1200 characters read"));
        assert!(text.contains("for T-0009, goal G-3"));
    }
}
