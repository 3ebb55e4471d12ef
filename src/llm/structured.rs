//! Structured answers: the model must answer with JSON that deserializes into a typed struct
//! and passes its checks. An answer that does not goes back once, with the reason; a second
//! failure is an error carrying that reason (recorded on the run), never a partial result.

use serde::de::DeserializeOwned;

use super::prompts::Prompts;
use super::{Answer, LlmError, Message, Request, Role};

/// A typed answer and every raw answer it took (for usage and the log).
#[derive(Debug, Clone)]
pub struct Structured<T> {
    pub value: T,
    pub answers: Vec<Answer>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StructuredError {
    #[error(transparent)]
    Llm(#[from] LlmError),
    #[error("the {agent}'s answer was unusable twice; the last problem: {reason}")]
    Invalid { agent: String, reason: String },
}

/// Ask for a `T`. `check` runs the semantic rules after deserialization.
pub fn ask<T: DeserializeOwned>(
    call: &dyn Fn(&Request) -> Result<Answer, LlmError>,
    prompts: &Prompts,
    mut request: Request,
    check: impl Fn(&T) -> Result<(), String>,
) -> Result<Structured<T>, StructuredError> {
    let mut answers = Vec::new();
    let mut reason = String::new();
    for attempt in 0..2 {
        let answer = call(&request)?;
        let parsed = parse_json::<T>(&answer.text).and_then(|v| check(&v).map(|()| v));
        answers.push(answer.clone());
        match parsed {
            Ok(value) => return Ok(Structured { value, answers }),
            Err(why) => reason = why,
        }
        if attempt == 0 {
            let fix = prompts
                .render("fix_json.j2", &serde_json::json!({"error": reason}))
                .unwrap_or_else(|_| format!("Your answer could not be used: {reason}\nAnswer again with only the corrected JSON object."));
            request.messages.push(Message {
                role: Role::Assistant,
                content: answer.text,
            });
            request.messages.push(Message {
                role: Role::User,
                content: fix,
            });
        }
    }
    Err(StructuredError::Invalid {
        agent: request.agent.to_string(),
        reason,
    })
}

/// The JSON object in an answer: the whole text, or the inside of a ```json fence, or the
/// span from the first `{` to the last `}`.
pub fn parse_json<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    let candidate =
        extract_json(text).ok_or_else(|| "the answer holds no JSON object".to_string())?;
    serde_json::from_str(candidate)
        .map_err(|e| format!("the JSON does not fit the expected shape: {e}"))
}

fn extract_json(text: &str) -> Option<&str> {
    let trimmed = text.trim();
    if trimmed.starts_with('{') && trimmed.ends_with('}') {
        return Some(trimmed);
    }
    if let Some(start) = trimmed.find("```") {
        let after = &trimmed[start + 3..];
        let body_start = after.find('\n').map_or(0, |i| i + 1);
        if let Some(end) = after[body_start..].find("```") {
            let inner = after[body_start..body_start + end].trim();
            if inner.starts_with('{') {
                return Some(inner);
            }
        }
    }
    let (first, last) = (trimmed.find('{')?, trimmed.rfind('}')?);
    (first < last).then(|| &trimmed[first..=last])
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use serde::Deserialize;

    use super::*;
    use crate::config::AgentName;
    use crate::llm::Usage;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Pick {
        n: u32,
    }

    fn request() -> Request {
        Request {
            agent: AgentName::Orchestrator,
            job: None,
            task: None,
            system: "sys".into(),
            messages: vec![Message {
                role: Role::User,
                content: "go".into(),
            }],
            max_tokens: 100,
            temperature: None,
        }
    }

    fn answer(text: &str) -> Answer {
        Answer {
            text: text.into(),
            usage: Usage::default(),
            model: "m".into(),
            provider: "p".into(),
        }
    }

    #[test]
    fn json_is_found_in_fences_and_prose() {
        assert_eq!(parse_json::<Pick>("{\"n\": 1}"), Ok(Pick { n: 1 }));
        assert_eq!(
            parse_json::<Pick>("Sure:\n```json\n{\"n\": 2}\n```\n"),
            Ok(Pick { n: 2 })
        );
        assert_eq!(
            parse_json::<Pick>("Here it is {\"n\": 3} done"),
            Ok(Pick { n: 3 })
        );
        assert!(
            parse_json::<Pick>("no json")
                .unwrap_err()
                .contains("no JSON")
        );
        assert!(
            parse_json::<Pick>("{\"n\": 1, \"x\": 2}")
                .unwrap_err()
                .contains("unknown field")
        );
    }

    #[test]
    fn an_invalid_answer_goes_back_once_with_the_reason() {
        let seen = RefCell::new(Vec::new());
        let answers = RefCell::new(vec!["{\"n\": 99}", "{\"n\": 4}"]);
        let call = |r: &Request| {
            seen.borrow_mut().push(r.clone());
            Ok(answer(answers.borrow_mut().remove(0)))
        };
        let check = |p: &Pick| {
            if p.n < 10 {
                Ok(())
            } else {
                Err(format!("n is {}, above 9", p.n))
            }
        };
        let got = ask(&call, &Prompts::built_in(), request(), check).unwrap();
        assert_eq!(got.value, Pick { n: 4 });
        assert_eq!(got.answers.len(), 2);
        let second = &seen.borrow()[1];
        assert_eq!(second.messages.len(), 3);
        assert_eq!(second.messages[1].content, "{\"n\": 99}");
        assert!(second.messages[2].content.contains("n is 99, above 9"));
    }

    #[test]
    fn a_second_invalid_answer_is_an_error_with_the_reason() {
        let call = |_: &Request| Ok(answer("not json at all"));
        let err = ask::<Pick>(&call, &Prompts::built_in(), request(), |_| Ok(())).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the orchestrator's answer was unusable twice; the last problem: the answer holds no JSON object"
        );
    }

    #[test]
    fn provider_errors_pass_through_without_a_retry() {
        let calls = RefCell::new(0);
        let call = |_: &Request| {
            *calls.borrow_mut() += 1;
            Err(LlmError::ContextTooLong {
                provider: "p".into(),
            })
        };
        let err = ask::<Pick>(&call, &Prompts::built_in(), request(), |_| Ok(())).unwrap_err();
        assert!(matches!(
            err,
            StructuredError::Llm(LlmError::ContextTooLong { .. })
        ));
        assert_eq!(*calls.borrow(), 1);
    }
}
