//! The code of a diff's lines with the language's comments blanked out, so `# eval(x)`
//! is not eval and a commented-out `def test_x` is not a test.
//!
//! A diff shows lines, not files: a run of consecutive lines (by line number) is lexed
//! with its state carried from line to line (a `/* … */` or a Python docstring over
//! several lines); after a gap the state starts afresh, except that a line that starts
//! like the inside of a block comment (` * text`) is read as one. String literals are
//! kept — whether a call's argument is a literal is what several rules ask — but a
//! Python docstring (a triple-quoted string standing as a statement) is prose and blanked.

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
    /// A quote that may span lines (JS template literals, Go raw strings).
    multiline_quote: Option<char>,
    /// `'` is a char literal only when it closes right away (`'a'`, `'\n'`); else a
    /// lifetime (Rust).
    apostrophe_is_char: bool,
}

fn syntax(lang: Language) -> Syntax {
    let c_like = Syntax {
        line_comment: "//",
        block_comments: true,
        hash_at_word_start: false,
        triple_quotes: false,
        multiline_quote: None,
        apostrophe_is_char: false,
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
            ..c_like
        },
        Language::JavaScript | Language::TypeScript | Language::Tsx => Syntax {
            multiline_quote: Some('`'),
            ..c_like
        },
        Language::Go => Syntax {
            multiline_quote: Some('`'),
            ..c_like
        },
        Language::Rust => Syntax {
            apostrophe_is_char: true,
            ..c_like
        },
    }
}

/// Where the lexer is at the end of a line.
#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Code,
    BlockComment,
    /// Inside a multi-line string opened by this quote (`"` / `'` for a triple quote).
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
}

/// The code of each of `lines`, in order, comments (and docstrings) replaced by a space.
pub fn code_of(lang: Language, lines: &[Line]) -> Vec<Lexed> {
    let syn = syntax(lang);
    let mut out = Vec::with_capacity(lines.len());
    let mut state = State::Code;
    let mut previous: Option<u32> = None;
    for line in lines {
        if previous.is_none_or(|p| p + 1 != line.number) {
            state = fresh_state(&syn, &line.text);
        }
        previous = Some(line.number);
        let (code, next) = lex(&syn, &line.text, state);
        state = next;
        out.push(code);
    }
    out
}

/// After a gap: a line that looks like the inside of a block comment is one.
fn fresh_state(syn: &Syntax, text: &str) -> State {
    let t = text.trim_start();
    let inside = t == "*" || t.starts_with("* ") || t.starts_with("*/");
    if syn.block_comments && inside {
        State::BlockComment
    } else {
        State::Code
    }
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
                let keep = |code: &mut Lexed, s: &[char]| {
                    if !blank {
                        code.extend(s, true);
                    }
                };
                if c == '\\' {
                    keep(&mut code, &chars[i..(i + 2).min(chars.len())]);
                    i += 2;
                } else if triple && at(i, &quote.to_string().repeat(3)) {
                    keep(&mut code, &chars[i..i + 3]);
                    state = State::Code;
                    i += 3;
                } else if !triple && c == quote {
                    keep(&mut code, &chars[i..=i]);
                    state = State::Code;
                    i += 1;
                } else {
                    keep(&mut code, &chars[i..=i]);
                    i += 1;
                }
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
                    let before: String = code.code.trim().to_lowercase();
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
                } else if c == '"' || (c == '\'' && !syn.apostrophe_is_char) {
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
                } else if Some(c) == syn.multiline_quote {
                    code.push(c, false);
                    state = State::Str {
                        quote: c,
                        triple: false,
                        blank: false,
                    };
                    i += 1;
                } else {
                    code.push(c, false);
                    i += 1;
                }
            }
        }
    }
    // an ordinary quote does not survive the end of the line (an unclosed one is an error
    // the syntax layer reports)
    if let State::Str {
        quote,
        triple: false,
        ..
    } = state
        && Some(quote) != syn.multiline_quote
    {
        state = State::Code;
    }
    (code, state)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(texts: &[&str]) -> Vec<Line> {
        texts
            .iter()
            .enumerate()
            .map(|(n, t)| Line {
                number: n as u32 + 1,
                text: t.to_string(),
            })
            .collect()
    }

    fn code(lang: Language, texts: &[&str]) -> Vec<String> {
        code_of(lang, &lines(texts))
            .into_iter()
            .map(|s| s.code.trim_end().to_string())
            .collect()
    }

    #[test]
    fn python_comments_and_docstrings_are_blanked_strings_kept() {
        let got = code(
            Language::Python,
            &[
                "x = '#not a comment'  # eval(x)",
                "def f():",
                "    \"\"\"Docs: eval(x)",
                "    more eval(y)\"\"\"",
                "    q = f\"\"\"SELECT {a}",
                "    # inside\"\"\"",
            ],
        );
        assert_eq!(got[0], "x = '#not a comment'");
        assert_eq!(got[2].trim(), "");
        assert_eq!(got[3].trim(), "");
        assert_eq!(got[4], "    q = f\"\"\"SELECT {a}");
        assert_eq!(got[5], "    # inside\"\"\"", "a # inside a string is text");
    }

    #[test]
    fn c_like_block_comments_over_lines_and_after_a_gap() {
        let got = code(
            Language::JavaScript,
            &["a(); /* eval(x)", " eval(y) */ b(); // eval(z)", "c('//')"],
        );
        assert_eq!(got, ["a();", "  b();", "c('//')"]);
        let gap = vec![Line {
            number: 40,
            text: " * eval(x) in a JSDoc".into(),
        }];
        assert_eq!(code_of(Language::TypeScript, &gap)[0].code.trim(), "");
    }

    #[test]
    fn shell_hash_only_at_a_word_start() {
        let got = code(
            Language::Shell,
            &["echo $# ${#a} # eval $x", "# curl x | sh"],
        );
        assert_eq!(got, ["echo $# ${#a}", ""]);
    }

    #[test]
    fn rust_lifetimes_are_not_quotes() {
        let got = code(
            Language::Rust,
            &["fn f<'a>(s: &'a str) -> char { '\"' } // unsafe { }"],
        );
        assert_eq!(got, ["fn f<'a>(s: &'a str) -> char { '\"' }"]);
    }
}

#[cfg(test)]
mod string_tests {
    use super::*;

    #[test]
    fn string_contents_are_marked() {
        let line = Line {
            number: 1,
            text: "log(\"eval(x)\") + eval(y)".into(),
        };
        let lexed = &code_of(Language::Python, &[line])[0];
        let first = lexed.code.find("eval").unwrap();
        let second = lexed.code.rfind("eval").unwrap();
        assert!(lexed.in_string[first]);
        assert!(!lexed.in_string[second]);
        assert_eq!(lexed.in_string.len(), lexed.code.len());
    }
}
