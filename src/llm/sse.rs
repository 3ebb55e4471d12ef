//! A small, blocking reader of server-sent events (the streaming format of both model APIs).
//!
//! It reads lines, folds `event:` and `data:` fields into one [`SseEvent`] per blank line and
//! ignores comments, `id:` and `retry:`. Two guards wrap every read: the overall deadline of
//! the call (checked before each line here, and inside every read by the HTTP body,
//! [`super::http::Body`], so a stream that trickles bytes without a newline still ends) and
//! a cap on the bytes of one stream (a runaway server cannot exhaust memory; the cut looks
//! like an early end, which the providers report as truncated). The idle timeout is the
//! per-read timeout of the HTTP response itself; this reader only names the phase when a read
//! times out, from the elapsed time.

use std::io::{BufRead, BufReader, Read};
use std::time::{Duration, Instant};

use super::{LlmError, TimeoutPhase};

/// The most bytes one streamed answer may take.
pub const STREAM_CAP: u64 = 32 << 20;

/// One event: its `event:` name, if any, and its `data:` lines joined by `\n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    pub event: Option<String>,
    pub data: String,
}

/// Reads events from a stream until its end, a timeout or a broken connection.
pub struct SseStream<R: Read> {
    reader: BufReader<std::io::Take<R>>,
    provider: String,
    started: Instant,
    idle: Duration,
    overall: Duration,
    line: Vec<u8>,
}

impl<R: Read> SseStream<R> {
    /// `started` is when the call began (the overall deadline counts from there); `idle` is
    /// the per-read timeout the source enforces, used only to name a timeout.
    pub fn new(
        source: R,
        provider: &str,
        started: Instant,
        idle: Duration,
        overall: Duration,
    ) -> Self {
        Self {
            reader: BufReader::new(source.take(STREAM_CAP)),
            provider: provider.to_string(),
            started,
            idle,
            overall,
            line: Vec::new(),
        }
    }

    /// The next event, or `None` at the end of the stream.
    pub fn next_event(&mut self) -> Result<Option<SseEvent>, LlmError> {
        let mut event = None;
        let mut data: Option<String> = None;
        loop {
            let Some(line) = self.next_line()? else {
                // A last event without its blank line still counts.
                return Ok(data.map(|data| SseEvent { event, data }));
            };
            if line.is_empty() {
                if let Some(data) = data.take() {
                    return Ok(Some(SseEvent { event, data }));
                }
                event = None;
                continue;
            }
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = match line.split_once(':') {
                Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
                None => (line.as_str(), ""),
            };
            match field {
                "event" => event = Some(value.to_string()),
                "data" => match &mut data {
                    Some(d) => {
                        d.push('\n');
                        d.push_str(value);
                    }
                    None => data = Some(value.to_string()),
                },
                _ => {}
            }
        }
    }

    fn next_line(&mut self) -> Result<Option<String>, LlmError> {
        if self.started.elapsed() >= self.overall {
            return Err(self.timeout(TimeoutPhase::Overall));
        }
        self.line.clear();
        match self.reader.read_until(b'\n', &mut self.line) {
            Ok(0) => Ok(None),
            Ok(_) => {
                while matches!(self.line.last(), Some(b'\n' | b'\r')) {
                    self.line.pop();
                }
                String::from_utf8(std::mem::take(&mut self.line))
                    .map(Some)
                    .map_err(|_| LlmError::Malformed {
                        provider: self.provider.clone(),
                        detail: "the stream is not UTF-8".into(),
                    })
            }
            Err(e)
                if e.get_ref()
                    .and_then(|inner| inner.downcast_ref::<super::http::Abandoned>())
                    == Some(&super::http::Abandoned::Cancelled) =>
            {
                Err(LlmError::Cancelled {
                    provider: self.provider.clone(),
                })
            }
            Err(e) if super::http::io_is_timeout(&e) => {
                let phase = if self.started.elapsed() >= self.overall {
                    TimeoutPhase::Overall
                } else {
                    TimeoutPhase::Idle
                };
                Err(self.timeout(phase))
            }
            Err(e) => Err(LlmError::Connection {
                provider: self.provider.clone(),
                detail: format!("the stream broke: {}", super::http::error_chain(&e)),
            }),
        }
    }

    fn timeout(&self, phase: TimeoutPhase) -> LlmError {
        LlmError::Timeout {
            provider: self.provider.clone(),
            phase,
            after: match phase {
                TimeoutPhase::Overall => self.overall,
                _ => self.idle,
            },
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn stream(text: &str) -> SseStream<std::io::Cursor<Vec<u8>>> {
        let secs = Duration::from_secs;
        SseStream::new(
            std::io::Cursor::new(text.as_bytes().to_vec()),
            "p",
            Instant::now(),
            secs(5),
            secs(5),
        )
    }

    #[test]
    fn events_are_split_on_blank_lines_and_comments_are_skipped() {
        let mut s = stream(
            ": ping\r\nevent: a\r\ndata: {\"x\":1}\r\n\r\ndata: one\ndata:two\n\ndata: [DONE]",
        );
        let a = s.next_event().unwrap().unwrap();
        assert_eq!(
            (a.event.as_deref(), a.data.as_str()),
            (Some("a"), "{\"x\":1}")
        );
        let b = s.next_event().unwrap().unwrap();
        assert_eq!((b.event, b.data.as_str()), (None, "one\ntwo"));
        assert_eq!(s.next_event().unwrap().unwrap().data, "[DONE]");
        assert_eq!(s.next_event().unwrap(), None);
    }

    #[test]
    fn overall_deadline_ends_the_stream() {
        let mut s = SseStream::new(
            std::io::Cursor::new(b"data: x\n\n".to_vec()),
            "p",
            Instant::now(),
            Duration::from_secs(1),
            Duration::ZERO,
        );
        let err = s.next_event().unwrap_err();
        assert!(
            matches!(
                err,
                LlmError::Timeout {
                    phase: TimeoutPhase::Overall,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn invalid_utf8_is_malformed() {
        let mut s = SseStream::new(
            std::io::Cursor::new(b"data: \xff\n\n".to_vec()),
            "p",
            Instant::now(),
            Duration::from_secs(1),
            Duration::from_secs(1),
        );
        assert!(matches!(s.next_event(), Err(LlmError::Malformed { .. })));
    }
}
