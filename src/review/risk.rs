//! The risk of a change, computed in code from what the layers found: the highest risk any
//! finding implies, low when nothing was found. A model's verdict is one more finding and
//! can only raise it; nothing a model, the target or a note says can lower it.

use super::{Finding, Verdict};
use crate::tasks::Risk;

/// The change's risk and the reasons for it (the findings that set it, most serious first).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Assessment {
    pub risk: Risk,
    pub reasons: Vec<String>,
}

pub fn assess<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Assessment {
    let mut found: Vec<&Finding> = findings
        .into_iter()
        .filter(|f| f.verdict != Verdict::Pass)
        .collect();
    found.sort_by(|a, b| b.risk.cmp(&a.risk).then(b.verdict.cmp(&a.verdict)));
    let risk = found.first().map_or(Risk::Low, |f| f.risk);
    let reasons = if found.is_empty() {
        vec!["no layer found anything: a small, clean change".to_string()]
    } else {
        found
            .iter()
            .filter(|f| f.risk > Risk::Low)
            .map(|f| format!("{}: {}", f.layer.name(), f.located()))
            .collect()
    };
    Assessment { risk, reasons }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::review::{Finding, Layer};

    #[test]
    fn nothing_found_is_low_and_the_highest_finding_sets_the_risk() {
        assert_eq!(assess([]).risk, Risk::Low);
        let found = [
            Finding::warn(Layer::Policy, "policy.large", Risk::Medium, "large"),
            Finding::warn(Layer::Policy, "policy.protected", Risk::High, "protected")
                .at("Dockerfile", None),
        ];
        let a = assess(&found);
        assert_eq!(a.risk, Risk::High);
        assert_eq!(a.reasons[0], "policy: Dockerfile: protected");
        assert_eq!(a.reasons.len(), 2);
    }
}
