//! The code of a diff's lines with the language's comments blanked out, so `# eval(x)`
//! is not eval and a commented-out `def test_x` is not a test; and, per byte, whether it
//! is inside a string literal, so `log("eval(x)")` is text.
//!
//! A diff shows runs of consecutive lines, not files, and a run that starts in the middle
//! of a file may start inside a multi-line string or comment. Guessing wrong there is
//! how a hostile change would hide code: a run that starts inside an existing docstring
//! and *closes* it with `"""` would look, to a lexer that assumed code, like one that
//! *opens* one — and the real code after it would be blanked. So the lexer fails closed:
//!
//! - a run that starts at line 1 (an added or deleted file, a hunk at the top) starts in
//!   code for sure and is lexed with its state carried from line to line;
//! - a run that starts further down is lexed the same way only if it holds no token
//!   that could close a construct opened above it (`"""`, `'''`, a backtick, `*/`, a
//!   quote in Rust or shell, whose strings span lines, a line ending in `\`); otherwise
//!   it is read as it is, nothing blanked — a warning too many rather than one too few.
//!
//! String literals are kept in the code (whether a call's argument is a literal is what
//! several rules ask); a Python docstring — a triple-quoted string standing as a
//! statement — is prose and blanked.

use super::Language;
use crate::review::Line;

/// How a language writes comments and strings.
struct Syntax {
    /// Starts a comment to the end of the line.
    line_comment: &'static str,
    /// `/*` … `*/`.
    block_comments: bool,
    /// `#` starts a comment only at the start of a word (shell: `$#`, `${#a}`, `a#b`).
    hash_at_word_start: bool,
    /// Python's `"""` and `'''`.
    triple_quotes: bool,
    /// Quotes whose strings may span lines (JS template literals, Go raw strings, Rust
    /// and shell strings). Other strings end at the line's end (else it does not parse).
    multiline_quotes: &'static [char],
    /// `'` is a char literal only when it closes right away (`'a'`, `'\n'`); else a
    /// lifetime (Rust).
    apostrophe_is_char: bool,
    /// `/re/` literals (JavaScript): a quote inside one is not a string.
    regex_literals: bool,
}

fn syntax(lang: Language) -> Syntax {
    let c_like = Syntax {
        line_comment: "//",
        block_comments: true,
        hash_at_word_start: false,
        triple_quotes: false,
        multiline_quotes: &[],
        apostrophe_is_char: false,
        regex_literals: false,
    };
    match lang {
        Language::Python => Syntax {
            line_comment: "#",
            block_comments: false,
            triple_quotes: true,
            ..c_like
        },
        Language::Shell => Syntax {
            line_comment: "#",
            block_comments: false,
            hash_at_word_start: true,
            multiline_quotes: &['"', '\''],
            ..c_like
        },
        Language::JavaScript | Language::TypeScript | Language::Tsx => Syntax {
            multiline_quotes: &['`'],
            regex_literals: true,
            ..c_like
        },
        Language::Go => Syntax {
            multiline_quotes: &['`'],
            ..c_like
        },
        Language::Rust => Syntax {
            multiline_quotes: &['"'],
            apostrophe_is_char: true,
            ..c_like
        },
    }
}

impl Syntax {
    /// Whether `text` holds a token that may close a construct opened above the run.
    fn ambiguous(&self, text: &str) -> bool {
        (self.triple_quotes && (text.contains("\"\"\"") || text.contains("'''")))
            || (self.block_comments && text.contains("*/"))
            || self.multiline_quotes.iter().any(|&q| text.contains(q))
            || text.trim_end().ends_with('\\')
    }
}

/// Where the lexer is at the end of a line.
#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Code,
    BlockComment,
    /// Inside a string opened by `quote` (`"`/`'` for a triple quote); `blank`: a
    /// docstring, not kept.
    Str {
        quote: char,
        triple: bool,
        blank: bool,
    },
}

/// One line's code and, per byte of it, whether the byte is inside a string literal.
#[derive(Debug, Default)]
pub struct Lexed {
    pub code: String,
    pub in_string: Vec<bool>,
}

impl Lexed {
    fn push(&mut self, c: char, in_string: bool) {
        self.code.push(c);
        self.in_string
            .extend(std::iter::repeat_n(in_string, c.len_utf8()));
    }

    fn extend(&mut self, chars: &[char], in_string: bool) {
        for &c in chars {
            self.push(c, in_string);
        }
    }

    /// The line as it is: all code.
    fn raw(text: &str) -> Self {
        Self {
            code: text.to_string(),
            in_string: vec![false; text.len()],
        }
    }
}

/// The code of each of `lines` (in order, numbers ascending), comments and docstrings
/// replaced by a space.
pub fn code_of(lang: Language, lines: &[Line]) -> Vec<Lexed> {
    let syn = syntax(lang);
    let mut out = Vec::with_capacity(lines.len());
    let mut start = 0;
    while start < lines.len() {
        let mut end = start + 1;
        while end < lines.len() && lines[end].number == lines[end - 1].number + 1 {
            end += 1;
        }
        let run = &lines[start..end];
        let known_start = run[0].number <= 1;
        if !known_start && run.iter().any(|l| syn.ambiguous(&l.text)) {
            out.extend(run.iter().map(|l| Lexed::raw(&l.text)));
        } else {
            let mut state = State::Code;
            for line in run {
                let (code, next) = lex(&syn, &line.text, state);
                state = next;
                out.push(code);
            }
        }
        start = end;
    }
    out
}

fn lex(syn: &Syntax, text: &str, mut state: State) -> (Lexed, State) {
    let chars: Vec<char> = text.chars().collect();
    let mut code = Lexed::default();
    let mut i = 0;
    let at = |i: usize, s: &str| {
        s.chars()
            .enumerate()
            .all(|(k, c)| chars.get(i + k) == Some(&c))
    };
    while i < chars.len() {
        let c = chars[i];
        match state {
            State::BlockComment => {
                if at(i, "*/") {
                    state = State::Code;
                    code.push(' ', false);
                    i += 2;
                } else {
                    i += 1;
                }
            }
            State::Str {
                quote,
                triple,
                blank,
            } => {
                let len = if c == '\\' {
                    2
                } else if triple && at(i, &quote.to_string().repeat(3)) {
                    state = State::Code;
                    3
                } else {
                    if !triple && c == quote {
                        state = State::Code;
                    }
                    1
                };
                let end = (i + len).min(chars.len());
                if !blank {
                    // the closing quote is code, like the opening one
                    code.extend(&chars[i..end], state != State::Code);
                }
                i = end;
            }
            State::Code => {
                if syn.block_comments && at(i, "/*") {
                    state = State::BlockComment;
                    i += 2;
                } else if at(i, syn.line_comment)
                    && (!syn.hash_at_word_start || i == 0 || chars[i - 1].is_whitespace())
                {
                    break;
                } else if syn.triple_quotes && (at(i, "\"\"\"") || at(i, "'''")) {
                    // a docstring stands alone as a statement: nothing but a prefix before it
                    let before = code.code.trim().to_lowercase();
                    let blank =
                        before.is_empty() || ["r", "u", "b", "rb", "br"].contains(&&*before);
                    if !blank {
                        code.extend(&chars[i..i + 3], false);
                    }
                    state = State::Str {
                        quote: c,
                        triple: true,
                        blank,
                    };
                    i += 3;
                } else if c == '"'
                    || (c == '`' && syn.multiline_quotes.contains(&'`'))
                    || (c == '\'' && !syn.apostrophe_is_char)
                {
                    code.push(c, false);
                    state = State::Str {
                        quote: c,
                        triple: false,
                        blank: false,
                    };
                    i += 1;
                } else if c == '\'' {
                    // Rust: 'a' or '\n' is a char; 'a alone is a lifetime
                    let close = if chars.get(i + 1) == Some(&'\\') {
                        chars[i + 2..]
                            .iter()
                            .position(|&c| c == '\'')
                            .map(|p| i + 2 + p)
                    } else {
                        (chars.get(i + 2) == Some(&'\'')).then_some(i + 2)
                    };
                    let end = close.unwrap_or(i);
                    code.push(c, false);
                    code.extend(&chars[i + 1..=end], true);
                    i = end + 1;
                } else if let Some(end) = regex_literal(syn, &chars, i, &code.code) {
                    code.push(c, false);
                    code.extend(&chars[i + 1..=end], true);
                    i = end + 1;
                } else {
                    code.push(c, false);
                    i += 1;
                }
            }
        }
    }
    // a string that cannot span lines ends with the line (unless its last `\` continues
    // it): an unclosed one does not parse, which the syntax layer reports
    if let State::Str {
        quote,
        triple: false,
        ..
    } = state
        && !syn.multiline_quotes.contains(&quote)
        && !text.ends_with('\\')
    {
        state = State::Code;
    }
    (code, state)
}

/// The index of the `/` closing a JavaScript regex literal that starts at `i`, if one
/// does: a `/` right after an operator or an opening bracket on the same line, closed on
/// the same line. At the start of a line a `/` is read as a division (the line may
/// continue an expression), and after `<` or `>` as JSX (`</div>`), so a guess never
/// hides code.
fn regex_literal(syn: &Syntax, chars: &[char], i: usize, before: &str) -> Option<usize> {
    if !syn.regex_literals || chars[i] != '/' || matches!(chars.get(i + 1), Some('/' | '*')) {
        return None;
    }
    let before = before.trim_end();
    let prev = before.chars().last()?;
    let last_word = before
        .rsplit(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
        .next()
        .unwrap_or_default();
    let after_word = [
        "return", "typeof", "case", "in", "of", "yield", "await", "void",
    ]
    .contains(&last_word);
    if !"(,=:[!&|?{};+-*%~^".contains(prev) && !after_word {
        return None;
    }
    let mut in_class = false;
    let mut k = i + 1;
    while k < chars.len() {
        match chars[k] {
            '\\' => k += 1,
            '[' => in_class = true,
            ']' => in_class = false,
            '/' if !in_class => return Some(k),
            _ => {}
        }
        k += 1;
    }
    None
}

#[cfg(test)]
#[path = "code_tests.rs"]
mod tests;
