//! Task ids and slugs. Both end up in file names and branch names, so both are checked
//! against a strict alphabet: nothing from a file, a model or a person can make a path
//! that leaves its folder.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// `T-` and a zero-padded number of at least four digits: `T-0007`, `T-12345`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskId(u32);

impl TaskId {
    pub const fn new(number: u32) -> Self {
        Self(number)
    }

    pub fn number(self) -> u32 {
        self.0
    }

    /// The id after the highest number used so far; `None` when the numbers are used up
    /// (ids never wrap around to reuse an old task's id, branch and history).
    pub fn after(last: u32) -> Option<Self> {
        last.checked_add(1).map(Self)
    }

    /// The id at the start of a task file name (`T-0007-fix-it.md`), if it has one.
    pub fn from_file_name(name: &str) -> Option<(Self, &str)> {
        let stem = name.strip_suffix(".md")?;
        let digits_end = stem
            .get(2..)?
            .find(|c: char| !c.is_ascii_digit())
            .map_or(stem.len(), |i| i + 2);
        let id: TaskId = stem[..digits_end].parse().ok()?;
        let rest = &stem[digits_end..];
        match rest.strip_prefix('-') {
            Some(slug) if is_valid_slug(slug) => Some((id, slug)),
            None if rest.is_empty() => Some((id, "")),
            _ => None,
        }
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "T-{:04}", self.0)
    }
}

impl FromStr for TaskId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!("`{s}` is not a task id: ids look like T-0007 (T- and at least four digits)")
        };
        let digits = s.strip_prefix("T-").ok_or_else(bad)?;
        if digits.len() < 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let n: u32 = digits.parse().map_err(|_| bad())?;
        let id = TaskId(n);
        if id.to_string() != s {
            return Err(format!(
                "`{s}` is not a task id in its usual form: write {id}"
            ));
        }
        Ok(id)
    }
}

impl Serialize for TaskId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TaskId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A slug for file and branch names: lowercase letters, digits and single dashes.
pub fn slugify(title: &str) -> String {
    let mut slug = String::new();
    for word in title
        .to_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if slug.len() + word.len() + 1 > 48 && !slug.is_empty() {
            break;
        }
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str(&word[..word.len().min(48)]);
    }
    if slug.is_empty() { "task".into() } else { slug }
}

pub fn is_valid_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= 80
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
        && !slug.contains("--")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_strictly() {
        assert_eq!("T-0007".parse::<TaskId>().unwrap().number(), 7);
        assert_eq!(TaskId::new(12345).to_string(), "T-12345");
        for bad in [
            "T-7",
            "t-0007",
            "T-0007x",
            "../T-0001",
            "T-00007",
            "T-",
            "0007",
        ] {
            assert!(bad.parse::<TaskId>().is_err(), "{bad}");
        }
    }

    #[test]
    fn ids_never_wrap() {
        assert_eq!(TaskId::after(41), Some(TaskId::new(42)));
        assert_eq!(TaskId::after(u32::MAX), None);
        let top = TaskId::new(u32::MAX).to_string();
        assert_eq!(top.parse::<TaskId>().unwrap().number(), u32::MAX);
        assert!(
            "T-4294967296".parse::<TaskId>().is_err(),
            "no id past the top"
        );
    }

    #[test]
    fn file_names_give_id_and_slug() {
        assert_eq!(
            TaskId::from_file_name("T-0007-fix-csrf.md"),
            Some((TaskId::new(7), "fix-csrf"))
        );
        assert_eq!(
            TaskId::from_file_name("T-0007.md"),
            Some((TaskId::new(7), ""))
        );
        assert_eq!(TaskId::from_file_name("T-0007-..-x.md"), None);
        assert_eq!(TaskId::from_file_name("notes.md"), None);
    }

    #[test]
    fn slugs_are_safe() {
        assert_eq!(
            slugify("Fix CSRF_TRUSTED_ORIGINS concatenation!"),
            "fix-csrf-trusted-origins-concatenation"
        );
        assert_eq!(slugify("../../etc/passwd"), "etc-passwd");
        assert_eq!(slugify("¿¡!"), "task");
        assert!(slugify(&"word ".repeat(40)).len() <= 48);
        assert!(is_valid_slug(&slugify("Ünïcode title ok")));
    }
}
