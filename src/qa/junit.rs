//! JUnit XML → [`TestReport`], with a small tag scanner instead of an XML library.
//!
//! Only a handful of tags matter (`testsuite`, `testcase`, `failure`, `error`, `skipped`), so
//! the scanner walks `<…>` tags, skips comments, CDATA, processing instructions and
//! doctypes, reads attributes (`"…"` or `'…'`, entities decoded) and keeps the state of the
//! current `<testcase>`. It never fails: broken or truncated XML yields what was read so far,
//! and a test case cut off at the end counts only if it had shown a failure or skip. A test's id is
//! `classname.name` (just `name` without a class), as JUnit tools print it.
//!
//! A failing case's block is the `message` and text of its `<failure>`/`<error>` and the
//! text of its `<system-out>`/`<system-err>`, each capped.

use super::block::{self, BLOCK_CAP};
use super::report::{ReportSource, TestReport};

/// Parse one JUnit XML document; `None` when it has no `testsuite` or `testcase` at all.
pub fn parse_junit(xml: &str) -> Option<TestReport> {
    let mut report = TestReport::empty(ReportSource::JUnit);
    let mut seen = false;
    let mut case: Option<Case> = None;
    let mut rest = xml;
    while let Some(start) = rest.find('<') {
        if let Some(open) = case.as_mut().filter(|c| c.capture.is_some()) {
            open.text(&decode(&rest[..start]));
        }
        rest = &rest[start..];
        let end_marker = if rest.starts_with("<!--") {
            "-->"
        } else if rest.starts_with("<![CDATA[") {
            "]]>"
        } else {
            ">"
        };
        let Some(end) = rest.find(end_marker) else {
            break;
        };
        let tag = &rest[1..end];
        rest = &rest[end + end_marker.len()..];
        if let (Some(open), Some(data)) = (case.as_mut(), tag.strip_prefix("![CDATA[")) {
            open.text(data);
        }
        if end_marker != ">" || tag.starts_with(['?', '!']) {
            continue;
        }
        let (closing, body) = match tag.strip_prefix('/') {
            Some(body) => (true, body),
            None => (false, tag),
        };
        let self_closing = body.ends_with('/');
        let body = body.trim_end_matches('/');
        let name = body.split(|c: char| c.is_whitespace()).next().unwrap_or("");
        match (name, closing) {
            ("testsuite" | "testsuites", _) => seen = true,
            ("testcase", false) => {
                seen = true;
                if let Some(open) = case.take() {
                    open.finish(&mut report);
                }
                let new = Case::open(body);
                if self_closing {
                    new.finish(&mut report);
                } else {
                    case = Some(new);
                }
            }
            ("testcase", true) => {
                if let Some(open) = case.take() {
                    open.finish(&mut report);
                }
            }
            ("failure" | "error", false) => {
                if let Some(open) = case.as_mut() {
                    open.status = Status::Failed;
                    let said = [attribute(body, "type"), attribute(body, "message")];
                    let said: Vec<String> = said.into_iter().flatten().collect();
                    open.capture = Some(Capture::Failure);
                    open.text(&said.join(": "));
                    open.text("\n");
                    if self_closing {
                        open.capture = None;
                    }
                }
            }
            ("system-out" | "system-err", false) if !self_closing => {
                if let Some(open) = case.as_mut() {
                    open.capture = Some(Capture::Output);
                    open.text(&format!("[{name}]\n"));
                }
            }
            ("failure" | "error" | "system-out" | "system-err", true) => {
                if let Some(open) = case.as_mut() {
                    open.capture = None;
                }
            }
            ("skipped", false) => {
                if let Some(open) = case.as_mut()
                    && open.status == Status::Passed
                {
                    open.status = Status::Skipped;
                }
            }
            _ => {}
        }
    }
    // cut off: what it showed of a failure or skip counts; an unfinished "pass" does not
    if let Some(open) = case.take().filter(|c| c.status != Status::Passed) {
        open.finish(&mut report);
    }
    seen.then_some(report)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Passed,
    Failed,
    Skipped,
}

/// Which text of a `<testcase>` is being kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Capture {
    Failure,
    Output,
}

/// The `<testcase>` being read.
struct Case {
    id: String,
    status: Status,
    capture: Option<Capture>,
    /// The failure's message and text.
    failure: String,
    /// What the test printed.
    output: String,
}

impl Case {
    fn open(body: &str) -> Self {
        let class = attribute(body, "classname").unwrap_or_default();
        let name = attribute(body, "name").unwrap_or_default();
        let id = match (class.is_empty(), name.is_empty()) {
            (true, _) => name,
            (false, true) => class,
            (false, false) => format!("{class}.{name}"),
        };
        Self {
            id,
            status: Status::Passed,
            capture: None,
            failure: String::new(),
            output: String::new(),
        }
    }

    /// Keep `text` in the buffer being captured, up to [`BLOCK_CAP`] each.
    fn text(&mut self, text: &str) {
        let buffer = match self.capture {
            Some(Capture::Failure) => &mut self.failure,
            Some(Capture::Output) => &mut self.output,
            None => return,
        };
        let room = BLOCK_CAP.saturating_sub(buffer.len());
        buffer.push_str(block::clip(text, room));
    }

    fn finish(self, report: &mut TestReport) {
        if !self.id.is_empty() {
            report.tests.insert(self.id.clone());
        }
        match self.status {
            Status::Passed => report.passed += 1,
            Status::Skipped => report.skipped += 1,
            Status::Failed => {
                report.failed += 1;
                let failure = self.failure.trim();
                let output = self.output.trim();
                let text = match output.is_empty() {
                    true => failure.to_string(),
                    false => format!("{failure}\n{output}"),
                };
                let lines: Vec<&str> = text.lines().collect();
                report.details.insert(self.id.clone(), block::join(&lines));
                report.failures.insert(self.id);
            }
        }
    }
}

/// The decoded value of attribute `key` in a tag body (`testcase name="a" …`).
fn attribute(body: &str, key: &str) -> Option<String> {
    let mut rest = body;
    while let Some(pos) = rest.find(key) {
        let before_ok = rest[..pos].ends_with(|c: char| c.is_whitespace());
        let after = rest[pos + key.len()..].trim_start();
        rest = &rest[pos + key.len()..];
        let Some(after) = after.strip_prefix('=').map(str::trim_start) else {
            continue;
        };
        let Some(quote) = after.chars().next().filter(|q| *q == '"' || *q == '\'') else {
            continue;
        };
        if !before_ok {
            continue;
        }
        let value = &after[1..];
        let value = value.split(quote).next().unwrap_or(value);
        return Some(decode(value));
    }
    None
}

/// Decode the five XML entities and numeric character references.
fn decode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let Some(semi) = rest.find(';').filter(|s| *s <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
#[path = "junit_tests.rs"]
mod tests;
