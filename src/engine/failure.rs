//! Why an engine run failed: the environment, the provider, or the task.
//!
//! - **Environment** (a key refused or missing, a model the provider does not have, a quota
//!   or billing refusal, the tool's binary missing, a config error): no attempt at any task
//!   can succeed until a person fixes it. The work loop stops at once with one message
//!   naming the fix (for a key: the variable, never its value), fails no task and burns no
//!   attempt; `dayshift doctor` runs the same classifier on its preflight.
//! - **Provider down** (the service unreachable, failing, overloaded, rate limiting, its
//!   circuit open): the loop stops too and the tasks wait where they were — failing them
//!   would burn every task's attempts in seconds (five tasks × three attempts were once
//!   failed in 6 s).
//! - **Task**: everything else (a bad edit, no change, a crash, a timeout) is retried with
//!   the reason fed back.
//!
//! The native engine's errors are typed ([`LlmError`]). A coding tool's are words in its
//! output: Aider prints litellm's exception names and the provider's message, wrapped over
//! several lines; Claude Code says `API Error: 401 …` or `Invalid API key`; Codex
//! `unexpected status 401 Unauthorized`. A hostile tool (or a test it ran) printing those
//! words can only stop work — fail closed: it never merges, fails or skips a task.

use super::{EngineError, ProviderRef};
use crate::llm::LlmError;

/// Characters of a tool's message kept in a reason (task log, audit, stop message).
pub const MESSAGE_CAP: usize = 600;

/// What an engine failure says about the next run.
#[derive(Debug, Clone, PartialEq)]
pub enum FailureClass {
    /// A person must fix the setup; the message names what and where.
    Environment(String),
    /// The model provider is down; why.
    ProviderDown(String),
    /// This attempt failed; the next may succeed.
    Task,
}

/// Which environment problem a tool's words show.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Setup {
    Key,
    Model,
    Quota,
}

/// What coding tools print when the key is refused or missing (compared in lower case).
const KEY_WORDS: [&str; 12] = [
    "litellm.authenticationerror",
    "litellm.permissiondeniederror",
    "api_key client option must be set",
    "invalid x-api-key",
    "incorrect api key",
    "invalid_api_key",
    "invalid api key",
    "authentication_error",
    "api error: 401",
    "api error: 403",
    "status 401 unauthorized",
    "status 403 forbidden",
];

/// … when the model is not there.
const MODEL_WORDS: [&str; 5] = [
    "litellm.notfounderror",
    "model_not_found",
    "does not exist or you do not have access",
    "api error: 404",
    "status 404 not found",
];

/// … when the account may not spend (checked before the outage words: OpenAI's quota
/// refusal comes as a 429, `litellm.RateLimitError`).
const QUOTA_WORDS: [&str; 4] = [
    "insufficient_quota",
    "exceeded your current quota",
    "credit balance",
    "billing_hard_limit",
];

/// … when the provider is down.
const OUTAGE_WORDS: [&str; 14] = [
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

/// Classify a failed run. `provider` is the engine's ([`super::Engine::provider`]), to name
/// the key variable and the endpoint in the fix.
pub fn classify(error: &EngineError, provider: Option<&ProviderRef>) -> FailureClass {
    match error {
        EngineError::Spawn { .. } | EngineError::Config(_) => {
            FailureClass::Environment(one_line(&error.to_string()))
        }
        EngineError::Model(e) => classify_model(e),
        EngineError::Reported { message, .. } => classify_words(message, provider),
        EngineError::Crashed { tail, .. } => classify_words(tail, provider),
        _ => FailureClass::Task,
    }
}

fn classify_model(error: &LlmError) -> FailureClass {
    let said = || one_line(&error.to_string());
    match error {
        LlmError::Unauthorized { .. } | LlmError::Config(_) => FailureClass::Environment(said()),
        LlmError::BadRequest {
            status: 404,
            message,
            provider,
            ..
        } => FailureClass::Environment(format!(
            "{provider}: the model was not found (HTTP 404: {}); check `model` of provider `{provider}` in config/agents.yaml",
            cap(message, MESSAGE_CAP)
        )),
        LlmError::BadRequest { message, .. } => match setup_words(message) {
            Some(Setup::Quota) => FailureClass::Environment(format!(
                "{}; check the account's plan and credit with the provider",
                said()
            )),
            Some(_) => FailureClass::Environment(said()),
            None => FailureClass::Task,
        },
        LlmError::Server { .. }
        | LlmError::Timeout { .. }
        | LlmError::Connection { .. }
        | LlmError::RateLimited { .. }
        | LlmError::CircuitOpen { .. } => FailureClass::ProviderDown(said()),
        _ => FailureClass::Task,
    }
}

fn setup_words(text: &str) -> Option<Setup> {
    let lower = text.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| lower.contains(w));
    if has(&KEY_WORDS) {
        Some(Setup::Key)
    } else if has(&MODEL_WORDS) {
        Some(Setup::Model)
    } else if has(&QUOTA_WORDS) {
        Some(Setup::Quota)
    } else {
        None
    }
}

/// A tool's words: an environment problem first (a quota refusal reads like a rate limit),
/// then an outage.
fn classify_words(text: &str, provider: Option<&ProviderRef>) -> FailureClass {
    let said = one_line(&message_of(text));
    let at = provider.map_or_else(
        || "the coding tool's provider".to_string(),
        |p| p.endpoint.clone(),
    );
    match setup_words(text) {
        Some(Setup::Key) => FailureClass::Environment(match provider {
            Some(ProviderRef {
                key_env: Some(var), ..
            }) => format!(
                "{var} was refused by {at}: check it in config/.env (or the environment); the tool said: {said}"
            ),
            Some(ProviderRef { key_env: None, .. }) => format!(
                "{at} wants an API key and none is configured: set `api_key_env` on the coder's provider in config/agents.yaml and the key in config/.env; the tool said: {said}"
            ),
            None => format!(
                "the coding tool's API key was refused: check the variables listed under agents.coder.env and their values in config/.env; the tool said: {said}"
            ),
        }),
        Some(Setup::Model) => FailureClass::Environment(format!(
            "the model was not found at {at}: check `model` of the coder's provider in config/agents.yaml (and that the server has it); the tool said: {said}"
        )),
        Some(Setup::Quota) => FailureClass::Environment(format!(
            "{at} refused for quota or billing: check the account's plan and credit; the tool said: {said}"
        )),
        None => {
            let lower = text.to_lowercase();
            if OUTAGE_WORDS.iter().any(|w| lower.contains(w)) {
                FailureClass::ProviderDown(said)
            } else {
                FailureClass::Task
            }
        }
    }
}

/// The reason a failed run gets in the task log, the audit and a stop message: the whole
/// message on one line, capped at [`MESSAGE_CAP`] with an ellipsis.
pub fn headline(error: &EngineError) -> String {
    match error {
        EngineError::Crashed {
            engine, code, tail, ..
        } => {
            let how = code.map_or("a signal".to_string(), |c| format!("code {c}"));
            format!(
                "{engine}: exited with {how}: {}",
                one_line(&message_of(tail))
            )
        }
        _ => one_line(&error.to_string()),
    }
}

/// The tool's error message in `text`: the last line that names an error, with its wrapped
/// continuation lines; else the end of the text on one line (up to [`MESSAGE_CAP`]).
pub fn message_of(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let is_error = |l: &&str| {
        let lower = l.to_lowercase();
        lower.contains("error") || lower.contains("exception")
    };
    match lines.iter().rposition(is_error) {
        Some(at) => {
            // a wrapped error's first line: back up from a continuation to where it started
            let mut start = at;
            while start > 0 && continues(lines[start - 1], lines[start]) {
                start -= 1;
            }
            message_at(text, start)
        }
        None => {
            // no error line: the end of what it said, on one line
            let all = one_line_uncapped(text);
            let count = all.chars().count();
            if count <= MESSAGE_CAP {
                all
            } else {
                let end: String = all.chars().skip(count + 1 - MESSAGE_CAP).collect();
                format!("…{}", end.trim_start())
            }
        }
    }
}

/// The message starting on line `first` of `text`, with the lines it was wrapped onto
/// joined by spaces, capped at [`MESSAGE_CAP`]. Aider (through rich) wraps its output at
/// the terminal's width — 80 columns without one — and leaves a space at the end of each
/// wrapped line: a line ending in a space, or filling the width, continues on the next,
/// unless that is empty or starts a new litellm error.
pub fn message_at(text: &str, first: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let Some(head) = lines.get(first) else {
        return String::new();
    };
    let mut out = head.trim().to_string();
    let mut prev = *head;
    for line in &lines[first + 1..] {
        if !continues(prev, line) || out.len() > MESSAGE_CAP {
            break;
        }
        out.push(' ');
        out.push_str(line.trim());
        prev = line;
    }
    cap(&out, MESSAGE_CAP)
}

/// Whether `next` continues `prev` (see [`message_at`]).
fn continues(prev: &str, next: &str) -> bool {
    let prev = prev.trim_end_matches('\r');
    let wrapped = prev.ends_with(' ') || prev.chars().count() >= 78;
    wrapped && !next.trim().is_empty() && !next.trim_start().starts_with("litellm.")
}

/// `text` on one line (line breaks become spaces), capped at [`MESSAGE_CAP`].
pub fn one_line(text: &str) -> String {
    cap(&one_line_uncapped(text), MESSAGE_CAP)
}

fn one_line_uncapped(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `text` cut to `max` characters with an ellipsis, on a character boundary.
pub fn cap(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn aider(message: &str) -> EngineError {
        EngineError::Reported {
            engine: "aider".into(),
            message: message.into(),
            output: String::new(),
        }
    }

    fn crashed(tail: &str) -> EngineError {
        EngineError::Crashed {
            engine: "claude".into(),
            code: Some(1),
            tail: tail.into(),
            output: tail.into(),
        }
    }

    fn fake(key_env: Option<&str>) -> ProviderRef {
        ProviderRef {
            key_env: key_env.map(String::from),
            endpoint: "http://127.0.0.1:8080/v1".into(),
        }
    }

    /// Aider 0.86's output for a request without a key, as it prints it (80 columns).
    const NO_KEY: &str = "Aider v0.86.2\nModel: openai/fake with whole edit format\n\nlitellm.AuthenticationError: AuthenticationError: OpenAIException - The api_key \nclient option must be set either by passing api_key to the client or by setting \nthe OPENAI_API_KEY environment variable\nThe API provider is not able to authenticate you. Check your API key.\n\n";
    const WRONG_KEY: &str = "litellm.AuthenticationError: AuthenticationError: OpenAIException - Incorrect \nAPI key provided: sk-xxx\nThe API provider is not able to authenticate you. Check your API key.\n";
    const NO_MODEL: &str = "litellm.NotFoundError: OpenAIException - The model `fake` does not exist or you \ndo not have access to it.\n\n";
    const QUOTA: &str = "litellm.RateLimitError: RateLimitError: OpenAIException - You exceeded your \ncurrent quota, please check your plan and billing details.\nThe API provider has rate limited you. Try again later or check your quotas.\nRetrying in 0.2 seconds...\n";

    #[test]
    fn wrapped_lines_are_joined_into_the_whole_message() {
        assert_eq!(
            message_at(NO_KEY, 3),
            "litellm.AuthenticationError: AuthenticationError: OpenAIException - The api_key client option must be set either by passing api_key to the client or by setting the OPENAI_API_KEY environment variable"
        );
        assert_eq!(
            message_of(NO_MODEL),
            "litellm.NotFoundError: OpenAIException - The model `fake` does not exist or you do not have access to it."
        );
        // from a continuation line, back to where the message starts
        assert_eq!(
            message_of(
                "Error: the first half of a long line that rich wrapped for us at \nexactly here, error and all\n"
            ),
            "Error: the first half of a long line that rich wrapped for us at exactly here, error and all"
        );
        let long = format!("litellm.BadRequestError: {} \n", "x".repeat(2000));
        let capped = message_at(&long, 0);
        assert!(
            capped.ends_with('…') && capped.chars().count() == MESSAGE_CAP,
            "{capped}"
        );
        assert_eq!(
            message_of("no problem here\nlast words\n\n"),
            "no problem here last words"
        );
        let chatty = format!("{}\nthe end\n", "word ".repeat(500));
        let end = message_of(&chatty);
        assert!(
            end.starts_with('…')
                && end.ends_with("word the end")
                && end.chars().count() <= MESSAGE_CAP,
            "{end}"
        );
    }

    #[test]
    fn a_refused_key_names_its_variable_and_never_its_value() {
        for text in [NO_KEY, WRONG_KEY] {
            let FailureClass::Environment(why) = classify(
                &aider(&message_of(text)),
                Some(&fake(Some("FAKE_MODEL_KEY"))),
            ) else {
                panic!("an environment failure: {text}")
            };
            assert!(
                why.starts_with("FAKE_MODEL_KEY was refused by http://127.0.0.1:8080/v1: check it in config/.env"),
                "{why}"
            );
            assert!(why.contains("OpenAIException"), "the tool's words: {why}");
        }
        let FailureClass::Environment(why) =
            classify(&aider(&message_of(NO_KEY)), Some(&fake(None)))
        else {
            panic!("keyless and refused")
        };
        assert!(why.contains("set `api_key_env`"), "{why}");
        // Claude Code and Codex, through a command engine (no provider dayshift knows)
        for said in [
            "Invalid API key · Please run /login",
            "API Error: 401 {\"type\":\"error\",\"error\":{\"type\":\"authentication_error\",\"message\":\"invalid x-api-key\"}}",
            "ERROR: unexpected status 401 Unauthorized: Incorrect API key provided",
        ] {
            let FailureClass::Environment(why) = classify(&crashed(said), None) else {
                panic!("{said}")
            };
            assert!(why.contains("agents.coder.env"), "{why}");
        }
        let native = EngineError::Model(LlmError::Unauthorized {
            provider: "local".into(),
            status: 401,
            key_env: "LOCAL_KEY".into(),
        });
        assert!(
            matches!(classify(&native, None), FailureClass::Environment(w) if w.contains("check LOCAL_KEY"))
        );
    }

    #[test]
    fn a_missing_model_quota_binary_or_config_is_the_environment() {
        let p = fake(Some("K"));
        let FailureClass::Environment(why) = classify(&aider(&message_of(NO_MODEL)), Some(&p))
        else {
            panic!("model not found")
        };
        assert!(
            why.contains("check `model`") && why.contains("does not exist"),
            "{why}"
        );
        // OpenAI's quota refusal is a 429, which litellm calls a rate limit
        let FailureClass::Environment(why) = classify(&aider(&message_of(QUOTA)), Some(&p)) else {
            panic!("quota")
        };
        assert!(why.contains("quota or billing"), "{why}");
        let anthropic_credit = crashed(
            "API Error: 400 {\"error\":{\"message\":\"Your credit balance is too low to access the Anthropic API.\"}}",
        );
        assert!(matches!(
            classify(&anthropic_credit, None),
            FailureClass::Environment(_)
        ));
        let spawn = EngineError::Spawn {
            engine: "aider".into(),
            program: "/nowhere/aider".into(),
            detail: "No such file or directory".into(),
        };
        assert!(
            matches!(classify(&spawn, None), FailureClass::Environment(w) if w.contains("/nowhere/aider") && w.contains("installed"))
        );
        assert!(matches!(
            classify(&EngineError::Config("bad".into()), None),
            FailureClass::Environment(_)
        ));
        let missing = EngineError::Model(LlmError::BadRequest {
            provider: "local".into(),
            status: 404,
            message: "model 'qwen' not found".into(),
        });
        assert!(
            matches!(classify(&missing, None), FailureClass::Environment(w) if w.contains("check `model` of provider `local`"))
        );
    }

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
            aider("litellm.APIConnectionError: AnthropicException"),
            crashed("API Error: 529 {\"type\":\"overloaded_error\"}"),
        ];
        for e in &down {
            assert!(
                matches!(classify(e, None), FailureClass::ProviderDown(_)),
                "{e}"
            );
        }
        let task = [
            EngineError::Model(LlmError::ContextTooLong { provider: p() }),
            EngineError::Model(LlmError::Budget("spent".into())),
            EngineError::Model(LlmError::BadRequest {
                provider: p(),
                status: 400,
                message: "messages: roles must alternate".into(),
            }),
            crashed("segfault-ish"),
            aider("the model's answer did not follow the edit format"),
            EngineError::TimedOut {
                engine: "x".into(),
                after: Duration::from_secs(1),
                output: String::new(),
            },
        ];
        for e in &task {
            assert_eq!(
                classify(e, Some(&fake(Some("K")))),
                FailureClass::Task,
                "{e}"
            );
        }
    }

    #[test]
    fn the_headline_is_one_line_with_the_whole_message() {
        let e = crashed(
            "starting\nTraceback (most recent call last):\n  File x\nValueError: the config is \nbroken beyond words\n",
        );
        assert_eq!(
            headline(&e),
            "claude: exited with code 1: ValueError: the config is broken beyond words"
        );
        assert_eq!(
            headline(&aider(&message_of(NO_MODEL))),
            "aider: reported an error: litellm.NotFoundError: OpenAIException - The model `fake` does not exist or you do not have access to it."
        );
    }
}
