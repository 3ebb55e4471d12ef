//! The least run of token characters every match of a rule's regex holds, read from the
//! regex itself: a JWT is `ey` and 30 letters or digits, a Telegram token 34 after its
//! colon. A line without such a run cannot hold a match, and the one-pass walk of a text
//! ([`super::Scanner::scan_text`]) already knows whether a line has one — so the rule's
//! regex is not run there. This is a bound proved from the pattern, not a heuristic: it
//! never drops a match.

use regex_syntax::hir::{Class, Hir, HirKind};

/// The longest run of `token` bytes that every match of `pattern` contains (0 when a
/// match can do without any, or when the pattern cannot be read — which skips nothing).
/// `pattern` is read as [`super::rules::compile`] reads it: bytes without Unicode first,
/// else with Unicode.
pub fn least_run(pattern: &str, token: &[bool; 256]) -> usize {
    let parse = |unicode: bool| {
        regex_syntax::ParserBuilder::new()
            .unicode(unicode)
            .utf8(false)
            .build()
            .parse(pattern)
            .ok()
    };
    let parsed = parse(false).or_else(|| parse(true));
    parsed.map_or(0, |hir| Bounds::of(&hir, token).run)
}

/// Lower bounds over every string the expression matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Bounds {
    /// Every match is token bytes only (the empty match too).
    all_token: bool,
    /// Its leading run of token bytes is at least this long (every match's length, when
    /// `all_token`).
    lead: usize,
    /// Its trailing run.
    trail: usize,
    /// Its longest run.
    run: usize,
}

impl Bounds {
    /// Token bytes only, at least `len` of them.
    fn tokens(len: usize) -> Self {
        Self {
            all_token: true,
            lead: len,
            trail: len,
            run: len,
        }
    }

    /// Nothing known: a match may hold no token byte.
    const NONE: Self = Self {
        all_token: false,
        lead: 0,
        trail: 0,
        run: 0,
    };

    fn of(hir: &Hir, token: &[bool; 256]) -> Self {
        match hir.kind() {
            HirKind::Empty | HirKind::Look(_) => Self::tokens(0),
            HirKind::Literal(literal) => Self::literal(&literal.0, token),
            HirKind::Class(class) if within(class, token) => Self::tokens(1),
            HirKind::Class(_) => Self::NONE,
            HirKind::Capture(capture) => Self::of(&capture.sub, token),
            HirKind::Repetition(repeat) => {
                let sub = Self::of(&repeat.sub, token);
                let times = repeat.min as usize;
                match (times, sub.all_token) {
                    // zero times matches the empty string: all token bytes, none long
                    (0, all_token) => Self {
                        all_token,
                        ..Self::tokens(0)
                    },
                    (_, true) => Self::tokens(sub.lead.saturating_mul(times)),
                    // two copies or more: one's trailing run meets the next one's lead
                    (1, false) => sub,
                    (_, false) => Self {
                        run: sub.run.max(sub.trail + sub.lead),
                        ..sub
                    },
                }
            }
            HirKind::Concat(parts) => parts
                .iter()
                .map(|part| Self::of(part, token))
                .reduce(Self::then)
                .unwrap_or(Self::tokens(0)),
            HirKind::Alternation(choices) => choices
                .iter()
                .map(|choice| Self::of(choice, token))
                .reduce(Self::either)
                .unwrap_or(Self::NONE),
        }
    }

    fn literal(bytes: &[u8], token: &[bool; 256]) -> Self {
        let is_token = |b: &u8| token[usize::from(*b)];
        if bytes.iter().all(is_token) {
            return Self::tokens(bytes.len());
        }
        let mut run = 0;
        let mut longest = 0;
        for byte in bytes {
            run = if is_token(byte) { run + 1 } else { 0 };
            longest = longest.max(run);
        }
        Self {
            all_token: false,
            lead: bytes.iter().take_while(|b| is_token(b)).count(),
            trail: bytes.iter().rev().take_while(|b| is_token(b)).count(),
            run: longest,
        }
    }

    /// `self` followed by `next`.
    fn then(self, next: Self) -> Self {
        if self.all_token && next.all_token {
            return Self::tokens(self.lead + next.lead);
        }
        Self {
            all_token: false,
            lead: if self.all_token {
                self.lead + next.lead
            } else {
                self.lead
            },
            trail: if next.all_token {
                self.trail + next.trail
            } else {
                next.trail
            },
            run: self.run.max(next.run).max(self.trail + next.lead),
        }
    }

    /// `self` or `other`: what both promise.
    fn either(self, other: Self) -> Self {
        Self {
            all_token: self.all_token && other.all_token,
            lead: self.lead.min(other.lead),
            trail: self.trail.min(other.trail),
            run: self.run.min(other.run),
        }
    }
}

/// Whether every byte (or character) of `class` is a token byte.
fn within(class: &Class, token: &[bool; 256]) -> bool {
    let bytes = |start: u32, end: u32| (start..=end).all(|b| b < 256 && token[b as usize]);
    match class {
        Class::Bytes(class) => class
            .ranges()
            .iter()
            .all(|r| bytes(u32::from(r.start()), u32::from(r.end()))),
        Class::Unicode(class) => class
            .ranges()
            .iter()
            .all(|r| bytes(u32::from(r.start()), u32::from(r.end()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: [bool; 256] = {
        let mut table = [false; 256];
        let mut byte = 0;
        while byte < 256 {
            table[byte] = (byte as u8).is_ascii_alphanumeric() || byte as u8 == b'_';
            byte += 1;
        }
        table
    };

    fn run(pattern: &str) -> usize {
        least_run(pattern, &TOKEN)
    }

    #[test]
    fn a_run_is_read_from_literals_classes_and_counted_repetitions() {
        assert_eq!(run("abc"), 3);
        assert_eq!(run("a.c"), 1);
        assert_eq!(run("(?i)ab[0-9a-z]{30,34}"), 32);
        // a class with one byte that is not a token byte breaks every run it is in
        assert_eq!(run("ab[0-9a-z.]{30}cd"), 2);
        // the join of two parts: `xy` then a run of 5, then `.`, then 3
        assert_eq!(run("xy[a-z]{5}\\.[0-9]{3}"), 7);
        assert_eq!(
            run("(?:^|[^0-9])([0-9]{5,16}:A[a-zA-Z0-9_]{34})(?:$|[^a-z])"),
            35
        );
        // look-arounds are zero-width: `\b` does not break a run
        assert_eq!(run("\\bab\\bcd"), 4);
    }

    #[test]
    fn what_a_match_can_do_without_counts_for_nothing() {
        assert_eq!(run("[a-z]{0,40}"), 0);
        assert_eq!(run("[a-z]*"), 0);
        assert_eq!(run("x?[a-z]{3}"), 3);
        // an alternation promises what its weakest choice does
        assert_eq!(run("(?:[a-z]{30}|[0-9]{4})"), 4);
        assert_eq!(run("(?:[a-z]{30}|.)"), 0);
        // repeated parts that are not all token bytes join at their edges
        assert_eq!(run("(?:ab-cd){2}"), 4);
        assert_eq!(run("(?:ab-cd){1}"), 2);
    }

    #[test]
    fn a_pattern_that_cannot_be_read_promises_nothing() {
        assert_eq!(run("(?P<unclosed"), 0);
        assert_eq!(run(""), 0);
    }

    #[test]
    fn unicode_classes_count_only_when_all_their_characters_are_token_bytes() {
        // with Unicode, `(?i)k` is also the Kelvin sign: not a token byte
        assert_eq!(
            least_run("(?i)k{30}", &TOKEN),
            30,
            "read without Unicode first"
        );
        assert_eq!(run("\\p{Greek}{30}"), 0);
    }
}
