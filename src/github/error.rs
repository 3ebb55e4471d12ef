//! What can go wrong talking to GitHub, each with what to do about it. Messages never hold
//! the token: GitHub's own text is passed through [`GithubError`] only after redaction.

/// A failed GitHub request. `what` names the request (`GET /repos/acme/shop/pulls/7`).
#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    /// The client could not be set up (a bad `api_url`, no TLS roots).
    #[error("cannot set up the GitHub client: {0}; check github.api_url in config/target.yaml")]
    Setup(String),
    /// `github:` is configured but its token variable is not set.
    #[error(
        "${token_env} is not set: config/target.yaml's github: needs a token; create a \
         fine-grained token (docs/github.md lists the permissions) and put \
         {token_env}=<token> in config/.env or the environment"
    )]
    NoToken { token_env: String },
    /// 401.
    #[error(
        "the token in ${token_env} was refused: {message} ({what}); create a fine-grained token \
         (docs/github.md lists the permissions) and set ${token_env} in config/.env or the environment"
    )]
    Unauthorized {
        token_env: String,
        what: String,
        message: String,
    },
    /// 403 that is not a rate limit: the token lacks a permission.
    #[error(
        "{what} was refused (403: {message}); the token needs the {permission} permission on \
         {repository}: give it that permission (docs/github.md)"
    )]
    Forbidden {
        what: String,
        message: String,
        permission: &'static str,
        repository: String,
    },
    /// 404.
    #[error(
        "{what}: {repository} not found or the token cannot see it ({message}); check \
         github.owner and github.repo in config/target.yaml and that the token is granted that \
         repository"
    )]
    NotFound {
        what: String,
        repository: String,
        message: String,
    },
    /// Still rate limited after the allowed waits.
    #[error(
        "{what}: GitHub's rate limit still refused it after {retries} waits ({message}); \
         dayshift tries again on its next run, or lower github.pr_hourly_limit"
    )]
    RateLimited {
        what: String,
        retries: u32,
        message: String,
    },
    /// Any other refusal (422 validation, 405/409 outside merge, …).
    #[error("{what}: GitHub refused it ({status}: {message})")]
    Refused {
        what: String,
        status: u16,
        message: String,
    },
    /// 5xx after the allowed retries.
    #[error("{what}: GitHub failed ({status}: {message}); it is GitHub's side, try again later")]
    Server {
        what: String,
        status: u16,
        message: String,
    },
    /// No answer at all.
    #[error("{what}: cannot reach {api_url}: {message}; check the network and github.api_url")]
    Transport {
        what: String,
        api_url: String,
        message: String,
    },
    /// An answer dayshift cannot read.
    #[error("{what}: unexpected answer from GitHub: {message}; is github.api_url a GitHub API?")]
    Decode { what: String, message: String },
}

impl GithubError {
    /// The HTTP status GitHub answered, when it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            GithubError::Unauthorized { .. } => Some(401),
            GithubError::Forbidden { .. } => Some(403),
            GithubError::NotFound { .. } => Some(404),
            GithubError::Refused { status, .. } | GithubError::Server { status, .. } => {
                Some(*status)
            }
            _ => None,
        }
    }
}

/// The permission a fine-grained token needs for a request, by its path.
pub fn permission_for(method: &str, path: &str) -> &'static str {
    let write = method != "GET";
    let path = path.split('?').next().unwrap_or(path);
    if path == "/user" {
        "(any: the token itself is refused)"
    } else if path.contains("/protection") {
        "Administration: read"
    } else if path.contains("/check-runs") {
        "Checks: read"
    } else if path.contains("/status") {
        "Commit statuses: read"
    } else if path.contains("/git/refs")
        || path.ends_with("/merge")
        || path.ends_with("/update-branch")
    {
        "Contents: read and write"
    } else if path.contains("/pulls") {
        if write {
            "Pull requests: read and write"
        } else {
            "Pull requests: read"
        }
    } else if path.contains("/issues") {
        if write {
            "Issues: read and write"
        } else {
            "Issues: read"
        }
    } else {
        "Metadata: read"
    }
}
