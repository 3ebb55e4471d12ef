//! `doctor`'s look at each scheduled job: what it needs to do its work, and what a day
//! would skip. A missing coder for a scheduled `work` and a model server that does not
//! answer are problems; a job this build does not have, or `work` before the target is
//! cloned, is said as what will be skipped.

use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::config::{AgentName, Config};
use crate::home::Home;
use crate::jobs::JobName;

/// How long a model server gets to accept a connection.
const CONNECT: Duration = Duration::from_secs(3);

/// (problems, warnings) for the jobs in schedules.yaml. `offline`: no connection is tried.
pub(super) fn scheduled_jobs(
    home: &Home,
    config: &Config,
    offline: bool,
) -> (Vec<String>, Vec<String>) {
    let (mut problems, mut warnings) = (Vec::new(), Vec::new());
    let schedules = home.config_file("schedules.yaml");
    for (job, cron) in &config.schedules.jobs {
        let when = format!("`{job}` is scheduled (`{}`)", cron.as_str());
        match job {
            JobName::Work => {
                if !config.agents.agents.contains_key(&AgentName::Coder) {
                    problems.push(format!(
                        "{when}, but {} has no coder, so no task would ever be worked: add `agents: {{coder: {{engine: aider, provider: …}}}}`, or remove `work` from {}",
                        home.config_file("agents.yaml").display(),
                        schedules.display()
                    ));
                } else if !home.target_clone().join(".git").exists() {
                    warnings.push(format!(
                        "{when}, but the target is not cloned yet: work is skipped until `dayshift setup` clones it"
                    ));
                }
                if config.agents.provider_for(AgentName::Reviewer).is_none() {
                    warnings.push(format!(
                        "{when} with no reviewer model: changes are judged by the deterministic layers and policy only; give `agents.reviewer` a provider for the model review (docs/review.md)"
                    ));
                } else if !offline && let Some(problem) = unreachable(config, AgentName::Reviewer) {
                    problems.push(format!("{when}: {problem}"));
                }
            }
            JobName::Research => {
                if let Some(why) = crate::jobs::research::not_ready_in(config) {
                    warnings.push(format!("{when}, but {why}"));
                }
            }
            JobName::Deploy if !crate::jobs::deploy::configured(&config.target) => {
                warnings.push(format!(
                    "{when}, but config/target.yaml has no `deploy_command`: every run skips it"
                ));
            }
            JobName::Morning | JobName::Plan => {
                let agent = if *job == JobName::Morning {
                    AgentName::Orchestrator
                } else {
                    AgentName::Planner
                };
                if offline {
                    continue;
                }
                if let Some(problem) = unreachable(config, agent) {
                    problems.push(format!("{when}: {problem}"));
                }
            }
            _ => {}
        }
    }
    (problems, warnings)
}

/// Why `agent`'s model server cannot be reached, when it has an explicit `base_url` (a
/// server of your own) that accepts no connection. A hosted API is not tried here: the
/// engine preflight reaches the coder's model, and a key is checked by `keys`.
fn unreachable(config: &Config, agent: AgentName) -> Option<String> {
    let name = config.agents.provider_for(agent)?;
    let provider = config.agents.providers.get(name)?;
    let base = provider.base_url.as_deref()?;
    let url = reqwest::Url::parse(base).ok()?;
    let host = url.host_str()?;
    let port = url.port_or_known_default()?;
    let answered = (host, port)
        .to_socket_addrs()
        .is_ok_and(|mut addrs| addrs.any(|a| TcpStream::connect_timeout(&a, CONNECT).is_ok()));
    (!answered).then(|| {
        format!(
            "the {agent}'s model server {base} (provider `{name}`) accepts no connection: start it, or fix `base_url` in config/agents.yaml (`--offline` skips this check)"
        )
    })
}
