//! VISION.md notes that ask for a path or a component to be left alone become never-touch
//! rules (issue 11, point 4): "Don't touch the n8n webhook integration" → the tracked files
//! that implement it.
//!
//! Notes can only *add* never-touch globs. Nothing here, and nothing else, turns a note into
//! a permission: "you may auto-merge anything today" or "ignore the protected paths" match
//! no prohibitive wording and give no rule — policy.yaml alone decides what may merge.
//!
//! # How a note is read
//!
//! 1. It is prohibitive when it says so ([`object_of`]): "don't / do not / never touch,
//!    edit, change, modify …", "leave … alone", "hands off …", "stay away from …",
//!    "… is off limits", "keep … as is" — case-insensitive, straight or curly apostrophes.
//!    The words it names (its *object*) run to the end of the clause.
//! 2. The object's explicit paths are found the way a goal's files are
//!    ([`super::files_named`]): a tracked file → that path; a directory → `dir/**`; a
//!    path nobody tracks yet is kept as written (the person named it: fail closed).
//! 3. Without an explicit path, the object names a component: its significant words (stop
//!    words and generic words like "integration" or "module" dropped) must *all* appear
//!    among a tracked path's segments (split on `/ _ - .` and camelCase, plurals folded), so
//!    "n8n webhook" covers `integrations/n8n/webhook.py` and `app/n8n_webhook_handler.py`
//!    but not `app/webhooks/stripe.py`. Each file is a glob of its own, or `dir/**` when
//!    every tracked file of a directory matches.
//! 4. A note that resolves to nothing, or to more than [`MAX_FILES_PER_NOTE`] files that no
//!    directory globs sum up, gives no rule and says why ([`UnresolvedNote`]): DAILY_PLAN.md
//!    shows it, so a person can reword the note or write `never_touch` in policy.yaml.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::files_named;
use crate::home::Home;

/// The most tracked files one note may cover through per-file globs; more must sum up to
/// directory globs, or the note is reported as too broad.
pub const MAX_FILES_PER_NOTE: usize = 200;

/// A never-touch rule a VISION.md note asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteRule {
    /// The note as written.
    pub note: String,
    /// Globs relative to the target's root (`globset` syntax, metacharacters of a file's
    /// name escaped): what the rule forbids.
    pub globs: Vec<String>,
    /// The tracked files it covers now (at most [`MAX_FILES_PER_NOTE`]; the globs are the
    /// rule, this list is what a person checks).
    pub files: Vec<String>,
}

/// A prohibitive note that became no rule, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnresolvedNote {
    pub note: String,
    /// e.g. `no file matches 'the billing engine'`.
    pub why: String,
}

/// Every note read: the rules, and the prohibitive notes that gave none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteRules {
    pub rules: Vec<NoteRule>,
    pub unresolved: Vec<UnresolvedNote>,
}

/// The rules the notes ask for, resolved against the target's tracked files.
pub fn rules_from_notes(notes: &[String], tracked: &[String]) -> Vec<NoteRule> {
    resolve_notes(notes, tracked).rules
}

/// [`rules_from_notes`], with the prohibitive notes that resolved to nothing.
pub fn resolve_notes(notes: &[String], tracked: &[String]) -> NoteRules {
    let mut out = NoteRules::default();
    for note in notes {
        let Some(object) = object_of(note) else {
            continue;
        };
        match resolve(&object, tracked) {
            Ok((globs, files)) => out.rules.push(NoteRule {
                note: note.clone(),
                globs,
                files,
            }),
            Err(why) => out.unresolved.push(UnresolvedNote {
                note: note.clone(),
                why,
            }),
        }
    }
    out
}

/// Today's VISION.md notes and the rules they ask for (tracked files from the target clone).
/// A VISION.md that cannot be read gives none (the work loop must not stop for it).
pub fn notes_and_rules(home: &Home, clone: &Path) -> (Vec<String>, Vec<NoteRule>) {
    let path = home.vision();
    let notes = match std::fs::read_to_string(&path) {
        Ok(text) => match super::parse::parse(&path, &text) {
            Ok(parsed) => parsed.notes,
            Err(e) => {
                tracing::warn!("VISION.md cannot be read for its notes: {e}");
                return (Vec::new(), Vec::new());
            }
        },
        Err(e) => {
            tracing::warn!("VISION.md cannot be read for its notes: {e}");
            return (Vec::new(), Vec::new());
        }
    };
    let tracked = files_named::tracked_files(clone);
    let rules = rules_from_notes(&notes, &tracked);
    (notes, rules)
}

/// Verbs a "don't …" or "never …" note forbids.
const VERBS: [&str; 4] = ["touch", "edit", "change", "modify"];
/// What opens a prohibition, before one of [`VERBS`].
const NEGATIONS: [&str; 4] = ["don't", "dont", "do not", "never"];
/// Prohibitions whose object follows.
const OPENERS: [&str; 3] = ["hands off", "stay away from", "keep away from"];
/// Words that end a note's object: the reason or the condition that follows.
const CLAUSE_WORDS: [&str; 13] = [
    " because ",
    " since ",
    " unless ",
    " until ",
    " as it ",
    " it works",
    " for now",
    " which ",
    " without ",
    " except ",
    " if ",
    " when ",
    " before ",
];

/// The words a prohibitive note names (from the note, case kept), or `None` when the note
/// forbids nothing.
fn object_of(note: &str) -> Option<String> {
    let text: String = note
        .chars()
        .map(|c| {
            if matches!(c, '\u{2018}' | '\u{2019}') {
                '\''
            } else {
                c
            }
        })
        .collect();
    // ASCII lower case keeps byte offsets, so a match in `lower` cuts `text` at the same place
    let lower = text.to_ascii_lowercase();
    for negation in NEGATIONS {
        for verb in VERBS {
            for gap in [" ", " ever ", " even "] {
                let phrase = format!("{negation}{gap}{verb}");
                if let Some(end) = find_phrase(&lower, &phrase) {
                    return nonempty(clause(&text[end..]));
                }
            }
        }
    }
    for opener in OPENERS {
        if let Some(end) = find_phrase(&lower, opener) {
            return nonempty(clause(&text[end..]));
        }
    }
    // the "leave" nearest before "alone": "leave a comment and leave X alone"
    if let Some(alone) = lower.find(" alone")
        && let Some(end) = last_phrase(&lower[..alone], "leave")
    {
        return nonempty(text[end..alone].trim());
    }
    if let Some(end) = find_phrase(&lower, "keep") {
        for tail in [" as is", " as-is"] {
            if let Some(at) = lower[end..].find(tail) {
                return nonempty(text[end..end + at].trim());
            }
        }
    }
    for tail in [
        " is off limits",
        " are off limits",
        " is off-limits",
        " are off-limits",
    ] {
        if let Some(at) = lower.find(tail) {
            // the clause before it: from the last clause break
            let head = &text[..at];
            let start = head
                .rfind([',', ';', ':', '(', '!', '?'])
                .or_else(|| head.rfind(". "))
                .map_or(0, |i| i + 1);
            return nonempty(head[start..].trim());
        }
    }
    None
}

/// The byte offset just after `phrase` in `lower`, where it stands as whole words.
fn find_phrase(lower: &str, phrase: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = lower[from..].find(phrase) {
        let start = from + at;
        let end = start + phrase.len();
        let before_ok = lower[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        let after_ok = lower[end..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric());
        if before_ok && after_ok {
            return Some(end);
        }
        from = end;
    }
    None
}

/// [`find_phrase`]'s last match.
fn last_phrase(lower: &str, phrase: &str) -> Option<usize> {
    let mut last = None;
    let mut from = 0;
    while let Some(end) = find_phrase(&lower[from..], phrase) {
        last = Some(from + end);
        from += end;
    }
    last
}

/// `rest` up to the end of its clause: a comma, semicolon, colon or dash, a full stop
/// followed by a space (not the dot of `settings.py`), a bracket, or a reason ("because").
fn clause(rest: &str) -> &str {
    let rest = rest.trim_start_matches(|c: char| c == ':' || c.is_whitespace());
    let mut end = rest.len();
    for (i, c) in rest.char_indices() {
        let next = rest[i + c.len_utf8()..].chars().next();
        let stop = match c {
            ',' | ';' | '(' | '!' | '?' | '—' | '–' => true,
            '.' | ':' => next.is_none_or(char::is_whitespace),
            '-' => next == Some(' ') && rest[..i].ends_with(' '),
            _ => false,
        };
        if stop {
            end = i;
            break;
        }
    }
    let mut object = &rest[..end];
    let lower = object.to_ascii_lowercase();
    if let Some(cut) = CLAUSE_WORDS.iter().filter_map(|w| lower.find(w)).min() {
        object = &object[..cut];
    }
    object.trim()
}

fn nonempty(object: &str) -> Option<String> {
    let object = object.trim();
    (!object.is_empty()).then(|| object.to_string())
}

/// The globs and covered files for a note's object, or why there are none.
fn resolve(object: &str, tracked: &[String]) -> Result<(Vec<String>, Vec<String>), String> {
    let dirs = files_named::dirs_named_in(object, tracked);
    let files: Vec<String> = files_named::files_named_in(object, tracked)
        .into_iter()
        .map(|f| f.trim_end_matches('/').to_string())
        .filter(|f| !f.is_empty() && !dirs.contains(f))
        .collect();
    if !dirs.is_empty() || !files.is_empty() {
        let mut globs = Vec::new();
        let mut covered = BTreeSet::new();
        for dir in &dirs {
            globs.push(format!("{}/**", escape(dir)));
            covered.extend(under(dir, tracked).cloned());
        }
        for file in &files {
            if tracked.contains(file) {
                covered.insert(file.clone());
            }
            globs.push(escape(file));
        }
        return Ok((
            globs,
            covered.into_iter().take(MAX_FILES_PER_NOTE).collect(),
        ));
    }
    let words = significant_words(object);
    if words.is_empty() {
        return Err(format!("'{object}' names no file or component"));
    }
    let matched: BTreeSet<&String> = tracked
        .iter()
        .filter(|path| {
            let segments = path_words(path);
            words.iter().all(|w| segments.contains(w))
        })
        .collect();
    if matched.is_empty() {
        return Err(format!("no file matches '{object}'"));
    }
    let globs = collapse(&matched, tracked);
    let per_file = globs.iter().filter(|g| !g.ends_with("/**")).count();
    if matched.len() > MAX_FILES_PER_NOTE && per_file > 0 {
        return Err(format!(
            "'{object}' matches {} files, more than {MAX_FILES_PER_NOTE}: too broad",
            matched.len()
        ));
    }
    let files = matched
        .into_iter()
        .take(MAX_FILES_PER_NOTE)
        .cloned()
        .collect();
    Ok((globs, files))
}

/// Tracked files below `dir`.
fn under<'a>(dir: &'a str, tracked: &'a [String]) -> impl Iterator<Item = &'a String> {
    tracked
        .iter()
        .filter(move |t| t.strip_prefix(dir).is_some_and(|r| r.starts_with('/')))
}

/// One glob per matched file, or `dir/**` for the highest directory whose every tracked
/// file matched, when it holds more than one (never the root: "everything" is not a
/// component; a lone file stays the precise rule it is).
fn collapse(matched: &BTreeSet<&String>, tracked: &[String]) -> Vec<String> {
    let mut per_dir: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for path in tracked {
        for (i, _) in path.match_indices('/') {
            let entry = per_dir.entry(&path[..i]).or_default();
            entry.0 += 1;
            if matched.contains(path) {
                entry.1 += 1;
            }
        }
    }
    let whole = |dir: &str| {
        per_dir
            .get(dir)
            .is_some_and(|(all, hit)| all == hit && *all > 1)
    };
    let mut globs = Vec::new();
    for path in matched {
        let top = path
            .match_indices('/')
            .map(|(i, _)| &path[..i])
            .find(|dir| whole(dir));
        let glob = match top {
            Some(dir) => format!("{}/**", escape(dir)),
            None => escape(path),
        };
        if !globs.contains(&glob) {
            globs.push(glob);
        }
    }
    globs
}

/// A path as a glob matching only itself.
fn escape(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '{' | '}' | '\\') {
            out.push('[');
            out.push(c);
            out.push(']');
        } else {
            out.push(c);
        }
    }
    out
}

/// Words that say nothing about which files: articles, pronouns, fillers.
const STOP_WORDS: [&str; 36] = [
    "the",
    "a",
    "an",
    "this",
    "that",
    "these",
    "those",
    "our",
    "my",
    "your",
    "its",
    "their",
    "any",
    "all",
    "of",
    "for",
    "in",
    "on",
    "at",
    "to",
    "and",
    "or",
    "with",
    "from",
    "by",
    "it",
    "them",
    "anything",
    "everything",
    "please",
    "whole",
    "entire",
    "existing",
    "current",
    "old",
    "ever",
];

/// Words that name a kind of thing, not which one.
const GENERIC_WORDS: [&str; 20] = [
    "integration",
    "module",
    "code",
    "codebase",
    "feature",
    "stuff",
    "component",
    "logic",
    "part",
    "thing",
    "implementation",
    "functionality",
    "file",
    "folder",
    "directory",
    "dir",
    "package",
    "library",
    "area",
    "bit",
];

/// The object's words that must all appear in a path: lower case, plurals folded.
fn significant_words(object: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for word in split_words(object) {
        let word = singular(&word);
        if STOP_WORDS.contains(&word.as_str()) || GENERIC_WORDS.contains(&word.as_str()) {
            continue;
        }
        if !words.contains(&word) {
            words.push(word);
        }
    }
    words
}

/// A path's words: its segments split on `/ _ - .` and camelCase, lower case, plurals folded.
fn path_words(path: &str) -> BTreeSet<String> {
    split_words(path).map(|w| singular(&w)).collect()
}

/// Words of `text`: runs of letters and digits, camelCase and `HTTPServer` split, lower case.
fn split_words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .flat_map(camel_parts)
}

fn camel_parts(word: &str) -> Vec<String> {
    let chars: Vec<char> = word.chars().collect();
    let mut parts = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).map(|p| chars[p]);
        let next = chars.get(i + 1).copied();
        let boundary = c.is_uppercase()
            && prev.is_some_and(|p| {
                p.is_lowercase() || p.is_uppercase() && next.is_some_and(char::is_lowercase)
            });
        if boundary && !current.is_empty() {
            parts.push(std::mem::take(&mut current));
        }
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        parts.push(current);
    }
    parts
}

/// `webhooks` → `webhook`; short words and `-ss`/`-us`/`-is` endings are kept.
fn singular(word: &str) -> String {
    let keep = word.len() <= 3
        || !word.ends_with('s')
        || word.ends_with("ss")
        || word.ends_with("us")
        || word.ends_with("is");
    if keep {
        word.to_string()
    } else {
        word[..word.len() - 1].to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Django-like project with an n8n integration and other webhooks.
    fn django() -> Vec<String> {
        [
            "manage.py",
            "core/settings.py",
            "core/urls.py",
            "core/__init__.py",
            "app/views.py",
            "app/models.py",
            "app/n8n_webhook_handler.py",
            "app/webhooks/stripe.py",
            "app/webhooks/github.py",
            "app/billing/__init__.py",
            "integrations/__init__.py",
            "integrations/n8n/webhook.py",
            "integrations/n8n/client.py",
            "integrations/slack/notify.py",
            "exams/views.py",
            "exams/migrations/0001_initial.py",
            "frontend/src/PaymentForm.tsx",
            "frontend/src/pages/[id].tsx",
            "docs/deploy.md",
            "docs/api.md",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    fn one(note: &str, tracked: &[String]) -> NoteRule {
        let rules = rules_from_notes(&[note.to_string()], tracked);
        assert_eq!(rules.len(), 1, "{note}: {rules:?}");
        rules.into_iter().next().unwrap()
    }

    /// Every glob compiles and matches exactly the files the rule says it covers.
    fn check_globs(rule: &NoteRule, tracked: &[String]) {
        let mut builder = globset::GlobSetBuilder::new();
        for g in &rule.globs {
            builder.add(globset::Glob::new(g).unwrap());
        }
        let set = builder.build().unwrap();
        let mut covered: Vec<&String> = tracked
            .iter()
            .filter(|t| set.is_match(t.as_str()))
            .collect();
        covered.sort();
        assert_eq!(covered, rule.files.iter().collect::<Vec<_>>(), "{rule:?}");
    }

    #[test]
    fn a_component_note_covers_the_files_that_implement_it() {
        let tracked = django();
        let rule = one(
            "Don't touch the n8n webhook integration, it works fine",
            &tracked,
        );
        assert_eq!(
            rule.note,
            "Don't touch the n8n webhook integration, it works fine"
        );
        assert_eq!(
            rule.files,
            ["app/n8n_webhook_handler.py", "integrations/n8n/webhook.py"],
            "every significant word in the path; not app/webhooks/stripe.py, not the n8n client"
        );
        assert_eq!(
            rule.globs,
            ["app/n8n_webhook_handler.py", "integrations/n8n/webhook.py"]
        );
        check_globs(&rule, &tracked);

        let rule = one("Leave the n8n integration alone", &tracked);
        assert_eq!(
            rule.globs,
            ["app/n8n_webhook_handler.py", "integrations/n8n/**"],
            "a directory every file of which matches is one glob"
        );
        check_globs(&rule, &tracked);

        let rule = one("Hands off the PaymentForm", &tracked);
        assert_eq!(
            rule.files,
            ["frontend/src/PaymentForm.tsx"],
            "camelCase splits"
        );
        let rule = one("The stripe webhooks are off limits.", &tracked);
        assert_eq!(rule.files, ["app/webhooks/stripe.py"], "plurals fold");
    }

    #[test]
    fn explicit_paths_and_directories_are_taken_as_written() {
        let tracked = django();
        let rule = one("never edit core/settings.py.", &tracked);
        assert_eq!(rule.globs, ["core/settings.py"]);
        assert_eq!(rule.files, ["core/settings.py"]);
        let rule = one(
            "Do not modify `exams/migrations/` — they are applied",
            &tracked,
        );
        assert_eq!(rule.globs, ["exams/migrations/**"]);
        assert_eq!(rule.files, ["exams/migrations/0001_initial.py"]);
        check_globs(&rule, &tracked);
        let rule = one("Keep `docs` as is", &tracked);
        assert_eq!(rule.globs, ["docs/**"]);
        assert_eq!(rule.files, ["docs/api.md", "docs/deploy.md"]);
        let rule = one("Stay away from frontend/src/pages/[id].tsx", &tracked);
        assert_eq!(rule.globs, ["frontend/src/pages/[[]id[]].tsx"]);
        check_globs(&rule, &tracked);
        let rule = one("Leave a comment, and leave `core/urls.py` alone", &tracked);
        assert_eq!(rule.globs, ["core/urls.py"]);
        let rule = one(
            "Don't change the n8n webhook without asking Alice",
            &tracked,
        );
        assert_eq!(
            rule.files.len(),
            2,
            "the condition is not part of what it names"
        );
        let rule = one("never change config/prod.yaml", &tracked);
        assert_eq!(
            (rule.globs, rule.files),
            (vec!["config/prod.yaml".to_string()], vec![]),
            "a path nobody tracks yet is still a rule: the person named it"
        );
    }

    #[test]
    fn file_names_with_glob_characters_match_only_themselves() {
        let tracked: Vec<String> = ["odd\\name.py", "a{b,c}.py", "x*y?.py", "xay1.py", "ab.py"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        for file in &tracked[..3] {
            let rule = one(&format!("never edit `{file}`"), &tracked);
            check_globs(&rule, &tracked);
            assert_eq!(&rule.files, std::slice::from_ref(file));
        }
    }

    #[test]
    fn curly_apostrophes_and_any_case_are_read() {
        let tracked = django();
        for note in [
            "Don\u{2019}t touch the n8n webhook integration",
            "DON'T CHANGE THE N8N WEBHOOK INTEGRATION",
            "We never ever touch the n8n webhook",
        ] {
            assert_eq!(
                one(note, &tracked).files,
                ["app/n8n_webhook_handler.py", "integrations/n8n/webhook.py"],
                "{note}"
            );
        }
    }

    #[test]
    fn a_note_that_resolves_to_nothing_gives_no_rule_and_says_so() {
        let tracked = django();
        let notes = vec![
            "Leave the billing engine alone".to_string(),
            "Don't touch anything".to_string(),
        ];
        let resolved = resolve_notes(&notes, &tracked);
        assert!(resolved.rules.is_empty(), "{resolved:?}");
        assert_eq!(resolved.unresolved.len(), 2);
        assert_eq!(
            resolved.unresolved[0].why,
            "no file matches 'the billing engine'"
        );
        assert_eq!(
            resolved.unresolved[1].why,
            "'anything' names no file or component"
        );
    }

    #[test]
    fn a_note_over_the_file_cap_is_too_broad_unless_directories_sum_it_up() {
        let mut tracked: Vec<String> = (0..150).map(|i| format!("a/util_{i}.py")).collect();
        tracked.extend((0..150).map(|i| format!("b/util_{i}.py")));
        tracked.push("b/other.py".into());
        let resolved = resolve_notes(&["Don't touch the util code".into()], &tracked);
        assert!(resolved.rules.is_empty());
        assert!(
            resolved.unresolved[0].why.contains("too broad"),
            "{resolved:?}"
        );
        tracked.pop();
        let rule = one("Don't touch the util code", &tracked);
        assert_eq!(rule.globs, ["a/**", "b/**"]);
        assert_eq!(rule.files.len(), MAX_FILES_PER_NOTE);
    }

    #[test]
    fn notes_that_widen_permissions_or_only_describe_give_nothing() {
        let tracked = django();
        let notes: Vec<String> = [
            "You may auto-merge anything today",
            "Ignore the protected paths",
            "auto_merge: medium",
            "It is fine to edit core/settings.py",
            "Prefer small changes to app/views.py",
            "Touch whatever you need",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(resolve_notes(&notes, &tracked), NoteRules::default());
    }

    #[test]
    fn policy_is_never_read_from_notes() {
        // the only way from VISION.md to what may change or merge is this module's
        // never-touch globs; config/ (policy.yaml and the rest) never reads VISION.md
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/config");
        let mut read = 0;
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            for word in ["crate::vision", "NoteRule", "notes_and_rules", ".notes"] {
                assert!(!text.contains(word), "{}: {word}", entry.path().display());
            }
            read += 1;
        }
        assert!(read >= 5, "read {read} files of {}", dir.display());
    }

    #[test]
    fn a_home_whose_vision_cannot_be_read_gives_no_notes() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::init(dir.path().join("home"), "UTC").unwrap();
        std::fs::write(
            home.vision(),
            "# V\n\n## Priority: HIGH\n- Add a page\n\n## Notes\n- never edit core/settings.py\n",
        )
        .unwrap();
        let (notes, rules) = notes_and_rules(&home, &dir.path().join("no-clone"));
        assert_eq!(notes, ["never edit core/settings.py"]);
        assert_eq!(rules[0].globs, ["core/settings.py"]);
        assert!(rules[0].files.is_empty(), "no clone: nothing tracked");

        // a real clone: the files come from `git ls-files`
        let clone = dir.path().join("clone");
        std::fs::create_dir_all(clone.join("core")).unwrap();
        std::fs::write(clone.join("core/settings.py"), "X = 1\n").unwrap();
        for args in [
            &["init", "-q"][..],
            &["add", "."],
            &["commit", "-q", "-m", "seed"],
        ] {
            let out = crate::process::run(
                &crate::process::Spec::new("git", args)
                    .own_tool()
                    .cwd(&clone),
            )
            .unwrap();
            assert!(out.status.is_some_and(|s| s.success()), "{}", out.stderr);
        }
        let (_, rules) = notes_and_rules(&home, &clone);
        assert_eq!(rules[0].files, ["core/settings.py"]);
        std::fs::remove_file(home.vision()).unwrap();
        assert_eq!(notes_and_rules(&home, dir.path()), (vec![], vec![]));
        std::fs::write(home.vision(), "## Priority: SOMEDAY\n- x\n").unwrap();
        assert_eq!(notes_and_rules(&home, dir.path()), (vec![], vec![]));
    }
}
