//! The home's configuration: five YAML files (notify.yaml optional) and a .env, parsed into typed, validated data.
//!
//! Raw YAML goes through serde-saphyr into structs that deny unknown keys; semantic checks
//! (cron, time zone, globs, provider references) run right after, so the rest of dayshift
//! only ever sees valid settings. A missing file means its defaults; a wrong one is a
//! [`FileProblem`] naming file, line and fix.
//!
//! The config is read once per run: [`Config::load`] hashes the bytes it parsed
//! ([`Fingerprint`]), and [`Config::changed_files`] says which files differ at the end of a
//! run — a tool that rewrites config/policy.yaml mid-run changes nothing for that run, and is
//! reported. A file in config/ that dayshift does not read (`policy.yml`) is a problem
//! [`Config::problems`] names with the file meant, never silently ignored.

pub mod agents;
pub mod deploy;
mod endpoint;
pub mod github;
mod job_name;
pub mod mention;
pub mod notify;
pub mod policy;
pub mod redact;
pub mod schedules;
pub mod search;
pub mod secrets;
pub mod target;
pub mod yaml;

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};

pub use agents::{AgentName, AgentsConfig};
pub use endpoint::Endpoint;
pub use job_name::JobName;
pub use notify::NotifyConfig;
pub use policy::Policy;
pub use schedules::{CronSchedule, Schedules};
pub use secrets::Secrets;
pub use target::TargetConfig;

use crate::home::Home;
use crate::problem::{At, FileProblem};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Invalid(#[from] FileProblem),
}

/// The YAML files dayshift reads from config/.
pub const CONFIG_FILES: [&str; 5] = [
    "target.yaml",
    "agents.yaml",
    "schedules.yaml",
    "policy.yaml",
    "notify.yaml",
];

/// Everything under config/, validated.
#[derive(Debug, Clone)]
pub struct Config {
    pub target: TargetConfig,
    pub agents: AgentsConfig,
    pub schedules: Schedules,
    pub policy: Policy,
    /// Where the people are told what happened (config/notify.yaml; optional).
    pub notify: NotifyConfig,
    pub secrets: Secrets,
    /// What the files held when they were read (to find a change made during a run).
    pub fingerprint: Fingerprint,
}

impl Config {
    /// Load and validate every config file; the first problem found is the error. The
    /// secrets' redactor learns every name the config gives, and joins the process-wide
    /// one (see [`redact`]); a file in config/ that is not read is warned about.
    pub fn load(home: &Home) -> Result<Self, ConfigError> {
        let mut fingerprint = Fingerprint::default();
        let mut parsed = |name: &str| -> Result<Option<String>, FileProblem> {
            let text = read_text(&home.config_file(name))?;
            fingerprint.add(name, text.as_deref().map(str::as_bytes));
            Ok(text)
        };
        let target = parse(
            home,
            "target.yaml",
            parsed("target.yaml")?,
            TargetConfig::parse,
        )?;
        let agents = parse(
            home,
            "agents.yaml",
            parsed("agents.yaml")?,
            AgentsConfig::parse,
        )?;
        let schedules = parse(
            home,
            "schedules.yaml",
            parsed("schedules.yaml")?,
            Schedules::parse,
        )?;
        let policy = parse(home, "policy.yaml", parsed("policy.yaml")?, Policy::parse)?;
        let notify = parse(
            home,
            "notify.yaml",
            parsed("notify.yaml")?,
            NotifyConfig::parse,
        )?;
        parsed(".env")?;
        let mut secrets = Secrets::load(&home.env_file())?;
        secrets.name(
            secret_names(&agents, &target, &notify)
                .iter()
                .map(String::as_str),
        );
        redact::install(secrets.redactor());
        for problem in unknown_files(home) {
            tracing::warn!("{problem}");
        }
        Ok(Self {
            target,
            agents,
            schedules,
            policy,
            notify,
            secrets,
            fingerprint,
        })
    }

    /// For commands that only read (`status`, `tasks list`, `budget`, `audit`): the config
    /// with each YAML file that has a problem replaced by its defaults, and those problems,
    /// so one bad value in schedules.yaml does not hide the queue. `.env` must still load:
    /// without its values nothing could be redacted.
    pub fn load_lenient(home: &Home) -> Result<(Self, Vec<FileProblem>), ConfigError> {
        let mut problems = Vec::new();
        let agents = or_default(
            read(&home.config_file("agents.yaml"), AgentsConfig::parse),
            &mut problems,
        );
        let target = or_default(
            read(&home.config_file("target.yaml"), TargetConfig::parse),
            &mut problems,
        );
        let notify = or_default(
            read(&home.config_file("notify.yaml"), NotifyConfig::parse),
            &mut problems,
        );
        let mut secrets = Secrets::load(&home.env_file())?;
        secrets.name(
            secret_names(&agents, &target, &notify)
                .iter()
                .map(String::as_str),
        );
        redact::install(secrets.redactor());
        for problem in unknown_files(home) {
            tracing::warn!("{problem}");
        }
        let config = Self {
            target,
            agents,
            schedules: or_default(
                read(&home.config_file("schedules.yaml"), Schedules::parse),
                &mut problems,
            ),
            policy: or_default(
                read(&home.config_file("policy.yaml"), Policy::parse),
                &mut problems,
            ),
            notify,
            secrets,
            fingerprint: Fingerprint::default(),
        };
        Ok((config, problems))
    }

    /// Every problem in every config file (for `doctor`), not just the first.
    pub fn problems(home: &Home) -> Vec<FileProblem> {
        let checks = [
            read(&home.config_file("target.yaml"), TargetConfig::parse).err(),
            read(&home.config_file("agents.yaml"), AgentsConfig::parse).err(),
            read(&home.config_file("schedules.yaml"), Schedules::parse).err(),
            read(&home.config_file("policy.yaml"), Policy::parse).err(),
            read(&home.config_file("notify.yaml"), NotifyConfig::parse).err(),
            Secrets::load(&home.env_file()).err(),
        ];
        let mut problems: Vec<FileProblem> = checks.into_iter().flatten().collect();
        problems.extend(unknown_files(home));
        problems
    }

    /// The config files whose bytes differ from what [`Config::load`] read (added,
    /// removed or rewritten), by name; empty when none changed.
    pub fn changed_files(&self, home: &Home) -> Vec<String> {
        let mut now = Fingerprint::default();
        for name in CONFIG_FILES.iter().chain(&[".env"]) {
            let bytes = std::fs::read(home.config_file(name)).ok();
            now.add(name, bytes.as_deref());
        }
        self.fingerprint.differences(&now)
    }
}

/// SHA-256 of each config file as read (`None`: it did not exist).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fingerprint(BTreeMap<String, Option<[u8; 32]>>);

impl Fingerprint {
    fn add(&mut self, name: &str, bytes: Option<&[u8]>) {
        self.0
            .insert(name.to_string(), bytes.map(|b| Sha256::digest(b).into()));
    }

    fn differences(&self, other: &Fingerprint) -> Vec<String> {
        let mut names: Vec<&String> = self.0.keys().chain(other.0.keys()).collect();
        names.sort();
        names.dedup();
        names
            .into_iter()
            .filter(|n| self.0.get(*n) != other.0.get(*n))
            .cloned()
            .collect()
    }
}

/// Names the config gives to secrets: each model and search provider's key variable,
/// every secret-named variable passed to the coding tool or to the deploy commands, the
/// GitHub token's variable and the variables holding the notification channels' URLs (a
/// webhook URL is a credential).
fn secret_names(
    agents: &AgentsConfig,
    target: &TargetConfig,
    notify: &NotifyConfig,
) -> Vec<String> {
    let mut names: Vec<String> = agents
        .providers
        .values()
        .filter_map(|p| p.api_key_env.clone())
        .collect();
    names.extend(
        agents
            .search
            .values()
            .filter_map(|p| p.value.api_key_env.clone()),
    );
    names.extend(
        agents
            .agents
            .values()
            .flat_map(|a| a.env.iter())
            .filter(|n| redact::is_secret_name(n))
            .cloned(),
    );
    names.extend(target.github.iter().map(|g| g.token_env.clone()));
    names.extend(
        target
            .deploy_env_names()
            .into_iter()
            .filter(|n| redact::is_secret_name(n)),
    );
    names.extend(notify.channels.iter().map(|c| c.url_env.clone()));
    names
}

/// Files in config/ dayshift does not read, each named with the file meant. Allowed: the
/// YAML files, `.env` (and `.env.example`), `prompts/`, `README*`, `*.md` and `.gitkeep`.
pub fn unknown_files(home: &Home) -> Vec<FileProblem> {
    let Ok(entries) = std::fs::read_dir(home.root().join("config")) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| !is_allowed(name) && !name.contains(crate::fsx::TMP_MARKER))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let path = home.config_file(&name);
            match meant(&name) {
                Some(meant) => FileProblem::new(
                    At::file(&path),
                    format!("config/{name} is not read: did you mean config/{meant}?"),
                    format!("rename it to {meant} (its settings are not in force now)"),
                ),
                None => FileProblem::new(
                    At::file(&path),
                    format!("config/{name} is not read"),
                    format!(
                        "dayshift reads only {}, .env and prompts/ in config/; move or delete it",
                        CONFIG_FILES.join(", ")
                    ),
                ),
            }
        })
        .collect()
}

/// The scanner's suppressions: read by `dayshift scan` when it runs (docs/scan.md).
pub const SCAN_IGNORE: &str = "scan-ignore.yaml";
/// The scanner's settings ([`crate::scan::config`]): read by each scan, not with the rest.
pub const SCAN_CONFIG: &str = "scan.yaml";

fn is_allowed(name: &str) -> bool {
    CONFIG_FILES.contains(&name)
        || name == SCAN_IGNORE
        || name == SCAN_CONFIG
        || matches!(name, ".env" | ".env.example" | "prompts" | ".gitkeep")
        || name.starts_with("README")
        || name.ends_with(".md")
}

/// The config file a misnamed one was probably meant to be: same stem (`policy.yml`,
/// `Policy.YAML`), or a near spelling (`polcy.yaml`, `agent.yaml`).
fn meant(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    let stem = lower.split('.').next().unwrap_or("");
    CONFIG_FILES
        .iter()
        .copied()
        .find(|known| known.trim_end_matches(".yaml") == stem)
        .or_else(|| {
            CONFIG_FILES
                .iter()
                .copied()
                .map(|known| (edit_distance(stem, known.trim_end_matches(".yaml")), known))
                .filter(|(d, _)| *d <= 2)
                .min()
                .map(|(_, known)| known)
        })
        .or_else(|| lower.starts_with(".env").then_some(".env"))
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

fn read_text(path: &Path) -> Result<Option<String>, FileProblem> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(FileProblem::new(
            At::file(path),
            format!("cannot read: {e}"),
            "check the file's permissions",
        )),
    }
}

fn parse<T: Default>(
    home: &Home,
    name: &str,
    text: Option<String>,
    parse: fn(&Path, &str) -> Result<T, FileProblem>,
) -> Result<T, FileProblem> {
    match text {
        Some(text) => parse(&home.config_file(name), &text),
        None => Ok(T::default()),
    }
}

/// The value, or its type's default with the problem kept.
fn or_default<T: Default>(found: Result<T, FileProblem>, problems: &mut Vec<FileProblem>) -> T {
    found.unwrap_or_else(|problem| {
        problems.push(problem);
        T::default()
    })
}

fn read<T: Default>(
    path: &Path,
    parse: fn(&Path, &str) -> Result<T, FileProblem>,
) -> Result<T, FileProblem> {
    match read_text(path)? {
        Some(text) => parse(path, &text),
        None => Ok(T::default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn home() -> (tempfile::TempDir, Home) {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::init(dir.path().join("h"), "UTC").unwrap();
        (dir, home)
    }

    #[test]
    fn a_misnamed_file_is_a_problem_with_the_name_meant() {
        let (_dir, home) = home();
        assert!(unknown_files(&home).is_empty(), "a fresh home is clean");
        std::fs::write(
            home.config_file("policy.yml"),
            "auto_merge: none
",
        )
        .unwrap();
        std::fs::write(
            home.config_file("agent.yaml"),
            "{}
",
        )
        .unwrap();
        std::fs::write(
            home.config_file("notes.txt"),
            "x
",
        )
        .unwrap();
        std::fs::write(
            home.config_file("README.md"),
            "x
",
        )
        .unwrap();
        let problems: Vec<String> = Config::problems(&home)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(problems.len(), 3, "{problems:#?}");
        assert!(
            problems[0].contains("config/agent.yaml is not read"),
            "{problems:#?}"
        );
        assert!(
            problems[0].contains("did you mean config/agents.yaml?"),
            "{problems:#?}"
        );
        assert!(
            problems[1].contains("config/notes.txt is not read"),
            "{problems:#?}"
        );
        assert!(
            problems[2].contains("config/policy.yml is not read"),
            "{problems:#?}"
        );
        assert!(
            problems[2].contains("did you mean config/policy.yaml?"),
            "{problems:#?}"
        );
    }

    #[test]
    fn a_change_after_load_is_found_by_file() {
        let (_dir, home) = home();
        let config = Config::load(&home).unwrap();
        assert!(config.changed_files(&home).is_empty());
        std::fs::write(
            home.config_file("policy.yaml"),
            "auto_merge: low
",
        )
        .unwrap();
        std::fs::write(
            home.env_file(),
            "X_KEY=abcdefgh123
",
        )
        .unwrap();
        assert_eq!(config.changed_files(&home), vec![".env", "policy.yaml"]);
    }

    #[test]
    fn a_custom_key_variable_is_redacted() {
        let (_dir, home) = home();
        std::fs::write(
            home.config_file("agents.yaml"),
            "providers:\n  p: {kind: openai, base_url: \"http://127.0.0.1:1/v1\", model: m, api_key_env: ACME_CRED_IN_FILE}\n",
        )
        .unwrap();
        std::fs::write(home.env_file(), "ACME_CRED_IN_FILE=file-canary-99887766\n").unwrap();
        let config = Config::load(&home).unwrap();
        assert_eq!(
            config.secrets.redact("k=file-canary-99887766"),
            "k=[redacted:ACME_CRED_IN_FILE]"
        );
    }

    #[test]
    fn a_search_key_variable_is_redacted() {
        let (_dir, home) = home();
        std::fs::write(
            home.config_file("agents.yaml"),
            "search:\n  t: {kind: tavily, api_key_env: ACME_SEARCH_CRED}\n",
        )
        .unwrap();
        std::fs::write(home.env_file(), "ACME_SEARCH_CRED=search-canary-44332211\n").unwrap();
        let config = Config::load(&home).unwrap();
        assert_eq!(
            config.secrets.redact("k=search-canary-44332211"),
            "k=[redacted:ACME_SEARCH_CRED]"
        );
    }
}
