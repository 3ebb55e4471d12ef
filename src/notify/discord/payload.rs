//! A [`Notice`] as Discord webhook payloads, each within every limit Discord sets
//! (apis.md §2): content ≤ 2000, ≤ 10 embeds, title ≤ 256, description ≤ 4096, ≤ 25
//! fields, field name ≤ 256 and value ≤ 1024, footer ≤ 2048, and ≤ 6000 characters of
//! embed text per message, all counted in UTF-16 units.
//!
//! The summary is split into embeds at paragraph, line or word boundaries; fields follow;
//! embeds are packed into at most [`PayloadOptions::max_messages`] messages. What does not
//! fit is dropped, and the last message's content then says where the whole text is
//! (the notice's link). Every text has its mentions made inert, and `allowed_mentions` is
//! always `{"parse": []}`, except on an urgent notice with a configured mention: then the
//! first message's content carries it and allows exactly that role or user.

use serde_json::{Value, json};

use super::escape;
use super::split::{chunks, fit, units};
use crate::config::mention::Mention;
use crate::notify::Notice;

const CONTENT_MAX: usize = 2000;
const EMBEDS_MAX: usize = 10;
const TITLE_MAX: usize = 256;
/// A description chunk; below Discord's 4096 so a title and footer always fit beside it.
const DESCRIPTION_CHUNK: usize = 4000;
const FIELDS_MAX: usize = 25;
const FIELD_NAME_MAX: usize = 256;
const FIELD_VALUE_MAX: usize = 1024;
/// The footer is kept short (Discord allows 2048) so its share of 6000 is small.
const FOOTER_MAX: usize = 256;
const EMBED_TEXT_MAX: usize = 6000;
const USERNAME_MAX: usize = 80;
/// Fields whose name and value are this short sit side by side.
const INLINE_MAX: usize = 40;
/// The longest link quoted in the "whole text" line.
const LINK_MAX: usize = 1000;

/// How a channel shapes its payloads.
#[derive(Debug, Clone, PartialEq)]
pub struct PayloadOptions {
    /// The name the webhook posts as (Discord's default when absent).
    pub username: Option<String>,
    /// Pinged on urgent notices only.
    pub mention: Option<Mention>,
    /// At most this many messages per notice (at least 1); the rest is dropped and linked.
    pub max_messages: usize,
}

impl Default for PayloadOptions {
    fn default() -> Self {
        Self {
            username: None,
            mention: None,
            max_messages: 3,
        }
    }
}

/// One embed being filled.
#[derive(Default)]
struct Embed {
    title: Option<String>,
    description: Option<String>,
    fields: Vec<(String, String)>,
}

impl Embed {
    fn text_units(&self) -> usize {
        self.title.as_deref().map_or(0, units)
            + self.description.as_deref().map_or(0, units)
            + self
                .fields
                .iter()
                .map(|(n, v)| units(n) + units(v))
                .sum::<usize>()
    }
}

/// A piece of the notice to place.
enum Piece {
    Description(String),
    Field(String, String),
}

/// The notice as webhook payloads, in sending order (at least one).
pub fn payloads(notice: &Notice, options: &PayloadOptions) -> Vec<Value> {
    let (title, mut dropped) = fit(&escape::mentions(notice.title.trim()), TITLE_MAX);
    let title = if title.is_empty() {
        notice.kind.kind().to_string()
    } else {
        title
    };
    let footer = footer(notice);
    let (pieces, cut_fields) = pieces(notice);
    dropped |= cut_fields;
    let (messages, dropped_pieces) = pack(title, pieces, units(&footer), options.max_messages);
    dropped |= dropped_pieces;

    let mention = options.mention.as_ref().filter(|_| notice.urgent);
    let last = messages.len() - 1;
    let mut out = Vec::with_capacity(messages.len());
    for (n, embeds) in messages.into_iter().enumerate() {
        let mut content = Vec::new();
        if let (0, Some(mention)) = (n, mention) {
            content.push(mention.text());
        }
        if n == last && dropped {
            content.push(whole_text_line(notice));
        }
        let mut payload = json!({
            "embeds": embeds_json(embeds, notice, &footer, n == 0),
            "allowed_mentions": match (n, mention) {
                (0, Some(mention)) => mention.allowed(),
                _ => json!({"parse": []}),
            },
        });
        if !content.is_empty() {
            payload["content"] = json!(fit(&content.join("\n"), CONTENT_MAX).0);
        }
        if let Some(name) = options.username.as_deref().filter(|n| !n.trim().is_empty()) {
            payload["username"] = json!(fit(&escape::mentions(name.trim()), USERNAME_MAX).0);
        }
        out.push(payload);
    }
    out
}

fn footer(notice: &Notice) -> String {
    let mut footer = format!("dayshift · {}", notice.kind.kind());
    if let Some(task) = notice.task.as_deref().filter(|t| !t.trim().is_empty()) {
        footer.push_str(" · ");
        footer.push_str(&escape::mentions(task.trim()));
    }
    // a path in the home to read more (a URL is the title's link instead)
    if let Some(path) = notice
        .link
        .as_deref()
        .filter(|l| !l.starts_with("https://") && !l.starts_with("http://") && !l.trim().is_empty())
    {
        footer.push_str(" · ");
        footer.push_str(&escape::mentions(path.trim()));
    }
    fit(&footer, FOOTER_MAX).0
}

/// The summary's chunks and the fields, every text inert and within its own limit; with
/// whether a field had to be cut.
fn pieces(notice: &Notice) -> (Vec<Piece>, bool) {
    let summary = escape::mentions(&notice.summary);
    let mut pieces: Vec<Piece> = chunks(&summary, DESCRIPTION_CHUNK)
        .into_iter()
        .map(Piece::Description)
        .collect();
    let mut cut = false;
    for (name, value) in &notice.fields {
        let (name, name_cut) = fit(&non_empty(&escape::mentions(name.trim())), FIELD_NAME_MAX);
        let (value, value_cut) = fit(&non_empty(&escape::mentions(value.trim())), FIELD_VALUE_MAX);
        cut |= name_cut || value_cut;
        pieces.push(Piece::Field(name, value));
    }
    (pieces, cut)
}

/// Discord refuses empty field names and values.
fn non_empty(text: &str) -> String {
    if text.is_empty() {
        "—".to_string()
    } else {
        text.to_string()
    }
}

/// The pieces in embeds, the embeds in messages (the first embed of all holds the title),
/// each message within 10 embeds and 6000 units with the footer; with whether pieces
/// were dropped for want of messages.
fn pack(
    title: String,
    pieces: Vec<Piece>,
    footer_units: usize,
    max_messages: usize,
) -> (Vec<Vec<Embed>>, bool) {
    let budget = EMBED_TEXT_MAX - footer_units;
    let first = Embed {
        title: Some(title),
        ..Embed::default()
    };
    let mut messages = vec![vec![first]];
    let mut used = messages[0][0].text_units();
    for piece in pieces {
        let size = match &piece {
            Piece::Description(text) => units(text),
            Piece::Field(name, value) => units(name) + units(value),
        };
        let message = messages.last_mut().expect("one message at least");
        let embed = message.last_mut().expect("one embed at least");
        let joins_embed = match &piece {
            Piece::Description(_) => embed.description.is_none() && embed.fields.is_empty(),
            Piece::Field(..) => embed.fields.len() < FIELDS_MAX,
        };
        if joins_embed && used + size <= budget {
            place(embed, piece);
        } else if message.len() < EMBEDS_MAX && used + size <= budget {
            message.push(Embed::default());
            place(message.last_mut().expect("just pushed"), piece);
        } else if messages.len() < max_messages.max(1) {
            let mut embed = Embed::default();
            place(&mut embed, piece);
            messages.push(vec![embed]);
            used = 0;
        } else {
            return (messages, true);
        }
        used += size;
    }
    (messages, false)
}

fn place(embed: &mut Embed, piece: Piece) {
    match piece {
        Piece::Description(text) => embed.description = Some(text),
        Piece::Field(name, value) => embed.fields.push((name, value)),
    }
}

fn embeds_json(embeds: Vec<Embed>, notice: &Notice, footer: &str, first: bool) -> Value {
    let last = embeds.len() - 1;
    let url = notice
        .link
        .as_deref()
        .filter(|l| l.starts_with("https://") || l.starts_with("http://"));
    let list: Vec<Value> = embeds
        .into_iter()
        .enumerate()
        .map(|(n, embed)| {
            let mut value = json!({"color": notice.kind.colour()});
            if let Some(title) = embed.title {
                value["title"] = json!(title);
                if let (true, Some(url)) = (first, url) {
                    value["url"] = json!(url);
                }
            }
            if let Some(description) = embed.description {
                value["description"] = json!(description);
            }
            if !embed.fields.is_empty() {
                let fields: Vec<Value> = embed
                    .fields
                    .into_iter()
                    .map(|(name, value)| {
                        // short figures side by side, longer text on its own line
                        let inline = units(&name) <= INLINE_MAX && units(&value) <= INLINE_MAX;
                        json!({"name": name, "value": value, "inline": inline})
                    })
                    .collect();
                value["fields"] = json!(fields);
            }
            if n == last {
                value["footer"] = json!({"text": footer});
                value["timestamp"] = json!(notice.at.to_rfc3339());
            }
            value
        })
        .collect();
    Value::Array(list)
}

/// The line that says where what was dropped can be read.
fn whole_text_line(notice: &Notice) -> String {
    match notice.link.as_deref().filter(|l| !l.trim().is_empty()) {
        Some(link) => format!(
            "the whole text: {}",
            fit(&escape::mentions(link.trim()), LINK_MAX).0
        ),
        None => "the whole text did not fit; the rest is in the day's report".to_string(),
    }
}

#[cfg(test)]
#[path = "payload_tests.rs"]
mod tests;
