//! A tiny HTTP server on 127.0.0.1 for health checks: it answers each request with the
//! next scripted (status, body), the last one again once the script runs out, and counts
//! the requests.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

pub struct HealthServer {
    pub url: String,
    hits: Arc<AtomicU32>,
}

impl HealthServer {
    /// Serve `script` at `http://127.0.0.1:PORT/health`.
    pub fn start(script: &[(u16, &str)]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/health", listener.local_addr().unwrap());
        let answers: VecDeque<(u16, String)> =
            script.iter().map(|(s, b)| (*s, b.to_string())).collect();
        let answers = Arc::new(Mutex::new(answers));
        let hits = Arc::new(AtomicU32::new(0));
        let counted = Arc::clone(&hits);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                // the request line and headers, up to the empty line
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                    if line == "\r\n" {
                        break;
                    }
                    line.clear();
                }
                counted.fetch_add(1, Ordering::SeqCst);
                let (status, body) = {
                    let mut answers = answers.lock().unwrap();
                    if answers.len() > 1 {
                        answers.pop_front().unwrap()
                    } else {
                        answers.front().cloned().unwrap()
                    }
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Self { url, hits }
    }

    pub fn hits(&self) -> u32 {
        self.hits.load(Ordering::SeqCst)
    }
}
