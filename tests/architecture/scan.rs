//! What one source file declares and refers to: child modules, `use` bindings and paths.
//!
//! Items under `#[cfg(test)]` (test modules, test helpers) are skipped, and so are the
//! files such an item declares with `mod x;`: tests may reach anywhere.

use crate::lex::{Tok, Token};

/// A path written in a file, not yet resolved, and the module it was written in.
#[derive(Debug, Clone)]
pub struct RawPath {
    pub segments: Vec<String>,
    pub module: Vec<String>,
    pub line: u64,
}

/// A name a `use` brings into scope (`use a::b as c;` binds `c` to `a::b`).
#[derive(Debug, Clone)]
pub struct Binding {
    pub name: String,
    pub path: RawPath,
}

/// Everything the architecture check needs from one file.
#[derive(Debug, Default)]
pub struct FileScan {
    pub child_modules: Vec<String>,
    pub test_modules: Vec<String>,
    pub bindings: Vec<Binding>,
    /// Every path of two or more segments, `use` leaves included.
    pub paths: Vec<RawPath>,
}

/// Scan the tokens of the file of module `module`.
pub fn scan(module: &[String], tokens: &[Token]) -> FileScan {
    let mut scanner = Scanner {
        tokens,
        at: 0,
        modules: vec![(module.to_vec(), 0)],
        depth: 0,
        out: FileScan::default(),
    };
    scanner.run();
    scanner.out
}

struct Scanner<'a> {
    tokens: &'a [Token],
    at: usize,
    /// The module being read and the brace depth its body opened at (inline `mod x {}`).
    modules: Vec<(Vec<String>, usize)>,
    depth: usize,
    out: FileScan,
}

impl Scanner<'_> {
    fn ident(&self, at: usize) -> Option<&str> {
        match self.tokens.get(at).map(|t| &t.tok) {
            Some(Tok::Ident(word)) => Some(word),
            _ => None,
        }
    }

    fn punct(&self, at: usize, c: char) -> bool {
        self.tokens.get(at).map(|t| &t.tok) == Some(&Tok::Punct(c))
    }

    fn path_sep(&self, at: usize) -> bool {
        self.tokens.get(at).map(|t| &t.tok) == Some(&Tok::PathSep)
    }

    fn module(&self) -> Vec<String> {
        self.modules
            .last()
            .map(|(m, _)| m.clone())
            .unwrap_or_default()
    }

    fn run(&mut self) {
        while self.at < self.tokens.len() {
            if self.punct(self.at, '#') && self.is_cfg_test_attribute() {
                self.skip_test_item();
            } else if self.ident(self.at) == Some("mod") && self.ident(self.at + 1).is_some() {
                self.module_declaration();
            } else if self.ident(self.at) == Some("use") {
                self.at += 1;
                let line = self.tokens[self.at - 1].line;
                self.use_tree(Vec::new(), line);
            } else if self.punct(self.at, '{') {
                self.depth += 1;
                self.at += 1;
            } else if self.punct(self.at, '}') {
                self.depth = self.depth.saturating_sub(1);
                if self.modules.len() > 1 && self.modules.last().is_some_and(|m| m.1 > self.depth) {
                    self.modules.pop();
                }
                self.at += 1;
            } else if self.ident(self.at).is_some() && !self.path_sep(self.at.wrapping_sub(1)) {
                self.path();
            } else {
                self.at += 1;
            }
        }
    }

    /// At `#`: is this `#[cfg(test)]`?
    fn is_cfg_test_attribute(&self) -> bool {
        let at = self.at;
        self.punct(at + 1, '[')
            && self.ident(at + 2) == Some("cfg")
            && self.punct(at + 3, '(')
            && self.ident(at + 4) == Some("test")
            && self.punct(at + 5, ')')
            && self.punct(at + 6, ']')
    }

    /// Skip `#[cfg(test)]`, the attributes after it and the item it guards; remember the
    /// file a guarded `mod name;` declares.
    fn skip_test_item(&mut self) {
        self.at += 7;
        while self.punct(self.at, '#') {
            self.skip_balanced('[', ']');
        }
        let start = self.at;
        while self.at < self.tokens.len() && !self.punct(self.at, '{') {
            if self.punct(self.at, ';') {
                if self.at >= start + 2 && self.ident(self.at - 2) == Some("mod") {
                    let name = self.ident(self.at - 1).unwrap_or_default().to_string();
                    self.out.test_modules.push(name);
                }
                self.at += 1;
                return;
            }
            self.at += 1;
        }
        self.skip_balanced('{', '}');
    }

    /// Skip from the next `open` to its matching `close`.
    fn skip_balanced(&mut self, open: char, close: char) {
        while self.at < self.tokens.len() && !self.punct(self.at, open) {
            self.at += 1;
        }
        let mut depth = 0;
        while self.at < self.tokens.len() {
            if self.punct(self.at, open) {
                depth += 1;
            } else if self.punct(self.at, close) {
                depth -= 1;
                if depth == 0 {
                    self.at += 1;
                    return;
                }
            }
            self.at += 1;
        }
    }

    /// At `mod name`: a file module (`;`) or an inline one (`{`).
    fn module_declaration(&mut self) {
        let name = self.ident(self.at + 1).unwrap_or_default().to_string();
        self.out.child_modules.push(name.clone());
        if self.punct(self.at + 2, '{') {
            let mut inner = self.module();
            inner.push(name);
            self.depth += 1;
            self.modules.push((inner, self.depth));
            self.at += 3;
        } else {
            self.at += 2;
        }
    }

    /// Read a `use` tree after `prefix`, up to its end (`;`, `,` or `}` of a group).
    fn use_tree(&mut self, mut prefix: Vec<String>, line: u64) {
        loop {
            if let Some(word) = self.ident(self.at) {
                prefix.push(word.to_string());
                self.at += 1;
                if self.path_sep(self.at) {
                    self.at += 1;
                    continue;
                }
                self.use_leaf(prefix, line);
                return;
            } else if self.punct(self.at, '{') {
                self.at += 1;
                while self.at < self.tokens.len() && !self.punct(self.at, '}') {
                    self.use_tree(prefix.clone(), line);
                    if self.punct(self.at, ',') {
                        self.at += 1;
                    }
                }
                self.at += 1;
                return;
            } else if self.punct(self.at, '*') {
                self.at += 1;
                self.record(prefix, line);
                return;
            } else {
                self.at += 1;
                return;
            }
        }
    }

    /// The end of one `use` path: `a::b`, `a::b as c`, `a::{self}`.
    fn use_leaf(&mut self, mut path: Vec<String>, line: u64) {
        if path.last().map(String::as_str) == Some("self") {
            path.pop();
        }
        let mut name = path.last().cloned();
        if self.ident(self.at) == Some("as") {
            name = self.ident(self.at + 1).map(str::to_string);
            self.at += 2;
        }
        if let Some(name) = name.filter(|n| n != "_") {
            let path = self.raw(path.clone(), line);
            self.out.bindings.push(Binding { name, path });
        }
        self.record(path, line);
    }

    /// At the first identifier of a path outside `use`.
    fn path(&mut self) {
        let line = self.tokens[self.at].line;
        let mut segments = Vec::new();
        while let Some(word) = self.ident(self.at) {
            segments.push(word.to_string());
            self.at += 1;
            if !(self.path_sep(self.at) && self.ident(self.at + 1).is_some()) {
                break;
            }
            self.at += 1;
        }
        self.record(segments, line);
    }

    fn raw(&self, segments: Vec<String>, line: u64) -> RawPath {
        RawPath {
            segments,
            module: self.module(),
            line,
        }
    }

    fn record(&mut self, segments: Vec<String>, line: u64) {
        if !segments.is_empty() {
            let path = self.raw(segments, line);
            self.out.paths.push(path);
        }
    }
}
