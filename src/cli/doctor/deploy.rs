//! doctor's deploy line, without deploying anything: skipped when target.yaml has nothing
//! to deploy with (by choice); else each variable `deploy_env` names has a value, and the
//! line says what a deploy runs and checks. No line ever holds a variable's value.

use super::Check;
use crate::config::Config;
use crate::jobs::deploy::configured;

const CHECK: &str = "deploy";

pub(super) fn checks(config: Option<&Config>) -> Vec<Check> {
    let Some(config) = config else {
        return vec![Check::skipped(CHECK, "needs a readable config".into())];
    };
    let target = &config.target;
    if !configured(target) {
        let mut check = Check::skipped(
            CHECK,
            "no `deploy_command` in config/target.yaml: merges are not deployed (docs/agents.md)"
                .into(),
        );
        check.by_choice = true;
        return vec![check];
    }
    let problems: Vec<String> = target
        .deploy_env_names()
        .into_iter()
        .filter(|name| config.secrets.get(name).is_none())
        .map(|name| {
            format!(
                "`deploy_env` names {name}, which has no value: put {name}=… in config/.env or the environment, or remove it from deploy_env"
            )
        })
        .collect();
    let mut check = Check::new(CHECK, problems);
    let health = match target.health.len() {
        0 => "no health check (a deploy that exits 0 is healthy)".to_string(),
        n => format!("{n} health check(s)"),
    };
    let mut warnings = Vec::new();
    if target.health.is_empty() {
        warnings.push(
            "without `health:` an unhealthy service is never noticed nor reverted; add a check of its health URL".to_string(),
        );
    }
    check.detail = Some(format!(
        "{CHECK}: after every merge, within {} min per command; {health}",
        target.deploy_timeout_minutes
    ));
    check.warnings = warnings;
    vec![check]
}
