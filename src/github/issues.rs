//! Issues: the ones labelled for dayshift (the morning's input), one by number, and the
//! ones dayshift keeps (the dashboard).

use serde_json::json;

use super::http::{self, Method, Retry, encode};
use super::raw::RawIssue;
use super::{Api, Issue, Result, cut_body};

impl Api {
    /// An issue, or the issue side of a pull request (`is_pull`).
    pub fn issue(&self, number: u64) -> Result<Issue> {
        let raw: RawIssue = self
            .transport
            .get(&self.path(&format!("/issues/{number}")))?;
        Ok(raw.into())
    }

    /// Every open issue with `label`, pull requests left out, all pages.
    pub fn labelled_issues(&self, label: &str) -> Result<Vec<Issue>> {
        let path = self.path(&format!(
            "/issues?labels={}&state=open&per_page=100",
            encode(label, false)
        ));
        let raw: Vec<RawIssue> = self.transport.get_all(&path)?;
        Ok(raw
            .into_iter()
            .map(Issue::from)
            .filter(|issue| !issue.is_pull)
            .collect())
    }

    /// Open an issue. Sent once.
    pub fn create_issue(&self, title: &str, body: &str, labels: &[String]) -> Result<Issue> {
        let path = self.path("/issues");
        let issue = json!({"title": title, "body": cut_body(body), "labels": labels});
        let answer = self
            .transport
            .call(Retry::Once, Method::Post, &path, Some(&issue))?;
        let raw: RawIssue = http::parse(&answer, Method::Post, &path)?;
        Ok(raw.into())
    }

    pub fn update_issue_body(&self, number: u64, body: &str) -> Result<()> {
        let path = self.path(&format!("/issues/{number}"));
        let patch = json!({ "body": cut_body(body) });
        self.transport
            .call(Retry::Idempotent, Method::Patch, &path, Some(&patch))?;
        Ok(())
    }
}
