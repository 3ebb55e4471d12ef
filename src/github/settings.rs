//! What the GitHub client needs: where the API is, which repository, and the token (read
//! from the variable `github.token_env` names, through the config's secrets).

use std::time::Duration;

use super::error::GithubError;
use crate::config::Config;

/// The default cap on any one rate-limit or backoff wait.
pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(120);

/// Settings of one [`super::Api`]. `Debug` shows everything but the token.
#[derive(Clone)]
pub struct GithubSettings {
    /// octocrab's base URI: `https://api.github.com`, `https://HOST/api/v3`, or a fake on
    /// 127.0.0.1 in tests.
    pub api_url: String,
    pub owner: String,
    pub repo: String,
    pub token: String,
    /// The variable the token came from, named in messages (never its value).
    pub token_env: String,
    pub user_agent: String,
    /// The longest single wait for a rate limit or a retry.
    pub max_wait: Duration,
}

impl GithubSettings {
    /// Settings with the defaults: `$GITHUB_TOKEN`, `dayshift/<version>`, 120 s waits.
    pub fn new(
        api_url: impl Into<String>,
        owner: impl Into<String>,
        repo: impl Into<String>,
        token: impl Into<String>,
    ) -> Self {
        Self {
            api_url: api_url.into(),
            owner: owner.into(),
            repo: repo.into(),
            token: token.into(),
            token_env: "GITHUB_TOKEN".into(),
            user_agent: format!("dayshift/{}", env!("CARGO_PKG_VERSION")),
            max_wait: DEFAULT_MAX_WAIT,
        }
    }

    /// The settings of config/target.yaml's `github:`; `None` without it (dayshift works
    /// local-only). The token must be set in the environment or config/.env.
    pub fn from_config(config: &Config) -> Result<Option<Self>, GithubError> {
        let Some(github) = &config.target.github else {
            return Ok(None);
        };
        let token = config
            .secrets
            .get(&github.token_env)
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| GithubError::NoToken {
                token_env: github.token_env.clone(),
            })?;
        let mut settings = Self::new(
            github.api_url.clone(),
            github.owner.clone(),
            github.repo.clone(),
            token.trim().to_string(),
        );
        settings.token_env = github.token_env.clone();
        Ok(Some(settings))
    }
}

impl std::fmt::Debug for GithubSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GithubSettings")
            .field("api_url", &self.api_url)
            .field("owner", &self.owner)
            .field("repo", &self.repo)
            .field("token", &format_args!("[redacted:{}]", self.token_env))
            .field("user_agent", &self.user_agent)
            .field("max_wait", &self.max_wait)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::home::Home;

    fn load(target: &str, env: &str) -> (tempfile::TempDir, Config) {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::init(dir.path().join("h"), "UTC").unwrap();
        std::fs::write(home.config_file("target.yaml"), target).unwrap();
        std::fs::write(home.env_file(), env).unwrap();
        let config = Config::load(&home).unwrap();
        (dir, config)
    }

    #[test]
    fn the_token_comes_from_the_named_variable_and_is_redacted() {
        let target = "github: {owner: acme, repo: shop, token_env: ACME_GH_CRED, api_url: \"http://127.0.0.1:9\"}\n";
        let (_dir, config) = load(target, "ACME_GH_CRED=gh-canary-5566778899\n");
        let settings = GithubSettings::from_config(&config).unwrap().unwrap();
        assert_eq!(settings.token, "gh-canary-5566778899");
        assert_eq!(settings.api_url, "http://127.0.0.1:9");
        assert_eq!(
            config.secrets.redact("t=gh-canary-5566778899"),
            "t=[redacted:ACME_GH_CRED]"
        );
        assert!(!format!("{settings:?}").contains("gh-canary"));
    }

    #[test]
    fn no_github_block_is_none_and_a_missing_token_says_what_to_set() {
        let (_dir, config) = load("base_branch: main\n", "");
        assert!(GithubSettings::from_config(&config).unwrap().is_none());
        let (_dir, config) = load(
            "github: {owner: acme, repo: shop, token_env: DAYSHIFT_TEST_UNSET_TOKEN}\n",
            "",
        );
        let err = GithubSettings::from_config(&config)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("$DAYSHIFT_TEST_UNSET_TOKEN is not set"),
            "{err}"
        );
        assert!(
            err.contains("DAYSHIFT_TEST_UNSET_TOKEN=<token> in config/.env"),
            "{err}"
        );
    }
}
