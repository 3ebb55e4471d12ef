//! config/agents.yaml: model providers (as data), per-agent settings, budget and prices.
//!
//! The spine only validates these; the models issue puts them to work.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::search::{ResearchSettings, SearchProvider};
use super::yaml;
use crate::problem::{At, FileProblem};

/// Why `{prompt}` is not allowed in a command, and what to use instead.
pub const PROMPT_ON_ARGV: &str = "`{prompt}` would put the task on the command line, where every process on the machine can read it (/proc/<pid>/cmdline); remove it: the prompt comes on stdin, or pass {prompt_file} for a file holding it";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentsConfig {
    /// Named providers; an agent picks one by name.
    #[serde(default)]
    pub providers: BTreeMap<String, ProviderConfig>,
    /// Used by agents that name no provider; absent means the model-free behaviour.
    #[serde(default)]
    pub default_provider: Option<Spanned<String>>,
    #[serde(default)]
    pub agents: BTreeMap<AgentName, AgentConfig>,
    #[serde(default)]
    pub budget: Option<Spanned<BudgetConfig>>,
    /// USD per million tokens, by model name.
    #[serde(default)]
    pub prices: BTreeMap<String, Price>,
    /// How many goals the morning plan takes on in one day.
    #[serde(default = "default_max_tasks")]
    pub max_tasks_per_day: u32,
    /// Named web-search providers; the researcher picks one by name (see [`super::search`]).
    #[serde(default)]
    pub search: BTreeMap<String, Spanned<SearchProvider>>,
    /// How much the researcher searches and fetches; absent means the defaults.
    #[serde(default)]
    pub research: Option<Spanned<ResearchSettings>>,
}

fn default_max_tasks() -> u32 {
    5
}

impl Default for AgentsConfig {
    fn default() -> Self {
        Self {
            providers: BTreeMap::new(),
            default_provider: None,
            agents: BTreeMap::new(),
            budget: None,
            prices: BTreeMap::new(),
            max_tasks_per_day: default_max_tasks(),
            search: BTreeMap::new(),
            research: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    pub kind: ProviderKind,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub base_url: Option<String>,
    /// The environment variable (or config/.env key) that holds the API key.
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// For `kind: replay`: the JSON-lines file of recorded answers.
    #[serde(default)]
    pub cassette: Option<String>,
    /// Seconds to wait, per phase; slow local models may need a longer `overall`.
    #[serde(default)]
    pub timeouts: Option<TimeoutSettings>,
}

/// `timeouts: {connect: 10, idle: 60, overall: 600}` (seconds; any may be left out).
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeoutSettings {
    /// Establishing the connection.
    #[serde(default)]
    pub connect: Option<f64>,
    /// No byte from the server for this long (before the answer starts or between chunks).
    #[serde(default)]
    pub idle: Option<f64>,
    /// The whole call.
    #[serde(default)]
    pub overall: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    Anthropic,
    Openai,
    Replay,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AgentName {
    Orchestrator,
    Planner,
    Researcher,
    Coder,
    Qa,
    Reviewer,
    Devops,
    Scanner,
}

impl fmt::Display for AgentName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = format!("{self:?}").to_lowercase();
        f.write_str(&s)
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    #[serde(default)]
    pub provider: Option<Spanned<String>>,
    #[serde(default)]
    pub fallback: Option<Spanned<String>>,
    #[serde(default)]
    pub max_tokens: Option<u32>,
    /// The coder's hands: aider, command or native.
    #[serde(default)]
    pub engine: Option<EngineKind>,
    #[serde(default)]
    pub attempts: Option<u32>,
    /// Minutes one engine run may take (fractions allowed).
    #[serde(default)]
    pub timeout_minutes: Option<f64>,
    /// `engine: command`: a preset (`claude`, `codex`) …
    #[serde(default)]
    pub preset: Option<String>,
    /// … or an argument template with {prompt_file}, {files} and {workdir} (the prompt comes
    /// on stdin; `{prompt}` is refused).
    #[serde(default)]
    pub command: Option<Vec<String>>,
    /// Environment variables the coding tool may see (values from config/.env or the
    /// environment); nothing else is passed to it.
    #[serde(default)]
    pub env: Vec<String>,
    /// `engine: aider`: `diff` (default) or `whole`.
    #[serde(default)]
    pub edit_format: Option<String>,
    /// `engine: command`: where a confined tool may connect (its model's API), as URLs or
    /// `host:port`; everything else is refused. The presets know theirs (Aider's is its
    /// provider's); a `command` without `egress` keeps the host's network.
    #[serde(default)]
    pub egress: Vec<String>,
    /// The most one coding-tool run may say it spent (USD); a claim above it is recorded in
    /// full and stops the attempt. Default: the daily `budget.daily_usd`.
    #[serde(default)]
    pub max_cost_per_run_usd: Option<f64>,
    /// `researcher`: the search provider it uses, by name under `search:`.
    #[serde(default)]
    pub search: Option<Spanned<String>>,
    /// `reviewer`: how many times the model may send a change back to the coder before a
    /// person decides (default 2; 0: its first request for changes goes to a person).
    #[serde(default)]
    pub review_rounds: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineKind {
    Aider,
    Command,
    Native,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetConfig {
    #[serde(default)]
    pub daily_usd: Option<f64>,
    #[serde(default)]
    pub daily_tokens: Option<u64>,
    #[serde(default = "default_alert_at")]
    pub alert_at: f64,
}

fn default_alert_at() -> f64 {
    0.8
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    pub input: f64,
    pub output: f64,
}

impl AgentsConfig {
    pub fn parse(file: &Path, text: &str) -> Result<Self, FileProblem> {
        let config: Self = yaml::parse(file, text, 0)?;
        config.validate(file)?;
        Ok(config)
    }

    fn validate(&self, file: &Path) -> Result<(), FileProblem> {
        let at = |loc: &serde_saphyr::Location| At {
            file: file.to_path_buf(),
            line: yaml::line_of(loc, 0),
        };
        let known = || {
            self.providers
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        };
        let references = self.default_provider.iter().chain(
            self.agents
                .values()
                .flat_map(|a| a.provider.iter().chain(a.fallback.iter())),
        );
        for name in references {
            if !self.providers.contains_key(&name.value) {
                return Err(FileProblem::new(
                    at(&name.referenced),
                    format!(
                        "provider `{}` is not defined under `providers:`",
                        name.value
                    ),
                    format!("define it, or use one of: {}", none_if_empty(known())),
                ));
            }
        }
        for (name, provider) in &self.providers {
            let t = provider.timeouts.unwrap_or_default();
            if [t.connect, t.idle, t.overall]
                .iter()
                .flatten()
                .any(|s| !(s.is_finite() && *s > 0.0))
            {
                return Err(FileProblem::new(
                    At::file(file),
                    format!(
                        "provider `{name}` has a timeout that is not a positive number of seconds"
                    ),
                    "write e.g. `timeouts: {connect: 10, idle: 60, overall: 600}`",
                ));
            }
            if provider.kind == ProviderKind::Replay && provider.cassette.is_none() {
                return Err(FileProblem::new(
                    At::file(file),
                    format!("provider `{name}` is of kind replay but has no `cassette`"),
                    "add `cassette: path/to/answers.jsonl`",
                ));
            }
        }
        if let Some(budget) = &self.budget {
            let b = &budget.value;
            let problem = match (b.daily_usd, b.daily_tokens) {
                (None, None) => Some("budget sets neither `daily_usd` nor `daily_tokens`"),
                (Some(_), Some(_)) => Some("budget sets both `daily_usd` and `daily_tokens`"),
                (Some(usd), None) if usd.is_nan() || usd <= 0.0 => {
                    Some("`daily_usd` must be above 0")
                }
                (None, Some(0)) => Some("`daily_tokens` must be above 0"),
                _ if !(b.alert_at > 0.0 && b.alert_at <= 1.0) => {
                    Some("`alert_at` must be between 0 and 1")
                }
                _ => None,
            };
            if let Some(problem) = problem {
                return Err(FileProblem::new(
                    at(&budget.referenced),
                    problem,
                    "write e.g. `budget: {daily_usd: 5.00, alert_at: 0.8}`",
                ));
            }
        }
        if let Some(coder) = self.agents.get(&AgentName::Coder) {
            let problem = match (coder.engine, &coder.preset, &coder.command) {
                (Some(EngineKind::Command), None, None) => Some(
                    "`engine: command` needs `preset: claude|codex` or `command: [...]`"
                        .to_string(),
                ),
                (_, Some(p), _) if !["claude", "codex"].contains(&p.as_str()) => Some(format!(
                    "unknown preset `{p}`; presets are claude and codex"
                )),
                (_, _, Some(c)) if c.iter().any(|a| a.contains("{prompt}")) => {
                    Some(PROMPT_ON_ARGV.to_string())
                }
                _ if coder.env.iter().any(|v| {
                    v.is_empty() || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                }) =>
                {
                    Some("`env` lists a name that is not an environment variable".to_string())
                }
                _ if coder
                    .edit_format
                    .as_deref()
                    .is_some_and(|f| f != "diff" && f != "whole") =>
                {
                    Some("`edit_format` is diff or whole".to_string())
                }
                _ if coder.attempts == Some(0) => Some("`attempts` must be 1 or more".to_string()),
                _ if coder.egress.iter().any(|e| super::Endpoint::of_config(e).is_none()) => {
                    Some("`egress` lists something that is neither a URL (https://api.example.com) nor host:port".to_string())
                }
                _ if coder
                    .max_cost_per_run_usd
                    .is_some_and(|c| c.is_nan() || c <= 0.0) =>
                {
                    Some("`max_cost_per_run_usd` must be above 0".to_string())
                }
                _ => None,
            };
            if let Some(problem) = problem {
                return Err(FileProblem::new(
                    At::file(file),
                    format!("agents.coder: {problem}"),
                    "see docs/engines.md for the coder's engines",
                ));
            }
        }
        super::search::validate(file, &self.search, self.research.as_ref(), &self.agents)?;
        if self.max_tasks_per_day == 0 {
            return Err(FileProblem::new(
                At::file(file),
                "`max_tasks_per_day` is 0, so no goal would ever be planned",
                "set it to 1 or more",
            ));
        }
        Ok(())
    }

    /// The provider an agent uses: its own, else the default; `None` means no model.
    pub fn provider_for(&self, agent: AgentName) -> Option<&str> {
        self.agents
            .get(&agent)
            .and_then(|a| a.provider.as_ref())
            .or(self.default_provider.as_ref())
            .map(|s| s.value.as_str())
    }

    /// The search provider an agent uses, by name; `None` means it searches nothing.
    pub fn search_for(&self, agent: AgentName) -> Option<&str> {
        self.agents
            .get(&agent)
            .and_then(|a| a.search.as_ref())
            .map(|s| s.value.as_str())
    }

    /// The `research:` settings, or their defaults.
    pub fn research_settings(&self) -> ResearchSettings {
        self.research.as_ref().map(|r| r.value).unwrap_or_default()
    }
}

/// `s`, or `(none defined)` when it is empty (for "use one of: …" fixes).
pub(super) fn none_if_empty(s: String) -> String {
    if s.is_empty() {
        "(none defined)".into()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<AgentsConfig, FileProblem> {
        AgentsConfig::parse(Path::new("config/agents.yaml"), text)
    }

    #[test]
    fn design_example_parses() {
        let c = parse(
            "providers:\n  claude: {kind: anthropic, model: claude-sonnet-4-5, api_key_env: ANTHROPIC_API_KEY}\n  local: {kind: openai, base_url: \"http://127.0.0.1:11434/v1\", model: qwen}\ndefault_provider: claude\nagents:\n  planner: {provider: claude, max_tokens: 8000}\n  coder: {engine: aider, provider: claude, attempts: 3, timeout_minutes: 10}\nbudget: {daily_usd: 5.00, alert_at: 0.8}\nprices:\n  claude-sonnet-4-5: {input: 3.0, output: 15.0}\nmax_tasks_per_day: 5\n",
        )
        .unwrap();
        assert_eq!(c.provider_for(AgentName::Reviewer), Some("claude"));
        assert_eq!(c.max_tasks_per_day, 5);
    }

    #[test]
    fn undefined_provider_is_named_with_its_line() {
        let err = parse("providers: {}\nagents:\n  planner: {provider: gpt}\n").unwrap_err();
        assert_eq!(err.at.line, Some(3));
        assert!(err.problem.contains("`gpt`"));
    }

    #[test]
    fn budget_needs_exactly_one_cap() {
        let err = parse("budget: {alert_at: 0.5}\n").unwrap_err();
        assert!(err.problem.contains("neither"), "{err}");
    }

    #[test]
    fn empty_file_means_no_model() {
        let c = parse("").unwrap();
        assert_eq!(c.provider_for(AgentName::Orchestrator), None);
        assert_eq!(c.max_tasks_per_day, 5);
    }
}
