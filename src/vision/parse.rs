//! Markdown → sections and bullets, with 1-based line numbers for every error.

use std::collections::HashMap;
use std::path::Path;

use pulldown_cmark::{Event, HeadingLevel, Parser, Tag, TagEnd};

use super::{ContextSection, GoalKind, Priority};
use crate::problem::{At, FileProblem};

/// A goal as written, before it has an id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawGoal {
    pub text: String,
    pub priority: Priority,
    pub kind: GoalKind,
    pub section: String,
    pub line: u64,
}

#[derive(Debug, Clone, Default)]
pub struct ParsedVision {
    pub title: Option<String>,
    pub goals: Vec<RawGoal>,
    pub notes: Vec<String>,
    pub context: Vec<ContextSection>,
}

#[derive(Debug, Clone)]
enum Section {
    Preamble,
    Goals { priority: Priority, heading: String },
    Ideas { heading: String },
    Notes,
    Context,
}

/// Parse VISION.md. `file` is only used in error messages.
pub fn parse(file: &Path, text: &str) -> Result<ParsedVision, FileProblem> {
    let problem =
        |line: u64, what: String, fix: &str| FileProblem::new(At::line(file, line), what, fix);
    if is_blank_markdown(text) {
        return Err(problem(
            1,
            "VISION.md is empty".into(),
            "write goals as bullets under a heading like `## Priority: HIGH` (`dayshift init` shows an example)",
        ));
    }
    let lines = LineIndex::new(text);
    let mut out = ParsedVision::default();
    let mut section = Section::Preamble;
    let mut heading: Option<(HeadingLevel, String, u64)> = None;
    let mut list_depth = 0usize;
    let mut item: Option<(String, u64)> = None;
    let mut context_starts: Vec<(usize, usize)> = Vec::new(); // (context index, body start offset)
    let mut seen: HashMap<String, u64> = HashMap::new();

    for (event, range) in Parser::new(text).into_offset_iter() {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                close_context(&mut out, &mut context_starts, text, range.start);
                heading = Some((level, String::new(), lines.line_of(range.start)));
            }
            Event::End(TagEnd::Heading(_)) => {
                let Some((level, title, line)) = heading.take() else {
                    continue;
                };
                let title = title.trim().to_string();
                section = classify(level, &title).map_err(|word| {
                    problem(
                        line,
                        format!("unknown priority `{word}` in heading `{title}`"),
                        "use one of CRITICAL, HIGH, MEDIUM or LOW after `Priority:`",
                    )
                })?;
                match &section {
                    Section::Preamble if level == HeadingLevel::H1 && out.title.is_none() => {
                        out.title = Some(title)
                    }
                    Section::Context => {
                        out.context.push(ContextSection {
                            heading: title,
                            text: String::new(),
                        });
                        context_starts.push((out.context.len() - 1, range.end));
                    }
                    _ => {}
                }
            }
            Event::Start(Tag::List(_)) => list_depth += 1,
            Event::End(TagEnd::List(_)) => list_depth = list_depth.saturating_sub(1),
            Event::Start(Tag::Item) if list_depth == 1 => {
                item = Some((String::new(), lines.line_of(range.start)))
            }
            Event::End(TagEnd::Item) if list_depth == 1 => {
                let Some((raw, line)) = item.take() else {
                    continue;
                };
                let text = raw.split_whitespace().collect::<Vec<_>>().join(" ");
                let (priority, kind, heading) = match &section {
                    Section::Goals { priority, heading } => (*priority, GoalKind::Code, heading),
                    Section::Ideas { heading } => (Priority::Medium, GoalKind::Research, heading),
                    Section::Notes => {
                        if !text.is_empty() {
                            out.notes.push(text);
                        }
                        continue;
                    }
                    Section::Preamble | Section::Context => continue,
                };
                if text.is_empty() {
                    return Err(problem(
                        line,
                        "empty bullet".into(),
                        "write the goal after the `-`, or delete the line",
                    ));
                }
                let key = super::identity::normalize(&text);
                if let Some(first) = seen.insert(key, line) {
                    return Err(problem(
                        line,
                        format!("the same goal as on line {first}"),
                        "delete one of the two bullets",
                    ));
                }
                let section = heading.clone();
                out.goals.push(RawGoal {
                    text,
                    priority,
                    kind,
                    section,
                    line,
                });
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some((_, title, _)) = heading.as_mut() {
                    title.push_str(&t);
                } else if let Some((raw, _)) = item.as_mut() {
                    raw.push_str(&t);
                }
            }
            Event::SoftBreak | Event::HardBreak => {
                if let Some((raw, _)) = item.as_mut() {
                    raw.push(' ');
                }
            }
            _ => {}
        }
    }
    close_context(&mut out, &mut context_starts, text, text.len());
    if out.goals.is_empty() {
        return Err(problem(
            1,
            "no goals found: no bullet under a `## Priority: …` or `## Ideas` heading".into(),
            "add goals as `- …` bullets under a heading like `## Priority: HIGH`",
        ));
    }
    Ok(out)
}

fn close_context(out: &mut ParsedVision, open: &mut Vec<(usize, usize)>, text: &str, end: usize) {
    for (index, start) in open.drain(..) {
        out.context[index].text = text[start.min(end)..end].trim().to_string();
    }
}

/// Which kind of section a heading opens; `Err(word)` for an unknown priority word.
fn classify(level: HeadingLevel, title: &str) -> Result<Section, String> {
    let lower = title.to_lowercase();
    if level == HeadingLevel::H1 {
        return Ok(Section::Preamble);
    }
    if let Some(rest) = lower.strip_prefix("priority") {
        let word = rest.trim_start().trim_start_matches(':').trim();
        let word = word.split_whitespace().next().unwrap_or("");
        return Priority::parse(word)
            .map(|priority| Section::Goals {
                priority,
                heading: title.to_string(),
            })
            .ok_or_else(|| {
                title[title.len() - rest.len()..]
                    .trim_start_matches([':', ' '])
                    .to_string()
            });
    }
    if lower.starts_with("ideas") || lower.starts_with("research") {
        return Ok(Section::Ideas {
            heading: title.to_string(),
        });
    }
    if lower.starts_with("notes") || lower.starts_with("constraints") {
        return Ok(Section::Notes);
    }
    Ok(Section::Context)
}

fn is_blank_markdown(text: &str) -> bool {
    let without_comments = strip_html_comments(text);
    without_comments.trim().is_empty()
}

fn strip_html_comments(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("<!--") {
        out.push_str(&rest[..start]);
        match rest[start..].find("-->") {
            Some(end) => rest = &rest[start + end + 3..],
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

/// Byte offset → 1-based line.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self { starts }
    }

    fn line_of(&self, offset: usize) -> u64 {
        self.starts.partition_point(|&s| s <= offset) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DESIGN_EXAMPLE: &str = "# Acme Vision — Updated 2026-02-17\n## Priority: CRITICAL\n- Fix the CSRF_TRUSTED_ORIGINS string concatenation bug in core/settings.py\n## Priority: HIGH\n- Add Gunicorn as WSGI server in Docker\n## Ideas (Research First)\n- Should we add Redis for caching exam sessions?\n## Notes\n- Don't touch the n8n webhook integration, it works fine\n## Team\nAlice reviews on Fridays.\n";

    fn parse_str(text: &str) -> Result<ParsedVision, FileProblem> {
        parse(Path::new("VISION.md"), text)
    }

    #[test]
    fn design_example_is_understood() {
        let v = parse_str(DESIGN_EXAMPLE).unwrap();
        assert_eq!(v.title.as_deref(), Some("Acme Vision — Updated 2026-02-17"));
        assert_eq!(v.goals.len(), 3);
        assert_eq!(v.goals[0].priority, Priority::Critical);
        assert_eq!(v.goals[0].line, 3);
        assert_eq!(
            v.goals[0].text,
            "Fix the CSRF_TRUSTED_ORIGINS string concatenation bug in core/settings.py"
        );
        assert_eq!(v.goals[1].priority, Priority::High);
        assert_eq!(v.goals[2].kind, GoalKind::Research);
        assert_eq!(
            v.notes,
            vec!["Don't touch the n8n webhook integration, it works fine"]
        );
        assert_eq!(
            v.context,
            vec![ContextSection {
                heading: "Team".into(),
                text: "Alice reviews on Fridays.".into()
            }]
        );
    }

    #[test]
    fn headings_match_case_insensitively_and_code_spans_survive() {
        let v =
            parse_str("## priority: low\n- Rename `foo_bar` in *utils*\n  across files\n").unwrap();
        assert_eq!(v.goals[0].priority, Priority::Low);
        assert_eq!(v.goals[0].text, "Rename foo_bar in utils across files");
    }

    #[test]
    fn nested_bullets_are_details_not_goals() {
        let v =
            parse_str("## Priority: HIGH\n- Parent goal\n  - a detail\n- Second goal\n").unwrap();
        assert_eq!(v.goals.len(), 2);
        assert_eq!(v.goals[1].line, 4);
    }

    #[test]
    fn unknown_priority_word_names_its_line() {
        let err = parse_str("# V\n\n## Priority: SOMEDAY\n- x\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "VISION.md:3: unknown priority `SOMEDAY` in heading `Priority: SOMEDAY`; use one of CRITICAL, HIGH, MEDIUM or LOW after `Priority:`"
        );
    }

    #[test]
    fn no_goals_and_empty_files_are_errors() {
        assert!(
            parse_str("# Only a title\n\n## Notes\n- n\n")
                .unwrap_err()
                .problem
                .starts_with("no goals found")
        );
        assert_eq!(
            parse_str("  \n<!-- nothing -->\n").unwrap_err().problem,
            "VISION.md is empty"
        );
    }

    #[test]
    fn duplicate_goal_is_named() {
        let err =
            parse_str("## Priority: HIGH\n- Do it\n## Priority: LOW\n- do   it!\n").unwrap_err();
        assert_eq!(err.at.line, Some(4));
        assert!(err.problem.contains("line 2"));
    }
}
