//! The secrets layer: credentials in the diff's added lines. A secret in a change fails
//! the task at once — trying again the same way cannot un-leak it, and a person has to
//! decide whether to rotate it.
//!
//! What runs, in order, per added line:
//! 1. an Aho-Corasick automaton over every rule's keywords (case-insensitive): most lines
//!    mention none and cost one pass;
//! 2. the regexes of the rules whose keyword appeared — gitleaks' default rule set
//!    (vendored, [`rules::GITLEAKS_VERSION`]) and dayshift's supplement, each compiled the
//!    first time it is needed — with gitleaks' semantics: secret group, entropy floor,
//!    stop words, allow-list regexes (its path allow-lists aside: see [`allow`]);
//! 3. a high-entropy check on quoted or assigned tokens ([`entropy`]);
//! 4. the allow-list of documented examples and placeholders ([`allow`]).
//!
//! Only added lines are read: a secret on a removed line is leaving the code. Messages
//! name the kind of secret and the rule set, never the value (at most the format's own
//! prefix, such as `AKIA…`).

pub mod allow;
pub mod entropy;
pub mod rules;
mod runs;
mod table;
mod walk;

use std::collections::BTreeSet;
use std::sync::LazyLock;

use aho_corasick::automaton::Automaton;
use aho_corasick::{Input, MatchKind, dfa};

use super::{Diff, FileDiff, Finding, Layer};
use crate::tasks::Risk;
use rules::{Rule, RuleSet};

/// What one rule found on one line. The secret itself is not kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// `aws-access-token`, `high-entropy-string`…
    pub rule: String,
    /// `AWS`, `GitHub Personal Access Token`…
    pub description: String,
    /// Which rule set, for the message.
    pub source: String,
    /// The format's own prefix when the secret starts with one of the rule's keywords
    /// (`AKIA`, `ghp_`, `xoxb`), at most 4 characters; never part of the random body, and
    /// none for a generic rule (whose keywords are names, not formats).
    pub prefix: Option<String>,
    /// A generic or entropy rule: not run on test and vendored paths, and dropped on a
    /// line where a rule for a known format fired.
    pub generic: bool,
}

/// The id of the entropy check's findings.
pub const ENTROPY_RULE: &str = "high-entropy-string";

/// The rules and the keyword automaton, built once ([`Scanner::new`]) and shared.
pub struct Scanner {
    set: RuleSet,
    keywords: dfa::DFA,
    /// For each keyword (the automaton's pattern id), the rules that list it.
    keyword_rules: Vec<Vec<usize>>,
    /// The automaton again, flat, for the walk over whole texts.
    table: table::Table,
}

static SHARED: LazyLock<Scanner> = LazyLock::new(Scanner::new);

impl Default for Scanner {
    fn default() -> Self {
        Self::new()
    }
}

impl Scanner {
    /// The built-in rule sets. They are compiled into the binary and a test loads them, so
    /// a failure here is a build defect, not bad input.
    pub fn new() -> Self {
        let set = rules::builtin().expect("the built-in secrets rules load (tested)");
        let mut words: Vec<String> = Vec::new();
        let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
        for (index, rule) in set.rules.iter().enumerate() {
            for keyword in &rule.keywords {
                match words.iter().position(|w| w == keyword) {
                    Some(at) => keyword_rules[at].push(index),
                    None => {
                        words.push(keyword.clone());
                        keyword_rules.push(vec![index]);
                    }
                }
            }
        }
        // a DFA: one table lookup per byte, on every line scanned (its memory, under a
        // megabyte for these few hundred keywords, is paid once); no prefilter, as
        // [`Scanner::scan_text`] walks it by hand
        let keywords = dfa::DFA::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .prefilter(false)
            .build(&words)
            .expect("secrets keywords build an automaton");
        let table = table::Table::new(&keywords, &words, &keyword_rules);
        Self {
            set,
            keywords,
            keyword_rules,
            table,
        }
    }

    /// The shared scanner (built on first use).
    pub fn shared() -> &'static Self {
        &SHARED
    }

    /// How many rules run.
    pub fn rule_count(&self) -> usize {
        self.set.rules.len()
    }

    /// How many rules' regexes have been compiled so far (each is, on its first keyword).
    pub fn compiled_count(&self) -> usize {
        self.set.rules.iter().filter(|r| r.compiled()).count()
    }

    /// Every secret on one line, before any path policy.
    pub fn scan_line(&self, line: &str) -> Vec<Hit> {
        self.hits(line, &self.rules_named_on(line), true)
    }

    /// The rules whose keywords `line` names (indexes into the rule set, sorted, once
    /// each).
    fn rules_named_on(&self, line: &str) -> Vec<usize> {
        let mut rules = Vec::new();
        let found = self
            .keywords
            .try_find_overlapping_iter(Input::new(line))
            .expect("an unanchored search of the keywords");
        for m in found {
            rules.extend_from_slice(&self.keyword_rules[m.pattern().as_usize()]);
        }
        rules.sort_unstable();
        rules.dedup();
        rules
    }

    /// The secrets on one line: `rules` are those whose keywords it names (sorted, once
    /// each), `long_run` whether it holds a run of [`entropy::MIN_LEN`] token characters.
    fn hits(&self, line: &str, rules: &[usize], long_run: bool) -> Vec<Hit> {
        let mut hits = Vec::new();
        let digit = has_digit(line.as_bytes());
        for &index in rules {
            let rule = &self.set.rules[index];
            // every match of this rule holds a run, or a digit, the line does not have
            if !long_run && rule.least_run() >= entropy::MIN_LEN || !digit && rule.needs_digit() {
                continue;
            }
            if let Some(hit) = self.match_rule(rule, line) {
                hits.push(hit);
            }
        }
        let token = long_run
            .then(|| entropy::tokens(line).find(|t| !allow::placeholder(&line[t.start..t.end])));
        if let Some(token) = token.flatten() {
            hits.push(Hit {
                rule: ENTROPY_RULE.to_string(),
                description: "High-entropy string".to_string(),
                source: format!(
                    "dayshift's entropy check: {:.1} bits per character over {} characters",
                    token.entropy,
                    token.end - token.start
                ),
                prefix: None,
                generic: true,
            });
        }
        // a known format explains the line: the generic rules would repeat it; and one
        // generic rule says enough (gitleaks' first, the entropy check last)
        if hits.iter().any(|h| !h.generic) {
            hits.retain(|h| !h.generic);
        } else {
            hits.truncate(1);
        }
        hits
    }

    /// The first match of `rule` on `line` that gitleaks would report and the allow-list
    /// does not excuse.
    fn match_rule(&self, rule: &Rule, line: &str) -> Option<Hit> {
        let regex = rule.regex()?;
        let bytes = line.as_bytes();
        for caps in regex.captures_iter(bytes) {
            let whole = caps.get(0).expect("group 0").as_bytes();
            let whole = trim_newlines(whole);
            let secret = if rule.secret_group > 0 {
                match caps.get(rule.secret_group) {
                    Some(group) => group.as_bytes(),
                    None => continue,
                }
            } else {
                whole
            };
            if rule.allowlist.regex_allowed(secret, whole, bytes)
                || self.set.global.regex_allowed(secret, whole, bytes)
                || rule.allowlist.stopword_in(secret)
                || self.set.global.stopword_in(secret)
            {
                continue;
            }
            if rule.entropy > 0.0 {
                if entropy::shannon(secret) <= rule.entropy {
                    continue;
                }
                if rule.needs_digit() && !has_digit(secret) {
                    continue;
                }
            }
            // a generic rule's value that is a name or an expression, not a literal
            if rule.generic() && (entropy::wordy(secret) || entropy::dotted_name(secret)) {
                continue;
            }
            let secret = String::from_utf8_lossy(secret);
            if allow::placeholder(&secret) {
                continue;
            }
            return Some(Hit {
                rule: rule.id.clone(),
                description: rule.description.clone(),
                source: rule.source.describe(),
                prefix: (!rule.generic()).then(|| prefix(rule, &secret)).flatten(),
                generic: rule.generic(),
            });
        }
        None
    }

    /// The findings of one changed file's added lines: one per (line, rule).
    pub fn scan_file(&self, file: &FileDiff) -> Vec<Finding> {
        if file.binary {
            return Vec::new();
        }
        let lines = file.added.iter().map(|l| ToScan {
            number: l.number,
            text: l.text.as_str(),
            rules: self.rules_named_on(&l.text),
            long_run: true,
        });
        self.scan_lines(&file.path, lines, Read::AddedLines)
    }

    /// The findings of a whole file's text, as if every line were added — what
    /// [`Scanner::scan_file`] would find, faster: one pass over the text finds the lines
    /// that name a keyword or hold a token long enough for the entropy check, and only
    /// those lines are scanned.
    pub fn scan_text(&self, path: &str, text: &str) -> Vec<Finding> {
        let (lines, rules) = self.lines_to_scan(text);
        let lines = lines.into_iter().map(|line| ToScan {
            number: line.number,
            text: line.text,
            rules: &rules[line.rules],
            long_run: line.long_run,
        });
        self.scan_lines(path, lines, Read::WholeFile)
    }

    fn scan_lines<'a, R: AsRef<[usize]>>(
        &self,
        path: &str,
        lines: impl Iterator<Item = ToScan<'a, R>>,
        read: Read,
    ) -> Vec<Finding> {
        // gitleaks' own path allow-lists are not used: they are unanchored patterns
        // (`vendor`, `node_modules`) that a file named `vendor_keys.py` would match
        let relaxed = allow::relaxed_path(path);
        let mut reported = BTreeSet::new();
        let mut findings = Vec::new();
        for line in lines {
            for hit in self.hits(line.text, line.rules.as_ref(), line.long_run) {
                if relaxed.is_some() && hit.generic {
                    continue;
                }
                if !reported.insert((line.number, hit.rule.clone())) {
                    continue;
                }
                findings.push(finding(&hit, relaxed, read).at(path, Some(line.number)));
            }
        }
        findings
    }
}

/// What was read, for the message: a change's added lines (the reviewer) or whole files (a
/// scan of a tree, where the secret is already in the code).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Read {
    AddedLines,
    WholeFile,
}

/// A line to scan and what is known of it: the rules whose keywords it names (sorted, once
/// each), whether it holds a run of token characters long enough for the entropy check.
struct ToScan<'a, R> {
    number: u32,
    text: &'a str,
    rules: R,
    long_run: bool,
}

/// The bytes of a token the entropy check reads ([`entropy::tokens`] reads `=` padding
/// as part of a token, so it counts here too).
static TOKEN_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = matches!(byte as u8, b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/' | b'_' | b'=' | b'-');
        byte += 1;
    }
    table
};

/// Secrets in the diff's added lines (never removed ones): one finding per (file, line,
/// rule). A secret is a final block with critical risk; a known-format token on a test or
/// vendored path is a high-risk warning a person must look at.
pub fn check(diff: &Diff) -> Vec<Finding> {
    let scanner = Scanner::shared();
    diff.files
        .iter()
        .flat_map(|f| scanner.scan_file(f))
        .collect()
}

fn finding(hit: &Hit, relaxed: Option<&str>, read: Read) -> Finding {
    let rule = format!("secrets.{}", hit.rule);
    let what = match &hit.prefix {
        Some(prefix) => format!("{} `{prefix}…`", hit.description),
        None => hit.description.clone(),
    };
    let source = &hit.source;
    match relaxed {
        Some(place) => {
            let at = match read {
                Read::AddedLines => format!("in an added line of {place}"),
                Read::WholeFile => format!("in {place}"),
            };
            Finding::warn(
                Layer::Secrets,
                &rule,
                Risk::High,
                format!(
                    "{what} (found by {source}) {at}: a person must confirm it is not a real credential; a fake belongs in the documented example value or is built at run time"
                ),
            )
        }
        None => {
            let at = match read {
                Read::AddedLines => " in an added line: take it out of the change",
                Read::WholeFile => ": take it out of the code",
            };
            Finding::block(
                Layer::Secrets,
                &rule,
                Risk::Critical,
                format!(
                    "{what} (found by {source}){at}, read it from the environment or a secret store, and rotate it if it is real"
                ),
            )
            .final_block()
        }
    }
}

/// The format's prefix, when the secret starts with one of the rule's keywords: at most 4
/// characters, all of them the format's, none of the random body.
fn prefix(rule: &Rule, secret: &str) -> Option<String> {
    let lower = secret.to_ascii_lowercase();
    rule.keywords
        .iter()
        .filter(|k| {
            k.len() >= 3
                && k.starts_with(|c: char| c.is_ascii_alphanumeric())
                && lower.starts_with(k.as_str())
        })
        .map(|k| k.len().min(4))
        .max()
        .and_then(|n| secret.get(..n))
        .map(str::to_string)
}

/// Whether `bytes` hold a digit other than 0 (what [`Rule::needs_digit`] asks of a secret).
fn has_digit(bytes: &[u8]) -> bool {
    bytes.iter().any(|b| (b'1'..=b'9').contains(b))
}

fn trim_newlines(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|&b| b != b'\n')
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|&b| b != b'\n')
        .map_or(start, |e| e + 1);
    &bytes[start..end]
}

#[cfg(test)]
mod tests;
