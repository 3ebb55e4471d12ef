//! Notifications: telling the people what happened, where they read (issue 13).
//!
//! A job describes what happened as a channel-neutral [`Notice`] (its kind, a title, a
//! markdown summary, fields, a link to read more); a channel turns it into its own wire
//! shape and sends it. Channels are data (config/notify.yaml): which one gets which kinds
//! is configuration, never code in the jobs.
//!
//! - [`events`] turns the audit trail into notices (a task waiting or failed for good, a
//!   budget alert, the loop stopped, a job failed, the daemon), from a cursor;
//! - [`outbox`] writes every notice to the store before sending and sends it in order,
//!   marking it sent only after the channel confirmed it;
//! - [`channel`] renders and sends: [`discord`] (embeds within Discord's limits, rate
//!   limits honoured, mentions inert) and [`webhook`] (a JSON POST for bridges and scripts).
//!
//! The summaries of the morning and the night are built by the jobs
//! ([`crate::jobs::summary`]) and posted through the same outbox.

pub mod channel;
pub mod discord;
pub mod events;
mod http;
pub mod message;
pub mod outbox;
mod release;
pub mod webhook;

pub use channel::Patience;
pub use message::{Notice, NoticeKind};
pub use outbox::{Delivery, Outgoing};
