//! A small, sync GitHub REST client: what dayshift needs to open, watch and merge pull
//! requests and read and keep issues, on octocrab's raw requests.
//!
//! [`Api`] is sync: the work loop calls it directly, or from a daemon's `spawn_blocking`
//! thread (the `http` module says how that never panics). It sends
//! `X-GitHub-Api-Version: 2022-11-28` and `User-Agent: dayshift/<version>`, counts every
//! request ([`Api::calls`]) and decides itself what is retried: reads on rate limits, 5xx and transport errors; writes never blindly — a
//! create that may have happened is looked up before it is sent again
//! ([`Api::create_pull`]). Bodies over 60,000 characters are cut ([`cut_body`]); GitHub
//! refuses more than 65,536. The token is in no message, `Debug` output or log line.

mod checks;
mod error;
mod http;
mod issues;
mod models;
mod pulls;
mod raw;
mod settings;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_content;
#[cfg(test)]
mod tests_pulls;
mod wire;

use std::collections::BTreeSet;

use serde::Deserialize;

pub use checks::overall_state;
pub use error::GithubError;
pub use models::{
    Check, CheckState, CommentItem, Issue, MergeMethod, MergeMethods, MergeOutcome, NewPull, Pull,
    Repository, RequiredChecks, ReviewItem, User, has_write_access,
};
pub use settings::{DEFAULT_MAX_WAIT, GithubSettings};

use http::{Method, Retry, Transport, encode};
use raw::{RawLogin, RawRepository};

pub type Result<T, E = GithubError> = std::result::Result<T, E>;

/// The longest body sent (GitHub refuses more than 65,536 characters).
pub const MAX_BODY_CHARS: usize = 60_000;
const CUT_NOTE: &str = "… (cut: the whole text is in the task file)";

/// The client of one repository. `Debug` shows no token.
#[derive(Debug)]
pub struct Api {
    transport: Transport,
    owner: String,
    repo: String,
}

impl Api {
    /// A client for `settings`; sends nothing yet.
    pub fn new(settings: GithubSettings) -> Result<Self> {
        Ok(Self {
            transport: Transport::new(&settings)?,
            owner: settings.owner,
            repo: settings.repo,
        })
    }

    /// HTTP requests sent so far (retries and pages included).
    pub fn calls(&self) -> u32 {
        self.transport.calls()
    }

    /// `owner/repo`.
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.repo)
    }

    /// The token's account, and a classic token's scopes.
    pub fn user(&self) -> Result<User> {
        let answer = self
            .transport
            .call(Retry::Read, Method::Get, "/user", None)?;
        let login: RawLogin = http::parse(&answer, Method::Get, "/user")?;
        let scopes = answer.headers.scopes.map(|s| {
            s.split(',')
                .map(|scope| scope.trim().to_string())
                .filter(|scope| !scope.is_empty())
                .collect()
        });
        Ok(User {
            login: login.login,
            scopes,
        })
    }

    /// The repository, with what the token may do there.
    pub fn repository(&self) -> Result<Repository> {
        let raw: RawRepository = self.transport.get(&self.path(""))?;
        Ok(raw.into())
    }

    /// The checks required on `branch`: classic protection (a 404 means none) together
    /// with every active ruleset's required checks.
    pub fn required_checks(&self, branch: &str) -> Result<RequiredChecks> {
        let mut required = RequiredChecks::default();
        let branch = encode(branch, true);
        let classic = self.path(&format!(
            "/branches/{branch}/protection/required_status_checks"
        ));
        let answer = self
            .transport
            .request(Retry::Read, Method::Get, &classic, None)?;
        match answer.status {
            404 => {}
            403 => tracing::warn!(
                "cannot read the branch protection of {} (403: the token lacks Administration: \
                 read); going by rulesets only",
                self.full_name()
            ),
            _ => {
                let answer = self.transport.success(answer, Method::Get, &classic)?;
                let protection: ClassicChecks = http::parse(&answer, Method::Get, &classic)?;
                required.protected = true;
                required.strict = protection.strict;
                required.names.extend(protection.contexts);
                required
                    .names
                    .extend(protection.checks.into_iter().map(|c| c.context));
            }
        }
        let rules: Vec<Rule> = self
            .transport
            .get_all(&self.path(&format!("/rules/branches/{branch}?per_page=100")))?;
        for rule in rules
            .into_iter()
            .filter(|r| r.kind == "required_status_checks")
        {
            required.protected = true;
            let parameters = rule.parameters.unwrap_or_default();
            required.strict |= parameters.strict_required_status_checks_policy;
            required.names.extend(
                parameters
                    .required_status_checks
                    .into_iter()
                    .map(|c| c.context),
            );
        }
        Ok(required)
    }

    /// `/repos/{owner}/{repo}{rest}`.
    fn path(&self, rest: &str) -> String {
        format!(
            "/repos/{}/{}{rest}",
            encode(&self.owner, false),
            encode(&self.repo, false)
        )
    }
}

/// `body`, cut at a line boundary to at most [`MAX_BODY_CHARS`] characters with a note
/// saying so; unchanged when it fits.
pub fn cut_body(body: &str) -> String {
    if body.chars().count() <= MAX_BODY_CHARS {
        return body.to_string();
    }
    let keep = MAX_BODY_CHARS - CUT_NOTE.chars().count() - 2;
    let end = body.char_indices().nth(keep).map_or(body.len(), |(i, _)| i);
    let head = &body[..end];
    let head = head.rfind('\n').map_or(head, |i| &head[..i]);
    format!("{head}\n\n{CUT_NOTE}")
}

#[derive(Debug, Deserialize)]
struct ClassicChecks {
    #[serde(default)]
    strict: bool,
    #[serde(default)]
    contexts: Vec<String>,
    #[serde(default)]
    checks: Vec<Context>,
}

#[derive(Debug, Deserialize)]
struct Context {
    context: String,
}

#[derive(Debug, Deserialize)]
struct Rule {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    parameters: Option<RuleParameters>,
}

#[derive(Debug, Default, Deserialize)]
struct RuleParameters {
    #[serde(default)]
    strict_required_status_checks_policy: bool,
    #[serde(default)]
    required_status_checks: Vec<Context>,
}

/// Names of required checks missing from `checks` (not reported at all yet).
pub fn missing_checks(required: &BTreeSet<String>, checks: &[Check]) -> Vec<String> {
    required
        .iter()
        .filter(|name| !checks.iter().any(|c| &c.name == *name))
        .cloned()
        .collect()
}
