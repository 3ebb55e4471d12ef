//! The layer's own allow-list, small and explicit because attackers read it too:
//!
//! - **values**: the documented example credentials (AWS's `AKIAIOSFODNN7EXAMPLE`…) and
//!   obvious placeholders (`xxxx`, `<your-key>`, `${VAR}`, `changeme`…). Matched on the
//!   *secret* the rule extracted, never on the rest of the line, so a comment saying
//!   "example" beside a real key changes nothing;
//! - **paths** where fakes live (test fixtures) or where random-looking text is normal
//!   (lockfiles, vendored code): there only the generic and entropy rules are dropped — a
//!   token in a known format is still reported, as a warning a person must look at.
//!
//! Gitleaks' inline `gitleaks:allow` comment is deliberately not honoured: the coder
//! writes the lines under review, so it could write that comment too. Nor are gitleaks'
//! path allow-lists: they are unanchored patterns (`vendor`, `node_modules`,
//! `…(bin|doc)$`) that `src/vendor_keys.py` or `robin.py` would match; the paths here match
//! whole components.

/// Credentials that vendors publish in their documentation, exactly.
const DOCUMENTED: &[&str] = &[
    "AKIAIOSFODNN7EXAMPLE",
    "AKIAI44QH8DHBEXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
    // the JWT of jwt.io's debugger
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
];

/// Substrings (lowercase) that mark a value as a placeholder, not a credential.
const PLACEHOLDER_WORDS: &[&str] = &[
    "xxxx",
    "****",
    "changeme",
    "change_me",
    "change-me",
    "example",
    "dummy",
    "fake",
    "placeholder",
    "your_",
    "your-",
    "yourkey",
    "redacted",
    "notasecret",
    "not-a-secret",
    "not_a_secret",
];

/// Text that means the value is read from somewhere else at run time.
const INDIRECTIONS: &[&str] = &[
    "${",
    "{{",
    "$(",
    "<%",
    "os.environ",
    "process.env",
    "getenv",
    "env(",
    "env::var",
];

/// The secret is a documented example or a placeholder (quotes around it aside: some
/// gitleaks rules' matches end with the closing quote).
pub fn placeholder(secret: &str) -> bool {
    let secret = secret
        .trim_matches(|c: char| matches!(c, '"' | '\'' | '`' | ';' | '|') || c.is_whitespace());
    if DOCUMENTED.contains(&secret) {
        return true;
    }
    let lower = secret.to_ascii_lowercase();
    if PLACEHOLDER_WORDS.iter().any(|w| lower.contains(w))
        || INDIRECTIONS.iter().any(|w| lower.contains(w))
    {
        return true;
    }
    // `<your-key>`, `[token]`: a slot to fill in
    let framed = |open: char, close: char| secret.starts_with(open) && secret.ends_with(close);
    if framed('<', '>') || framed('[', ']') || framed('%', '%') {
        return true;
    }
    // an environment variable's name (`SECRET_KEY`), not its value
    if secret.len() >= 2
        && secret
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b == b'_' || b.is_ascii_digit())
        && secret.bytes().any(|b| b == b'_')
    {
        return true;
    }
    // one character repeated (`aaaaaaaaaaaa`, `000000000000`)
    let mut bytes = secret.bytes();
    bytes
        .next()
        .is_some_and(|first| secret.len() >= 6 && bytes.all(|b| b == first))
}

/// Why the generic and entropy rules do not run on `path`, if they do not.
pub fn relaxed_path(path: &str) -> Option<&'static str> {
    let lower = path.to_ascii_lowercase();
    let name = lower.rsplit('/').next().unwrap_or(&lower);
    const LOCKFILES: &[&str] = &[
        "package-lock.json",
        "npm-shrinkwrap.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "bun.lock",
        "cargo.lock",
        "go.sum",
        "poetry.lock",
        "pipfile.lock",
        "uv.lock",
        "composer.lock",
        "gemfile.lock",
    ];
    if LOCKFILES.contains(&name) {
        return Some("a lockfile");
    }
    const FIXTURE_DIRS: &[&str] = &[
        "test",
        "tests",
        "testdata",
        "testing",
        "fixtures",
        "__fixtures__",
        "__tests__",
        "__mocks__",
        "spec",
        "specs",
    ];
    let mut dirs = lower.split('/').rev().skip(1);
    if dirs.any(|d| FIXTURE_DIRS.contains(&d)) {
        return Some("a test path");
    }
    let stem = name.split('.').next().unwrap_or(name);
    if stem.starts_with("test_")
        || stem.ends_with("_test")
        || stem == "conftest"
        || name.contains(".test.")
        || name.contains(".spec.")
    {
        return Some("a test file");
    }
    let mut dirs = lower.split('/').rev().skip(1);
    if dirs.any(|d| d == "vendor" || d == "node_modules" || d == "third_party") {
        return Some("vendored code");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_and_documented_values_only() {
        for value in [
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "xxxxxxxxxxxxxxxx",
            "<your-api-key>",
            "${API_TOKEN}",
            "{{ secrets.token }}",
            "os.environ['TOKEN']",
            "changeme123",
            "my-dummy-token-1",
            "FakeSecret99",
            "SECRET_KEY_BASE",
            "000000000000",
        ] {
            assert!(placeholder(value), "{value} is a placeholder");
        }
        // built at run time: this file holds no credential-shaped literal
        for value in [
            ["AKIA", "Z7Q2M4LKW9XHT3RB"].concat(),
            "hunter2hunter2".to_string(),
            "Zx9!pQ#2vL0m".to_string(),
            ["AKIA", "IOSFODNN7EXAMPLF"].concat(),
        ] {
            assert!(!placeholder(&value), "{value} is not a placeholder");
        }
    }

    #[test]
    fn test_paths_lockfiles_and_vendored_code_are_relaxed() {
        for path in [
            "tests/fixtures/creds.py",
            "pkg/testdata/x.json",
            "src/__tests__/a.js",
            "app/test_settings.py",
            "client_test.go",
            "web/Button.spec.tsx",
            "web/package-lock.json",
            "Cargo.lock",
            "vendor/github.com/x/y.go",
        ] {
            assert!(relaxed_path(path).is_some(), "{path}");
        }
        for path in [
            "src/settings.py",
            "tests.py",
            "latest/config.js",
            "contest/main.go",
            "attestation.rs",
        ] {
            assert_eq!(relaxed_path(path), None, "{path}");
        }
    }
}
