//! Blocks copied across the tree: every window of [`WINDOW`] consecutive meaningful lines
//! (whitespace collapsed; blank lines, comment-only lines and lines without a letter or
//! digit — a lone `}` — skipped) is hashed with a rolling hash over the lines' hashes, and
//! a window seen before is a copy. Overlapping windows that match consecutive windows of
//! the same first place make one block, so a 30-line copy is one finding, at its second
//! place, naming the first.
//!
//! Linear in the size of the tree; memory is one map entry per window of the tree (a hash
//! and a place), at most [`MAX_WINDOWS`] of them — past that, later windows are still
//! compared with the ones kept but not kept themselves.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;

use super::{ANALYZER, read_source};
use crate::fsx::Beneath;
use crate::review::Language;
use crate::scan::{Finding, Severity};

/// Meaningful lines a copied block has at least.
pub const WINDOW: usize = 8;

/// Windows remembered, about 24 bytes each.
pub const MAX_WINDOWS: usize = 4_000_000;

/// The multiplier of the rolling hash (odd, so no information is shifted out).
const BASE: u64 = 0x100_0000_01b3;

/// Where a window starts: the file's index, the window's index among the file's
/// meaningful lines, and its 1-based line.
#[derive(Debug, Clone, Copy)]
struct Place {
    file: u32,
    index: u32,
    line: u32,
}

/// A copy being followed through consecutive windows.
struct Copy {
    /// Where the copied block starts.
    first: Place,
    /// The earlier window the next window of this file matches if the copy goes on.
    next: (u32, u32),
    /// Its finding in the list, and its meaningful lines so far.
    finding: usize,
    lines: usize,
}

/// One `duplication` finding of the `health` analyzer (severity low) per block of
/// [`WINDOW`] or more meaningful lines that already appeared earlier (in file order, then
/// line order), at the copy's first line, naming the first place. Type stubs (`.pyi`,
/// `.d.ts`) are declarations that repeat by nature: not read.
pub fn duplicates(root: &Path, files: &[String]) -> Vec<Finding> {
    let is_stub = |f: &str| f.ends_with(".pyi") || f.ends_with(".d.ts");
    let mut sources: Vec<&String> = files
        .iter()
        .filter(|f| Language::of(f).is_some() && !is_stub(f))
        .collect();
    sources.sort();
    sources.dedup();
    let mut first: HashMap<u64, Place> = HashMap::new();
    let mut found: Vec<Finding> = Vec::new();
    let tree = Beneath::new(root);
    for (file_index, file) in sources.iter().enumerate() {
        let (Some(lang), Some(text)) = (Language::of(file), read_source(&tree, file)) else {
            continue;
        };
        let lines = meaningful_lines(lang, &text);
        let file_index = u32::try_from(file_index).unwrap_or(u32::MAX);
        let mut copy: Option<Copy> = None;
        for (window, hash) in window_hashes(&lines).enumerate() {
            let here = Place {
                file: file_index,
                index: u32::try_from(window).unwrap_or(u32::MAX),
                line: lines[window].0,
            };
            let room = first.len() < MAX_WINDOWS;
            let earlier = match first.entry(hash) {
                Entry::Occupied(seen) => Some(*seen.get()),
                Entry::Vacant(slot) => {
                    if room {
                        slot.insert(here);
                    }
                    None
                }
            };
            // a window overlapping its own first place is a run of equal lines, not a copy
            let Some(earlier) =
                earlier.filter(|e| e.file != here.file || e.index as usize + WINDOW <= window)
            else {
                copy = None;
                continue;
            };
            let end_line = lines[window + WINDOW - 1].0;
            match copy.as_mut() {
                Some(c) if c.next == (earlier.file, earlier.index) => {
                    c.next.1 += 1;
                    c.lines += 1;
                    let finding = &mut found[c.finding];
                    finding.end_line = end_line;
                    finding.message =
                        message(c.lines, sources[c.first.file as usize], c.first.line);
                }
                _ => {
                    found.push(Finding {
                        end_line,
                        ..Finding::at(
                            ANALYZER,
                            "duplication",
                            Severity::Low,
                            file,
                            here.line,
                            message(WINDOW, sources[earlier.file as usize], earlier.line),
                        )
                    });
                    copy = Some(Copy {
                        first: earlier,
                        next: (earlier.file, earlier.index + 1),
                        finding: found.len() - 1,
                        lines: WINDOW,
                    });
                }
            }
        }
    }
    found
}

fn message(lines: usize, first_file: &str, first_line: u32) -> String {
    format!(
        "{lines} lines repeat {first_file}:{first_line}: keep one copy and call it from both places"
    )
}

/// The meaningful lines of `text` as (1-based line, hash of the line with its whitespace
/// collapsed).
fn meaningful_lines(lang: Language, text: &str) -> Vec<(u32, u64)> {
    let comment_starts: &[&str] = match lang {
        Language::Python | Language::Shell => &["#"],
        _ => &["//", "/*", "*"],
    };
    text.lines()
        .enumerate()
        .filter_map(|(number, line)| {
            let line = line.trim();
            let meaningful = line.chars().any(char::is_alphanumeric)
                && !comment_starts.iter().any(|c| line.starts_with(c));
            if !meaningful {
                return None;
            }
            let mut hasher = DefaultHasher::new();
            for word in line.split_whitespace() {
                word.hash(&mut hasher);
            }
            Some((
                u32::try_from(number + 1).unwrap_or(u32::MAX),
                hasher.finish(),
            ))
        })
        .collect()
}

/// The rolling hash of each window of [`WINDOW`] consecutive lines, in order:
/// `h[i]·B^(W-1) + … + h[i+W-1]`, moved along by one multiplication and two additions.
fn window_hashes(lines: &[(u32, u64)]) -> impl Iterator<Item = u64> + '_ {
    let top = (1..WINDOW).fold(1u64, |power, _| power.wrapping_mul(BASE));
    let mut hash = lines.iter().take(WINDOW).fold(0u64, |h, (_, line)| {
        h.wrapping_mul(BASE).wrapping_add(*line)
    });
    let windows = (lines.len() + 1).saturating_sub(WINDOW);
    (0..windows).map(move |i| {
        let current = hash;
        if let Some((_, incoming)) = lines.get(i + WINDOW) {
            hash = hash
                .wrapping_sub(lines[i].1.wrapping_mul(top))
                .wrapping_mul(BASE)
                .wrapping_add(*incoming);
        }
        current
    })
}
