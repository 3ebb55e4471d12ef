//! What the webhook channels share: a webhook URL checked and a blocking rustls client for
//! it, and transport errors in words without the URL (which holds a credential).

use std::time::Duration;

use reqwest::Url;
use reqwest::blocking::Client;

/// `url` parsed as an http(s) URL with a host, and a client whose requests time out after
/// `timeout`. The error says what is wrong without quoting the URL.
pub fn webhook_client(url: &str, timeout: Duration) -> Result<(Url, Client), String> {
    let url = Url::parse(url.trim()).map_err(|_| "it is not a URL".to_string())?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
        return Err("it is not an http(s) URL".into());
    }
    let client = Client::builder()
        .timeout(timeout)
        .user_agent(concat!("dayshift/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("no HTTP client: {}", e.without_url()))?;
    Ok((url, client))
}

/// A transport error in words, without the URL reqwest would put in it.
pub fn describe(error: reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "the request failed"
    };
    let error = error.without_url();
    let mut causes = Vec::new();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        causes.push(cause.to_string());
        source = cause.source();
    }
    match causes.last() {
        Some(root) => format!("{kind}: {root}"),
        None => kind.to_string(),
    }
}
