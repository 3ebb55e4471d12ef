//! Secrets: from the process environment or config/.env, never from YAML.
//!
//! Values are kept out of everything dayshift writes with [`Secrets::redact`], which knows
//! every value config/.env holds, every secret-named variable of the environment and every
//! name the config gives ([`Secrets::name`]); see [`super::redact`].

use std::collections::BTreeMap;
use std::path::Path;

use super::redact::{self, Redactor};
use crate::problem::{At, FileProblem};

/// The names dayshift knows to be secrets (DESIGN §2).
pub const KNOWN_SECRETS: [&str; 5] = [
    "ANTHROPIC_API_KEY",
    "OPENAI_API_KEY",
    "GITHUB_TOKEN",
    "DISCORD_WEBHOOK_URL",
    "TAVILY_API_KEY",
];

/// Secrets found in config/.env (the process environment is read on demand), and the
/// redactor of every secret value known when the config was loaded.
#[derive(Clone, Default)]
pub struct Secrets {
    from_file: BTreeMap<String, String>,
    /// The process environment as it was at load: the config is read once per run.
    env: BTreeMap<String, String>,
    redactor: Redactor,
}

impl Secrets {
    /// Read config/.env if it exists, with the process environment. A malformed line is an
    /// error naming it.
    pub fn load(env_file: &Path) -> Result<Self, FileProblem> {
        Self::load_with_env(env_file, std::env::vars())
    }

    /// [`Secrets::load`] with the given environment instead of the process's.
    pub fn load_with_env(
        env_file: &Path,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, FileProblem> {
        let env: BTreeMap<String, String> =
            env.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        let text = match std::fs::read_to_string(env_file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
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
        let mut secrets = Self {
            from_file,
            env,
            redactor: Redactor::default(),
        };
        // every value of the file is a secret, whatever its name: it is where keys go
        let file_pairs: Vec<(String, String)> = secrets
            .from_file
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        secrets.redactor.extend(file_pairs);
        let env_pairs: Vec<(String, String)> = secrets
            .env
            .iter()
            .filter(|(name, _)| redact::is_secret_name(name))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        secrets.redactor.extend(env_pairs);
        secrets.name(KNOWN_SECRETS.iter().copied());
        Ok(secrets)
    }

    /// Treat these variables as secrets too (a provider's custom `api_key_env`, a variable
    /// passed to the coding tool): their values, from the environment or the file, are
    /// redacted.
    pub fn name<'a>(&mut self, names: impl IntoIterator<Item = &'a str>) {
        let pairs: Vec<(String, String)> = names
            .into_iter()
            .filter_map(|n| self.get(n).map(|v| (n.to_string(), v)))
            .collect();
        self.redactor.extend(pairs);
    }

    /// Every secret value known, by name.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// The environment wins over the file, so a one-off override needs no edit.
    pub fn get(&self, name: &str) -> Option<String> {
        self.env
            .get(name)
            .or_else(|| self.from_file.get(name))
            .cloned()
    }

    /// Replace every known secret value in `text` with `[redacted:NAME]` (also those of any
    /// other config this process loaded).
    pub fn redact(&self, text: &str) -> String {
        redact::redact_global(&self.redactor.redact(text)).into_owned()
    }

    /// The name of a known secret whose value occurs in `text`: a diff whose added lines
    /// carry one fails at once.
    pub fn find_known(&self, text: &str) -> Option<String> {
        self.redactor.find_known(text)
    }

    /// [`Secrets::find_known`] on the lines a unified diff adds (`+…`, not the `+++` file
    /// header): a key the change removes is no leak.
    pub fn find_known_added(&self, diff: &str) -> Option<String> {
        diff.lines()
            .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
            .find_map(|l| self.find_known(l))
    }
}

/// Names only: a `{:?}` of the config must never print a key.
impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets")
            .field("from_file", &self.from_file.keys().collect::<Vec<_>>())
            .field("known", &self.redactor.names())
            .finish_non_exhaustive()
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
        assert_eq!(
            s.redact("key sk-canary-123456 used"),
            "key [redacted:DAYSHIFT_TEST_CANARY] used"
        );
    }

    #[test]
    fn named_variables_and_secret_named_environment_are_known() {
        let env = [
            ("DAYSHIFT_UNIT_CUSTOM_CRED", "custom-canary-0011223344"),
            ("DAYSHIFT_UNIT_X_TOKEN", "token-canary-5566778899"),
            ("DAYSHIFT_UNIT_FLAG_TOKEN", "true"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let dir = tempfile::tempdir().unwrap();
        let mut s = Secrets::load_with_env(&dir.path().join(".env"), env).unwrap();
        assert_eq!(s.redactor().names(), vec!["DAYSHIFT_UNIT_X_TOKEN"]);
        assert_eq!(
            s.find_known("custom-canary-0011223344"),
            None,
            "an unnamed variable without a secret's suffix is not known yet"
        );
        assert_eq!(
            s.find_known("+ token-canary-5566778899").as_deref(),
            Some("DAYSHIFT_UNIT_X_TOKEN")
        );
        s.name(["DAYSHIFT_UNIT_CUSTOM_CRED"]);
        assert_eq!(
            s.find_known("a custom-canary-0011223344 b").as_deref(),
            Some("DAYSHIFT_UNIT_CUSTOM_CRED")
        );
        assert_eq!(
            s.redact("a custom-canary-0011223344 b"),
            "a [redacted:DAYSHIFT_UNIT_CUSTOM_CRED] b"
        );
    }

    #[test]
    fn debug_and_removed_lines_show_no_key() {
        let env = [("X_API_KEY".to_string(), "debug-canary-24681357".to_string())];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        std::fs::write(&path, "FROM_FILE=file-canary-13572468\n").unwrap();
        let s = Secrets::load_with_env(&path, env).unwrap();
        let debug = format!("{s:?}");
        assert!(!debug.contains("canary"), "{debug}");
        assert!(
            debug.contains("X_API_KEY") && debug.contains("FROM_FILE"),
            "{debug}"
        );
        let removed =
            "--- a/k.py\n+++ b/k.py\n-KEY = 'debug-canary-24681357'\n+KEY = os.environ['X']\n";
        assert_eq!(s.find_known_added(removed), None);
        let added = "--- a/k.py\n+++ b/k.py\n-KEY = None\n+KEY = 'file-canary-13572468'\n";
        assert_eq!(s.find_known_added(added).as_deref(), Some("FROM_FILE"));
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
