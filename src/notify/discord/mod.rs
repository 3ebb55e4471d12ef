//! The Discord webhook channel: text from models, issues and the repository escaped so it
//! can neither format nor ping ([`escape`]); a [`Notice`](crate::notify::Notice) turned
//! into webhook payloads within every Discord limit, split or cut with a link to the whole
//! text ([`payload`]); and the sender that honours Discord's rate limits, retries what may
//! succeed later and keeps the webhook URL, a credential, out of every message ([`send`]).

mod error;
pub mod escape;
pub mod payload;
pub mod send;
mod split;

pub use crate::config::mention::{BadMention, Mention};
pub use payload::{PayloadOptions, payloads};
pub use send::{DiscordWebhook, SendError, Sent};
