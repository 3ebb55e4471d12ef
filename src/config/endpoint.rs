//! Where a confined coding tool may connect: an `egress` entry of agents.yaml or a
//! provider's base URL, as `host:port`. [`crate::sandbox`] re-exports it; its egress proxy
//! lets exactly these through.

/// Where a tool may connect: a host name or address and a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
}

impl Endpoint {
    /// The endpoint of a base URL: `https://api.anthropic.com` → `api.anthropic.com:443`,
    /// `http://127.0.0.1:11434/v1` → `127.0.0.1:11434`. `None` for anything else.
    pub fn of_url(url: &str) -> Option<Self> {
        let (scheme, rest) = url.split_once("://")?;
        let default = match scheme.to_ascii_lowercase().as_str() {
            "https" => 443,
            "http" => 80,
            _ => return None,
        };
        let authority = rest.split(['/', '?', '#']).next()?;
        let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
        Self::parse(authority, default)
    }

    /// An `egress` entry of agents.yaml: a URL, or `host:port`.
    pub fn of_config(text: &str) -> Option<Self> {
        let text = text.trim();
        if text.contains("://") {
            Self::of_url(text)
        } else {
            Self::parse(text, 0).filter(|e| e.port != 0)
        }
    }

    /// `host:port`, `[v6]:port`, or a bare host with `default` as its port.
    pub fn parse(text: &str, default: u16) -> Option<Self> {
        let (host, port) = if let Some(v6) = text.strip_prefix('[') {
            let (host, rest) = v6.split_once(']')?;
            let port = match rest.strip_prefix(':') {
                Some(p) => p.parse().ok()?,
                None => default,
            };
            (host, port)
        } else {
            match text.rsplit_once(':') {
                Some((host, port)) => (host, port.parse().ok()?),
                None => (text, default),
            }
        };
        (!host.is_empty()).then(|| Self {
            host: host.to_ascii_lowercase(),
            port,
        })
    }
}
