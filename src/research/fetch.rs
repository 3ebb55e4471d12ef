//! Fetching the pages a search found, treating every URL as hostile: http(s) only; the
//! host resolved and every address checked (no loopback, private or link-local address
//! unless allowed), the connection pinned to the checked addresses; robots.txt honoured
//! for [`super::USER_AGENT`] (cached per origin in a [`FetchSession`]); redirects followed
//! by hand, at most [`MAX_REDIRECTS`], each hop checked again; a timeout; at most
//! `max_bytes` read (the rest is never downloaded); only HTML and plain text, turned into
//! capped plain text.

use std::collections::HashMap;
use std::io::Read;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

use reqwest::Url;
use reqwest::blocking::{Client, Response};
use texting_robots::Robot;

use super::address::is_internal;
use super::search::describe;
use super::text;
use crate::config::search::ResearchSettings;

/// The most redirects one fetch follows.
pub const MAX_REDIRECTS: usize = 5;

/// The most of a robots.txt read (bytes).
const ROBOTS_MAX_BYTES: u64 = 512 * 1024;

/// How a page is fetched.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchOptions {
    /// The whole fetch of one URL (each hop, body included).
    pub timeout: Duration,
    /// The most of a body read; a longer page is cut here.
    pub max_bytes: u64,
    /// Allow loopback, private and link-local addresses (tests; a self-hosted intranet).
    pub allow_private_addresses: bool,
    /// The most text kept of one page, in characters (cut at a word).
    pub max_text_chars: usize,
}

impl FetchOptions {
    /// The options of agents.yaml's `research:`.
    pub fn from_settings(settings: &ResearchSettings) -> Self {
        Self {
            timeout: Duration::from_secs_f64(settings.timeout_s),
            max_bytes: u64::from(settings.page_max_kb) * 1024,
            allow_private_addresses: settings.allow_private_addresses,
            max_text_chars: text::MAX_TEXT_CHARS,
        }
    }
}

/// A fetched page, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Where the page was found (after redirects).
    pub url: String,
    /// Its `<title>`, when it is HTML and has one.
    pub title: Option<String>,
    /// Readable text: no markup, whitespace collapsed, capped at a word.
    pub text: String,
    /// Bytes of the body read.
    pub bytes: u64,
    /// Whether the body or the text was cut at its cap.
    pub truncated: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{url} is not an http(s) URL; only web pages are fetched")]
    NotHttp { url: String },
    #[error("cannot resolve {host} ({detail})")]
    Resolve { host: String, detail: String },
    #[error(
        "{url} points at {address}, a loopback, private or link-local address; refused (set `research.allow_private_addresses: true` to fetch such pages)"
    )]
    PrivateAddress { url: String, address: IpAddr },
    #[error("robots.txt of {url} disallows `dayshift-researcher` there; the page was not fetched")]
    Disallowed { url: String },
    #[error(
        "the robots.txt of {url} could not be read ({detail}); the site's pages are not fetched"
    )]
    RobotsUnavailable { url: String, detail: String },
    #[error("cannot fetch {url} ({detail})")]
    Unreachable { url: String, detail: String },
    #[error("{url} answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url} is `{content_type}`, not HTML or plain text; only those are read")]
    NotText { url: String, content_type: String },
    #[error("{url} redirected more than {MAX_REDIRECTS} times; not followed further")]
    TooManyRedirects { url: String },
}

/// What robots.txt says about one origin.
enum Robots {
    /// None there (4xx): everything allowed.
    AllowAll,
    Rules(Box<Robot>),
    /// It could not be read (5xx, unreachable): nothing is fetched from the origin.
    Unavailable(String),
}

/// Fetches several pages, reading each origin's robots.txt once.
pub struct FetchSession {
    fetcher: Fetcher,
    robots: HashMap<String, Robots>,
}

impl FetchSession {
    pub fn new(options: FetchOptions) -> Self {
        Self {
            fetcher: Fetcher { options },
            robots: HashMap::new(),
        }
    }

    /// The page at `url`, as text; see the module doc for every check made on the way.
    pub fn fetch(&mut self, url: &str) -> Result<Page, FetchError> {
        let url = parse(url)?;
        let fetcher = &self.fetcher;
        let robots = &mut self.robots;
        let (url, response) = fetcher.follow(url, |hop| check_robots(fetcher, robots, hop))?;
        fetcher.read_page(url, response)
    }
}

/// One page, in a session of its own (robots.txt read afresh).
pub fn fetch_page(url: &str, options: &FetchOptions) -> Result<Page, FetchError> {
    FetchSession::new(options.clone()).fetch(url)
}

fn parse(url: &str) -> Result<Url, FetchError> {
    let parsed = Url::parse(url).map_err(|_| FetchError::NotHttp {
        url: url.to_string(),
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(FetchError::NotHttp {
            url: url.to_string(),
        });
    }
    Ok(parsed)
}

fn check_robots(
    fetcher: &Fetcher,
    cache: &mut HashMap<String, Robots>,
    url: &Url,
) -> Result<(), FetchError> {
    let origin = url.origin().ascii_serialization();
    if !cache.contains_key(&origin) {
        let rules = fetcher.robots(&origin);
        cache.insert(origin.clone(), rules);
    }
    match &cache[&origin] {
        Robots::AllowAll => Ok(()),
        Robots::Rules(robot) if robot.allowed(url.as_str()) => Ok(()),
        Robots::Rules(_) => Err(FetchError::Disallowed {
            url: url.to_string(),
        }),
        Robots::Unavailable(detail) => Err(FetchError::RobotsUnavailable {
            url: url.to_string(),
            detail: detail.clone(),
        }),
    }
}

struct Fetcher {
    options: FetchOptions,
}

impl Fetcher {
    /// GET `url`, following redirects by hand; each hop's addresses are checked, then
    /// `before_hop` runs, then the request is made.
    fn follow(
        &self,
        mut url: Url,
        mut before_hop: impl FnMut(&Url) -> Result<(), FetchError>,
    ) -> Result<(Url, Response), FetchError> {
        for _ in 0..=MAX_REDIRECTS {
            let addresses = self.checked_addresses(&url)?;
            before_hop(&url)?;
            let response = self.get(&url, &addresses)?;
            if !response.status().is_redirection() {
                return Ok((url, response));
            }
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .ok_or_else(|| FetchError::Status {
                    url: url.to_string(),
                    status: response.status().as_u16(),
                })?;
            let next = url.join(location).map_err(|_| FetchError::NotHttp {
                url: location.to_string(),
            })?;
            url = parse(next.as_str())?;
        }
        Err(FetchError::TooManyRedirects {
            url: url.to_string(),
        })
    }

    /// One GET, no redirect followed, connected only to `addresses` (checked).
    fn get(&self, url: &Url, addresses: &[SocketAddr]) -> Result<Response, FetchError> {
        let host = url.host_str().unwrap_or_default();
        let mut client = Client::builder()
            .timeout(self.options.timeout)
            .connect_timeout(self.options.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(super::USER_AGENT);
        if host.parse::<IpAddr>().is_err() && !host.starts_with('[') {
            client = client.resolve_to_addrs(host, addresses);
        }
        let client = client.build().map_err(|e| FetchError::Unreachable {
            url: url.to_string(),
            detail: describe(&e),
        })?;
        client
            .get(url.clone())
            .send()
            .map_err(|e| FetchError::Unreachable {
                url: url.to_string(),
                detail: describe(&e),
            })
    }

    /// Every address `url`'s host resolves to, each checked.
    fn checked_addresses(&self, url: &Url) -> Result<Vec<SocketAddr>, FetchError> {
        let host = url.host_str().unwrap_or_default();
        let port = url.port_or_known_default().unwrap_or(80);
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let addresses: Vec<SocketAddr> = (bare, port)
            .to_socket_addrs()
            .map_err(|e| FetchError::Resolve {
                host: host.to_string(),
                detail: e.to_string(),
            })?
            .collect();
        if addresses.is_empty() {
            return Err(FetchError::Resolve {
                host: host.to_string(),
                detail: "no address".into(),
            });
        }
        if !self.options.allow_private_addresses
            && let Some(internal) = addresses.iter().find(|a| is_internal(a.ip()))
        {
            return Err(FetchError::PrivateAddress {
                url: url.to_string(),
                address: internal.ip(),
            });
        }
        Ok(addresses)
    }

    /// The robots.txt of `origin` (`https://host:port`).
    fn robots(&self, origin: &str) -> Robots {
        let url = match parse(&format!("{origin}/robots.txt")) {
            Ok(url) => url,
            Err(e) => return Robots::Unavailable(e.to_string()),
        };
        let response = match self.follow(url, |_| Ok(())) {
            Ok((_, response)) => response,
            Err(e) => return Robots::Unavailable(e.to_string()),
        };
        let status = response.status();
        if status.is_client_error() {
            return Robots::AllowAll;
        }
        if !status.is_success() {
            return Robots::Unavailable(format!("HTTP {}", status.as_u16()));
        }
        let (body, _) = match read_capped(response, ROBOTS_MAX_BYTES) {
            Ok(read) => read,
            Err(detail) => return Robots::Unavailable(detail),
        };
        match Robot::new(super::USER_AGENT, &body) {
            Ok(robot) => Robots::Rules(Box::new(robot)),
            Err(_) => Robots::AllowAll,
        }
    }

    /// The page of a final (non-redirect) answer, as text.
    fn read_page(&self, url: Url, response: Response) -> Result<Page, FetchError> {
        let status = response.status();
        if !status.is_success() {
            return Err(FetchError::Status {
                url: url.to_string(),
                status: status.as_u16(),
            });
        }
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|c| c.to_str().ok())
            .unwrap_or("(none)")
            .to_ascii_lowercase();
        let essence = content_type.split(';').next().unwrap_or("").trim();
        let is_html = matches!(essence, "text/html" | "application/xhtml+xml");
        if !is_html && essence != "text/plain" {
            return Err(FetchError::NotText {
                url: url.to_string(),
                content_type,
            });
        }
        let (body, body_cut) = read_capped(response, self.options.max_bytes).map_err(|detail| {
            FetchError::Unreachable {
                url: url.to_string(),
                detail,
            }
        })?;
        let (title, full_text) = if is_html {
            (text::html_title(&body), text::html_to_text(&body))
        } else {
            (
                None,
                text::collapse_whitespace(&String::from_utf8_lossy(&body)),
            )
        };
        let (text, text_cut) = text::cap_at_word(&full_text, self.options.max_text_chars);
        Ok(Page {
            url: url.to_string(),
            title,
            text,
            bytes: body.len() as u64,
            truncated: body_cut || text_cut,
        })
    }
}

/// At most `cap` bytes of the body (one more is asked for, to know it was cut; it is
/// dropped), and whether it was cut. The rest is never read.
fn read_capped(response: Response, cap: u64) -> Result<(Vec<u8>, bool), String> {
    let mut body = Vec::new();
    response
        .take(cap + 1)
        .read_to_end(&mut body)
        .map_err(|e| e.to_string())?;
    let cut = body.len() as u64 > cap;
    body.truncate(cap as usize);
    Ok((body, cut))
}
