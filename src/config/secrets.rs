//! Secrets: from the process environment or config/.env, never from YAML.
//!
//! Values are kept out of everything dayshift writes with [`Secrets::redact`].

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{At, FileProblem};

/// The names dayshift knows to be secrets (DESIGN §2).
pub const KNOWN_SECRETS: [&str; 5] = [
    "ANTHROPIC_API_KEY",
    "OPENAI_API_KEY",
    "GITHUB_TOKEN",
    "DISCORD_WEBHOOK_URL",
    "TAVILY_API_KEY",
];

/// Secrets found in config/.env (the process environment is read on demand).
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    from_file: BTreeMap<String, String>,
}

impl Secrets {
    /// Read config/.env if it exists. A malformed line is an error naming it.
    pub fn load(env_file: &Path) -> Result<Self, FileProblem> {
        let text = match std::fs::read_to_string(env_file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => {
                return Err(FileProblem::new(
                    At::file(env_file),
                    format!("cannot read: {e}"),
                    "check its permissions",
                ));
            }
        };
        let mut from_file = BTreeMap::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let line = line.strip_prefix("export ").unwrap_or(line);
            let Some((key, value)) = line.split_once('=') else {
                return Err(FileProblem::new(
                    At::line(env_file, index as u64 + 1),
                    "expected NAME=value",
                    "write one NAME=value per line",
                ));
            };
            let key = key.trim();
            if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(FileProblem::new(
                    At::line(env_file, index as u64 + 1),
                    format!("`{key}` is not a valid variable name"),
                    "use letters, digits and _ only",
                ));
            }
            from_file.insert(key.to_string(), unquote(value.trim()).to_string());
        }
        Ok(Self { from_file })
    }

    /// The environment wins over the file, so a one-off override needs no edit.
    pub fn get(&self, name: &str) -> Option<String> {
        std::env::var(name)
            .ok()
            .filter(|v| !v.is_empty())
            .or_else(|| self.from_file.get(name).cloned())
    }

    /// Replace every known secret value in `text` with `[redacted]`.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for value in self.values() {
            out = out.replace(&value, "[redacted]");
        }
        out
    }

    fn values(&self) -> Vec<String> {
        let mut names: Vec<&str> = KNOWN_SECRETS.to_vec();
        names.extend(self.from_file.keys().map(String::as_str));
        let mut values: Vec<String> = names
            .iter()
            .filter_map(|n| self.get(n))
            .filter(|v| v.len() >= 6)
            .collect();
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        values.dedup();
        values
    }
}

fn unquote(value: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = value.strip_prefix(q).and_then(|v| v.strip_suffix(q)) {
            return inner;
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_env_file_and_redacts_its_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        std::fs::write(&path, "# keys\nDAYSHIFT_TEST_CANARY=\"sk-canary-123456\"\n").unwrap();
        let s = Secrets::load(&path).unwrap();
        assert_eq!(
            s.get("DAYSHIFT_TEST_CANARY").as_deref(),
            Some("sk-canary-123456")
        );
        assert_eq!(s.redact("key sk-canary-123456 used"), "key [redacted] used");
    }

    #[test]
    fn malformed_line_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        std::fs::write(&path, "A=1\nthis is not a pair\n").unwrap();
        let err = Secrets::load(&path).unwrap_err();
        assert_eq!(err.at.line, Some(2));
    }
}
