//! The one way out of a confined coding tool's network namespace: to its model.
//!
//! A confined tool gets no network of its own (`--unshare-net`), yet it must reach its
//! model. So dayshift runs a small HTTP proxy *outside* the sandbox, on a Unix socket that
//! is bound into it, which lets through exactly the configured endpoints (`host:port`) and
//! nothing else: `CONNECT host:port` for HTTPS (TLS stays end to end) and absolute-form plain
//! HTTP requests (a local model server). Inside, [`super::relay`] (`dayshift sandbox-relay`)
//! listens on 127.0.0.1, points the tool's `HTTP(S)_PROXY` at itself and carries each
//! connection to the socket. A request anywhere else gets `403` and a line saying why; a
//! tool that ignores the proxy variables has no route at all.
//!
//! ```text
//! [ sandbox: tool ──HTTP(S)_PROXY──▶ relay 127.0.0.1:P ]──unix socket──▶ Egress ──▶ model
//! ```

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use super::Scratch;
use crate::config::Endpoint;

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// The proxy for one run; it stops (and its socket goes) when dropped.
pub struct Egress {
    dir: Scratch,
    socket: PathBuf,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl Egress {
    /// Start a proxy that lets through `allow` only.
    pub fn start(allow: Vec<Endpoint>) -> std::io::Result<Self> {
        let dir = Scratch::create("egress")?;
        let socket = dir.path().join("proxy.sock");
        let listener = UnixListener::bind(&socket)?;
        let stop = Arc::new(AtomicBool::new(false));
        let allow = Arc::new(allow);
        let stopping = Arc::clone(&stop);
        let accept = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let allow = Arc::clone(&allow);
                std::thread::spawn(move || {
                    if let Err(e) = handle(conn, &allow) {
                        tracing::debug!("sandbox egress: {e}");
                    }
                });
            }
        });
        Ok(Self {
            dir,
            socket,
            stop,
            accept: Some(accept),
        })
    }

    /// The folder holding the socket (bound into the sandbox).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The socket the relay connects to.
    pub fn socket(&self) -> &Path {
        &self.socket
    }
}

impl Drop for Egress {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // wake the accept loop so it sees the flag
        let _ = UnixStream::connect(&self.socket);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

/// The longest request head read before giving up on a client.
const MAX_HEAD: usize = 64 * 1024;

/// One client connection: read its request head, then connect it through or refuse it.
fn handle(conn: UnixStream, allow: &[Endpoint]) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut head = Vec::new();
    loop {
        let before = head.len();
        reader.read_until(b'\n', &mut head)?;
        if head.len() == before || head.ends_with(b"\r\n\r\n") || head.ends_with(b"\n\n") {
            break;
        }
        if head.len() > MAX_HEAD {
            return refuse(&conn, 431, "the request head is too large");
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.lines();
    let request = lines.next().unwrap_or("");
    let mut parts = request.split_whitespace();
    let (method, target, version) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or("HTTP/1.1"),
    );
    let (endpoint, forward) = if method.eq_ignore_ascii_case("CONNECT") {
        (Endpoint::parse(target, 443), None)
    } else {
        let origin = target.strip_prefix("http://").map(|rest| {
            let path_at = rest.find('/').unwrap_or(rest.len());
            (
                Endpoint::parse(&rest[..path_at], 80),
                if path_at < rest.len() {
                    rest[path_at..].to_string()
                } else {
                    "/".to_string()
                },
            )
        });
        match origin {
            Some((endpoint, path)) => (endpoint, Some(path)),
            None => {
                return refuse(
                    &conn,
                    400,
                    "only CONNECT and absolute http:// requests go through the sandbox's proxy",
                );
            }
        }
    };
    let Some(endpoint) = endpoint.filter(|e| allow.contains(e)) else {
        let allowed: Vec<String> = allow.iter().map(Endpoint::to_string).collect();
        return refuse(
            &conn,
            403,
            &format!(
                "the coding tool may reach only its model endpoint ({}); `{target}` is not one",
                allowed.join(", ")
            ),
        );
    };
    let addr = (endpoint.host.as_str(), endpoint.port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::other(format!("{endpoint} does not resolve")))?;
    let mut upstream = match TcpStream::connect_timeout(&addr, Duration::from_secs(15)) {
        Ok(s) => s,
        Err(e) => return refuse(&conn, 502, &format!("cannot reach {endpoint}: {e}")),
    };
    let mut client = conn;
    match forward {
        None => client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?,
        Some(path) => {
            // origin-form for the server; one request per connection keeps the framing ours
            let mut out = format!("{method} {path} {version}\r\n");
            for line in lines.filter(|l| !l.is_empty()) {
                let name = line.split(':').next().unwrap_or("").trim();
                if name.eq_ignore_ascii_case("connection")
                    || name.to_ascii_lowercase().starts_with("proxy-")
                {
                    continue;
                }
                out.push_str(line);
                out.push_str("\r\n");
            }
            out.push_str("Connection: close\r\n\r\n");
            upstream.write_all(out.as_bytes())?;
        }
    }
    // what the reader already buffered past the head (a request body) goes first
    let buffered = reader.buffer().to_vec();
    upstream.write_all(&buffered)?;
    client.set_read_timeout(None)?;
    pipe(reader.into_inner(), upstream, client)
}

/// Copy both ways until each side is done.
fn pipe(
    mut from_client: UnixStream,
    upstream: TcpStream,
    mut to_client: UnixStream,
) -> std::io::Result<()> {
    let mut to_upstream = upstream.try_clone()?;
    let up = std::thread::spawn(move || {
        let _ = std::io::copy(&mut from_client, &mut to_upstream);
        let _ = to_upstream.shutdown(Shutdown::Write);
    });
    let mut from_upstream = upstream;
    let _ = std::io::copy(&mut from_upstream, &mut to_client);
    let _ = to_client.shutdown(Shutdown::Write);
    let _ = up.join();
    Ok(())
}

fn refuse(mut conn: &UnixStream, status: u16, why: &str) -> std::io::Result<()> {
    let reason = match status {
        400 => "Bad Request",
        403 => "Forbidden",
        431 => "Request Header Fields Too Large",
        _ => "Bad Gateway",
    };
    let body = format!("dayshift sandbox: {why}\n");
    write!(
        conn,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let _ = conn.read(&mut [0u8; 1]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn endpoints_come_from_base_urls() {
        let e = |h: &str, p| {
            Some(Endpoint {
                host: h.into(),
                port: p,
            })
        };
        assert_eq!(
            Endpoint::of_url("https://api.anthropic.com"),
            e("api.anthropic.com", 443)
        );
        assert_eq!(
            Endpoint::of_url("http://127.0.0.1:11434/v1"),
            e("127.0.0.1", 11434)
        );
        assert_eq!(
            Endpoint::of_url("http://user:pw@Host:8080/x?y"),
            e("host", 8080)
        );
        assert_eq!(Endpoint::of_url("http://[::1]:9/v1"), e("::1", 9));
        assert_eq!(Endpoint::of_url("ftp://x"), None);
        assert_eq!(Endpoint::of_url("not a url"), None);
    }

    /// An HTTP server on 127.0.0.1 that answers every request with its own request line.
    fn echo_server() -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let body = line.trim().to_string();
                let mut conn = conn;
                let _ = write!(
                    conn,
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        port
    }

    fn ask(egress: &Egress, request: &str) -> String {
        let mut conn = UnixStream::connect(egress.socket()).unwrap();
        conn.write_all(request.as_bytes()).unwrap();
        conn.shutdown(Shutdown::Write).unwrap();
        let mut answer = String::new();
        conn.read_to_string(&mut answer).unwrap();
        answer
    }

    #[test]
    fn only_the_allowed_endpoint_is_reached() {
        let allowed = echo_server();
        let other = echo_server();
        let egress = Egress::start(vec![
            Endpoint::parse(&format!("127.0.0.1:{allowed}"), 80).unwrap(),
        ])
        .unwrap();

        let answer = ask(
            &egress,
            &format!(
                "POST http://127.0.0.1:{allowed}/v1/chat HTTP/1.1\r\nHost: x\r\nProxy-Authorization: y\r\n\r\n"
            ),
        );
        assert!(answer.ends_with("POST /v1/chat HTTP/1.1"), "{answer}");

        let answer = ask(
            &egress,
            &format!("CONNECT 127.0.0.1:{allowed} HTTP/1.1\r\n\r\nGET /tunnelled HTTP/1.1\r\n\r\n"),
        );
        assert!(
            answer.starts_with("HTTP/1.1 200 Connection established"),
            "{answer}"
        );
        assert!(answer.ends_with("GET /tunnelled HTTP/1.1"), "{answer}");

        for request in [
            format!("GET http://127.0.0.1:{other}/ HTTP/1.1\r\n\r\n"),
            format!("CONNECT 127.0.0.1:{other} HTTP/1.1\r\n\r\n"),
            "CONNECT evil.example:443 HTTP/1.1\r\n\r\n".to_string(),
        ] {
            let answer = ask(&egress, &request);
            assert!(answer.starts_with("HTTP/1.1 403"), "{request}: {answer}");
            assert!(
                answer.contains("may reach only its model endpoint"),
                "{answer}"
            );
        }
        let answer = ask(&egress, "GET /relative HTTP/1.1\r\n\r\n");
        assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");

        let socket = egress.socket().to_path_buf();
        drop(egress);
        assert!(!socket.exists(), "the socket goes with the proxy");
    }
}
