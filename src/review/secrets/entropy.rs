//! High-entropy strings: a quoted or assigned token that looks like random base64 is a
//! credential in a format no rule knows (a vendor's API key, a signing secret).
//!
//! Thresholds were tuned on real code (the Python standard library, npm's sources,
//! dayshift's own, lockfiles) so that what is random-looking by nature does not count:
//! hex (git and content hashes, UUIDs), subresource-integrity digests (`sha512-…`),
//! base64 blobs longer than a credential (images, fonts), identifiers and paths.

/// Shannon entropy in bits per byte (gitleaks' measure, over bytes).
pub fn shannon(data: &[u8]) -> f64 {
    if data.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in data {
        counts[usize::from(b)] += 1;
    }
    let len = data.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / len;
            -p * p.log2()
        })
        .sum()
}

/// Shortest token considered: shorter random strings are rarely credentials and often
/// identifiers.
pub const MIN_LEN: usize = 24;
/// Longest: base64 past this is an embedded file, not a key.
const MAX_LEN: usize = 200;

/// A high-entropy token of `line`: its byte range and entropy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Token {
    pub start: usize,
    pub end: usize,
    pub entropy: f64,
}

/// The first high-entropy token of `line` that is quoted or assigned, if any.
pub fn find(line: &str) -> Option<Token> {
    tokens(line).next()
}

/// Every high-entropy token of `line` that is quoted or assigned, left to right.
pub fn tokens(line: &str) -> impl Iterator<Item = Token> + '_ {
    let bytes = line.as_bytes();
    // a line too short for a token is most lines: done at once
    let mut at = if bytes.len() < MIN_LEN {
        bytes.len()
    } else {
        0
    };
    std::iter::from_fn(move || next_token(bytes, &mut at))
}

fn next_token(bytes: &[u8], at: &mut usize) -> Option<Token> {
    while *at < bytes.len() {
        if !token_byte(bytes[*at]) {
            *at += 1;
            continue;
        }
        let start = *at;
        while *at < bytes.len() && token_byte(bytes[*at]) {
            *at += 1;
        }
        // base64's padding ends a token; an `=` before more text is an assignment
        while *at < bytes.len() && bytes[*at] == b'=' {
            *at += 1;
        }
        let end = *at;
        if end - start >= MIN_LEN
            && end - start <= MAX_LEN
            && framed(bytes, start, end)
            && let Some(token) = judge(bytes, start, end)
        {
            return Some(token);
        }
    }
    None
}

/// Base64 (both alphabets, padding aside) and the `-`/`_` of tokens.
fn token_byte(b: u8) -> bool {
    TOKEN_BYTES[usize::from(b)]
}

/// [`token_byte`] as a table: it is asked of every byte scanned.
static TOKEN_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        table[b] = byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'/' | b'-' | b'_');
        b += 1;
    }
    table
};

/// Quoted (`"…"`, `'…'`, `` `…` ``) or assigned (`= …`, `: …`), and ending there.
fn framed(bytes: &[u8], start: usize, end: usize) -> bool {
    let mut left = bytes[..start]
        .iter()
        .rev()
        .copied()
        .filter(|b| !b.is_ascii_whitespace());
    let before = left.next();
    let after = bytes.get(end).copied();
    // `Type::Variant` is a path, not an assignment
    let path = before == Some(b':') && left.next() == Some(b':');
    let opens = matches!(before, Some(b'"' | b'\'' | b'`' | b'=' | b':')) && !path;
    let closes = matches!(
        after,
        None | Some(b'"' | b'\'' | b'`' | b' ' | b'\t' | b';' | b',' | b')' | b'}' | b'\r')
    );
    opens && closes
}

fn judge(bytes: &[u8], start: usize, end: usize) -> Option<Token> {
    let token = &bytes[start..end];
    let body = {
        let mut end = token.len();
        while end > 0 && token[end - 1] == b'=' {
            end -= 1;
        }
        &token[..end]
    };
    if body.len() < MIN_LEN {
        return None;
    }
    // hex with or without dashes: hashes, UUIDs, colours — hex secrets assigned to a
    // key-like name are gitleaks' generic rule's
    if body.iter().all(|b| b.is_ascii_hexdigit() || *b == b'-') {
        return None;
    }
    // subresource integrity and other labelled digests
    let lower = body.to_ascii_lowercase();
    if [
        "sha1-", "sha256-", "sha384-", "sha512-", "md5-", "sha256:", "sha512:",
    ]
    .iter()
    .any(|p| lower.starts_with(p.as_bytes()))
    {
        return None;
    }
    let count = |f: fn(&u8) -> bool| body.iter().filter(|b| f(b)).count();
    let upper = count(u8::is_ascii_uppercase);
    let lower_n = count(u8::is_ascii_lowercase);
    let digits = count(u8::is_ascii_digit);
    // random base64 mixes all three; words, identifiers and paths rarely do
    if upper < 2 || lower_n < 2 || digits < 2 {
        return None;
    }
    // a path or a dotted name: several slash-separated words
    if body.iter().filter(|&&b| b == b'/').count() >= 3 && longest_word(body) >= 5 {
        return None;
    }
    // a character set spelled out (`ABCDEFGH…0123456789`), not a random draw
    if ["abcdefgh", "ABCDEFGH", "01234567"]
        .iter()
        .any(|run| memmem(body, run.as_bytes()))
    {
        return None;
    }
    // identifiers (`X509AuthorityKeyIDExtension`: a change in 4) are runs of one class —
    // words — where a random draw changes between upper, lower and digit at about two
    // pairs in three
    let changes = body
        .windows(2)
        .filter(|w| class(w[0]) != class(w[1]))
        .count();
    if changes * 5 < (body.len() - 1) * 2 {
        return None;
    }
    if wordy(body) {
        return None;
    }
    let entropy = shannon(body);
    (entropy >= threshold(body.len())).then_some(Token {
        start,
        end,
        entropy,
    })
}

/// The entropy a random base64 string of `len` bytes almost always exceeds, and text
/// almost never: 85 % of the most a string that long can have (capped at 4.5 bits, which
/// 40 random base64 characters pass).
fn threshold(len: usize) -> f64 {
    let max = (len.min(64) as f64).log2();
    (0.85 * max).min(4.5)
}

/// Made of words (`bigIntAndBufferInt64Check`, `SuperSecretToken`): three quarters of it in
/// runs like `Word` or `word`, and at least three such runs when it has digits. A name, not a random value — a random base64 string has
/// about a third of its characters in such runs.
pub fn wordy(text: &[u8]) -> bool {
    let (mut in_words, mut words) = (0, 0);
    let mut at = 0;
    while at < text.len() {
        let start = at;
        if text[at].is_ascii_uppercase() {
            at += 1;
        }
        let lower_start = at;
        while at < text.len() && text[at].is_ascii_lowercase() {
            at += 1;
        }
        let lower = at - lower_start;
        if lower >= 3 || (lower == 2 && lower_start > start) {
            in_words += at - start;
            words += 1;
        }
        if at == start {
            at += 1;
        }
    }
    // with digits, a name has several words (`obj1KeysLength`); `hunter2hunter2` is a password
    let several = words >= 3 || !text.iter().any(u8::is_ascii_digit);
    in_words * 4 >= text.len() * 3 && several
}

/// A dotted chain of identifiers (`obj1Keys.length`, `settings.api_key`): code, not a value.
pub fn dotted_name(text: &[u8]) -> bool {
    let ident = |part: &[u8]| {
        part.first()
            .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_' || *b == b'$')
            && part
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'$')
    };
    let mut parts = text.split(|&b| b == b'.');
    let first = parts.next().is_some_and(ident);
    let mut rest = 0;
    for part in parts {
        if !ident(part) {
            return false;
        }
        rest += 1;
    }
    first && rest > 0
}

fn class(b: u8) -> u8 {
    match b {
        b'A'..=b'Z' => 0,
        b'a'..=b'z' => 1,
        b'0'..=b'9' => 2,
        _ => 3,
    }
}

fn memmem(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The longest run of lowercase letters: an English word in a path.
fn longest_word(body: &[u8]) -> usize {
    body.split(|b| !b.is_ascii_lowercase())
        .map(<[u8]>::len)
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_of_known_strings() {
        assert_eq!(shannon(b""), 0.0);
        assert_eq!(shannon(b"aaaa"), 0.0);
        assert!((shannon(b"abcd") - 2.0).abs() < 1e-9);
    }

    #[test]
    fn a_random_base64_token_assigned_or_quoted_is_found() {
        // built from pieces too short to be candidates, so this file holds no such token
        let key = ["q8Zt3VbN0xLr7YwKp2Hs", "9DfJm4Gc6Ae1Ui5Ro+Tn", "/Wk="].concat();
        for line in [
            format!("token = \"{key}\""),
            format!("TOKEN={key}"),
            format!("  signing_secret: {key}"),
            format!("client.login('{key}')"),
        ] {
            let found = find(&line).unwrap_or_else(|| panic!("not found in {line}"));
            assert_eq!(&line[found.start..found.end], key);
            assert!(found.entropy > 4.5, "{}", found.entropy);
        }
    }

    #[test]
    fn hashes_uuids_integrity_paths_and_identifiers_are_not() {
        for line in [
            "commit = \"9fceb02d0ae598e95dc970b74767f19372d61af8\"",
            "id: 123e4567-e89b-12d3-a456-426614174000",
            "\"integrity\": \"sha512-Zn5s2Pk8n7wGqYyW2s0l9r0ZkqXHx1J3Vd5fHq8v0qJ0kNq7x3o5l0v8Yc2kJb1Q==\",",
            "path = \"src/components/Button2/index3.tsx\"",
            "name = \"getUserAccountSettingsByIdentifier\"",
            "exports.X509AuthorityKeyIDExtension = X509AuthorityKeyIDExtension;",
            "    PeerIncompatible::Tls12NotOfferedOrEnabled,",
            "exports.bigIntAndBufferInt64Check = bigIntAndBufferInt64Check;",
            "url: https://example.com/some/path/to/a/resource",
            "x = \"aGVsbG8gd29ybGQ=\"",
            "const LONG = \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"",
            "const ALPHABET: &str = \"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/\";",
        ] {
            assert_eq!(find(line), None, "{line}");
        }
    }

    #[test]
    fn words_and_dotted_names_are_names() {
        for name in [
            "SuperSecretToken",
            "bigIntAndBufferInt64Check",
            "shared_secret_value",
        ] {
            assert!(wordy(name.as_bytes()), "{name}");
        }
        for value in ["Summer2024!x", "q8Zt3VbN0xLr7YwKp2Hs", "hunter2hunter2"] {
            assert!(!wordy(value.as_bytes()), "{value}");
        }
        assert!(dotted_name(b"obj1Keys.length") && dotted_name(b"self.config.api_key"));
        assert!(!dotted_name(b"length") && !dotted_name(b"a1b2.c3d4!") && !dotted_name(b"1.2.3"));
    }

    #[test]
    fn an_unframed_token_is_not_a_candidate() {
        // inside prose or an expression, not a value
        let key = ["q8Zt3VbN0xLr7YwKp2Hs", "9DfJm4Gc6Ae1Ui5Ro"].concat();
        assert_eq!(find(&format!("see {key}.html for details")), None);
    }
}
