//! The latest version of a package, asked of its registry: PyPI's JSON API, npm's registry
//! (abbreviated metadata), crates.io's sparse index. The registries are config
//! (`config/scan.yaml`'s `registries`), never the scanned tree's; a package name that is not
//! a plain registry name is not asked about (a hostile manifest cannot steer the request).

use std::time::Duration;

use reqwest::blocking::Client;
use serde::Deserialize;

use super::manifests::Ecosystem;

/// Where each registry is.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Registries {
    /// PyPI (`<pypi>/pypi/<name>/json`).
    pub pypi: String,
    /// npm's registry (`<npm>/<name>`).
    pub npm: String,
    /// crates.io's sparse index (`<crates>/se/rd/serde`).
    pub crates: String,
}

impl Default for Registries {
    fn default() -> Self {
        Self {
            pypi: "https://pypi.org".into(),
            npm: "https://registry.npmjs.org".into(),
            crates: "https://index.crates.io".into(),
        }
    }
}

/// How long one answer may take.
const TIMEOUT: Duration = Duration::from_secs(20);

/// A client for the registries.
pub struct Asker {
    client: Client,
    registries: Registries,
}

impl Asker {
    pub fn new(registries: &Registries) -> Result<Self, String> {
        let client = Client::builder()
            .timeout(TIMEOUT)
            .user_agent(concat!("dayshift/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("no HTTP client: {}", e.without_url()))?;
        Ok(Self {
            client,
            registries: registries.clone(),
        })
    }

    /// The latest release of `name`; `Ok(None)` when the registry does not know it (a
    /// private package) or the name is not one a registry could have.
    pub fn latest(&self, ecosystem: Ecosystem, name: &str) -> Result<Option<String>, String> {
        if !plain_name(ecosystem, name) {
            return Ok(None);
        }
        let (url, accept) = match ecosystem {
            Ecosystem::PyPi => (
                format!("{}/pypi/{name}/json", base(&self.registries.pypi)),
                "application/json",
            ),
            Ecosystem::Npm => (
                format!(
                    "{}/{}",
                    base(&self.registries.npm),
                    name.replace('/', "%2F")
                ),
                "application/vnd.npm.install-v1+json",
            ),
            Ecosystem::Crates => (
                format!("{}/{}", base(&self.registries.crates), index_path(name)),
                "text/plain",
            ),
        };
        let response = self
            .client
            .get(&url)
            .header("accept", accept)
            .send()
            .map_err(|e| format!("{url}: {}", describe(e)))?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(format!("{url} answered {}", response.status()));
        }
        let body = response
            .text()
            .map_err(|e| format!("{url}: {}", describe(e)))?;
        let latest = match ecosystem {
            Ecosystem::PyPi => json_at(&body, "/info/version"),
            Ecosystem::Npm => json_at(&body, "/dist-tags/latest"),
            Ecosystem::Crates => Ok(newest_in_index(&body)),
        };
        latest.map_err(|why| format!("{url}: {why}"))
    }
}

fn base(url: &str) -> &str {
    url.trim_end_matches('/')
}

/// A name as registries write them: letters, digits, `.`, `_`, `-`; npm's `@scope/name`.
fn plain_name(ecosystem: Ecosystem, name: &str) -> bool {
    let plain = |s: &str| {
        !s.is_empty()
            && !s.starts_with('.')
            && s.len() <= 214
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    };
    match (ecosystem, name.strip_prefix('@')) {
        (Ecosystem::Npm, Some(scoped)) => scoped
            .split_once('/')
            .is_some_and(|(scope, name)| plain(scope) && plain(name)),
        _ => plain(name),
    }
}

/// crates.io's sparse index path of `name`: `1/a`, `2/ab`, `3/a/abc`, `se/rd/serde`.
fn index_path(name: &str) -> String {
    let name = name.to_ascii_lowercase();
    match name.len() {
        1 => format!("1/{name}"),
        2 => format!("2/{name}"),
        3 => format!("3/{}/{name}", &name[..1]),
        _ => format!("{}/{}/{name}", &name[..2], &name[2..4]),
    }
}

fn json_at(body: &str, pointer: &str) -> Result<Option<String>, String> {
    let json: serde_json::Value =
        serde_json::from_str(body).map_err(|e| format!("the answer is not JSON ({e})"))?;
    match json.pointer(pointer).and_then(|v| v.as_str()) {
        Some(version) => Ok(Some(version.to_string())),
        None => Err(format!("the answer has no `{pointer}`")),
    }
}

/// The highest release in a sparse index file (one JSON object per line): not yanked, not
/// a pre-release.
fn newest_in_index(body: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Entry {
        vers: String,
        #[serde(default)]
        yanked: bool,
    }
    body.lines()
        .filter_map(|line| serde_json::from_str::<Entry>(line).ok())
        .filter(|e| !e.yanked && !e.vers.contains('-'))
        .map(|e| e.vers)
        .max_by(|a, b| super::compare(a, b))
}

/// A transport error in words, without the URL (it is said once, by the caller).
fn describe(error: reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".into()
    } else if error.is_connect() {
        "could not connect".into()
    } else {
        error.without_url().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_are_not_plain_are_never_asked_about() {
        for good in [
            "requests",
            "zope.interface",
            "left-pad",
            "@scope/ui",
            "serde_json",
        ] {
            assert!(plain_name(Ecosystem::Npm, good), "{good}");
        }
        for bad in [
            "",
            "../admin",
            "a/b",
            "x?y=1",
            "@scope",
            "@/x",
            ".hidden",
            "name#frag",
            "a b",
        ] {
            assert!(!plain_name(Ecosystem::Npm, bad), "{bad}");
            assert!(!plain_name(Ecosystem::PyPi, bad), "{bad}");
        }
        assert!(!plain_name(Ecosystem::Crates, "@scope/ui"));
    }

    #[test]
    fn the_sparse_index_path_and_its_newest_release() {
        assert_eq!(index_path("a"), "1/a");
        assert_eq!(index_path("ab"), "2/ab");
        assert_eq!(index_path("Abc"), "3/a/abc");
        assert_eq!(index_path("serde"), "se/rd/serde");
        let index = [
            r#"{"name":"x","vers":"0.9.0","yanked":false}"#,
            r#"{"name":"x","vers":"1.10.0","yanked":false}"#,
            r#"{"name":"x","vers":"1.9.0","yanked":false}"#,
            r#"{"name":"x","vers":"2.0.0","yanked":true}"#,
            r#"{"name":"x","vers":"3.0.0-rc.1","yanked":false}"#,
            "not json",
        ]
        .join("\n");
        assert_eq!(newest_in_index(&index).as_deref(), Some("1.10.0"));
        assert_eq!(newest_in_index(""), None);
    }
}
