//! The code of a diff's lines with the language's comments blanked out, so `# eval(x)`
//! is not eval and a commented-out `def test_x` is not a test; and, per byte, whether it
//! is inside a string literal, so `log("eval(x)")` is text.
//!
//! A diff shows runs of consecutive lines, not files, and a run that starts in the middle
//! of a file may start inside a multi-line string or comment. Guessing wrong there is
//! how a hostile change would hide code: a run that starts inside an existing docstring
//! and *closes* it with `"""` would look, to a lexer that assumed code, like one that
//! *opens* one — and the real code after it would be blanked. So the lexer fails closed:
//! a run that starts at line 1 (an added or deleted file, a hunk at the top) starts in
//! code for sure; a run further down is lexed from every state it could start in (code,
//! inside a docstring, a block comment, a template literal…) and a character is code
//! if any of those readings says so, else text in a string if any says that. The true
//! reading is one of them, so no code is ever hidden; a comment there stays text (a
//! comment in one reading, a string in another), which only the SQL rules read.
//!
//! String literals are kept in the code (whether a call's argument is a literal is what
//! several rules ask) and marked; a Python docstring — a triple-quoted string standing
//! as a statement — is prose and blanked.

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
    /// Whether a line holds code inside a string (`${…}` in a template literal, `{…}` in
    /// a Python f-string), where quotes nest in ways this lexer does not follow
    /// (`` `${"`"}` ``, `f"{d["k"]}"`): such a line is all code, and the lines after it
    /// may start in code too.
    fn interpolates(&self, text: &str) -> bool {
        if self.regex_literals || self.multiline_quotes.contains(&'`') {
            return text.contains("${");
        }
        self.triple_quotes && text.contains('{') && fstring_prefix(text)
    }

    /// The states a run that starts further down a file may start in: code, or inside
    /// any construct that spans lines.
    fn start_states(&self) -> Vec<State> {
        let mut states = vec![State::Code];
        if self.block_comments {
            states.push(State::BlockComment);
        }
        if self.triple_quotes {
            for quote in ['"', '\''] {
                states.push(State::Str {
                    quote,
                    triple: true,
                    blank: false,
                });
            }
        }
        for &quote in self.multiline_quotes {
            states.push(State::Str {
                quote,
                triple: false,
                blank: false,
            });
        }
        states
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
    /// The line with comments and docstrings replaced by spaces.
    pub code: String,
    pub in_string: Vec<bool>,
}

/// What a character of a line is; a union of readings takes the greatest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Class {
    /// A comment or a docstring.
    Blank,
    /// Inside a string literal.
    Str,
    Code,
}

/// The code of each of `lines` (in order, numbers ascending), comments and docstrings
/// replaced by spaces.
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
        let mut states = if run[0].number <= 1 {
            vec![State::Code]
        } else {
            syn.start_states()
        };
        for line in run {
            let chars: Vec<char> = line.text.chars().collect();
            let mut union = vec![Class::Blank; chars.len()];
            for state in &mut states {
                let (classes, next) = lex(&syn, &chars, *state);
                *state = next;
                for (u, c) in union.iter_mut().zip(classes) {
                    *u = (*u).max(c);
                }
            }
            // looked for in the code and strings read, not in a comment
            if syn.interpolates(&render(&chars, &union).code) {
                union.fill(Class::Code);
                if !states.contains(&State::Code) {
                    states.push(State::Code);
                }
            }
            out.push(render(&chars, &union));
        }
        start = end;
    }
    out
}

fn render(chars: &[char], classes: &[Class]) -> Lexed {
    let mut lexed = Lexed::default();
    for (&c, &class) in chars.iter().zip(classes) {
        let c = if class == Class::Blank { ' ' } else { c };
        lexed.code.push(c);
        lexed
            .in_string
            .extend(std::iter::repeat_n(class == Class::Str, c.len_utf8()));
    }
    lexed
}

/// Read one line from `state`: each character's class, and the state at its end.
fn lex(syn: &Syntax, chars: &[char], mut state: State) -> (Vec<Class>, State) {
    let mut out = Out {
        classes: Vec::with_capacity(chars.len()),
        code_before: String::new(),
    };
    let at = |i: usize, s: &str| {
        s.chars()
            .enumerate()
            .all(|(k, c)| chars.get(i + k) == Some(&c))
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let (len, class) = match state {
            State::BlockComment => {
                if at(i, "*/") {
                    state = State::Code;
                    (2, Class::Blank)
                } else {
                    (1, Class::Blank)
                }
            }
            State::Str {
                quote,
                triple,
                blank,
            } => {
                let len = if c == '\\' {
                    2
                } else if triple && chars.get(i..i + 3) == Some(&[quote; 3][..]) {
                    state = State::Code;
                    3
                } else {
                    if !triple && c == quote {
                        state = State::Code;
                    }
                    1
                };
                // the closing quote is code, like the opening one
                let class = if blank {
                    Class::Blank
                } else if state == State::Code {
                    Class::Code
                } else {
                    Class::Str
                };
                (len, class)
            }
            State::Code => {
                if syn.block_comments && at(i, "/*") {
                    state = State::BlockComment;
                    (2, Class::Blank)
                } else if at(i, syn.line_comment)
                    && (!syn.hash_at_word_start || i == 0 || chars[i - 1].is_whitespace())
                {
                    (chars.len() - i, Class::Blank)
                } else if syn.triple_quotes && (at(i, "\"\"\"") || at(i, "\'\'\'")) {
                    // a docstring stands alone as a statement: nothing but a prefix before it
                    let before = out.code_before.trim().to_lowercase();
                    let blank =
                        before.is_empty() || ["r", "u", "b", "rb", "br"].contains(&&*before);
                    state = State::Str {
                        quote: c,
                        triple: true,
                        blank,
                    };
                    (3, if blank { Class::Blank } else { Class::Code })
                } else if c == '"'
                    || (c == '`' && syn.multiline_quotes.contains(&'`'))
                    || (c == '\'' && !syn.apostrophe_is_char)
                {
                    state = State::Str {
                        quote: c,
                        triple: false,
                        blank: false,
                    };
                    (1, Class::Code)
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
                    out.emit(chars, i..i + 1, Class::Code);
                    out.emit(chars, i + 1..end + 1, Class::Str);
                    i = end + 1;
                    continue;
                } else if let Some(end) = regex_literal(syn, chars, i, &out.code_before) {
                    out.emit(chars, i..i + 1, Class::Code);
                    out.emit(chars, i + 1..end + 1, Class::Str);
                    i = end + 1;
                    continue;
                } else {
                    (1, Class::Code)
                }
            }
        };
        let end = (i + len).min(chars.len());
        out.emit(chars, i..end, class);
        i = end;
    }
    // a string that cannot span lines ends with the line (unless its last `\` continues
    // it): an unclosed one does not parse, which the syntax layer reports
    if let State::Str {
        quote,
        triple: false,
        ..
    } = state
        && !syn.multiline_quotes.contains(&quote)
        && chars.last() != Some(&'\\')
    {
        state = State::Code;
    }
    (out.classes, state)
}

/// A line's classes as they are read.
struct Out {
    classes: Vec<Class>,
    /// The code read so far on this line: what comes before a docstring or a regex.
    code_before: String,
}

impl Out {
    fn emit(&mut self, chars: &[char], range: std::ops::Range<usize>, class: Class) {
        for k in range {
            self.classes.push(class);
            if class == Class::Code {
                self.code_before.push(chars[k]);
            }
        }
    }
}

/// Whether `text` has a Python f-string: `f"`, `rf'`, `F"""`…
fn fstring_prefix(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().any(|(i, &b)| {
        if !matches!(b, b'"' | b'\'') || i == 0 {
            return false;
        }
        // up to two prefix letters before the quote, one of them f, at a word start
        let start = bytes[..i]
            .iter()
            .rposition(|c| !c.is_ascii_alphabetic())
            .map_or(0, |p| p + 1);
        let prefix = &text[start..i];
        prefix.len() <= 2 && prefix.chars().any(|c| c.eq_ignore_ascii_case(&'f'))
    })
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
