//! One web search through a configured provider: Tavily (`POST /search`, key as a bearer
//! token), SearxNG (`GET /search?format=json`, no key) or Brave (`GET /res/v1/web/search`,
//! key in `X-Subscription-Token`). Blocking reqwest; the key only ever goes in a header and
//! no error carries it (nor the URL, which holds the query).

use std::time::Duration;

use reqwest::Url;
use reqwest::blocking::{Client, RequestBuilder};
use serde::Deserialize;
use serde_json::json;

use crate::config::Secrets;
use crate::config::search::{ResearchSettings, SearchKind, SearchProvider};

/// One search result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub title: String,
    pub url: String,
    pub snippet: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error(
        "search provider `{provider}` needs an API key in ${variable}, which is not set; set it in config/.env or the environment"
    )]
    MissingKey { provider: String, variable: String },
    #[error(
        "search provider `{provider}` could not be reached ({detail}); check that it is up and that `base_url` is right"
    )]
    Unreachable { provider: String, detail: String },
    #[error("search provider `{provider}` refused the request (HTTP {status}); {fix}")]
    Refused {
        provider: String,
        status: u16,
        fix: String,
    },
    #[error(
        "search provider `{provider}` is rate limiting (HTTP 429); wait, or lower `research.max_results` and the number of questions a day"
    )]
    RateLimited { provider: String },
    #[error(
        "search provider `{provider}` gave an answer dayshift cannot read ({detail}); check that `kind` matches the service"
    )]
    BadAnswer { provider: String, detail: String },
}

/// A search provider of agents.yaml, ready to search.
#[derive(Debug, Clone)]
pub struct SearchClient {
    name: String,
    kind: SearchKind,
    base_url: String,
    key: Option<Key>,
    cost_per_search_usd: f64,
    http: Client,
}

/// An API key and the variable it came from (the only one of the two an error may name).
#[derive(Clone)]
struct Key {
    variable: String,
    value: String,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key(${})", self.variable)
    }
}

impl SearchClient {
    /// The client for provider `name`: its key read from `secrets`, its timeout from
    /// `settings.timeout_s`.
    pub fn from_config(
        name: &str,
        provider: &SearchProvider,
        settings: &ResearchSettings,
        secrets: &Secrets,
    ) -> Result<Self, SearchError> {
        let key = match &provider.api_key_env {
            Some(variable) => match secrets.get(variable) {
                Some(value) if !value.is_empty() => Some(Key {
                    variable: variable.clone(),
                    value,
                }),
                _ if provider.kind.needs_key() => {
                    return Err(SearchError::MissingKey {
                        provider: name.to_string(),
                        variable: variable.clone(),
                    });
                }
                _ => None,
            },
            None => None,
        };
        let base_url = provider
            .base_url
            .as_deref()
            .or(provider.kind.default_base_url())
            .ok_or_else(|| SearchError::Unreachable {
                provider: name.to_string(),
                detail: "no `base_url` is configured".into(),
            })?
            .trim_end_matches('/')
            .to_string();
        let timeout = Duration::from_secs_f64(settings.timeout_s);
        let http = Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(super::USER_AGENT)
            .build()
            .map_err(|e| SearchError::Unreachable {
                provider: name.to_string(),
                detail: e.without_url().to_string(),
            })?;
        Ok(Self {
            name: name.to_string(),
            kind: provider.kind,
            base_url,
            key,
            cost_per_search_usd: provider.cost_per_search_usd.unwrap_or(0.0),
            http,
        })
    }

    /// The provider's name in agents.yaml.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What one search costs (USD; 0 when the config names no price), to reserve first.
    pub fn cost_per_search_usd(&self) -> f64 {
        self.cost_per_search_usd
    }

    /// Up to `max` hits for `query`, in the provider's order.
    pub fn search(&self, query: &str, max: u32) -> Result<Vec<Hit>, SearchError> {
        let max_text = max.to_string();
        let request = match self.kind {
            SearchKind::Tavily => self
                .http
                .post(format!("{}/search", self.base_url))
                .json(&json!({"query": query, "max_results": max, "search_depth": "basic"})),
            SearchKind::Searxng => self
                .http
                .get(self.url_with("/search", &[("q", query), ("format", "json")])?),
            SearchKind::Brave => self.http.get(self.url_with(
                "/res/v1/web/search",
                &[("q", query), ("count", max_text.as_str())],
            )?),
        };
        let body = self.send(self.authorize(request))?;
        let mut hits = self.parse(&body)?;
        hits.truncate(max as usize);
        Ok(hits)
    }

    /// `{base_url}{path}?` with the parameters encoded.
    fn url_with(&self, path: &str, params: &[(&str, &str)]) -> Result<Url, SearchError> {
        Url::parse_with_params(&format!("{}{path}", self.base_url), params).map_err(|e| {
            SearchError::Unreachable {
                provider: self.name.clone(),
                detail: format!("`base_url` is not a URL: {e}"),
            }
        })
    }

    fn authorize(&self, request: RequestBuilder) -> RequestBuilder {
        let request = request.header(reqwest::header::ACCEPT, "application/json");
        match (&self.key, self.kind) {
            (Some(key), SearchKind::Brave) => request.header("X-Subscription-Token", &key.value),
            (Some(key), _) => request.bearer_auth(&key.value),
            (None, _) => request,
        }
    }

    fn send(&self, request: RequestBuilder) -> Result<String, SearchError> {
        let response = request.send().map_err(|e| SearchError::Unreachable {
            provider: self.name.clone(),
            detail: describe(&e),
        })?;
        let status = response.status().as_u16();
        match status {
            200..=299 => response.text().map_err(|e| SearchError::BadAnswer {
                provider: self.name.clone(),
                detail: describe(&e),
            }),
            // 432/433: Tavily's plan or pay-as-you-go limit reached
            401 | 402 | 403 | 432 | 433 => Err(SearchError::Refused {
                provider: self.name.clone(),
                status,
                fix: self.refusal_fix(),
            }),
            429 => Err(SearchError::RateLimited {
                provider: self.name.clone(),
            }),
            500..=599 => Err(SearchError::Unreachable {
                provider: self.name.clone(),
                detail: format!("HTTP {status}"),
            }),
            _ => Err(SearchError::BadAnswer {
                provider: self.name.clone(),
                detail: format!("HTTP {status}"),
            }),
        }
    }

    fn refusal_fix(&self) -> String {
        match (&self.key, self.kind) {
            (Some(key), _) => format!(
                "check ${}: the key may be wrong, expired or out of credits",
                key.variable
            ),
            (None, SearchKind::Searxng) => {
                "enable `json` under search.formats in the instance's settings.yml".into()
            }
            (None, _) => "set `api_key_env` for this provider".into(),
        }
    }

    fn parse(&self, body: &str) -> Result<Vec<Hit>, SearchError> {
        let bad = |e: serde_json::Error| SearchError::BadAnswer {
            provider: self.name.clone(),
            detail: e.to_string(),
        };
        let results = match self.kind {
            SearchKind::Tavily | SearchKind::Searxng => {
                serde_json::from_str::<ResultsAnswer>(body)
                    .map_err(bad)?
                    .results
            }
            SearchKind::Brave => {
                let answer = serde_json::from_str::<BraveAnswer>(body).map_err(bad)?;
                answer.web.map(|w| w.results).unwrap_or_default()
            }
        };
        Ok(results
            .into_iter()
            .filter(|r| !r.url.is_empty())
            .map(|r| Hit {
                title: r.title,
                url: r.url,
                snippet: r.content.or(r.description).unwrap_or_default(),
            })
            .collect())
    }
}

/// A reqwest error without its URL (the URL holds the query; never the key, which is in
/// a header, but a log line need not carry either).
pub(super) fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(error);
    let mut innermost = None;
    while let Some(e) = source {
        innermost = Some(e.to_string());
        source = e.source();
    }
    match innermost {
        Some(cause) => format!("{kind}: {cause}"),
        None => kind.to_string(),
    }
}

/// Tavily's and SearxNG's answer: `results[].{title, url, content}`.
#[derive(Deserialize)]
struct ResultsAnswer {
    #[serde(default)]
    results: Vec<RawResult>,
}

/// Brave's answer: `web.results[].{title, url, description}`.
#[derive(Deserialize)]
struct BraveAnswer {
    #[serde(default)]
    web: Option<BraveWeb>,
}

#[derive(Deserialize)]
struct BraveWeb {
    #[serde(default)]
    results: Vec<RawResult>,
}

#[derive(Deserialize)]
struct RawResult {
    #[serde(default)]
    title: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    description: Option<String>,
}
