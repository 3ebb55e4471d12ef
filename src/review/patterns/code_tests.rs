use super::*;

/// Lines numbered from `first`.
fn lines_from(first: u32, texts: &[&str]) -> Vec<Line> {
    texts
        .iter()
        .zip(first..)
        .map(|(t, number)| Line {
            number,
            text: t.to_string(),
        })
        .collect()
}

fn code_from(lang: Language, first: u32, texts: &[&str]) -> Vec<String> {
    code_of(lang, &lines_from(first, texts))
        .into_iter()
        .map(|s| s.code.trim_end().to_string())
        .collect()
}

fn code(lang: Language, texts: &[&str]) -> Vec<String> {
    code_from(lang, 1, texts)
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
fn c_like_block_comments_over_lines() {
    let got = code(
        Language::JavaScript,
        &["a(); /* eval(x)", " eval(y) */ b(); // eval(z)", "c('//')"],
    );
    let trimmed: Vec<&str> = got.iter().map(|l| l.trim()).collect();
    assert_eq!(trimmed, ["a();", "b();", "c('//')"]);
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
fn rust_lifetimes_are_not_quotes_and_strings_span_lines() {
    let got = code(
        Language::Rust,
        &[
            "fn f<'a>(s: &'a str) -> char { '\"' } // unsafe { }",
            "let s = \"a // b",
            "c\"; x(); // unsafe { }",
        ],
    );
    assert_eq!(got[0], "fn f<'a>(s: &'a str) -> char { '\"' }");
    assert_eq!(got[2], "c\"; x();");
}

#[test]
fn a_run_further_down_is_code_wherever_any_start_reads_code() {
    // this hunk starts inside an existing docstring and closes it: the code after it
    // must be seen, not blanked as a docstring the lexer thought it opened
    let got = code_from(
        Language::Python,
        40,
        &[
            "    Never call eval.",
            "    \"\"\"",
            "    x = eval(data)  # hmm",
        ],
    );
    // `# hmm` is a comment or, if the run started in a `\'\'\'` string, text: not code
    assert_eq!(got[2], "    x = eval(data)  # hmm");
    let lexed = code_of(
        Language::Python,
        &lines_from(40, &["    \"\"\"", "    x = eval(data)  # hmm"]),
    );
    let at = |s: &str| lexed[1].code.find(s).unwrap();
    assert!(!lexed[1].in_string[at("eval")]);
    assert!(lexed[1].in_string[at("hmm")]);
    // the same run at the top of a file is lexed: it starts in code for sure
    let got = code_from(Language::Python, 1, &["\"\"\"", "eval(data)", "\"\"\""]);
    assert_eq!(got[1].trim(), "");
    // a JS run further down closing a comment opened above
    let got = code_from(Language::JavaScript, 7, &["old */ eval(x); // y"]);
    assert_eq!(got[0], "old */ eval(x); // y");
    // a comment further down: a comment if the run starts in code, docstring text if it
    // starts in one — text either way, never code
    let lexed = code_of(Language::Python, &lines_from(7, &["y = 1  # eval(x)"]));
    let at = lexed[0].code.find("eval").unwrap();
    assert!(lexed[0].in_string[at], "{:?}", lexed[0].code);
    assert!(!lexed[0].in_string[0]);
    // in Go too (a comment, or text in a raw string opened above)
    let lexed = code_of(Language::Go, &lines_from(7, &["x := 1 // eval(x)"]));
    let at = lexed[0].code.find("eval").unwrap();
    assert!(lexed[0].in_string[at]);
}

#[test]
fn a_mid_comment_line_alone_is_read_as_code() {
    let got = code_from(Language::TypeScript, 40, &[" * eval(x) in a JSDoc"]);
    assert_eq!(got[0], " * eval(x) in a JSDoc");
}

#[test]
fn js_regex_literals_hold_no_quotes_and_a_division_is_not_one() {
    let got = code(
        Language::JavaScript,
        &[
            "const r = /[`'\"]/g; // eval(a)",
            "eval(b);",
            "x = a / eval(c) / 2;",
        ],
    );
    assert_eq!(
        got,
        ["const r = /[`'\"]/g;", "eval(b);", "x = a / eval(c) / 2;"]
    );
    let mid = code_from(
        Language::JavaScript,
        3,
        &["const main = 4", "y = main / eval(d) / 2"],
    );
    let lexed = code_of(
        Language::JavaScript,
        &lines_from(3, &["y = main / eval(d) / 2"]),
    );
    let at = lexed[0].code.find("eval").unwrap();
    assert!(!lexed[0].in_string[at], "{mid:?}");
    // JSX closing tags are not regexes
    let jsx = code_of(Language::Tsx, &lines_from(1, &["<a>x</a>{eval(y)}<b/>"]));
    let at = jsx[0].code.find("eval").unwrap();
    assert!(!jsx[0].in_string[at]);
}

#[test]
fn a_backslash_continued_string_goes_on() {
    let lexed = code_of(
        Language::Python,
        &lines_from(1, &["s = \"abc\\", "def\"; eval(x)"]),
    );
    let at = lexed[1].code.find("eval").unwrap();
    assert!(!lexed[1].in_string[at]);
}

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

#[test]
fn a_line_with_code_inside_a_string_is_all_code() {
    // quotes nest inside `${…}` and 3.12 f-strings: the lexer does not follow them, so
    // such a line hides nothing, and the next line may start in code
    let js = code_of(
        Language::JavaScript,
        &lines_from(1, &["const s = `${\"`\"}`; eval(x)", "eval(y); // `"]),
    );
    let at = js[0].code.find("eval").unwrap();
    assert!(!js[0].in_string[at]);
    assert!(!js[1].in_string[0], "{:?}", js[1]);
    let py = code_of(
        Language::Python,
        &lines_from(1, &["s = f\"{\"#\"}\" ; eval(y)"]),
    );
    assert!(py[0].code.contains("eval(y)"), "{:?}", py[0].code);
    let at = py[0].code.find("eval").unwrap();
    assert!(!py[0].in_string[at]);
    // an ordinary string with braces is lexed as usual
    let plain = code_of(Language::Python, &lines_from(1, &["s = \"{}\"  # eval(x)"]));
    assert!(!plain[0].code.contains("eval"));
}
