//! The researcher (`research` job): each open research question answered in a report.
//!
//! - [`answer`]: the model's answer as data, every point backed by a fetched source or a
//!   line of the target's code, checked in code;
//! - [`report`]: the report a person reads, with numbered sources.

pub mod answer;
pub mod report;
