//! doctor's GitHub lines: the token is set and works, the repository is reachable and the
//! token can push, the token's scopes or permissions, the base branch's required checks,
//! and the merge method. Skipped without `github:` (local-only, by choice); everything
//! but the token line is skipped with `--offline`.

use super::Check;
use crate::config::Config;
use crate::github::{Api, GithubError, GithubSettings, MergeMethod};
use crate::home::Home;

const TOKEN: &str = "github token";
const API: &str = "github";

/// The permissions a fine-grained token needs (docs/github.md).
const FINE_GRAINED: &str = "Contents, Pull requests and Issues: read and write; Checks, \
     Commit statuses and Metadata: read";

pub(super) fn checks(home: &Home, config: Option<&Config>, offline: bool) -> Vec<Check> {
    let Some(config) = config else {
        return vec![Check::needing_config(API, home, None, |_, _| vec![])];
    };
    let Some(github) = &config.target.github else {
        let mut check = Check::skipped(
            API,
            "no `github:` in config/target.yaml: dayshift works local-only".into(),
        );
        check.by_choice = true;
        return vec![check];
    };
    let settings = match GithubSettings::from_config(config) {
        Ok(settings) => settings.expect("github: is set"),
        Err(e) => return vec![Check::new(TOKEN, vec![format!("github: {e}")])],
    };
    let mut token = Check::new(TOKEN, vec![]);
    token.detail = Some(format!("github: ${} is set", settings.token_env));
    if offline {
        return vec![token, Check::skipped(API, "--offline".into())];
    }
    let mut checks = vec![token];
    let api = match Api::new(settings) {
        Ok(api) => api,
        Err(e) => {
            checks.push(Check::new("github api", vec![format!("github: {e}")]));
            return checks;
        }
    };
    let user = match api.user() {
        Ok(user) => user,
        Err(e) => {
            checks.push(failed("github user", &e));
            return checks;
        }
    };
    checks.push(passed(
        "github user",
        format!("github: the token works (signed in as {})", user.login),
    ));
    checks.push(scopes_check(user.scopes.as_deref()));
    let repository = match api.repository() {
        Ok(repository) => repository,
        Err(e) => {
            checks.push(failed("github repository", &e));
            return checks;
        }
    };
    checks.push(if repository.can_push {
        passed(
            "github repository",
            format!(
                "github: {} is reachable and the token can push",
                repository.full_name
            ),
        )
    } else {
        Check::new(
            "github repository",
            vec![format!(
                "github: the token can read {} but not push to it; give it Contents: read and \
                 write (fine-grained) or the repo scope (classic), see docs/github.md",
                repository.full_name
            )],
        )
    });
    let method = github.merge_method;
    checks.push(if repository.merge_methods.allows(method) {
        passed(
            "github merge method",
            format!("github: merge_method {} is allowed", method.as_str()),
        )
    } else {
        let allowed: Vec<&str> = [MergeMethod::Merge, MergeMethod::Squash, MergeMethod::Rebase]
            .into_iter()
            .filter(|m| repository.merge_methods.allows(*m))
            .map(MergeMethod::as_str)
            .collect();
        Check::new(
            "github merge method",
            vec![format!(
                "{}: github.merge_method is {} but {} does not allow it; use one of: {} (or \
                 allow {} merges in the repository's settings)",
                home.config_file("target.yaml").display(),
                method.as_str(),
                repository.full_name,
                allowed.join(", "),
                method.as_str()
            )],
        )
    });
    checks.push(protection_check(&api, config, &config.target.base_branch));
    checks
}

fn passed(check: &'static str, detail: String) -> Check {
    let mut passed = Check::new(check, vec![]);
    passed.detail = Some(detail);
    passed
}

fn failed(check: &'static str, error: &GithubError) -> Check {
    Check::new(check, vec![format!("github: {error}")])
}

/// A classic token needs the `repo` scope; a fine-grained one sends no scopes, so the
/// permissions it needs are said.
fn scopes_check(scopes: Option<&[String]>) -> Check {
    match scopes {
        Some(scopes) if scopes.iter().any(|s| s == "repo") => passed(
            "github scopes",
            "github: classic token with the repo scope".into(),
        ),
        Some(scopes) => Check::new(
            "github scopes",
            vec![format!(
                "github: the classic token's scopes ({}) lack `repo`; add the repo scope, or \
                 use a fine-grained token with {FINE_GRAINED} (docs/github.md)",
                if scopes.is_empty() {
                    "none".to_string()
                } else {
                    scopes.join(", ")
                }
            )],
        ),
        None => passed(
            "github scopes",
            format!(
                "github: a fine-grained or App token (GitHub does not list its permissions): it \
                 needs {FINE_GRAINED}"
            ),
        ),
    }
}

/// Warn (not fail) when nothing but dayshift's own gate stops a red pull request.
fn protection_check(api: &Api, config: &Config, base: &str) -> Check {
    let required = match api.required_checks(base) {
        Ok(required) => required,
        Err(e) => return failed("github protection", &e),
    };
    let configured = config
        .target
        .github
        .as_ref()
        .map(|g| g.required_checks.clone())
        .unwrap_or_default();
    if required.names.is_empty() {
        let mut check = Check::new("github protection", vec![]);
        check.warnings.push(format!(
            "github: `{base}` requires no checks, so nothing stops a red PR from merging \
             except dayshift's own gate; protect `{base}` with required checks (branch \
             protection or a ruleset)"
        ));
        if !configured.is_empty() {
            check.detail = Some(format!(
                "github: dayshift waits for github.required_checks: {}",
                configured.join(", ")
            ));
        }
        return check;
    }
    let names: Vec<&str> = required.names.iter().map(String::as_str).collect();
    passed(
        "github protection",
        format!(
            "github: `{base}` requires {}{}",
            names.join(", "),
            if required.strict {
                " (up to date with the base)"
            } else {
                ""
            }
        ),
    )
}
