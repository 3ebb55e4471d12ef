//! Stable fingerprints, in the spirit of GitHub code scanning's `partialFingerprints`: a
//! finding is known by its rule, its file and the normalized text of its line (whitespace
//! collapsed), plus which occurrence of that same line it is in the file — never by its
//! line number, so lines inserted or removed above it change nothing. The rule is
//! canonical: ruff's bandit-derived `S602` and bandit's `B602` are the same rule, so a
//! finding keeps its fingerprint whichever of the two tools reported it.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use super::Finding;

/// Hex characters of a fingerprint.
const LENGTH: usize = 20;

/// The rule as every analyzer that knows it would name it: `bandit:B602` for ruff's
/// `S602` and bandit's `B602`, else `<analyzer>:<rule>`.
pub fn canonical_rule(analyzer: &str, rule: &str) -> String {
    let bandit_twin = match analyzer {
        "ruff" => rule
            .strip_prefix('S')
            .filter(|n| n.len() == 3 && n.chars().all(|c| c.is_ascii_digit())),
        "bandit" => rule.strip_prefix('B'),
        _ => None,
    };
    match bandit_twin {
        Some(number) => format!("bandit:B{number}"),
        None => format!("{analyzer}:{rule}"),
    }
}

/// What a finding is about, across analyzers that name it differently: dayshift's own
/// pattern for `eval`, ruff's `S307` and bandit's `B307` are one finding at one place. A
/// rule with no known twin is its [`canonical_rule`].
pub fn identity(analyzer: &str, rule: &str) -> String {
    let canonical = canonical_rule(analyzer, rule);
    let concept = match canonical.as_str() {
        "builtin:patterns.python.eval" | "bandit:B307" | "bandit:B102" => "python/code-exec",
        "builtin:patterns.python.shell-true"
        | "builtin:patterns.python.os-system"
        | "bandit:B602"
        | "bandit:B604"
        | "bandit:B605" => "python/shell",
        "builtin:patterns.python.unsafe-load" | "bandit:B301" | "bandit:B506" => {
            "python/unsafe-deserialization"
        }
        "builtin:patterns.python.tls-off" | "bandit:B501" => "python/tls-off",
        "builtin:patterns.python.sql-built" | "bandit:B608" => "python/sql-built",
        "builtin:patterns.python.chmod-777" | "bandit:B103" => "python/chmod-777",
        "builtin:syntax.python" | "ruff:invalid-syntax" | "ruff:E999" => "python/syntax",
        _ => return canonical,
    };
    concept.to_string()
}

/// Collapse whitespace: indentation and spacing changes are not a new finding.
fn normalized(line: &str) -> String {
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Set the fingerprint of each finding. `line_of(file, n)` gives the text of line `n`
/// (1-based) of a file, `None` when it cannot be read (then the message stands in for it).
/// Findings are numbered in the order of their lines, so the first of two identical lines
/// stays the first.
pub fn assign(findings: &mut [Finding], mut line_of: impl FnMut(&str, u32) -> Option<String>) {
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by(|&a, &b| {
        let (fa, fb) = (&findings[a], &findings[b]);
        (&fa.file, fa.start_line).cmp(&(&fb.file, fb.start_line))
    });
    let mut seen: HashMap<(String, String, String), u32> = HashMap::new();
    for index in order {
        let finding = &findings[index];
        let rule = identity(&finding.analyzer, &finding.rule);
        let text = line_of(&finding.file, finding.start_line)
            .map(|l| normalized(&l))
            .unwrap_or_else(|| normalized(&finding.message));
        let key = (rule, finding.file.clone(), text);
        let occurrence = seen.entry(key.clone()).or_insert(0);
        *occurrence += 1;
        let mut hash = Sha256::new();
        for part in [&key.0, &key.1, &key.2, &occurrence.to_string()] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        let digest = hash.finalize();
        let hex = crate::hex::lower(&digest);
        findings[index].fingerprint = hex[..LENGTH].to_string();
    }
}

/// Keep one finding per place and [`identity`] (ruff, bandit and dayshift's own layer
/// reporting the same call are one finding): the most severe, and of equals a tool's
/// (it has a help URL and a CWE) over the built-in one. Order: file, line, rule.
pub fn dedupe(findings: Vec<Finding>) -> Vec<Finding> {
    let rank = |f: &Finding| (f.severity, f.analyzer != "builtin", f.cwe.is_some());
    let mut kept: HashMap<(String, u32, String), Finding> = HashMap::new();
    for finding in findings {
        let key = (
            finding.file.clone(),
            finding.start_line,
            identity(&finding.analyzer, &finding.rule),
        );
        match kept.get(&key) {
            Some(existing) if rank(existing) >= rank(&finding) => {}
            _ => {
                kept.insert(key, finding);
            }
        }
    }
    let mut out: Vec<Finding> = kept.into_values().collect();
    out.sort_by(|a, b| (&a.file, a.start_line, &a.rule).cmp(&(&b.file, b.start_line, &b.rule)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::Severity;

    fn lines_of(text: &str) -> impl FnMut(&str, u32) -> Option<String> + '_ {
        move |_, n| text.lines().nth(n as usize - 1).map(str::to_string)
    }

    #[test]
    fn lines_moving_change_no_fingerprint_and_twins_are_numbered() {
        let before = "import os\nos.system(cmd)\nx = 1\nos.system(cmd)\n";
        let mut a = vec![
            Finding::at("bandit", "B605", Severity::High, "a.py", 2, "shell"),
            Finding::at("bandit", "B605", Severity::High, "a.py", 4, "shell"),
        ];
        assign(&mut a, lines_of(before));
        assert_ne!(
            a[0].fingerprint, a[1].fingerprint,
            "two occurrences, two findings"
        );

        // ten lines inserted above, the first call re-indented, reported by ruff this time
        let after = format!(
            "{}import os\n    os.system(cmd)\nx = 1\nos.system(cmd)\n",
            "# moved\n".repeat(10)
        );
        let mut b = vec![
            Finding::at("ruff", "S605", Severity::High, "a.py", 12, "shell"),
            Finding::at("ruff", "S605", Severity::High, "a.py", 14, "shell"),
        ];
        assign(&mut b, lines_of(&after));
        assert_eq!(
            a[0].fingerprint, b[0].fingerprint,
            "moved, re-indented, other tool"
        );
        assert_eq!(a[1].fingerprint, b[1].fingerprint);
    }

    #[test]
    fn another_rule_file_or_line_text_is_another_fingerprint() {
        let text = "eval(x)\n";
        let mut f = vec![
            Finding::at(
                "builtin",
                "patterns.python.eval",
                Severity::High,
                "a.py",
                1,
                "m",
            ),
            Finding::at(
                "builtin",
                "patterns.python.exec",
                Severity::High,
                "a.py",
                1,
                "m",
            ),
            Finding::at(
                "builtin",
                "patterns.python.eval",
                Severity::High,
                "b.py",
                1,
                "m",
            ),
        ];
        assign(&mut f, lines_of(text));
        let unique: std::collections::BTreeSet<_> = f.iter().map(|x| &x.fingerprint).collect();
        assert_eq!(unique.len(), 3);
        assert_eq!(canonical_rule("ruff", "S602"), "bandit:B602");
        assert_eq!(canonical_rule("ruff", "F821"), "ruff:F821");
    }

    #[test]
    fn the_same_call_from_ruff_and_bandit_is_one_finding_the_most_severe() {
        let kept = dedupe(vec![
            Finding::at("ruff", "S602", Severity::Medium, "a.py", 3, "ruff says"),
            Finding::at("bandit", "B602", Severity::High, "a.py", 3, "bandit says"),
            Finding::at("bandit", "B602", Severity::High, "a.py", 9, "another"),
        ]);
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[0].analyzer, "bandit");
        assert_eq!(kept[0].severity, Severity::High);
        // dayshift's own pattern and ruff's rule on the same eval: one finding, ruff's
        let mut with_cwe = Finding::at("ruff", "S307", Severity::High, "b.py", 2, "ruff");
        with_cwe.cwe = Some(78);
        let kept = dedupe(vec![
            Finding::at(
                "builtin",
                "patterns.python.eval",
                Severity::High,
                "b.py",
                2,
                "own",
            ),
            with_cwe,
        ]);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].analyzer, "ruff");
        assert_eq!(
            identity("builtin", "patterns.python.eval"),
            identity("bandit", "B307")
        );
    }
}
