//! Log lines pass the process-wide redactor ([`crate::config::redact::redact_global`])
//! on their way to stderr and the log files: an error that quotes a tool's output or a
//! request never puts a key on disk.
//!
//! The `fmt` layer formats each event into one buffer and hands it over in one
//! `write_all`, which this writer consumes in a single `write`; so a whole line is redacted
//! at once and a secret cannot be split across two writes.

use std::borrow::Cow;
use std::io::{self, Write};

use tracing_subscriber::fmt::writer::MakeWriter;

use crate::config::redact::redact_global;

/// Wraps a `MakeWriter` so that every writer it makes redacts.
pub(super) struct Redacting<M>(pub M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Redacting<M> {
    type Writer = RedactingWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter(self.0.make_writer())
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> Self::Writer {
        RedactingWriter(self.0.make_writer_for(meta))
    }
}

pub(super) struct RedactingWriter<W>(W);

impl<W: Write> Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        match redact_global(&text) {
            Cow::Borrowed(_) => self.0.write_all(buf)?,
            Cow::Owned(clean) => self.0.write_all(clean.as_bytes())?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::redact::{Redactor, install};

    #[test]
    fn a_line_with_a_known_secret_is_written_redacted() {
        install(&Redactor::new([(
            "LOG_TEST_TOKEN".to_string(),
            "log-canary-31415926".to_string(),
        )]));
        let mut out = Vec::new();
        let mut writer = RedactingWriter(&mut out);
        writer
            .write_all(b"tool said: log-canary-31415926 failed\n")
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "tool said: [redacted:LOG_TEST_TOKEN] failed\n"
        );
    }
}
