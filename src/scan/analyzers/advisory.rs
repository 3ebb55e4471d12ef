//! What the dependency auditors (osv-scanner, pip-audit, cargo-audit, npm audit) share: a
//! vulnerable package becomes a finding at the line of its lockfile that names it, with the
//! advisory as its rule, every id of the advisory and the fix in its message.

use std::path::Path;

use crate::fsx::Beneath;
use crate::scan::{Finding, Severity};

/// One known vulnerability of one package, as an auditor reports it.
#[derive(Debug, Clone)]
pub struct Vulnerable {
    pub package: String,
    /// The installed version (or npm's vulnerable range).
    pub version: String,
    /// The advisory's ids, the first the rule: `GHSA-…`, `CVE-…`, `PYSEC-…`, `RUSTSEC-…`.
    pub ids: Vec<String>,
    pub summary: String,
    /// How to fix it, the message's last words: [`fixed_in`]'s, or npm's advice.
    pub fix: String,
    pub severity: Severity,
    /// The advisory's page; osv.dev's for the first id when `None`.
    pub help_url: Option<String>,
    pub cwe: Option<u32>,
}

/// `fixed in 1.2.6, 2.0.1`, or `no fixed version yet` when `versions` is empty.
pub fn fixed_in(versions: &[String]) -> String {
    match versions {
        [] => "no fixed version yet".to_string(),
        versions => format!("fixed in {}", versions.join(", ")),
    }
}

/// `CWE-79` → 79.
pub fn cwe_number(id: &str) -> Option<u32> {
    id.trim()
        .to_ascii_uppercase()
        .strip_prefix("CWE-")?
        .parse()
        .ok()
}

/// osv.dev's page of an advisory (it knows GHSA, CVE, PYSEC, RUSTSEC … ids).
pub fn osv_url(id: &str) -> String {
    format!("https://osv.dev/vulnerability/{id}")
}

impl Vulnerable {
    /// The finding at `lockfile`'s line naming the package (`lockfile` is relative to the
    /// root, `/`-separated), as `analyzer`'s. Its message: `pkg version: summary (fixed in
    /// X)`, then the advisory's other ids.
    pub fn finding(self, analyzer: &str, lockfile: &Lockfile) -> Finding {
        let rule = self
            .ids
            .first()
            .cloned()
            .unwrap_or_else(|| "advisory".into());
        let summary = match one_line(&self.summary) {
            "" => "a known vulnerability",
            line => line,
        };
        let mut message = format!(
            "{} {}: {summary} ({})",
            self.package, self.version, self.fix
        );
        if self.ids.len() > 1 {
            message.push_str(&format!("; also {}", self.ids[1..].join(", ")));
        }
        let line = lockfile.line_of(&self.package);
        let mut finding = Finding::at(
            analyzer,
            &rule,
            self.severity,
            &lockfile.file,
            line,
            message,
        );
        finding.help_url = Some(self.help_url.unwrap_or_else(|| osv_url(&rule)));
        finding.cwe = self.cwe;
        finding
    }
}

/// The first line of `text`, trimmed (advisory summaries can be whole paragraphs).
fn one_line(text: &str) -> &str {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
}

/// The largest lockfile read to place findings on its lines.
const MAX_LOCKFILE_BYTES: u64 = 64 * 1024 * 1024;

/// A lockfile or manifest of the scanned tree, read once to place its packages' findings.
#[derive(Debug, Clone)]
pub struct Lockfile {
    /// Relative to the root, `/`-separated.
    pub file: String,
    text: String,
}

impl Lockfile {
    /// `file` (absolute, or relative to `root`) as findings name it, and its text — none
    /// when it cannot be read, is not a regular file of the tree (a tool's path outside it,
    /// a link out of it) or is over [`MAX_LOCKFILE_BYTES`] (its findings are then at line 1).
    pub fn read(root: &Path, file: &str) -> Self {
        let file = super::relative(file, root);
        let text = Beneath::new(root)
            .read_to_string(&file, MAX_LOCKFILE_BYTES)
            .unwrap_or_default();
        Self { file, text }
    }

    /// The line of [`Lockfile::find`], or 1.
    pub fn line_of(&self, package: &str) -> u32 {
        self.find(package).unwrap_or(1)
    }

    /// The first line naming `package`: npm's `"node_modules/<name>"`, else a TOML lock's
    /// `name = "<name>"`, else the name as a whole word in any case (`Flask==2.2`).
    pub fn find(&self, package: &str) -> Option<u32> {
        let npm = format!("\"node_modules/{package}\"");
        let toml = format!("name = \"{package}\"");
        let exact = [npm, toml]
            .into_iter()
            .find_map(|needle| self.line_where(|line| line.contains(&needle)));
        exact.or_else(|| self.line_where(|line| names_word(line, package)))
    }

    fn line_where(&self, found: impl Fn(&str) -> bool) -> Option<u32> {
        let index = self.text.lines().position(found)?;
        u32::try_from(index + 1).ok()
    }
}

/// Whether `line` holds `word` (case-insensitively) not as part of a longer name.
fn names_word(line: &str, word: &str) -> bool {
    if word.is_empty() {
        return false;
    }
    let line = line.to_ascii_lowercase();
    let word = word.to_ascii_lowercase();
    let in_name = |c: char| c.is_ascii_alphanumeric() || "_-.".contains(c);
    line.match_indices(&word).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        let after = line[at + word.len()..].chars().next();
        !before.is_some_and(in_name) && !after.is_some_and(in_name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lockfile(text: &str) -> Lockfile {
        Lockfile {
            file: "lock".into(),
            text: text.into(),
        }
    }

    #[test]
    fn a_package_is_placed_at_the_line_naming_it() {
        let npm = lockfile(
            "{\n  \"node_modules/a/node_modules/lodash\": {},\n  \"node_modules/lodash\": {}\n}",
        );
        assert_eq!(npm.line_of("lodash"), 3);
        let cargo =
            lockfile("[[package]]\nname = \"time-macros\"\n\n[[package]]\nname = \"time\"\n");
        assert_eq!(cargo.line_of("time"), 5);
        let requirements = lockfile("# deps\nflask-login==1\nFlask==2.2.0\n");
        assert_eq!(requirements.line_of("flask"), 3);
        assert_eq!(requirements.line_of("django"), 1);
        assert_eq!(lockfile("").line_of(""), 1);
    }

    #[test]
    fn only_a_lockfile_of_the_tree_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("home");
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("secrets.txt"), "x\nlodash\n").unwrap();
        let root = dir.path().join("tree");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(
            root.join("package-lock.json"),
            "{\n\"node_modules/lodash\": {}\n}",
        )
        .unwrap();
        std::os::unix::fs::symlink(outside.join("secrets.txt"), root.join("Cargo.lock")).unwrap();
        assert_eq!(
            Lockfile::read(&root, "package-lock.json").line_of("lodash"),
            2
        );
        let inside_by_path = root.join("package-lock.json").display().to_string();
        assert_eq!(Lockfile::read(&root, &inside_by_path).line_of("lodash"), 2);
        // a link out of the tree, or a tool's path outside it, is not read: line 1
        let elsewhere = outside.join("secrets.txt").display().to_string();
        for file in ["Cargo.lock", elsewhere.as_str(), "../home/secrets.txt"] {
            let read = Lockfile::read(&root, file);
            assert_eq!(
                (read.text.as_str(), read.line_of("lodash")),
                ("", 1),
                "{file}"
            );
        }
    }

    #[test]
    fn the_message_says_the_package_the_fix_and_every_id() {
        let vulnerable = Vulnerable {
            package: "requests".into(),
            version: "2.19.0".into(),
            ids: vec!["GHSA-x84v-xcm2-53pg".into(), "CVE-2018-18074".into()],
            summary: "Insufficiently Protected Credentials\n\nlong text".into(),
            fix: fixed_in(&["2.20.0".into()]),
            severity: Severity::High,
            help_url: None,
            cwe: Some(522),
        };
        let mut no_fix = vulnerable.clone();
        no_fix.fix = fixed_in(&[]);
        let lock = lockfile("requests==2.19.0\n");
        let finding = vulnerable.finding("pip-audit", &lock);
        assert_eq!(
            finding.message,
            "requests 2.19.0: Insufficiently Protected Credentials (fixed in 2.20.0); also CVE-2018-18074"
        );
        assert_eq!(
            (
                finding.rule.as_str(),
                finding.file.as_str(),
                finding.start_line
            ),
            ("GHSA-x84v-xcm2-53pg", "lock", 1)
        );
        assert_eq!(
            finding.help_url.as_deref(),
            Some("https://osv.dev/vulnerability/GHSA-x84v-xcm2-53pg")
        );
        assert!(
            no_fix
                .finding("pip-audit", &lock)
                .message
                .contains("(no fixed version yet)")
        );
    }
}
