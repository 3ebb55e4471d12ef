//! agents.yaml's `search:` (named web-search providers, data like model providers) and
//! `research:` (how much the researcher fetches), with their checks.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::agents::{AgentConfig, AgentName, none_if_empty};
use super::yaml;
use crate::problem::FileProblem;

/// One search provider: `tavily: {kind: tavily, api_key_env: TAVILY_API_KEY}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchProvider {
    pub kind: SearchKind,
    /// Where its API is; required for SearxNG, optional for the others (tests point it at a fake).
    #[serde(default)]
    pub base_url: Option<String>,
    /// The environment variable (or config/.env key) that holds the API key.
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// What one search costs (USD), reserved from the budget before it is made.
    #[serde(default)]
    pub cost_per_search_usd: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SearchKind {
    Tavily,
    Searxng,
    Brave,
}

impl SearchKind {
    /// The public API when `base_url` is left out (SearxNG has none: it is self-hosted).
    pub fn default_base_url(self) -> Option<&'static str> {
        match self {
            Self::Tavily => Some("https://api.tavily.com"),
            Self::Brave => Some("https://api.search.brave.com"),
            Self::Searxng => None,
        }
    }

    /// Whether the provider needs an API key.
    pub fn needs_key(self) -> bool {
        self != Self::Searxng
    }
}

/// `research: {max_results: 5, pages: 3, page_max_kb: 512, timeout_s: 10, allow_private_addresses: false}`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResearchSettings {
    /// Hits asked of the search provider per question.
    pub max_results: u32,
    /// Pages fetched per question (the top hits).
    pub pages: u32,
    /// The most of one page read, in KiB; the rest is never downloaded.
    pub page_max_kb: u32,
    /// Seconds a search or a page fetch may take.
    pub timeout_s: f64,
    /// Fetch pages on loopback, private and link-local addresses (off: search results are
    /// hostile and could point at the machine's own services).
    pub allow_private_addresses: bool,
}

impl Default for ResearchSettings {
    fn default() -> Self {
        Self {
            max_results: 5,
            pages: 3,
            page_max_kb: 512,
            timeout_s: 10.0,
            allow_private_addresses: false,
        }
    }
}

/// Check `search:`, `research:` and each agent's `search:` reference; the first problem
/// found names its line and the fix.
pub fn validate(
    file: &Path,
    providers: &BTreeMap<String, Spanned<SearchProvider>>,
    research: Option<&Spanned<ResearchSettings>>,
    agents: &BTreeMap<AgentName, AgentConfig>,
) -> Result<(), FileProblem> {
    for (name, provider) in providers {
        if let Some(problem) = provider_problem(&provider.value) {
            return Err(FileProblem::new(
                yaml::at(file, &provider.referenced),
                format!("search provider `{name}`: {}", problem.0),
                problem.1,
            ));
        }
    }
    for (agent, config) in agents {
        let Some(reference) = &config.search else {
            continue;
        };
        if !providers.contains_key(&reference.value) {
            let known = providers.keys().cloned().collect::<Vec<_>>().join(", ");
            return Err(FileProblem::new(
                yaml::at(file, &reference.referenced),
                format!(
                    "agents.{agent}.search: `{}` is not defined under `search:`",
                    reference.value
                ),
                format!("define it, or use one of: {}", none_if_empty(known)),
            ));
        }
    }
    if let Some(research) = research
        && let Some(problem) = settings_problem(&research.value)
    {
        return Err(FileProblem::new(
            yaml::at(file, &research.referenced),
            format!("research: {problem}"),
            "write e.g. `research: {max_results: 5, pages: 3, page_max_kb: 512, timeout_s: 10}`",
        ));
    }
    Ok(())
}

/// What is wrong with one provider, and the fix.
fn provider_problem(provider: &SearchProvider) -> Option<(String, String)> {
    let kind = provider.kind;
    if let Some(var) = &provider.api_key_env
        && !is_variable_name(var)
    {
        return Some((
            "`api_key_env` is not an environment variable name (if it is the key itself, it is not repeated here)".into(),
            "name the variable that holds the key (letters, digits and _), e.g. `api_key_env: TAVILY_API_KEY`, never the key itself".into(),
        ));
    }
    if kind.needs_key() && provider.api_key_env.is_none() {
        return Some((
            format!(
                "kind {} needs an API key",
                format!("{kind:?}").to_lowercase()
            ),
            "add `api_key_env: VARIABLE` naming the variable that holds it".into(),
        ));
    }
    if kind == SearchKind::Searxng && provider.base_url.is_none() {
        return Some((
            "kind searxng has no `base_url`".into(),
            "add the address of your instance, e.g. `base_url: \"http://127.0.0.1:8888\"` (with `json` enabled under search.formats in its settings.yml)".into(),
        ));
    }
    if let Some(url) = &provider.base_url
        && super::Endpoint::of_url(url).is_none()
    {
        return Some((
            format!("`base_url: {url}` is not an http(s) URL"),
            "write e.g. `base_url: \"https://api.tavily.com\"`".into(),
        ));
    }
    if provider
        .cost_per_search_usd
        .is_some_and(|c| !(c.is_finite() && c >= 0.0))
    {
        return Some((
            "`cost_per_search_usd` must be 0 or more".into(),
            "write e.g. `cost_per_search_usd: 0.008`".into(),
        ));
    }
    None
}

fn settings_problem(settings: &ResearchSettings) -> Option<&'static str> {
    if settings.max_results == 0 || settings.max_results > 20 {
        Some("`max_results` must be between 1 and 20")
    } else if settings.pages > settings.max_results {
        Some("`pages` cannot be more than `max_results` (only hits are fetched)")
    } else if settings.page_max_kb == 0 {
        Some("`page_max_kb` must be 1 or more")
    } else if !(settings.timeout_s.is_finite() && settings.timeout_s > 0.0) {
        Some("`timeout_s` must be a positive number of seconds")
    } else {
        None
    }
}

/// A name an environment variable can have: letters, digits and `_`, not starting with a digit.
pub fn is_variable_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use crate::config::AgentsConfig;
    use crate::config::agents::AgentName;
    use crate::problem::FileProblem;
    use std::path::Path;

    fn parse(text: &str) -> Result<AgentsConfig, FileProblem> {
        AgentsConfig::parse(Path::new("config/agents.yaml"), text)
    }

    #[test]
    fn the_documented_example_parses() {
        let c = parse(
            "providers:\n  claude: {kind: anthropic, api_key_env: ANTHROPIC_API_KEY}\nsearch:\n  tavily: {kind: tavily, api_key_env: TAVILY_API_KEY, cost_per_search_usd: 0.008}\n  searx:  {kind: searxng, base_url: \"http://127.0.0.1:8888\"}\n  brave:  {kind: brave, api_key_env: BRAVE_API_KEY}\nagents:\n  researcher: {provider: claude, search: tavily}\nresearch: {max_results: 5, pages: 3, page_max_kb: 512, timeout_s: 10, allow_private_addresses: false}\n",
        )
        .unwrap();
        assert_eq!(c.search.len(), 3);
        assert_eq!(c.search_for(AgentName::Researcher), Some("tavily"));
        assert_eq!(c.research_settings().pages, 3);
        assert_eq!(c.search["tavily"].value.cost_per_search_usd, Some(0.008));
    }

    #[test]
    fn no_research_section_means_the_defaults() {
        let c =
            parse("search:\n  s: {kind: searxng, base_url: \"http://127.0.0.1:8888\"}\n").unwrap();
        assert_eq!(c.research_settings().max_results, 5);
        assert_eq!(c.research_settings().page_max_kb, 512);
        assert!(!c.research_settings().allow_private_addresses);
        assert_eq!(c.search_for(AgentName::Researcher), None);
    }

    fn problem(text: &str) -> FileProblem {
        parse(text).expect_err("a problem")
    }

    #[test]
    fn an_unknown_kind_is_named_with_its_line() {
        let err = problem("search:\n  g: {kind: google, api_key_env: G_KEY}\n");
        assert_eq!(err.at.line, Some(2), "{err}");
        assert!(err.problem.contains("google"), "{err}");
    }

    #[test]
    fn a_searxng_without_base_url_says_how_to_fix_it() {
        let err = problem("agents: {}\nsearch:\n  searx: {kind: searxng}\n");
        assert_eq!(err.at.line, Some(3), "{err}");
        assert!(err.problem.contains("`searx`"), "{err}");
        assert!(err.fix.contains("base_url"), "{err}");
    }

    #[test]
    fn an_undefined_search_provider_is_named_with_its_line() {
        let err = problem(
            "search:\n  tavily: {kind: tavily, api_key_env: TAVILY_API_KEY}\nagents:\n  researcher:\n    search: bing\n",
        );
        assert_eq!(err.at.line, Some(5), "{err}");
        assert!(err.problem.contains("`bing`"), "{err}");
        assert!(err.fix.contains("tavily"), "{err}");
    }

    #[test]
    fn a_key_in_place_of_a_variable_name_is_refused_without_repeating_it() {
        let err = problem("search:\n  t:\n    kind: tavily\n    api_key_env: tvly-abc123\n");
        assert_eq!(err.at.line, Some(3), "{err}");
        assert!(
            !format!("{err} {}", err.fix).contains("tvly-abc123"),
            "{err}"
        );
        assert!(
            err.problem.contains("not an environment variable name"),
            "{err}"
        );
    }

    #[test]
    fn a_paid_provider_without_a_key_variable_is_refused() {
        let err = problem("search:\n  b: {kind: brave}\n");
        assert!(err.problem.contains("needs an API key"), "{err}");
        assert_eq!(err.at.line, Some(2), "{err}");
    }

    #[test]
    fn unknown_keys_and_bad_settings_are_refused() {
        let err = problem("search:\n  t: {kind: tavily, api_key_env: T, depth: advanced}\n");
        assert!(err.problem.contains("unknown field `depth`"), "{err}");
        let err = problem("research:\n  pages: 9\n  max_results: 3\n");
        assert_eq!(err.at.line, Some(2), "{err}");
        assert!(err.problem.contains("`pages`"), "{err}");
        let err = problem("research: {timeout_s: 0}\n");
        assert!(err.problem.contains("timeout_s"), "{err}");
    }
}
