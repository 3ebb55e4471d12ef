//! Prompt templates: minijinja files compiled into the binary (`templates/`), each of which a
//! person may override with a file of the same name in `config/prompts/`.
//!
//! Templates render with strict undefined variables, so a misspelled variable in an override
//! is an error naming the file and line, not a silently empty prompt.

use std::path::Path;

use minijinja::{Environment, UndefinedBehavior, Value};
use serde::Serialize;

use crate::problem::{At, FileProblem};

/// The built-in templates, by name.
pub const BUILT_IN: [(&str, &str); 11] = [
    (
        "orchestrator.system.j2",
        include_str!("../../templates/orchestrator.system.j2"),
    ),
    (
        "orchestrator.user.j2",
        include_str!("../../templates/orchestrator.user.j2"),
    ),
    (
        "planner.system.j2",
        include_str!("../../templates/planner.system.j2"),
    ),
    (
        "planner.user.j2",
        include_str!("../../templates/planner.user.j2"),
    ),
    ("fix_json.j2", include_str!("../../templates/fix_json.j2")),
    (
        "coder.system.j2",
        include_str!("../../templates/coder.system.j2"),
    ),
    (
        "coder.user.j2",
        include_str!("../../templates/coder.user.j2"),
    ),
    (
        "reviewer.system.j2",
        include_str!("../../templates/reviewer.system.j2"),
    ),
    (
        "reviewer.user.j2",
        include_str!("../../templates/reviewer.user.j2"),
    ),
    (
        "researcher.system.j2",
        include_str!("../../templates/researcher.system.j2"),
    ),
    (
        "researcher.user.j2",
        include_str!("../../templates/researcher.user.j2"),
    ),
];

/// The prompt templates in use: built-ins, with a home's overrides.
pub struct Prompts {
    env: Environment<'static>,
    /// Where each template came from, for error messages.
    sources: Vec<(String, String)>,
}

impl Prompts {
    /// The built-ins only.
    pub fn built_in() -> Self {
        Self::load(None).unwrap_or_else(|_| Self {
            env: Environment::new(),
            sources: vec![],
        })
    }

    /// Built-ins, then every `*.j2` in `overrides` (config/prompts/) replacing its namesake.
    pub fn load(overrides: Option<&Path>) -> Result<Self, FileProblem> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        let mut syntax = minijinja::syntax::SyntaxConfig::builder();
        syntax.keep_trailing_newline(true);
        if let Ok(syntax) = syntax.build() {
            env.set_syntax(syntax);
        }
        let mut sources = Vec::new();
        for (name, text) in BUILT_IN {
            env.add_template_owned(name.to_string(), text.to_string())
                .map_err(|e| problem(Path::new("templates").join(name).as_path(), &e))?;
            sources.push((name.to_string(), format!("built-in {name}")));
        }
        if let Some(dir) = overrides {
            let mut entries: Vec<_> = match std::fs::read_dir(dir) {
                Ok(entries) => entries.flatten().map(|e| e.path()).collect(),
                Err(_) => Vec::new(),
            };
            entries.sort();
            for path in entries
                .into_iter()
                .filter(|p| p.extension().is_some_and(|e| e == "j2"))
            {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if !BUILT_IN.iter().any(|(known, _)| *known == name) {
                    let known: Vec<&str> = BUILT_IN.iter().map(|(n, _)| *n).collect();
                    return Err(FileProblem::new(
                        At::file(&path),
                        "this file overrides no prompt",
                        format!("name it after one of: {}", known.join(", ")),
                    ));
                }
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    FileProblem::new(
                        At::file(&path),
                        format!("cannot read: {e}"),
                        "check that it is a UTF-8 text file",
                    )
                })?;
                env.add_template_owned(name.clone(), text)
                    .map_err(|e| problem(&path, &e))?;
                if let Some(source) = sources.iter_mut().find(|(n, _)| *n == name) {
                    source.1 = path.display().to_string();
                }
            }
        }
        Ok(Self { env, sources })
    }

    /// Render a template with `context` (any serializable value).
    pub fn render(&self, name: &str, context: &impl Serialize) -> Result<String, FileProblem> {
        let source = self
            .sources
            .iter()
            .find(|(n, _)| n == name)
            .map_or(name.to_string(), |(_, s)| s.clone());
        let template = self
            .env
            .get_template(name)
            .map_err(|e| problem(Path::new(&source), &e))?;
        template
            .render(Value::from(minijinja::value::Serde(context)))
            .map_err(|e| problem(Path::new(&source), &e))
    }
}

fn problem(file: &Path, e: &minijinja::Error) -> FileProblem {
    let at = At {
        file: file.to_path_buf(),
        line: e.line().map(|l| l as u64),
    };
    let what = match e.detail() {
        Some(detail) => format!("{}: {detail}", e.kind()),
        None => e.kind().to_string(),
    };
    FileProblem::new(
        at,
        format!("prompt template: {what}"),
        "fix the template (minijinja syntax), or delete the override to use the built-in",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_ins_render() {
        let prompts = Prompts::built_in();
        let out = prompts
            .render(
                "fix_json.j2",
                &serde_json::json!({"error": "missing field `today`"}),
            )
            .unwrap();
        assert!(out.starts_with("Your answer could not be used: missing field `today`"));
    }

    #[test]
    fn an_override_replaces_the_built_in_and_a_typo_names_its_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("fix_json.j2"), "Fix this:\n{{ error }}\n").unwrap();
        let prompts = Prompts::load(Some(dir.path())).unwrap();
        let out = prompts
            .render("fix_json.j2", &serde_json::json!({"error": "E"}))
            .unwrap();
        assert_eq!(out, "Fix this:\nE\n");

        std::fs::write(dir.path().join("fix_json.j2"), "line one\n{{ eror }}\n").unwrap();
        let prompts = Prompts::load(Some(dir.path())).unwrap();
        let err = prompts
            .render("fix_json.j2", &serde_json::json!({"error": "E"}))
            .unwrap_err();
        assert_eq!(err.at.line, Some(2), "{err}");
        assert!(err.at.file.ends_with("fix_json.j2"));

        std::fs::write(dir.path().join("fix_json.j2"), "{% if %}\n").unwrap();
        let err = Prompts::load(Some(dir.path())).err().unwrap();
        assert!(err.problem.contains("prompt template"), "{err}");
    }

    #[test]
    fn an_override_with_an_unknown_name_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("orchestrater.system.j2"), "x").unwrap();
        let err = Prompts::load(Some(dir.path())).err().unwrap();
        assert!(err.fix.contains("orchestrator.system.j2"), "{err}");
    }
}
