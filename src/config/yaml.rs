//! YAML through serde-saphyr, with errors turned into [`FileProblem`]s.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde_saphyr::Location;

use crate::problem::{At, FileProblem};

/// Parse `text` (the contents of `file`) into `T`. An empty document yields `T::default()`.
/// `line_offset` is added to reported lines (front matter starts below the `---` line).
pub fn parse<T: DeserializeOwned + Default>(
    file: &Path,
    text: &str,
    line_offset: u64,
) -> Result<T, FileProblem> {
    if text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Ok(T::default());
    }
    deserialize(file, text, line_offset)
}

fn deserialize<T: DeserializeOwned>(
    file: &Path,
    text: &str,
    line_offset: u64,
) -> Result<T, FileProblem> {
    serde_saphyr::from_str::<T>(text).map_err(|e| {
        let line = e.location().map(|l| l.line() + line_offset);
        let message = e.without_snippet().to_string();
        let problem = strip_location(&message);
        let at = At {
            file: file.to_path_buf(),
            line,
        };
        FileProblem::new(
            at,
            format!("{}{}", describe(problem), meant(problem)),
            fix_for(problem),
        )
    })
}

/// Like [`parse`], but an empty document is an error rather than the defaults.
pub fn parse_required<T: DeserializeOwned>(
    file: &Path,
    text: &str,
    line_offset: u64,
) -> Result<T, FileProblem> {
    if text.trim().is_empty() {
        return Err(FileProblem::new(
            At {
                file: file.to_path_buf(),
                line: Some(line_offset + 1),
            },
            "the YAML is empty",
            "fill in the keys (see docs/tasks.md)",
        ));
    }
    deserialize(file, text, line_offset)
}

/// Where in `file` a value read at `location` is (its line, when known).
pub fn at(file: &Path, location: &Location) -> At {
    At {
        file: file.to_path_buf(),
        line: line_of(location, 0),
    }
}

/// The line (with offset) of a value that came with a location.
pub fn line_of(location: &Location, line_offset: u64) -> Option<u64> {
    (location.line() > 0).then(|| location.line() + line_offset)
}

fn strip_location(message: &str) -> &str {
    match message.rfind(" at line ") {
        Some(i) => &message[..i],
        None => message,
    }
}

fn describe(problem: &str) -> String {
    if problem.starts_with("expected")
        || problem.starts_with("unexpected")
        || problem.contains("scalar")
    {
        format!("invalid YAML: {problem}")
    } else {
        problem.to_string()
    }
}

/// `; did you mean `x`?` for serde's "unknown field `nmae`, expected one of `name`, …" and
/// "unknown variant …" messages.
fn meant(problem: &str) -> String {
    let unknown = ["unknown field `", "unknown variant `"]
        .iter()
        .find_map(|p| problem.strip_prefix(p));
    let Some(rest) = unknown else {
        return String::new();
    };
    let Some((word, rest)) = rest.split_once('`') else {
        return String::new();
    };
    let Some((_, expected)) = rest.split_once("expected one of ") else {
        return String::new();
    };
    let names: Vec<&str> = expected
        .split([',', ' '])
        .map(|n| n.trim().trim_matches('`'))
        .filter(|n| !n.is_empty() && *n != "or")
        .collect();
    crate::suggest::hint(word, names)
}

fn fix_for(problem: &str) -> String {
    if problem.starts_with("unknown field") {
        "remove the key or fix its spelling (docs/configuration.md lists every key)".into()
    } else if problem.starts_with("unknown variant") {
        "use one of the listed values".into()
    } else if problem.starts_with("missing field") {
        "add the key".into()
    } else {
        "fix the YAML at that line (indentation, a missing `:` or an unclosed bracket or quote)"
            .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Default, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Sample {
        #[serde(default)]
        name: String,
    }

    #[test]
    fn unknown_key_names_file_line_and_fix() {
        let err = parse::<Sample>(Path::new("c.yaml"), "name: a\nnmae: b\n", 0).unwrap_err();
        assert_eq!(err.at, At::line("c.yaml", 2));
        assert!(
            err.to_string()
                .starts_with("c.yaml:2: unknown field `nmae`"),
            "{err}"
        );
        assert!(err.fix.contains("spelling"));
        assert!(err.problem.ends_with("did you mean `name`?"), "{err}");
    }

    #[test]
    fn an_unknown_value_suggests_the_one_meant() {
        #[derive(Debug, Deserialize)]
        #[serde(rename_all = "lowercase")]
        enum Job {
            Morning,
            Wrapup,
        }
        #[derive(Debug, Default, Deserialize)]
        #[allow(dead_code)] // only parsed
        struct Jobs {
            #[serde(default)]
            jobs: Vec<Option<Job>>,
        }
        let err = parse::<Jobs>(Path::new("s.yaml"), "jobs: [mornin]\n", 0).unwrap_err();
        assert!(err.problem.contains("did you mean `morning`?"), "{err}");
    }

    #[test]
    fn broken_yaml_is_reported_with_offset_line() {
        let err = parse::<Sample>(Path::new("t.md"), "name: [\n", 1).unwrap_err();
        assert_eq!(err.at.line, Some(2));
        assert!(err.problem.starts_with("invalid YAML"), "{err}");
    }

    #[test]
    fn empty_or_comment_only_document_is_default() {
        let s: Sample = parse(Path::new("c.yaml"), "# nothing\n\n", 0).unwrap();
        assert_eq!(s.name, "");
    }
}
