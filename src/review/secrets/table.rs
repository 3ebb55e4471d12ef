//! The keyword automaton as one flat table, for the walk over every byte of every file a
//! scan reads ([`super::walk`]).
//!
//! aho-corasick's DFA is stepped through its own API: each step reads the table's address,
//! length and special-state bounds from the automaton again, as the compiler cannot keep
//! them in registers across the walk's rare out-of-line calls. This table is the same
//! automaton — every state reachable from its start, every transition — copied into plain
//! values the walk holds in registers: a byte class per byte, a `u32` per transition (the
//! next state, already multiplied by the number of classes), and the match states numbered
//! first, so "is this a match" is one comparison. What each match state found is kept as
//! the rules of its keywords, so a match costs one slice copy.

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::{Anchored, dfa};

/// The automaton, flat. States are premultiplied: state `s`'s transitions are
/// `next[s..s + stride]`.
pub(super) struct Table {
    /// Each byte's class: bytes no keyword tells apart share one (every byte that is in no
    /// keyword, and the two cases of a letter, as keywords match in any case).
    classes: [u8; 256],
    next: Vec<u32>,
    start: u32,
    /// The states below this one are match states.
    matching_below: u32,
    /// For each match state (by `state / stride`), the rules of the keywords ending there,
    /// sorted, once each.
    rules: Vec<Vec<usize>>,
    stride: usize,
}

/// The table's values for one walk, copied out so they stay in registers.
#[derive(Clone, Copy)]
pub(super) struct Steps<'t> {
    classes: &'t [u8; 256],
    next: &'t [u32],
    pub start: u32,
    matching_below: u32,
}

impl Steps<'_> {
    /// The state after `byte` in `state`.
    #[inline(always)]
    pub fn after(self, state: u32, byte: u8) -> u32 {
        let at = state as usize + usize::from(self.classes[usize::from(byte)]);
        // every entry is a state of the table, so `at` is in it; a miss would be a bug,
        // and starting over is a safe answer to it
        self.next.get(at).copied().unwrap_or(self.start)
    }

    /// Whether a keyword ends in `state`.
    #[inline(always)]
    pub fn is_match(self, state: u32) -> bool {
        state < self.matching_below
    }
}

impl Table {
    /// The table of `keywords` (built from `words`, case-insensitively, with the standard
    /// match kind); `keyword_rules[k]` are the rules of keyword `k`.
    pub fn new(keywords: &dfa::DFA, words: &[String], keyword_rules: &[Vec<usize>]) -> Self {
        let (classes, representatives) = classes_of(words);
        let stride = representatives.len();
        let start = keywords
            .start_state(Anchored::No)
            .expect("an unanchored start");
        // every state reachable from the start, in the order found; aho-corasick's state
        // ids are small numbers, so a list indexed by them says which were seen
        let mut found = vec![start];
        let mut seen = Slots::default();
        seen.set(start, 1);
        let mut at = 0;
        while at < found.len() {
            let state = found[at];
            for &byte in &representatives {
                let next = keywords.next_state(Anchored::No, state, byte);
                if seen.get(next) == 0 {
                    found.push(next);
                    seen.set(next, 1);
                }
            }
            at += 1;
        }
        // numbered again: match states first
        let is_match = |s: StateID| keywords.is_special(s) && keywords.is_match(s);
        let mut order: Vec<StateID> = found.iter().copied().filter(|&s| is_match(s)).collect();
        let matching = order.len();
        order.extend(found.iter().copied().filter(|&s| !is_match(s)));
        let mut number = Slots::default();
        for (n, &state) in order.iter().enumerate() {
            number.set(state, premultiplied(n, stride));
        }
        let mut next = Vec::with_capacity(order.len() * stride);
        for &state in &order {
            for &byte in &representatives {
                next.push(number.get(keywords.next_state(Anchored::No, state, byte)));
            }
        }
        let rules = order[..matching]
            .iter()
            .map(|&state| {
                let mut rules: Vec<usize> = (0..keywords.match_len(state))
                    .flat_map(|i| &keyword_rules[keywords.match_pattern(state, i).as_usize()])
                    .copied()
                    .collect();
                rules.sort_unstable();
                rules.dedup();
                rules
            })
            .collect();
        Self {
            classes,
            next,
            start: number.get(start),
            matching_below: premultiplied(matching, stride),
            rules,
            stride,
        }
    }

    pub fn steps(&self) -> Steps<'_> {
        Steps {
            classes: &self.classes,
            next: &self.next,
            start: self.start,
            matching_below: self.matching_below,
        }
    }

    /// The rules of the keywords that end in the match state `state`.
    pub fn rules_at(&self, state: u32) -> &[usize] {
        &self.rules[state as usize / self.stride]
    }
}

/// A `u32` for each aho-corasick state id (0 until set).
#[derive(Default)]
struct Slots(Vec<u32>);

impl Slots {
    fn get(&self, state: StateID) -> u32 {
        self.0.get(state.as_usize()).copied().unwrap_or(0)
    }

    fn set(&mut self, state: StateID, value: u32) {
        let at = state.as_usize();
        if at >= self.0.len() {
            self.0.resize(at + 1, 0);
        }
        self.0[at] = value;
    }
}

fn premultiplied(state: usize, stride: usize) -> u32 {
    u32::try_from(state * stride).expect("a keyword table under 4 G entries")
}

/// Each byte's class, and one byte of each class: class 0 holds every byte in no keyword
/// (any case), each other class one byte of the keywords with its other case.
fn classes_of(words: &[String]) -> ([u8; 256], Vec<u8>) {
    let mut classes = [0u8; 256];
    let mut representatives = Vec::new();
    let mut used: Vec<u8> = words
        .iter()
        .flat_map(|w| w.bytes())
        .map(|b| b.to_ascii_lowercase())
        .collect();
    used.sort_unstable();
    used.dedup();
    let outside = (0..=255u8).find(|b| !used.contains(&b.to_ascii_lowercase()));
    // with every byte in some keyword (never, in practice) there is no class 0 byte, and
    // class 0 is not stepped
    representatives.push(outside.unwrap_or(0));
    for (class, &lower) in used.iter().enumerate() {
        let class = u8::try_from(class + 1).expect("at most 255 byte classes");
        for byte in 0..=255u8 {
            if byte.to_ascii_lowercase() == lower {
                classes[usize::from(byte)] = class;
            }
        }
        representatives.push(lower);
    }
    (classes, representatives)
}

#[cfg(test)]
mod tests {
    use super::super::Scanner;
    use aho_corasick::Input;
    use aho_corasick::automaton::Automaton;

    /// Every position of `text` where the table is in a match state, with its rules, is
    /// one where aho-corasick's search finds keywords ending, with theirs.
    fn same_matches(scanner: &Scanner, text: &str) {
        let steps = scanner.table.steps();
        let mut state = steps.start;
        let mut stepped = Vec::new();
        for (at, byte) in text.bytes().enumerate() {
            state = steps.after(state, byte);
            if steps.is_match(state) {
                stepped.push((at + 1, scanner.table.rules_at(state).to_vec()));
            }
        }
        let mut searched: Vec<(usize, Vec<usize>)> = Vec::new();
        let found = scanner
            .keywords
            .try_find_overlapping_iter(Input::new(text))
            .expect("an unanchored search");
        for m in found {
            let rules = &scanner.keyword_rules[m.pattern().as_usize()];
            match searched.iter_mut().find(|(end, _)| *end == m.end()) {
                Some((_, all)) => all.extend(rules),
                None => searched.push((m.end(), rules.clone())),
            }
        }
        for (_, rules) in &mut searched {
            rules.sort_unstable();
            rules.dedup();
        }
        searched.sort();
        assert_eq!(stepped, searched, "{}", &text[..text.len().min(200)]);
    }

    #[test]
    fn the_table_steps_as_the_automaton_does() {
        let scanner = Scanner::shared();
        // every keyword, in both cases and mixed, run together and apart, and every byte
        let mut words: Vec<String> = scanner
            .set
            .rules
            .iter()
            .flat_map(|rule| rule.keywords.iter().cloned())
            .collect();
        words.sort();
        words.dedup();
        let all = words.concat();
        same_matches(scanner, &all);
        same_matches(scanner, &all.to_ascii_uppercase());
        same_matches(scanner, &words.join(" x\n"));
        let mixed: String = all
            .chars()
            .enumerate()
            .map(|(i, c)| {
                if i % 2 == 0 {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            })
            .collect();
        same_matches(scanner, &mixed);
        let bytes: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
        same_matches(scanner, &String::from_utf8_lossy(&bytes));
        // and code: dayshift's own sources
        for dir in ["src/review/secrets", "src/scan", "src/review"] {
            for entry in std::fs::read_dir(dir).unwrap().flatten() {
                if let Ok(text) = std::fs::read_to_string(entry.path()) {
                    same_matches(scanner, &text);
                }
            }
        }
    }
}
