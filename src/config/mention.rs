//! The one mention dayshift may ping with: the role or user configured for urgent
//! notices, parsed from how Discord writes it (`<@&ROLE_ID>`, `<@USER_ID>`).

use serde_json::{Value, json};

/// Who an urgent notice pings: a role (`<@&id>`) or a user (`<@id>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mention {
    Role(String),
    User(String),
}

/// A configured mention that is neither `<@&role id>` nor `<@user id>`.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error(
    "the mention {0:?} is not `<@&ROLE_ID>` or `<@USER_ID>`; copy the id in Discord \
     (developer mode, right-click the role or user, Copy ID) and write it that way in \
     config/notify.yaml"
)]
pub struct BadMention(pub String);

impl std::str::FromStr for Mention {
    type Err = BadMention;

    fn from_str(text: &str) -> Result<Self, BadMention> {
        let bad = || BadMention(text.to_string());
        let inner = text
            .trim()
            .strip_prefix("<@")
            .and_then(|t| t.strip_suffix('>'))
            .ok_or_else(bad)?;
        let (id, role) = match inner.strip_prefix('&') {
            Some(id) => (id, true),
            None => (inner.strip_prefix('!').unwrap_or(inner), false),
        };
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        Ok(if role {
            Mention::Role(id.to_string())
        } else {
            Mention::User(id.to_string())
        })
    }
}

impl Mention {
    /// How it is written in a message.
    pub fn text(&self) -> String {
        match self {
            Mention::Role(id) => format!("<@&{id}>"),
            Mention::User(id) => format!("<@{id}>"),
        }
    }

    /// `allowed_mentions` that lets exactly this one ping.
    pub(crate) fn allowed(&self) -> Value {
        match self {
            Mention::Role(id) => json!({"parse": [], "roles": [id]}),
            Mention::User(id) => json!({"parse": [], "users": [id]}),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_parse_from_config_text() {
        assert_eq!("<@&12>".parse(), Ok(Mention::Role("12".into())));
        assert_eq!("<@34>".parse(), Ok(Mention::User("34".into())));
        assert_eq!("<@!34>".parse(), Ok(Mention::User("34".into())));
        for bad in ["@everyone", "<@&>", "<@12a>", "12", "<#12>"] {
            let error = bad.parse::<Mention>().unwrap_err();
            assert!(error.to_string().contains("config/notify.yaml"), "{error}");
        }
    }
}
