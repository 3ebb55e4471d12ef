//! Pull request tests (filled below).
