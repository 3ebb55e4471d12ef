//! A small Rust lexer for the architecture test: just enough to find paths.
//!
//! It turns source text into identifiers, `::` and single punctuation characters, each with
//! its line, and drops what cannot hold a path a compiler follows: comments (doc comments
//! too), string, byte-string, raw-string and char literals, lifetimes and numbers.

/// What a token is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    Ident(String),
    /// `::`
    PathSep,
    Punct(char),
}

/// A token and the 1-based line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub tok: Tok,
    pub line: u64,
}

/// The tokens of `source`, literals and comments left out.
pub fn tokens(source: &str) -> Vec<Token> {
    let chars: Vec<char> = source.chars().collect();
    let mut lexer = Lexer {
        chars: &chars,
        at: 0,
        line: 1,
    };
    let mut out = Vec::new();
    while let Some(c) = lexer.peek(0) {
        let line = lexer.line;
        if c.is_whitespace() {
            lexer.bump();
        } else if c == '/' && lexer.peek(1) == Some('/') {
            lexer.skip_while(|c| c != '\n');
        } else if c == '/' && lexer.peek(1) == Some('*') {
            lexer.skip_block_comment();
        } else if let Some(hashes) = lexer.raw_string_start() {
            lexer.skip_raw_string(hashes);
        } else if c == '"' || (c == 'b' && lexer.peek(1) == Some('"')) {
            lexer.skip_quoted('"');
        } else if c == 'b' && lexer.peek(1) == Some('\'') {
            lexer.bump();
            lexer.skip_quoted('\'');
        } else if c == '\'' {
            lexer.skip_char_or_lifetime();
        } else if c.is_ascii_digit() {
            lexer.skip_while(|c| c.is_alphanumeric() || c == '_' || c == '.');
        } else if c.is_alphabetic() || c == '_' {
            if c == 'r' && lexer.peek(1) == Some('#') {
                lexer.bump();
                lexer.bump();
            }
            let start = lexer.at;
            lexer.skip_while(is_ident_char);
            let word: String = chars[start..lexer.at].iter().collect();
            out.push(Token {
                tok: Tok::Ident(word),
                line,
            });
        } else if c == ':' && lexer.peek(1) == Some(':') {
            lexer.bump();
            lexer.bump();
            out.push(Token {
                tok: Tok::PathSep,
                line,
            });
        } else {
            lexer.bump();
            out.push(Token {
                tok: Tok::Punct(c),
                line,
            });
        }
    }
    out
}

struct Lexer<'a> {
    chars: &'a [char],
    at: usize,
    line: u64,
}

impl Lexer<'_> {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.at + ahead).copied()
    }

    fn bump(&mut self) {
        if self.peek(0) == Some('\n') {
            self.line += 1;
        }
        self.at += 1;
    }

    fn skip_while(&mut self, keep: impl Fn(char) -> bool) {
        while self.peek(0).is_some_and(&keep) {
            self.bump();
        }
    }

    fn skip_block_comment(&mut self) {
        let mut depth = 0;
        while let Some(c) = self.peek(0) {
            if c == '/' && self.peek(1) == Some('*') {
                depth += 1;
                self.bump();
            } else if c == '*' && self.peek(1) == Some('/') {
                depth -= 1;
                self.bump();
                if depth == 0 {
                    self.bump();
                    return;
                }
            }
            self.bump();
        }
    }

    /// At `r"`, `r#"`, `br"` or `br#"`: how many `#` the raw string uses.
    fn raw_string_start(&self) -> Option<usize> {
        let mut ahead = usize::from(self.peek(0) == Some('b'));
        if self.peek(ahead) != Some('r') {
            return None;
        }
        if ahead == 0 && self.at > 0 && is_ident_char(self.chars[self.at - 1]) {
            return None;
        }
        ahead += 1;
        let mut hashes = 0;
        while self.peek(ahead) == Some('#') {
            hashes += 1;
            ahead += 1;
        }
        (self.peek(ahead) == Some('"')).then_some(hashes)
    }

    fn skip_raw_string(&mut self, hashes: usize) {
        self.skip_while(|c| c != '"');
        self.bump();
        while self.peek(0).is_some() {
            if self.peek(0) == Some('"') && (1..=hashes).all(|i| self.peek(i) == Some('#')) {
                for _ in 0..=hashes {
                    self.bump();
                }
                return;
            }
            self.bump();
        }
    }

    /// Skip a literal opened by `quote` (after an optional `b`), escapes included.
    fn skip_quoted(&mut self, quote: char) {
        self.skip_while(|c| c != quote);
        self.bump();
        while let Some(c) = self.peek(0) {
            self.bump();
            if c == '\\' {
                self.bump();
            } else if c == quote {
                return;
            }
        }
    }

    /// `'a'`, `'\n'` and `'\u{1F600}'` are literals; `'a` alone is a lifetime or label.
    fn skip_char_or_lifetime(&mut self) {
        if self.peek(1) == Some('\\') || self.peek(2) == Some('\'') {
            self.skip_quoted('\'');
        } else {
            self.bump();
            self.skip_while(is_ident_char);
        }
    }
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}
