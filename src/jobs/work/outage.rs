//! Telling a provider outage from a task failure. When the model service is down, the
//! circuit is open, the connection is refused or every retry got a 5xx or a timeout, no
//! attempt at any task can succeed: failing them would burn every task's attempts in
//! seconds (five tasks × three attempts were once failed in 6 s). The loop stops instead,
//! with the reason, and the task waits where it was.
//!
//! The native engine's errors are typed ([`LlmError`]). A coding tool's are words in its
//! output: Aider reports litellm's exception names, Claude Code says `API Error: 5xx` or
//! `overloaded`. A hostile tool could print those words to stop the loop; that only stops
//! work (fail closed), it never merges anything.

use crate::engine::EngineError;
use crate::llm::LlmError;

/// Why the provider, not the task, is the problem, when that is what `error` says.
pub(super) fn provider_down(error: &EngineError) -> Option<String> {
    let down = match error {
        EngineError::Model(e) => model_down(e),
        EngineError::Reported { message, .. } => tool_says_down(message),
        EngineError::Crashed { tail, .. } => tool_says_down(tail),
        _ => false,
    };
    down.then(|| first_line(&error.to_string()))
}

/// The model errors that say nothing about the task: the service is unreachable, failing or
/// refusing load (after the reliability layer's retries), or its circuit is open.
fn model_down(error: &LlmError) -> bool {
    matches!(
        error,
        LlmError::Server { .. }
            | LlmError::Timeout { .. }
            | LlmError::Connection { .. }
            | LlmError::RateLimited { .. }
            | LlmError::CircuitOpen { .. }
    )
}

/// What coding tools print when their model provider is down (compared in lower case).
const TOOL_OUTAGE_WORDS: [&str; 14] = [
    "litellm.apiconnectionerror",
    "litellm.serviceunavailableerror",
    "litellm.internalservererror",
    "litellm.ratelimiterror",
    "litellm.timeout",
    "overloaded_error",
    "api error: 500",
    "api error: 502",
    "api error: 503",
    "api error: 504",
    "api error: 529",
    "api error: connection error",
    "connection refused",
    "service unavailable",
];

fn tool_says_down(output: &str) -> bool {
    let lower = output.to_lowercase();
    TOOL_OUTAGE_WORDS.iter().any(|w| lower.contains(w))
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or("").trim().to_string()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn outages_are_told_from_task_failures() {
        let p = || "claude".to_string();
        let down = [
            EngineError::Model(LlmError::Server {
                provider: p(),
                status: 503,
                retry_after: None,
            }),
            EngineError::Model(LlmError::CircuitOpen {
                provider: p(),
                remaining: Duration::from_secs(30),
            }),
            EngineError::Model(LlmError::Connection {
                provider: p(),
                detail: "tcp connect error: Connection refused".into(),
            }),
            EngineError::Reported {
                engine: "aider".into(),
                message: "litellm.APIConnectionError: AnthropicException".into(),
            },
            EngineError::Crashed {
                engine: "claude".into(),
                code: Some(1),
                tail: "API Error: 529 {\"type\":\"overloaded_error\"}".into(),
            },
        ];
        for e in &down {
            assert!(provider_down(e).is_some(), "{e}");
        }
        let task = [
            EngineError::Model(LlmError::ContextTooLong { provider: p() }),
            EngineError::Model(LlmError::Budget("spent".into())),
            EngineError::Crashed {
                engine: "x".into(),
                code: Some(3),
                tail: "segfault-ish".into(),
            },
            EngineError::TimedOut {
                engine: "x".into(),
                after: Duration::from_secs(1),
            },
        ];
        for e in &task {
            assert_eq!(provider_down(e), None, "{e}");
        }
    }
}
