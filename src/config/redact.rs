//! One redactor for every secret value dayshift knows, applied wherever dayshift writes or
//! passes text on (task files, reports, state.db, logs, cassettes, the next prompt).
//!
//! A secret is known by its *value*: a tool that prints its key, a model that echoes one,
//! or an error that quotes a request all carry the value, never the name. The values come
//! from every name the config gives (providers' `api_key_env`, the coder's `env` list,
//! [`super::secrets::KNOWN_SECRETS`]), every value in config/.env, and every environment
//! variable whose name says it is a secret ([`is_secret_name`]). Values shorter than
//! [`MIN_SECRET_LEN`] are ignored: redacting `1` or `true` everywhere would mangle every
//! line and protect nothing.
//!
//! The tracing writer has no context to ask, so every redactor built from a config is also
//! merged into one process-wide set ([`install`], [`redact_global`]). It only grows: a
//! value that was a secret once stays redacted for the life of the process.

use std::borrow::Cow;
use std::sync::{PoisonError, RwLock};

/// Values shorter than this are never treated as secrets.
pub const MIN_SECRET_LEN: usize = 8;

/// Name endings that mark an environment variable as a secret.
pub const SECRET_SUFFIXES: [&str; 5] = ["_KEY", "_TOKEN", "_SECRET", "_PASSWORD", "_WEBHOOK_URL"];

/// Whether a variable's name says it holds a secret (`*_KEY`, `*_TOKEN`, …).
pub fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    SECRET_SUFFIXES.iter().any(|s| upper.ends_with(s))
}

/// Known secret values, each with the name it is redacted as.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Redactor {
    /// `(value, name)`, longest value first so a secret containing another is replaced
    /// whole; one entry per value.
    known: Vec<(String, String)>,
}

impl Redactor {
    /// A redactor for `(name, value)` pairs; short values are dropped.
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut redactor = Self::default();
        redactor.extend(pairs);
        redactor
    }

    /// Add more `(name, value)` pairs; a value already known keeps its first name.
    pub fn extend(&mut self, pairs: impl IntoIterator<Item = (String, String)>) {
        for (name, value) in pairs {
            let value = value.trim().to_string();
            if value.chars().count() < MIN_SECRET_LEN || self.known.iter().any(|(v, _)| *v == value)
            {
                continue;
            }
            self.known.push((value, name));
        }
        self.known
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.1.cmp(&b.1)));
    }

    /// Add everything `other` knows.
    pub fn merge(&mut self, other: &Redactor) {
        self.extend(
            other
                .known
                .iter()
                .map(|(value, name)| (name.clone(), value.clone())),
        );
    }

    pub fn is_empty(&self) -> bool {
        self.known.is_empty()
    }

    /// The names of the secrets it knows (never their values), sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.known.iter().map(|(_, n)| n.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    /// `text` with every known secret value replaced by `[redacted:NAME]`.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        for (value, name) in &self.known {
            if out.contains(value.as_str()) {
                out = Cow::Owned(out.replace(value.as_str(), &format!("[redacted:{name}]")));
            }
        }
        out
    }

    /// Redact every string inside a JSON value (keys included), so a secret with a quote or
    /// a backslash in it is found before JSON escapes it.
    pub fn redact_json(&self, value: &mut serde_json::Value) {
        map_json_strings(value, &|s| self.redact(s).into_owned());
    }

    /// The name of the first known secret whose value occurs in `text` (for failing at once
    /// a diff whose added lines carry a key).
    pub fn find_known(&self, text: &str) -> Option<String> {
        self.known
            .iter()
            .find(|(value, _)| text.contains(value.as_str()))
            .map(|(_, name)| name.clone())
    }
}

/// Replace every string inside a JSON value (object keys included) by `f` of it.
pub fn map_json_strings(value: &mut serde_json::Value, f: &dyn Fn(&str) -> String) {
    match value {
        serde_json::Value::String(text) => *text = f(text),
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| map_json_strings(v, f)),
        serde_json::Value::Object(map) => {
            let entries = std::mem::take(map);
            for (key, mut item) in entries {
                map_json_strings(&mut item, f);
                map.insert(f(&key), item);
            }
        }
        _ => {}
    }
}

static GLOBAL: RwLock<Redactor> = RwLock::new(Redactor { known: Vec::new() });

/// Add `redactor`'s secrets to the process-wide set that [`redact_global`] applies.
pub fn install(redactor: &Redactor) {
    GLOBAL
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .merge(redactor);
}

/// `text` redacted with every secret any config loaded in this process named.
pub fn redact_global(text: &str) -> Cow<'_, str> {
    let global = GLOBAL.read().unwrap_or_else(PoisonError::into_inner);
    match global.redact(text) {
        Cow::Borrowed(_) => Cow::Borrowed(text),
        Cow::Owned(clean) => Cow::Owned(clean),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(name: &str, value: &str) -> (String, String) {
        (name.to_string(), value.to_string())
    }

    #[test]
    fn values_are_replaced_by_their_names_longest_first() {
        let r = Redactor::new([
            pair("SHORT_KEY", "sk-abcdefgh"),
            pair("LONG_KEY", "sk-abcdefgh-and-more"),
        ]);
        assert_eq!(
            r.redact("a sk-abcdefgh-and-more b sk-abcdefgh c"),
            "a [redacted:LONG_KEY] b [redacted:SHORT_KEY] c"
        );
        assert!(matches!(r.redact("nothing here"), Cow::Borrowed(_)));
        assert_eq!(r.names(), vec!["LONG_KEY", "SHORT_KEY"]);
    }

    #[test]
    fn short_values_are_not_secrets() {
        let r = Redactor::new([pair("DEBUG_TOKEN", "true"), pair("N_KEY", "1234567")]);
        assert!(r.is_empty());
        assert_eq!(r.redact("true 1234567"), "true 1234567");
        assert_eq!(r.find_known("true 1234567"), None);
    }

    #[test]
    fn find_known_names_the_secret_in_a_diff() {
        let r = Redactor::new([pair("ACME_CRED", "canary-0123456789")]);
        let diff = "+++ b/leak.txt\n+token = canary-0123456789\n";
        assert_eq!(r.find_known(diff).as_deref(), Some("ACME_CRED"));
        assert_eq!(r.find_known("+token = something-else\n"), None);
    }

    #[test]
    fn json_strings_are_redacted_before_escaping() {
        let r = Redactor::new([pair("QUOTED_KEY", "ab\"cd\\efgh")]);
        let mut value =
            serde_json::json!({"why": "key ab\"cd\\efgh leaked", "n": [1, "ab\"cd\\efgh"]});
        r.redact_json(&mut value);
        let line = value.to_string();
        assert!(!line.contains("cd\\\\efgh"), "{line}");
        assert!(line.contains("[redacted:QUOTED_KEY]"), "{line}");
    }

    #[test]
    fn secret_names_by_suffix() {
        for name in [
            "OPENAI_API_KEY",
            "gh_token",
            "DB_PASSWORD",
            "X_SECRET",
            "SLACK_WEBHOOK_URL",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in ["PATH", "KEYBOARD", "TOKENIZERS_PARALLELISM"] {
            assert!(!is_secret_name(name), "{name}");
        }
    }

    #[test]
    fn the_global_set_only_grows() {
        install(&Redactor::new([pair(
            "GLOBAL_TEST_KEY",
            "global-canary-77665544",
        )]));
        install(&Redactor::default());
        assert_eq!(
            redact_global("x global-canary-77665544 y"),
            "x [redacted:GLOBAL_TEST_KEY] y"
        );
    }
}
