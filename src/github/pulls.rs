//! Pull requests: find, open (without ever opening two), update, label, comment, review,
//! merge as a compare-and-swap on the tested head, update from the base, delete the branch.

use serde_json::json;

use super::http::{self, Method, Retry, encode, rate_limit_wait};
use super::raw::{RawComment, RawPull, RawReview};
use super::{
    Api, CommentItem, GithubError, MergeMethod, MergeOutcome, NewPull, Pull, Result, ReviewItem,
    cut_body,
};

impl Api {
    /// The open pull request whose head is `branch` of this repository, if any.
    pub fn open_pull_for_head(&self, branch: &str) -> Result<Option<Pull>> {
        let head = encode(&format!("{}:{branch}", self.owner), false);
        let path = self.path(&format!("/pulls?head={head}&state=open&per_page=100"));
        let pulls: Vec<RawPull> = self.transport.get(&path)?;
        Ok(pulls
            .into_iter()
            .map(Pull::from)
            .find(|p| p.head_ref == branch))
    }

    pub fn pull(&self, number: u64) -> Result<Pull> {
        let raw: RawPull = self
            .transport
            .get(&self.path(&format!("/pulls/{number}")))?;
        Ok(raw.into())
    }

    /// Open a pull request. A create that may have happened (rate limited, 5xx, no answer)
    /// is never sent again blindly: after the wait, an open pull request with that head is
    /// looked up, and only when there is none is it created again, once. "A pull request
    /// already exists" answers with the existing one.
    pub fn create_pull(&self, new: &NewPull) -> Result<Pull> {
        let path = self.path("/pulls");
        let body = json!({
            "title": new.title,
            "head": new.head,
            "base": new.base,
            "body": cut_body(&new.body),
            "draft": new.draft,
        });
        let first = self.transport.exchange(Method::Post, &path, Some(&body));
        let wait = match &first {
            Ok(answer) => match rate_limit_wait(answer, 0, self.transport.max_wait) {
                Some(wait) => wait,
                None if answer.status >= 500 => self.transport.backoff(0),
                None => return self.created(first, &path, &new.head),
            },
            Err(_) => self.transport.backoff(0),
        };
        tracing::warn!(
            "opening a pull request for {} got no clear answer; looking it up before trying again",
            new.head
        );
        std::thread::sleep(wait);
        if let Some(pull) = self.open_pull_for_head(&new.head)? {
            return Ok(pull);
        }
        let second = self.transport.exchange(Method::Post, &path, Some(&body));
        self.created(second, &path, &new.head)
    }

    /// The pull request a create answered with.
    fn created(
        &self,
        sent: std::result::Result<http::Answer, String>,
        path: &str,
        head: &str,
    ) -> Result<Pull> {
        let answer = sent.map_err(|e| self.transport.transport_error(Method::Post, path, e))?;
        if answer.status == 422
            && answer.message().contains("already exists")
            && let Some(pull) = self.open_pull_for_head(head)?
        {
            return Ok(pull);
        }
        if rate_limit_wait(&answer, 0, self.transport.max_wait).is_some() {
            return Err(GithubError::RateLimited {
                what: http::what(Method::Post, path),
                retries: 1,
                message: self.transport.redact(&answer.message()),
            });
        }
        let answer = self.transport.success(answer, Method::Post, path)?;
        let raw: RawPull = http::parse(&answer, Method::Post, path)?;
        Ok(raw.into())
    }

    pub fn update_pull(&self, number: u64, title: &str, body: &str) -> Result<Pull> {
        let path = self.path(&format!("/pulls/{number}"));
        let patch = json!({"title": title, "body": cut_body(body)});
        let answer = self
            .transport
            .call(Retry::Idempotent, Method::Patch, &path, Some(&patch))?;
        let raw: RawPull = http::parse(&answer, Method::Patch, &path)?;
        Ok(raw.into())
    }

    /// Replace the labels of an issue or pull request.
    pub fn set_labels(&self, number: u64, labels: &[String]) -> Result<()> {
        let path = self.path(&format!("/issues/{number}/labels"));
        let body = json!({ "labels": labels });
        self.transport
            .call(Retry::Idempotent, Method::Put, &path, Some(&body))?;
        Ok(())
    }

    /// A review with event COMMENT on `commit_sha` (GitHub refuses a bot's approval of its
    /// own pull request; the gate is the required checks). Sent once.
    pub fn comment_review(&self, number: u64, commit_sha: &str, body: &str) -> Result<()> {
        let path = self.path(&format!("/pulls/{number}/reviews"));
        let review = json!({"commit_id": commit_sha, "body": cut_body(body), "event": "COMMENT"});
        self.transport
            .call(Retry::Once, Method::Post, &path, Some(&review))?;
        Ok(())
    }

    /// A conversation comment on an issue or pull request. Sent once.
    pub fn comment(&self, number: u64, body: &str) -> Result<()> {
        let path = self.path(&format!("/issues/{number}/comments"));
        let comment = json!({ "body": cut_body(body) });
        self.transport
            .call(Retry::Once, Method::Post, &path, Some(&comment))?;
        Ok(())
    }

    /// Merge only if the head is still `sha` (the one tested).
    pub fn merge(
        &self,
        number: u64,
        sha: &str,
        method: MergeMethod,
        title: &str,
    ) -> Result<MergeOutcome> {
        let path = self.path(&format!("/pulls/{number}/merge"));
        let body = json!({"sha": sha, "merge_method": method.as_str(), "commit_title": title});
        let answer =
            self.transport
                .request(Retry::AfterRateLimit, Method::Put, &path, Some(&body))?;
        match answer.status {
            405 => Ok(MergeOutcome::NotMergeable(answer.message())),
            409 => Ok(MergeOutcome::HeadMoved(answer.message())),
            _ => {
                let answer = self.transport.success(answer, Method::Put, &path)?;
                let merged: Merged = http::parse(&answer, Method::Put, &path)?;
                Ok(MergeOutcome::Merged { sha: merged.sha })
            }
        }
    }

    /// Merge the base into the pull request's head, if the head is still `expected_head`.
    pub fn update_branch(&self, number: u64, expected_head: &str) -> Result<()> {
        let path = self.path(&format!("/pulls/{number}/update-branch"));
        let body = json!({ "expected_head_sha": expected_head });
        self.transport
            .call(Retry::AfterRateLimit, Method::Put, &path, Some(&body))?;
        Ok(())
    }

    pub fn reviews(&self, number: u64) -> Result<Vec<ReviewItem>> {
        let path = self.path(&format!("/pulls/{number}/reviews?per_page=100"));
        let raw: Vec<RawReview> = self.transport.get_all(&path)?;
        Ok(raw.into_iter().map(ReviewItem::from).collect())
    }

    /// Conversation comments of an issue or pull request, oldest first.
    pub fn comments(&self, number: u64) -> Result<Vec<CommentItem>> {
        let path = self.path(&format!("/issues/{number}/comments?per_page=100"));
        let raw: Vec<RawComment> = self.transport.get_all(&path)?;
        Ok(raw.into_iter().map(CommentItem::from).collect())
    }

    /// Delete `branch` on GitHub; a branch already gone (422/404) is fine.
    pub fn delete_branch(&self, branch: &str) -> Result<()> {
        let path = self.path(&format!("/git/refs/heads/{}", encode(branch, true)));
        let answer = self
            .transport
            .request(Retry::Idempotent, Method::Delete, &path, None)?;
        if matches!(answer.status, 404 | 422) {
            return Ok(());
        }
        self.transport.success(answer, Method::Delete, &path)?;
        Ok(())
    }
}

#[derive(Debug, serde::Deserialize)]
struct Merged {
    sha: String,
}
