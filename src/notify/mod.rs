//! Notifications: telling the people what happened, where they read (issue 13).
//!
//! A job describes what happened as a channel-neutral [`Notice`] (its kind, a title, a
//! markdown summary, fields, a link to read more); a channel turns it into its own wire
//! shape and sends it. Channels are data: which one gets which kinds is configuration,
//! never code in the jobs. Here now: the notice itself ([`message`]) and the Discord
//! webhook channel ([`discord`]: escaping, payloads within Discord's limits, sending with
//! rate limits and retries). Nothing is wired into the jobs yet.

pub mod discord;
pub mod message;

pub use message::{Notice, NoticeKind};
