//! The channel-neutral notice: what a job wants the people to know, before any channel
//! shapes it. Text in a notice may come from models, issues or the repository; channels
//! escape it (the summary's own markdown is dayshift's, so callers escape what they insert
//! into it with [`crate::notify::discord::escape::markdown`] or their channel's equivalent).

use chrono::{DateTime, FixedOffset};

pub use crate::config::notify::NoticeKind;

/// How a kind looks in a channel.
impl NoticeKind {
    /// Its colour as 0xRRGGBB: calm for summaries, red for what needs a person or stopped
    /// the work, amber for money, grey for the daemon and tests.
    pub fn colour(self) -> u32 {
        match self {
            NoticeKind::Morning => 0xF5_A6_23,
            NoticeKind::Nightly => 0x3B_5B_DB,
            NoticeKind::NeedsPerson => 0xE0_31_31,
            NoticeKind::Budget => 0xF0_8C_00,
            NoticeKind::Stopped => 0xA6_1E_4D,
            NoticeKind::Daemon => 0x86_8E_96,
            NoticeKind::Test => 0x2F_9E_44,
        }
    }
}

/// One notification, as a job describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    /// What it is about (colour, footer, which channels get it).
    pub kind: NoticeKind,
    /// One line, e.g. "T-0007 waits for your approval".
    pub title: String,
    /// The body, markdown; may be long (channels split or cut it, linking to `link`).
    pub summary: String,
    /// Short name/value pairs (merged: 4, spend: $1.20 of $5.00).
    pub fields: Vec<(String, String)>,
    /// Where to read the whole of it: a path in the home or a URL.
    pub link: Option<String>,
    /// The task it belongs to, e.g. `T-0007`.
    pub task: Option<String>,
    /// Urgent notices go out in quiet hours and carry the configured mention.
    pub urgent: bool,
    /// When it happened, in the schedule's time zone.
    pub at: DateTime<FixedOffset>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_stable_names() {
        for kind in NoticeKind::ALL {
            assert_eq!(NoticeKind::from_kind(kind.kind()), Some(kind));
        }
        assert_eq!(NoticeKind::NeedsPerson.to_string(), "needs_person");
        assert_eq!(NoticeKind::from_kind("nope"), None);
    }

    #[test]
    fn kinds_have_distinct_colours() {
        let mut colours: Vec<u32> = NoticeKind::ALL.iter().map(|k| k.colour()).collect();
        colours.sort();
        colours.dedup();
        assert_eq!(colours.len(), NoticeKind::ALL.len());
    }
}
