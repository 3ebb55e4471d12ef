//! config/target.yaml's `github:` block: the repository on GitHub, the token's variable
//! and how pull requests are opened and merged. Every value is checked when read; a bad
//! one is a [`FileProblem`] naming the line and the fix.

use std::path::Path;

use serde::Deserialize;

use crate::problem::{At, FileProblem};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GithubTarget {
    pub owner: String,
    pub repo: String,
    /// `https://api.github.com`, `https://HOST/api/v3` (Enterprise), or `http://127.0.0.1:…`.
    #[serde(default = "default_api_url")]
    pub api_url: String,
    /// The variable holding the token (environment or config/.env); redacted everywhere.
    #[serde(default = "default_token_env")]
    pub token_env: String,
    /// Open issues with this label feed the morning.
    #[serde(default = "default_issue_label")]
    pub issue_label: String,
    #[serde(default)]
    pub merge_method: MergeMethod,
    /// Checks to wait for besides what the base branch's protection and rulesets require.
    #[serde(default)]
    pub required_checks: Vec<String>,
    #[serde(default = "default_checks_timeout_minutes")]
    pub checks_timeout_minutes: u32,
    /// Pull requests opened per hour at most; 0 = no limit.
    #[serde(default = "default_pr_hourly_limit")]
    pub pr_hourly_limit: u32,
    /// Open dayshift pull requests at most; 0 = no limit.
    #[serde(default = "default_pr_concurrent_limit")]
    pub pr_concurrent_limit: u32,
    #[serde(default)]
    pub draft: bool,
    /// Keep one issue current with the state of dayshift's work.
    #[serde(default)]
    pub dashboard: bool,
}

pub const DEFAULT_API_URL: &str = "https://api.github.com";

fn default_api_url() -> String {
    DEFAULT_API_URL.into()
}

fn default_token_env() -> String {
    "GITHUB_TOKEN".into()
}

fn default_issue_label() -> String {
    "dayshift".into()
}

fn default_checks_timeout_minutes() -> u32 {
    60
}

fn default_pr_hourly_limit() -> u32 {
    2
}

fn default_pr_concurrent_limit() -> u32 {
    5
}

impl GithubTarget {
    /// The first bad value, as a problem at its line of `text` (the file `file`).
    pub fn validate(&self, file: &Path, text: &str) -> Result<(), FileProblem> {
        let problem = |key: &str, problem: String, fix: &str| {
            FileProblem::new(
                At {
                    file: file.to_path_buf(),
                    line: line_of_key(text, key),
                },
                problem,
                fix,
            )
        };
        for (key, value) in [("owner", &self.owner), ("repo", &self.repo)] {
            if !is_github_name(value) {
                return Err(problem(
                    key,
                    format!("`github.{key}: {value}` is not a GitHub {key} name"),
                    "use the name as in the repository's URL: github.com/<owner>/<repo>",
                ));
            }
        }
        if let Err(why) = check_api_url(&self.api_url) {
            return Err(problem(
                "api_url",
                format!("`github.api_url: {}` {why}", self.api_url),
                "use https://api.github.com, https://HOST/api/v3 for GitHub Enterprise, or \
                 http://127.0.0.1:PORT for a local fake",
            ));
        }
        if !is_env_name(&self.token_env) {
            return Err(problem(
                "token_env",
                format!(
                    "`github.token_env: {}` is not an environment variable name",
                    self.token_env
                ),
                "name the variable that holds the token (letters, digits and _), e.g. GITHUB_TOKEN",
            ));
        }
        let label = self.issue_label.trim();
        if label.is_empty() || label.chars().count() > 50 || label.contains(',') {
            return Err(problem(
                "issue_label",
                format!(
                    "`github.issue_label: {}` is not a usable label",
                    self.issue_label
                ),
                "use a label of 1 to 50 characters without a comma, e.g. dayshift",
            ));
        }
        if self.required_checks.iter().any(|c| c.trim().is_empty()) {
            return Err(problem(
                "required_checks",
                "`github.required_checks` has an empty name".into(),
                "list check names as GitHub shows them (e.g. [test, lint]), or use []",
            ));
        }
        if self.checks_timeout_minutes == 0 {
            return Err(problem(
                "checks_timeout_minutes",
                "`github.checks_timeout_minutes: 0` gives checks no time".into(),
                "use the minutes CI may take, at least 1 (default 60)",
            ));
        }
        Ok(())
    }
}

/// GitHub owner and repository names: letters, digits, `-`, `_` and `.`.
fn is_github_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Whether `name` can name an environment variable: letters, digits and `_`, not starting
/// with a digit.
pub(super) fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Why `url` cannot be the API's base URL: http(s) only, plain http only on this machine,
/// no credentials, query or fragment in it.
fn check_api_url(url: &str) -> Result<(), &'static str> {
    let (scheme, rest) = url.split_once("://").ok_or("is not an http(s) URL")?;
    let authority = rest.split('/').next().unwrap_or("");
    let host = authority
        .rsplit_once(':')
        .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
        .map_or(authority, |(host, _)| host);
    if !matches!(scheme, "https" | "http") {
        return Err("is not an http(s) URL");
    }
    if host.is_empty() || url.chars().any(char::is_whitespace) {
        return Err("has no host");
    }
    if authority.contains('@') {
        return Err("holds credentials: the token belongs in token_env's variable, never in a URL");
    }
    if url.contains(['?', '#']) {
        return Err("has a query or fragment");
    }
    if scheme == "http" && !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
        return Err("is plain http to another machine: the token would travel unencrypted");
    }
    Ok(())
}

/// The line of `key:` inside the `github:` block (or on its line, in flow style).
fn line_of_key(text: &str, key: &str) -> Option<u64> {
    let start = text
        .lines()
        .position(|l| l.trim_start().starts_with("github:"))?;
    let pattern = format!("{key}:");
    text.lines()
        .enumerate()
        .skip(start)
        .find(|(_, line)| {
            line.match_indices(&pattern).any(|(i, _)| {
                i == 0
                    || !line.as_bytes()[i - 1].is_ascii_alphanumeric()
                        && line.as_bytes()[i - 1] != b'_'
            })
        })
        .map(|(i, _)| i as u64 + 1)
        .or(Some(start as u64 + 1))
}

/// How a pull request is merged (`github.merge_method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MergeMethod {
    Merge,
    #[default]
    Squash,
    Rebase,
}

impl MergeMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            MergeMethod::Merge => "merge",
            MergeMethod::Squash => "squash",
            MergeMethod::Rebase => "rebase",
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::TargetConfig;
    use std::path::Path;

    fn parse(github: &str) -> Result<TargetConfig, crate::error::FileProblem> {
        TargetConfig::parse(
            Path::new("config/target.yaml"),
            &format!("base_branch: main\ngithub:\n  owner: acme\n  repo: shop\n{github}"),
        )
    }

    #[test]
    fn defaults_follow_the_design() {
        let github = parse("").unwrap().github.unwrap();
        assert_eq!(github.api_url, "https://api.github.com");
        assert_eq!(github.token_env, "GITHUB_TOKEN");
        assert_eq!(github.issue_label, "dayshift");
        assert_eq!(github.merge_method, super::MergeMethod::Squash);
        assert!(github.required_checks.is_empty());
        assert_eq!(
            (
                github.checks_timeout_minutes,
                github.pr_hourly_limit,
                github.pr_concurrent_limit
            ),
            (60, 2, 5)
        );
        assert!(!github.draft && !github.dashboard);
        let flow = TargetConfig::parse(
            Path::new("t.yaml"),
            "github: {owner: acme, repo: shop, merge_method: rebase, required_checks: [test], pr_hourly_limit: 0, draft: true, dashboard: true, api_url: \"https://ghe.example.com/api/v3\"}\n",
        )
        .unwrap()
        .github
        .unwrap();
        assert_eq!(flow.merge_method, super::MergeMethod::Rebase);
        assert_eq!(flow.required_checks, ["test"]);
        assert_eq!(flow.pr_hourly_limit, 0);
        assert!(flow.draft && flow.dashboard);
    }

    /// Each kind of bad value: the problem, its line and the fix.
    #[test]
    fn bad_values_name_the_line_and_the_fix() {
        let cases = [
            (
                "  api_url: ftp://x\n",
                5,
                "not an http(s) URL",
                "api.github.com",
            ),
            (
                "  api_url: http://github.example.com\n",
                5,
                "plain http",
                "127.0.0.1",
            ),
            (
                "  api_url: \"https://user:tok@api.github.com\"\n",
                5,
                "credentials",
                "GitHub Enterprise",
            ),
            (
                "  token_env: GITHUB-TOKEN\n",
                5,
                "not an environment variable",
                "GITHUB_TOKEN",
            ),
            (
                "  issue_label: \"a,b\"\n",
                5,
                "not a usable label",
                "without a comma",
            ),
            (
                "  required_checks: [test, \"\"]\n",
                5,
                "empty name",
                "check names",
            ),
            (
                "  checks_timeout_minutes: 0\n",
                5,
                "gives checks no time",
                "at least 1",
            ),
            (
                "  merge_method: fast-forward\n",
                5,
                "unknown variant",
                "listed values",
            ),
            ("  pr_hourly_limit: -1\n", 5, "", "fix the YAML"),
            ("  colour: blue\n", 5, "unknown field `colour`", "spelling"),
        ];
        for (yaml, line, problem, fix) in cases {
            let err = parse(yaml).unwrap_err();
            assert_eq!(err.at.line, Some(line), "{yaml}: {err}");
            assert!(err.problem.contains(problem), "{yaml}: {err}");
            assert!(err.fix.contains(fix), "{yaml}: {err}");
        }
        let err = TargetConfig::parse(
            Path::new("t.yaml"),
            "github:\n  owner: \"ac me\"\n  repo: shop\n",
        )
        .unwrap_err();
        assert_eq!(err.at.line, Some(2), "{err}");
        assert!(err.problem.contains("not a GitHub owner name"), "{err}");
        let err = TargetConfig::parse(Path::new("t.yaml"), "github:\n  owner: acme\n").unwrap_err();
        assert!(err.problem.contains("missing field `repo`"), "{err}");
    }

    #[test]
    fn local_http_is_allowed() {
        for url in [
            "http://127.0.0.1:8080",
            "http://localhost:1/api/v3",
            "https://api.github.com/",
        ] {
            assert!(parse(&format!("  api_url: \"{url}\"\n")).is_ok(), "{url}");
        }
    }
}
