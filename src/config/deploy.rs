//! config/target.yaml's deploy settings: the HTTP health checks that judge a deploy
//! (`health:`), the variables build and deploy commands may see (`deploy_env:`), how long
//! they may take and how long to wait before checking. Every value is checked when read; a
//! bad one is a [`FileProblem`] naming its line and the fix.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::github::is_env_name;
use super::yaml;
use crate::problem::{At, FileProblem};

/// The most retries a health check may have: beyond it a dead service is only found late.
pub const MAX_RETRIES: u32 = 20;
/// The longest one try of a health check may wait for its answer.
pub const MAX_TIMEOUT_S: u64 = 300;

/// One HTTP health check: GET `url`; healthy when the status is `expect_status` and, when
/// `contains` is set, the body contains it. Tried up to `retries + 1` times.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthCheck {
    pub url: String,
    #[serde(default = "default_expect_status")]
    pub expect_status: u16,
    /// Text the body must contain (case-sensitive); optional.
    #[serde(default)]
    pub contains: Option<String>,
    /// Seconds one try may take, connecting included.
    #[serde(default = "default_timeout_s")]
    pub timeout_s: u64,
    /// Tries after the first one that failed.
    #[serde(default = "default_retries")]
    pub retries: u32,
}

fn default_expect_status() -> u16 {
    200
}

fn default_timeout_s() -> u64 {
    5
}

fn default_retries() -> u32 {
    3
}

pub fn default_deploy_timeout_minutes() -> u32 {
    10
}

pub fn default_health_delay_s() -> u64 {
    2
}

impl HealthCheck {
    /// A check of `url` with the defaults (200, no text expected, 5 s, 3 retries).
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            expect_status: default_expect_status(),
            contains: None,
            timeout_s: default_timeout_s(),
            retries: default_retries(),
        }
    }

    /// How long one try may take.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_s)
    }
}

/// The first bad health check, as a problem at the line of its bad key in `text`.
pub fn validate_health(
    file: &Path,
    text: &str,
    checks: &[Spanned<HealthCheck>],
) -> Result<(), FileProblem> {
    for check in checks {
        let entry_line = yaml::line_of(&check.referenced, 0);
        let problem = |key: &str, problem: String, fix: &str| {
            FileProblem::new(
                At {
                    file: file.to_path_buf(),
                    line: entry_line.map(|line| line_of_key_from(text, line, key)),
                },
                problem,
                fix,
            )
        };
        let check = &check.value;
        if !is_http_url(&check.url) {
            return Err(problem(
                "url",
                format!("`health.url: {}` is not an http(s) URL", check.url),
                "write the full address of the health endpoint, e.g. https://shop.example.com/health",
            ));
        }
        if !(100..=599).contains(&check.expect_status) {
            return Err(problem(
                "expect_status",
                format!(
                    "`health.expect_status: {}` is not an HTTP status",
                    check.expect_status
                ),
                "use a status between 100 and 599, e.g. 200",
            ));
        }
        if check.retries > MAX_RETRIES {
            return Err(problem(
                "retries",
                format!("`health.retries: {}` is too many", check.retries),
                &format!("use 0 to {MAX_RETRIES} (tries after the first failed one)"),
            ));
        }
        if !(1..=MAX_TIMEOUT_S).contains(&check.timeout_s) {
            return Err(problem(
                "timeout_s",
                format!("`health.timeout_s: {}` is out of range", check.timeout_s),
                &format!("use 1 to {MAX_TIMEOUT_S} seconds"),
            ));
        }
        if check.contains.as_deref().is_some_and(str::is_empty) {
            return Err(problem(
                "contains",
                "`health.contains` is empty".into(),
                "set the text the answer must contain, or remove the key",
            ));
        }
    }
    Ok(())
}

/// The line of the top-level `key:` in `text`, if written.
pub fn line_of_top_key(text: &str, key: &str) -> Option<u64> {
    let pattern = format!("{key}:");
    text.lines()
        .position(|line| line.starts_with(&pattern))
        .map(|i| i as u64 + 1)
}

/// The first variable name of `deploy_env` that is not one, as a problem at its line.
pub fn validate_deploy_env(
    file: &Path,
    text: &str,
    names: &[Spanned<String>],
) -> Result<(), FileProblem> {
    for name in names {
        let value = &name.value;
        if !is_env_name(value) {
            let line = yaml::line_of(&name.referenced, 0)
                .or_else(|| Some(line_of_key_from(text, 1, "deploy_env")));
            return Err(FileProblem::new(
                At {
                    file: file.to_path_buf(),
                    line,
                },
                format!("`deploy_env: {value}` is not an environment variable name"),
                "list variable names (letters, digits and _), e.g. FLY_API_TOKEN; their values come from config/.env or the environment",
            ));
        }
    }
    Ok(())
}

/// Whether `url` is an absolute http(s) URL with a host.
fn is_http_url(url: &str) -> bool {
    reqwest::Url::parse(url)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
}

/// The line of `key:` in the entry that starts at line `start` (1-based); `start` itself
/// when the key is not written there (a default was used, or the entry is on one line).
fn line_of_key_from(text: &str, start: u64, key: &str) -> u64 {
    let pattern = format!("{key}:");
    let skip = start.saturating_sub(1) as usize;
    text.lines()
        .enumerate()
        .skip(skip)
        // the entry ends where the next list item begins
        .take_while(|(i, line)| *i == skip || !line.trim_start().starts_with("- "))
        .find(|(_, line)| {
            line.match_indices(&pattern).any(|(i, _)| {
                i == 0
                    || !(line.as_bytes()[i - 1].is_ascii_alphanumeric()
                        || line.as_bytes()[i - 1] == b'_')
            })
        })
        .map_or(start, |(i, _)| i as u64 + 1)
}

#[cfg(test)]
mod tests {
    use crate::config::TargetConfig;
    use std::path::Path;

    fn parse(text: &str) -> Result<TargetConfig, crate::problem::FileProblem> {
        TargetConfig::parse(Path::new("target.yaml"), text)
    }

    #[test]
    fn defaults_fill_a_health_check_and_the_deploy_settings() {
        let config = parse(
            "deploy_command: ./deploy.sh\nhealth:\n  - url: http://127.0.0.1:8080/health\n    contains: ok\ndeploy_env: [FLY_API_TOKEN]\n",
        )
        .unwrap();
        let checks = config.health_checks();
        assert_eq!(checks.len(), 1);
        assert_eq!(checks[0].expect_status, 200);
        assert_eq!(checks[0].timeout_s, 5);
        assert_eq!(checks[0].retries, 3);
        assert_eq!(checks[0].contains.as_deref(), Some("ok"));
        assert_eq!(config.deploy_env_names(), vec!["FLY_API_TOKEN"]);
        assert_eq!(config.deploy_timeout_minutes, 10);
        assert_eq!(config.health_delay_s, 2);
        let empty = parse("base_branch: main\n").unwrap();
        assert!(empty.health_checks().is_empty());
        assert_eq!(
            empty.deploy_timeout_minutes,
            TargetConfig::default().deploy_timeout_minutes
        );
        assert_eq!(empty.health_delay_s, TargetConfig::default().health_delay_s);
    }

    #[test]
    fn a_url_that_is_not_http_is_refused_at_its_line() {
        let err = parse("base_branch: main\nhealth:\n  - url: ftp://shop/health\n").unwrap_err();
        assert_eq!(err.at.line, Some(3), "{err}");
        assert!(err.problem.contains("not an http(s) URL"), "{err}");
        assert!(err.fix.contains("https://"), "{err}");
        let err = parse("health: [{url: shop.example.com/health}]\n").unwrap_err();
        assert!(err.problem.contains("not an http(s) URL"), "{err}");
    }

    #[test]
    fn a_status_outside_100_to_599_is_refused_at_its_line() {
        let err =
            parse("health:\n  - url: https://shop.example.com/health\n    expect_status: 700\n")
                .unwrap_err();
        assert_eq!(err.at.line, Some(3), "{err}");
        assert!(err.problem.contains("expect_status: 700"), "{err}");
        assert!(err.fix.contains("100 and 599"), "{err}");
        assert!(parse("health: [{url: 'http://a/h', expect_status: 99}]\n").is_err());
        assert!(parse("health: [{url: 'http://a/h', expect_status: 599}]\n").is_ok());
    }

    #[test]
    fn more_than_twenty_retries_are_refused_at_the_line_of_that_entry() {
        let text = "health:\n  - url: http://a/h\n    retries: 20\n  - url: http://b/h\n    timeout_s: 3\n    retries: 21\n";
        let err = parse(text).unwrap_err();
        assert_eq!(err.at.line, Some(6), "{err}");
        assert!(err.problem.contains("retries: 21"), "{err}");
        assert!(err.fix.contains("0 to 20"), "{err}");
        assert!(parse("health: [{url: 'http://a/h', retries: 0}]\n").is_ok());
    }

    #[test]
    fn bad_timeouts_empty_texts_and_env_names_are_refused() {
        let err = parse("health: [{url: 'http://a/h', timeout_s: 0}]\n").unwrap_err();
        assert!(err.problem.contains("timeout_s: 0"), "{err}");
        let err = parse("health: [{url: 'http://a/h', contains: ''}]\n").unwrap_err();
        assert!(err.problem.contains("contains"), "{err}");
        let err = parse("deploy_env:\n  - GOOD_NAME\n  - bad-name\n").unwrap_err();
        assert_eq!(err.at.line, Some(3), "{err}");
        assert!(err.problem.contains("bad-name"), "{err}");
        let err = parse("base_branch: main\ndeploy_timeout_minutes: 0\n").unwrap_err();
        assert_eq!(err.at.line, Some(2), "{err}");
        assert!(err.problem.contains("deploy_timeout_minutes"), "{err}");
        let err = parse("health: [{url: 'http://a/h', status: 200}]\n").unwrap_err();
        assert!(err.problem.contains("status"), "{err}");
    }
}
