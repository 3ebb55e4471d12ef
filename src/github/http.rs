//! One HTTP exchange with GitHub through octocrab, and the policy for what is retried.
//!
//! octocrab is async; dayshift's callers are sync (the work loop, sometimes on a daemon's
//! `spawn_blocking` thread). [`Transport`] owns a small runtime and drives each request on
//! it — from a scoped thread when the caller is already inside a tokio runtime, where
//! `block_on` would panic.
//!
//! Policy (see [`Retry`]): reads are retried on rate limits, 5xx and transport errors, at
//! most [`MAX_RETRIES`] times; writes never blindly. A rate-limit answer (429, or 403 with
//! `x-ratelimit-remaining: 0` or a "rate limit" message) waits `retry-after`, else until
//! `x-ratelimit-reset`, else 60 s doubling; every wait is capped at `max_wait`. After any
//! answer with no requests left, the next request waits for the reset (capped).

use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;

use super::error::{GithubError, permission_for};
use super::settings::GithubSettings;
pub(crate) use super::wire::{
    Answer, Headers, Method, Retry, encode, next_link, parse, rate_limit_wait, until_epoch, what,
};

/// Retries after the first attempt, for any request that is retried at all.
pub(crate) const MAX_RETRIES: u32 = 3;
/// Pages followed at most by [`Transport::get_all`] (100 items each).
const MAX_PAGES: usize = 50;

/// The octocrab client, its runtime, the call counter and the rate-limit pause.
pub(crate) struct Transport {
    octocrab: octocrab::Octocrab,
    runtime: Option<tokio::runtime::Runtime>,
    calls: AtomicU32,
    paused_until: Mutex<Option<Instant>>,
    pub max_wait: Duration,
    token: String,
    token_env: String,
    pub api_url: String,
    repository: String,
}

impl Transport {
    pub fn new(settings: &GithubSettings) -> Result<Self, GithubError> {
        let setup = |e: &dyn std::fmt::Display| GithubError::Setup(e.to_string());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("dayshift-github")
            .enable_all()
            .build()
            .map_err(|e| setup(&e))?;
        let api_url = settings.api_url.trim_end_matches('/').to_string();
        let octocrab = {
            let _context = runtime.enter();
            octocrab::Octocrab::builder()
                .base_uri(api_url.as_str())
                .map_err(|e| setup(&e))?
                .personal_token(settings.token.clone())
                .add_header(http::header::USER_AGENT, settings.user_agent.clone())
                .set_connect_timeout(Some(Duration::from_secs(15)))
                .set_read_timeout(Some(Duration::from_secs(60)))
                .build()
                .map_err(|e| setup(&e))?
        };
        Ok(Self {
            octocrab,
            runtime: Some(runtime),
            calls: AtomicU32::new(0),
            paused_until: Mutex::new(None),
            max_wait: settings.max_wait,
            token: settings.token.clone(),
            token_env: settings.token_env.clone(),
            api_url,
            repository: format!("{}/{}", settings.owner, settings.repo),
        })
    }

    pub fn calls(&self) -> u32 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Send one request (after any pending rate-limit pause) and read the whole answer.
    /// `Err` is a transport failure, already redacted.
    pub fn exchange(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Answer, String> {
        self.wait_for_pause();
        self.calls.fetch_add(1, Ordering::Relaxed);
        let octocrab = &self.octocrab;
        let sent = self.block_on(async move {
            let response = match method {
                Method::Get => octocrab._get(path).await,
                Method::Post => octocrab._post(path, body).await,
                Method::Put => octocrab._put(path, body).await,
                Method::Patch => octocrab._patch(path, body).await,
                Method::Delete => octocrab._delete(path, body).await,
            }?;
            let header = |name: &str| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            let number = |name: &str| header(name).and_then(|v| v.trim().parse::<u64>().ok());
            let status = response.status().as_u16();
            let headers = Headers {
                retry_after: number("retry-after"),
                remaining: number("x-ratelimit-remaining"),
                reset: number("x-ratelimit-reset"),
                scopes: header("x-oauth-scopes"),
                link: header("link"),
            };
            let body = octocrab.body_to_string(response).await?;
            Ok::<_, octocrab::Error>(Answer {
                status,
                headers,
                body,
            })
        });
        let answer = sent.map_err(|e| self.redact(&e.to_string()))?;
        if answer.headers.remaining == Some(0)
            && let Some(reset) = answer.headers.reset
        {
            let wait = until_epoch(reset).min(self.max_wait);
            *self.paused_until.lock().unwrap_or_else(|p| p.into_inner()) =
                Some(Instant::now() + wait);
        }
        Ok(answer)
    }

    /// [`Transport::exchange`] under the retry policy of `retry`. Every answer GitHub
    /// gave in the end is `Ok`, whatever its status (see [`Transport::call`]).
    pub fn request(
        &self,
        retry: Retry,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Answer, GithubError> {
        let mut attempt = 0;
        loop {
            let may_retry = attempt < MAX_RETRIES;
            match self.exchange(method, path, body) {
                Ok(answer) => {
                    if let Some(wait) = rate_limit_wait(&answer, attempt, self.max_wait) {
                        if retry == Retry::Once || !may_retry {
                            return Err(GithubError::RateLimited {
                                what: what(method, path),
                                retries: attempt,
                                message: self.redact(&answer.message()),
                            });
                        }
                        std::thread::sleep(wait);
                    } else if answer.status >= 500
                        && matches!(retry, Retry::Read | Retry::Idempotent)
                        && may_retry
                    {
                        std::thread::sleep(self.backoff(attempt));
                    } else {
                        return Ok(answer);
                    }
                }
                Err(message) => {
                    if !(matches!(retry, Retry::Read | Retry::Idempotent) && may_retry) {
                        return Err(self.transport_error(method, path, message));
                    }
                    std::thread::sleep(self.backoff(attempt));
                }
            }
            attempt += 1;
        }
    }

    /// [`Transport::request`], with every status but 2xx turned into its error.
    pub fn call(
        &self,
        retry: Retry,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Answer, GithubError> {
        let answer = self.request(retry, method, path, body)?;
        self.success(answer, method, path)
    }

    /// The answer if it is a success, else the error its status means.
    pub fn success(
        &self,
        answer: Answer,
        method: Method,
        path: &str,
    ) -> Result<Answer, GithubError> {
        if answer.ok() {
            return Ok(answer);
        }
        let what = what(method, path);
        let message = self.redact(&answer.message());
        let repository = self.repository.clone();
        Err(match answer.status {
            401 => GithubError::Unauthorized {
                token_env: self.token_env.clone(),
                what,
                message,
            },
            403 => GithubError::Forbidden {
                permission: permission_for(method.as_str(), path),
                what,
                message,
                repository,
            },
            404 => GithubError::NotFound {
                what,
                repository,
                message,
            },
            status if status >= 500 => GithubError::Server {
                what,
                status,
                message,
            },
            status => GithubError::Refused {
                what,
                status,
                message,
            },
        })
    }

    /// GET a JSON value.
    pub fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, GithubError> {
        let answer = self.call(Retry::Read, Method::Get, path, None)?;
        parse(&answer, Method::Get, path)
    }

    /// GET every page of a JSON array, following the `Link: <…>; rel="next"` header.
    pub fn get_all<T: DeserializeOwned>(&self, path: &str) -> Result<Vec<T>, GithubError> {
        let mut items = Vec::new();
        let mut next = Some(path.to_string());
        let mut pages = 0;
        while let Some(page) = next.take() {
            let answer = self.call(Retry::Read, Method::Get, &page, None)?;
            items.extend(parse::<Vec<T>>(&answer, Method::Get, &page)?);
            pages += 1;
            if pages >= MAX_PAGES {
                tracing::warn!(
                    "{}: stopped after {MAX_PAGES} pages",
                    what(Method::Get, path)
                );
                break;
            }
            next = answer
                .headers
                .link
                .as_deref()
                .and_then(next_link)
                .and_then(|url| self.relative(url));
        }
        Ok(items)
    }

    pub fn transport_error(&self, method: Method, path: &str, message: String) -> GithubError {
        GithubError::Transport {
            what: what(method, path),
            api_url: self.api_url.clone(),
            message,
        }
    }

    pub fn backoff(&self, attempt: u32) -> Duration {
        Duration::from_secs(1u64 << attempt.min(6)).min(self.max_wait)
    }

    pub fn redact(&self, text: &str) -> String {
        if self.token.is_empty() {
            text.to_string()
        } else {
            text.replace(&self.token, &format!("[redacted:{}]", self.token_env))
        }
    }

    /// A link GitHub gave, as a path relative to `api_url` (octocrab adds the base and the
    /// token only to relative paths); `None` for a link elsewhere.
    fn relative(&self, url: &str) -> Option<String> {
        let rest = url.strip_prefix(&self.api_url)?;
        rest.starts_with('/').then(|| rest.to_string())
    }

    fn wait_for_pause(&self) {
        let until = self
            .paused_until
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(until) = until {
            let now = Instant::now();
            if until > now {
                std::thread::sleep(until - now);
            }
        }
    }

    fn block_on<F>(&self, future: F) -> F::Output
    where
        F: Future + Send,
        F::Output: Send,
    {
        let runtime = self.runtime.as_ref().expect("the runtime lives until drop");
        if tokio::runtime::Handle::try_current().is_err() {
            return runtime.block_on(future);
        }
        // Inside a runtime (a spawn_blocking thread, a test's #[tokio::test]): block_on
        // there panics, so the request is driven from a thread of its own.
        std::thread::scope(|scope| {
            scope
                .spawn(|| runtime.block_on(future))
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }
}

impl Drop for Transport {
    fn drop(&mut self) {
        // Dropping a runtime inside another one panics; this never does.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("api_url", &self.api_url)
            .field("repository", &self.repository)
            .field("token_env", &self.token_env)
            .field("calls", &self.calls())
            .finish_non_exhaustive()
    }
}
