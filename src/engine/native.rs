//! The `native` engine: dayshift asks the model for search/replace edit blocks and applies
//! them itself ([`super::edits`]). The model sees the task and the current content of the
//! task's files; a refused edit goes back once with the reason, then the attempt fails.

use std::time::Instant;

use super::edits;
use super::{Assignment, Engine, EngineError, EngineReport, Spent, task_prompt};
use crate::config::AgentName;
use crate::llm::prompts::Prompts;
use crate::llm::{Answer, LlmError, Message, Request, Role, Usage};

/// Bytes of one file shown to the model.
const MAX_FILE: usize = 60_000;

pub struct NativeEngine<'a> {
    pub call: &'a (dyn Fn(&Request) -> Result<Answer, LlmError> + Sync),
    pub prompts: &'a Prompts,
    pub max_tokens: u32,
}

#[derive(serde::Serialize)]
struct FileView {
    path: String,
    content: String,
}

impl Engine for NativeEngine<'_> {
    fn name(&self) -> &str {
        "native"
    }

    fn run(&self, job: &Assignment) -> Result<EngineReport, EngineError> {
        let started = Instant::now();
        let files: Vec<FileView> = job
            .task
            .files
            .iter()
            .filter_map(|path| {
                let text = std::fs::read_to_string(job.workdir.join(path)).ok()?;
                let content = if text.len() > MAX_FILE {
                    format!("{}\n[… cut]\n", super::tail(&text, MAX_FILE))
                } else {
                    text
                };
                Some(FileView {
                    path: path.clone(),
                    content,
                })
            })
            .collect();
        let render = |name: &str, ctx: serde_json::Value| {
            self.prompts
                .render(name, &ctx)
                .map_err(|p| EngineError::Config(p.to_string()))
        };
        let mut request = Request {
            agent: AgentName::Coder,
            job: Some("work".into()),
            task: Some(job.task.id),
            system: render("coder.system.j2", serde_json::json!({}))?,
            messages: vec![Message {
                role: Role::User,
                content: render(
                    "coder.user.j2",
                    serde_json::json!({"task": task_prompt(job), "files": files}),
                )?,
            }],
            max_tokens: self.max_tokens,
            temperature: None,
        };
        let mut usage = Usage::default();
        // the model's answers: the run's output, kept in logs/runs/
        let mut answers = Vec::new();
        for attempt in 0..2 {
            let answer = (self.call)(&request)?;
            add(&mut usage, &answer.usage);
            answers.push(answer.text.clone());
            match edits::parse(&answer.text).and_then(|blocks| edits::apply(job.workdir, &blocks)) {
                Ok(written) => {
                    return Ok(EngineReport {
                        summary: format!("applied edits to {}", written.join(", ")),
                        output: answers.join("\n\n"),
                        spent: Spent {
                            usage,
                            cost_usd: None,
                            billed: true,
                        },
                        elapsed: started.elapsed(),
                    });
                }
                Err(error) if attempt == 0 => {
                    request.messages.push(Message {
                        role: Role::Assistant,
                        content: answer.text,
                    });
                    request.messages.push(Message {
                        role: Role::User,
                        content: format!("Your edits were not applied: {error}\nAnswer again with corrected edit blocks only."),
                    });
                }
                Err(error) => {
                    return Err(EngineError::Edits {
                        engine: "native".into(),
                        error,
                    });
                }
            }
        }
        Err(EngineError::Config("unreachable: two attempts".into()))
    }
}

fn add(total: &mut Usage, more: &Usage) {
    total.input_tokens += more.input_tokens;
    total.output_tokens += more.output_tokens;
    total.cache_read_tokens += more.cache_read_tokens;
    total.cache_write_tokens += more.cache_write_tokens;
}
