//! The rule sets the secrets layer runs, both in gitleaks' config format: gitleaks' own
//! default rules (`gitleaks.toml`, vendored from Debian's gitleaks source package — see
//! README.md beside this file) and dayshift's short supplement (`dayshift.toml`) for what
//! that version lacks or cannot do line by line.
//!
//! Rules are read from TOML at start (a few milliseconds); each rule's regex is compiled
//! only the first time one of its keywords appears in a scanned line, so a diff that
//! mentions no Stripe key never pays for the Stripe regex. Gitleaks' regexes are Go RE2:
//! they are compiled as byte regexes without Unicode classes (RE2's `\b`, `\s`, `\w` are
//! ASCII), falling back to Unicode mode when a pattern needs it; one the `regex` crate
//! cannot read is skipped (and the tests name every such rule).

use std::sync::OnceLock;

use aho_corasick::AhoCorasick;
use regex::bytes::{Regex, RegexBuilder};
use serde::Deserialize;

/// The gitleaks release `gitleaks.toml` comes from.
pub const GITLEAKS_VERSION: &str = "8.16.0";

const GITLEAKS_TOML: &str = include_str!("gitleaks.toml");
const DAYSHIFT_TOML: &str = include_str!("dayshift.toml");

/// Where a rule comes from: named in every finding, so a person knows whom to blame for a
/// false positive and where to fix it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Gitleaks,
    Dayshift,
}

impl Source {
    pub fn describe(self) -> String {
        match self {
            Self::Gitleaks => format!("gitleaks {GITLEAKS_VERSION} rules"),
            Self::Dayshift => "dayshift's rules".to_string(),
        }
    }
}

/// What an allow-list's regexes are matched against (gitleaks' `regexTarget`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Secret,
    Match,
    Line,
}

/// Gitleaks' allow-list, global or per rule. Commits are not read: a diff under review has
/// no commit a rule could trust.
#[derive(Debug, Default)]
pub struct Allowlist {
    pub regexes: Vec<Regex>,
    pub target: Option<Target>,
    pub paths: Vec<Regex>,
    /// Lowercased; matched as substrings of the secret.
    pub stopwords: Vec<String>,
    /// The stop words as one automaton, built the first time one is looked for (gitleaks'
    /// generic rule has over a thousand).
    stopword_finder: OnceLock<AhoCorasick>,
}

impl Allowlist {
    pub fn path_allowed(&self, path: &str) -> bool {
        self.paths.iter().any(|r| r.is_match(path.as_bytes()))
    }

    pub fn stopword_in(&self, secret: &[u8]) -> bool {
        if self.stopwords.is_empty() {
            return false;
        }
        let finder = self.stopword_finder.get_or_init(|| {
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(&self.stopwords)
                .expect("stop words build an automaton")
        });
        finder.is_match(secret)
    }

    /// The allow-list's regexes against the secret, the whole match or the line.
    pub fn regex_allowed(&self, secret: &[u8], whole: &[u8], line: &[u8]) -> bool {
        let subject = match self.target.unwrap_or(Target::Secret) {
            Target::Secret => secret,
            Target::Match => whole,
            Target::Line => line,
        };
        self.regexes.iter().any(|r| r.is_match(subject))
    }
}

/// One rule.
#[derive(Debug)]
pub struct Rule {
    /// Gitleaks' id with spaces made dashes (`age secret key` → `age-secret-key`).
    pub id: String,
    pub description: String,
    pub source: Source,
    pub pattern: String,
    regex: OnceLock<Option<Regex>>,
    /// The least run of token characters every match holds ([`super::runs`]), worked
    /// out on first use.
    least_run: OnceLock<usize>,
    pub secret_group: usize,
    /// Least Shannon entropy (bits per byte) of the secret; 0: none asked.
    pub entropy: f64,
    /// Lowercased.
    pub keywords: Vec<String>,
    pub allowlist: Allowlist,
}

impl Rule {
    /// A rule that matches any assignment with enough entropy (gitleaks' `generic-*` and
    /// any rule with an entropy floor): relaxed in test fixtures, dropped on a line where
    /// a rule for a known format already fired.
    pub fn generic(&self) -> bool {
        self.id.starts_with("generic") || self.entropy > 0.0
    }

    /// gitleaks' own rule for its generic rules: their secret holds a digit other than 0
    /// (their regex cannot say so), so a line without one cannot hold theirs.
    pub fn needs_digit(&self) -> bool {
        self.source == Source::Gitleaks && self.id.starts_with("generic") && self.entropy > 0.0
    }

    /// The longest run of token characters (the entropy check's) every match of the
    /// rule holds: a line without one cannot match.
    pub fn least_run(&self) -> usize {
        *self
            .least_run
            .get_or_init(|| super::runs::least_run(&self.pattern, &super::TOKEN_BYTES))
    }

    /// Whether the regex has been compiled (or tried) yet.
    pub fn compiled(&self) -> bool {
        self.regex.get().is_some()
    }

    /// The compiled regex, compiled on first use; `None` when the `regex` crate cannot
    /// read the pattern (logged once).
    pub fn regex(&self) -> Option<&Regex> {
        self.regex
            .get_or_init(|| match compile(&self.pattern) {
                Ok(regex) => Some(regex),
                Err(e) => {
                    tracing::warn!(rule = %self.id, "secrets rule skipped, its regex does not compile: {e}");
                    None
                }
            })
            .as_ref()
    }
}

/// The loaded rules and the global allow-list.
#[derive(Debug)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub global: Allowlist,
    /// Rules that were read but cannot run on lines (path-only rules): `(id, why)`.
    pub unsupported: Vec<(String, String)>,
}

/// Why a rule file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("{file}: {source}")]
    Toml {
        file: &'static str,
        source: toml::de::Error,
    },
    #[error("{file}: rule `{rule}`: allow-list regex `{regex}` does not compile: {source}")]
    Allowlist {
        file: &'static str,
        rule: String,
        regex: String,
        source: regex::Error,
    },
}

/// Gitleaks' rules, then dayshift's.
pub fn builtin() -> Result<RuleSet, RulesError> {
    let mut set = RuleSet {
        rules: Vec::new(),
        global: Allowlist::default(),
        unsupported: Vec::new(),
    };
    load(&mut set, "gitleaks.toml", GITLEAKS_TOML, Source::Gitleaks)?;
    load(&mut set, "dayshift.toml", DAYSHIFT_TOML, Source::Dayshift)?;
    Ok(set)
}

#[derive(Deserialize)]
struct ConfigFile {
    #[serde(default)]
    allowlist: Option<AllowlistFile>,
    #[serde(default)]
    rules: Vec<RuleFile>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RuleFile {
    id: String,
    #[serde(default)]
    description: String,
    regex: Option<String>,
    path: Option<String>,
    #[serde(default)]
    secret_group: usize,
    #[serde(default)]
    entropy: f64,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    allowlist: Option<AllowlistFile>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct AllowlistFile {
    #[serde(default)]
    regexes: Vec<String>,
    regex_target: Option<String>,
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    stopwords: Vec<String>,
}

fn load(
    set: &mut RuleSet,
    file: &'static str,
    text: &str,
    source: Source,
) -> Result<(), RulesError> {
    let config: ConfigFile =
        toml::from_str(text).map_err(|source| RulesError::Toml { file, source })?;
    if let Some(global) = config.allowlist {
        let global = allowlist(file, "(global)", global)?;
        set.global.regexes.extend(global.regexes);
        set.global.paths.extend(global.paths);
        set.global.stopwords.extend(global.stopwords);
        set.global.target = set.global.target.or(global.target);
    }
    for rule in config.rules {
        let id = rule.id.trim().replace(' ', "-");
        let (Some(pattern), None) = (rule.regex, &rule.path) else {
            set.unsupported.push((
                id,
                "a rule on file paths: the layer reads lines".to_string(),
            ));
            continue;
        };
        let allowlist = match rule.allowlist {
            Some(a) => allowlist(file, &id, a)?,
            None => Allowlist::default(),
        };
        set.rules.push(Rule {
            description: if rule.description.is_empty() {
                id.clone()
            } else {
                rule.description
            },
            id,
            source,
            pattern,
            regex: OnceLock::new(),
            least_run: OnceLock::new(),
            secret_group: rule.secret_group,
            entropy: rule.entropy,
            keywords: rule.keywords.iter().map(|k| k.to_lowercase()).collect(),
            allowlist,
        });
    }
    Ok(())
}

fn allowlist(file: &'static str, rule: &str, raw: AllowlistFile) -> Result<Allowlist, RulesError> {
    let compile_all = |patterns: Vec<String>| -> Result<Vec<Regex>, RulesError> {
        patterns
            .into_iter()
            .map(|p| {
                compile(&p).map_err(|source| RulesError::Allowlist {
                    file,
                    rule: rule.to_string(),
                    regex: p,
                    source,
                })
            })
            .collect()
    };
    Ok(Allowlist {
        regexes: compile_all(raw.regexes)?,
        target: match raw.regex_target.as_deref() {
            Some("match") => Some(Target::Match),
            Some("line") => Some(Target::Line),
            Some(_) => Some(Target::Secret),
            None => None,
        },
        paths: compile_all(raw.paths)?,
        stopwords: raw.stopwords.iter().map(|w| w.to_lowercase()).collect(),
        stopword_finder: OnceLock::new(),
    })
}

/// A Go RE2 pattern as a byte regex: ASCII classes first (RE2's meaning, and faster),
/// Unicode mode when the pattern needs it (`\p{L}`).
pub fn compile(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .unicode(false)
        .size_limit(1 << 24)
        .build()
        .or_else(|_| RegexBuilder::new(pattern).size_limit(1 << 24).build())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every rule of both files, compiled: the ones the `regex` crate cannot read are
    /// named here, so updating gitleaks.toml shows which rules stop running.
    #[test]
    fn every_rule_compiles_but_the_named_ones() {
        let set = builtin().unwrap();
        let failing: Vec<&str> = set
            .rules
            .iter()
            .filter(|r| r.regex().is_none())
            .map(|r| r.id.as_str())
            .collect();
        assert_eq!(failing, Vec::<&str>::new(), "rules that do not compile");
        assert!(set.unsupported.is_empty(), "{:?}", set.unsupported);
        let gitleaks = set
            .rules
            .iter()
            .filter(|r| r.source == Source::Gitleaks)
            .count();
        assert_eq!(gitleaks, 147, "gitleaks {GITLEAKS_VERSION} ships 147 rules");
        assert!(
            set.rules.iter().all(|r| !r.keywords.is_empty()),
            "a rule with no keyword would run on every line"
        );
    }

    #[test]
    fn ids_are_unique_and_allowlists_load() {
        let set = builtin().unwrap();
        let mut ids: Vec<&str> = set.rules.iter().map(|r| r.id.as_str()).collect();
        ids.sort_unstable();
        let before = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), before, "two rules share an id");
        assert!(set.global.path_allowed("web/package-lock.json"));
        let generic = set
            .rules
            .iter()
            .find(|r| r.id == "generic-api-key")
            .unwrap();
        assert!(generic.generic() && generic.allowlist.stopword_in(b"MyClientName1"));
        assert!(set.rules.iter().any(|r| r.id == "age-secret-key"));
    }

    #[test]
    fn a_broken_rule_file_is_an_error_naming_it() {
        let mut set = builtin().unwrap();
        let e = load(&mut set, "x.toml", "[[rules]]\nid = 3\n", Source::Dayshift).unwrap_err();
        assert!(e.to_string().starts_with("x.toml: "), "{e}");
        let bad = "[[rules]]\nid = \"r\"\nregex = 'a'\nkeywords = ['a']\n[rules.allowlist]\nregexes = ['(']\n";
        let e = load(&mut set, "y.toml", bad, Source::Dayshift).unwrap_err();
        assert!(e.to_string().contains("rule `r`"), "{e}");
    }
}
