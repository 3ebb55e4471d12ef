//! The researcher's eyes: web search through a configured provider ([`search`]) and
//! page fetching that treats every URL as hostile ([`fetch`]: SSRF checks, robots.txt,
//! size and time caps), with HTML turned into plain text ([`text`]).
//!
//! What comes back is data: a page saying "ignore your instructions" is only text in a
//! [`fetch::Page`]; the research job decides what a model may do with it.

mod address;
pub mod fetch;
pub mod search;
pub mod text;

pub use fetch::{FetchError, FetchOptions, FetchSession, Page, fetch_page};
pub use search::{Hit, SearchClient, SearchError};

/// The user agent of every request the researcher makes (and the one robots.txt is read for).
pub const USER_AGENT: &str = "dayshift-researcher";
