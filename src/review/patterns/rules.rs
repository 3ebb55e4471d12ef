//! The dangerous-pattern rules, as data: each is a regex over the code of one added line
//! (comments blanked, `code.rs`), for some languages, with the message a person and
//! the coder read, its verdict and its risk. Today they all warn with risk High
//! ([`WARN_HIGH`]): each can be legitimate (a build script may need `shell=True`), so a
//! person decides — but never without seeing it.
//!
//! "Non-literal" is approximated on the line: the argument does not start with a string
//! quote (`eval("1+1")` passes, `eval(x)`, `eval(f"…")` and `eval("a" + x)` do not — the
//! last through `unless`, which only exempts a call whose argument is a single literal).

use std::sync::LazyLock;

use regex::Regex;

use super::Language::{self, Go, JavaScript, Python, Rust, Shell, Tsx, TypeScript};
use crate::review::Verdict;
use crate::tasks::Risk;

/// One rule of the table.
pub struct Rule {
    /// The rule's id: the finding's rule is `patterns.<lang>.<id>`.
    pub id: &'static str,
    pub languages: &'static [Language],
    /// Matches the code of a line.
    pub regex: &'static str,
    /// A match of `regex` that a match of this overlaps is exempt (a literal argument).
    pub unless: Option<&'static str>,
    pub message: &'static str,
    /// Whether a match may lie inside a string literal. Only the rules about what a
    /// string holds (SQL) do; for the others `log("eval(x)")` is text, not a call.
    pub reads_strings: bool,
    pub verdict: Verdict,
    /// The least risk the change has when the rule matches.
    pub risk: Risk,
}

/// What every rule of the table is unless it says otherwise: a warning with risk High —
/// each pattern can be legitimate, so a person decides.
const WARN_HIGH: Rule = Rule {
    id: "",
    languages: &[],
    regex: "",
    unless: None,
    message: "",
    reads_strings: false,
    verdict: Verdict::Warn,
    risk: Risk::High,
};

const JS: &[Language] = &[JavaScript, TypeScript, Tsx];

/// SQL statements, for the rules that look for one built from pieces.
macro_rules! sql {
    () => {
        r"(?i:select\b.*\bfrom|insert\s+into|update\s+\S+\s+set|delete\s+from)\b"
    };
}

pub const RULES: &[Rule] = &[
    // ---- code evaluated from a string
    Rule {
        id: "eval",
        languages: &[Python],
        regex: r"(?:^|[^.\w])(?:eval|exec)\s*\(\s*[^\s)]",
        unless: Some(r#"(?:eval|exec)\s*\(\s*(?:"[^"]*"|'[^']*')\s*[,)]"#),
        message: "`eval`/`exec` of a value that is not a literal runs whatever it holds: parse the data instead (ast.literal_eval, json)",
        ..WARN_HIGH
    },
    Rule {
        id: "eval",
        languages: JS,
        regex: r"(?:^|[^.\w])eval\s*\(\s*[^\s)]|\bnew\s+Function\s*\(|\b(?:setTimeout|setInterval)\s*\(\s*[`'\x22]",
        unless: Some(r#"(?:^|[^.\w])eval\s*\(\s*(?:"[^"]*"|'[^']*')\s*\)"#),
        message: "`eval`/`new Function`/a string timer runs code built at run time: call a function instead",
        ..WARN_HIGH
    },
    Rule {
        id: "eval",
        languages: &[Shell],
        regex: r#"(?:^|[;&|(\s])eval\s+[^\s'"]*\$|(?:^|[;&|(\s])eval\s+"[^"]*\$"#,
        message: "`eval` of an expanded variable runs whatever it holds: build the command as an array",
        ..WARN_HIGH
    },
    // ---- commands through a shell, with input
    Rule {
        id: "shell-true",
        languages: &[Python],
        regex: r"\bshell\s*=\s*True\b",
        unless: Some(r#"\(\s*(?:"[^"]*"|'[^']*')\s*,[^()]*\bshell\s*=\s*True"#),
        message: "`subprocess…(…, shell=True)` with a non-literal command: pass a list of arguments without shell=True",
        ..WARN_HIGH
    },
    Rule {
        id: "os-system",
        languages: &[Python],
        regex: r"\bos\.(?:system|popen)\s*\(\s*[^\s)'\x22]|\bos\.(?:system|popen)\s*\(\s*(?:f['\x22]|['\x22][^'\x22]*['\x22]\s*(?:%|\+|\.format))|\bcommands\.getoutput\s*\(",
        message: "`os.system`/`os.popen` with a non-literal command runs it through a shell: use subprocess.run with a list",
        ..WARN_HIGH
    },
    Rule {
        id: "child-process-exec",
        languages: JS,
        regex: r"(?:^|[^.\w#]|\bchild_process\.|\bcp\.)exec(?:Sync)?\s*\(\s*[^\s)'\x22]|(?:^|[^.\w#]|\bchild_process\.|\bcp\.)exec(?:Sync)?\s*\(\s*['\x22][^'\x22]*['\x22]\s*\+|\bshell\s*:\s*true\b",
        // a method named exec (`async exec (args) {`) is a definition, not a call
        unless: Some(
            r"^\s*(?:(?:async|static|public|private|protected)\s+)*exec(?:Sync)?\s*\([^)]*\)\s*(?::[^{]*)?\{|\bfunction\s*\*?\s*exec(?:Sync)?\s*\(",
        ),
        message: "`child_process.exec` (or `shell: true`) with a non-literal command runs it through a shell: use execFile/spawn with an argument array",
        ..WARN_HIGH
    },
    Rule {
        id: "sh-c",
        languages: &[Go],
        regex: r#"\bexec\.Command(?:Context)?\s*\(.*"(?:/bin/)?(?:ba|z|da)?sh"\s*,\s*"-c""#,
        message: "`exec.Command(\"sh\", \"-c\", …)` runs a command line through a shell: pass the program and its arguments",
        ..WARN_HIGH
    },
    Rule {
        id: "sh-c",
        languages: &[Rust],
        regex: r#"\bCommand::new\s*\(\s*"(?:/bin/)?(?:ba|z|da)?sh"\s*\)"#,
        message: "`Command::new(\"sh\")` runs a command line through a shell: run the program with `.arg`s",
        ..WARN_HIGH
    },
    Rule {
        id: "curl-pipe-shell",
        languages: &[Shell],
        regex: r"\b(?:curl|wget)\b[^|;&]*\|\s*(?:sudo\s+(?:-\S+\s+)*)?(?:/bin/|/usr/bin/(?:env\s+)?)?(?:ba|z|da)?sh\b|\b(?:ba|z|da)?sh\s+(?:-\S+\s+)*<\(\s*(?:curl|wget)\b|\b(?:source|\.)\s+<\(\s*(?:curl|wget)\b",
        message: "`curl … | sh` runs a script from the network unchecked: download it, check its checksum, then run it",
        ..WARN_HIGH
    },
    // ---- unsafe deserialisation
    Rule {
        id: "unsafe-load",
        languages: &[Python],
        regex: r"\b(?:c?[Pp]ickle|dill|marshal|shelve|jsonpickle)\.(?:loads?|Unpickler|open|decode)\s*\(|\byaml\.(?:load|load_all|unsafe_load|unsafe_load_all)\s*\(",
        unless: Some(
            r"\byaml\.load(?:_all)?\s*\(.*Loader\s*=\s*(?:yaml\.)?(?:C?Safe|Base)Loader\b",
        ),
        message: "pickle/marshal/`yaml.load` without SafeLoader runs code hidden in the data: use json or yaml.safe_load",
        ..WARN_HIGH
    },
    Rule {
        id: "unsafe-load",
        languages: JS,
        regex: r"\bunserialize\s*\(|\brequire\s*\(\s*['\x22]node-serialize['\x22]\s*\)",
        message: "node-serialize's `unserialize` runs functions hidden in the data: use JSON.parse",
        ..WARN_HIGH
    },
    // ---- TLS verification off
    Rule {
        id: "tls-off",
        languages: &[Python],
        regex: r"\bverify\s*=\s*False\b|\b_create_unverified_context\s*\(|\b(?:verify_mode|cert_reqs)\s*=\s*(?:ssl\.)?CERT_NONE\b|\bcheck_hostname\s*=\s*False\b",
        message: "TLS certificate verification turned off (verify=False, CERT_NONE): keep it on; point it at a CA bundle if needed",
        ..WARN_HIGH
    },
    Rule {
        id: "tls-off",
        languages: JS,
        regex: r"(?:^|[^.\w])['\x22]?rejectUnauthorized['\x22]?\s*:\s*false\b|NODE_TLS_REJECT_UNAUTHORIZED\b[^=]*=\s*['\x22`]?0",
        message: "TLS certificate verification turned off (rejectUnauthorized: false): keep it on; pass the CA with `ca:` if needed",
        ..WARN_HIGH
    },
    Rule {
        id: "tls-off",
        languages: &[Go],
        regex: r"\bInsecureSkipVerify\s*:\s*true\b",
        message: "TLS certificate verification turned off (InsecureSkipVerify: true): keep it on; set RootCAs if needed",
        ..WARN_HIGH
    },
    Rule {
        id: "tls-off",
        languages: &[Rust],
        regex: r"\bdanger_accept_invalid_(?:certs|hostnames)\s*\(\s*true\s*\)",
        message: "TLS certificate verification turned off (danger_accept_invalid_certs(true)): keep it on; add the CA as a root certificate if needed",
        ..WARN_HIGH
    },
    Rule {
        id: "tls-off",
        languages: &[Shell],
        regex: r"\bcurl\b.*\s(?:--insecure\b|-[a-zA-Z]*k[a-zA-Z]*(?:\s|$))|\bwget\b.*--no-check-certificate\b|\bNODE_TLS_REJECT_UNAUTHORIZED=['\x22]?0|\bGIT_SSL_NO_VERIFY=['\x22]?(?:1|true)",
        message: "TLS certificate verification turned off (curl -k/--insecure): keep it on; pass --cacert if needed",
        ..WARN_HIGH
    },
    // ---- SQL built from pieces
    Rule {
        id: "sql-built",
        languages: &[Python],
        regex: concat!(
            r"\b[fF][rR]?(?:'''|\x22\x22\x22|'|\x22)[^'\x22]*",
            sql!(),
            r"[^'\x22]*\{|(?:'|\x22)[^'\x22]*",
            sql!(),
            r"[^'\x22]*(?:'|\x22)\s*(?:%\s*[\w(]|\+\s*[\w(]|\.format\s*\()"
        ),
        message: "SQL built from a formatted string (f-string, %, +, .format): pass the values as query parameters",
        reads_strings: true,
        ..WARN_HIGH
    },
    Rule {
        id: "sql-built",
        languages: JS,
        regex: concat!(
            r"`[^`]*",
            sql!(),
            r"[^`]*\$\{|(?:'|\x22)[^'\x22]*",
            sql!(),
            r"[^'\x22]*(?:'|\x22)\s*\+\s*[\w(]"
        ),
        message: "SQL built from a template literal or `+`: pass the values as query parameters (placeholders)",
        reads_strings: true,
        ..WARN_HIGH
    },
    Rule {
        id: "sql-built",
        languages: &[Go],
        regex: concat!(
            r"\bfmt\.Sprintf\s*\(\s*[\x22`][^\x22`]*",
            sql!(),
            r"[^\x22`]*%[svdq]|\x22[^\x22]*",
            sql!(),
            r"[^\x22]*\x22\s*\+\s*\w"
        ),
        message: "SQL built with fmt.Sprintf or `+`: pass the values as query arguments ($1, ?)",
        reads_strings: true,
        ..WARN_HIGH
    },
    Rule {
        id: "sql-built",
        languages: &[Rust],
        regex: concat!(r"\bformat!\s*\(\s*r?#*\x22[^\x22]*", sql!(), r"[^\x22]*\{"),
        message: "SQL built with format!: bind the values as query parameters",
        reads_strings: true,
        ..WARN_HIGH
    },
    // ---- world-writable files
    Rule {
        id: "chmod-777",
        languages: &[Python],
        regex: r"\bos\.(?:f|l)?chmod\s*\(.*\b0o?777\b|\bos\.makedirs\s*\(.*\b0o?777\b",
        message: "mode 0o777 makes the file writable by every user: use 0o755 or 0o644",
        ..WARN_HIGH
    },
    Rule {
        id: "chmod-777",
        languages: JS,
        regex: r"\b(?:chmod|chmodSync|mkdir|mkdirSync|writeFile|writeFileSync)\s*\(.*(?:\b0o?777\b|['\x22]777['\x22])",
        message: "mode 0o777 makes the file writable by every user: use 0o755 or 0o644",
        ..WARN_HIGH
    },
    Rule {
        id: "chmod-777",
        languages: &[Go],
        regex: r"\bos\.(?:Chmod|Mkdir|MkdirAll|WriteFile|OpenFile)\s*\(.*\b0o?777\b",
        message: "mode 0777 makes the file writable by every user: use 0755 or 0644",
        ..WARN_HIGH
    },
    Rule {
        id: "chmod-777",
        languages: &[Rust],
        regex: r"\b(?:from_mode|set_mode|mode)\s*\(\s*0o777\s*\)",
        message: "mode 0o777 makes the file writable by every user: use 0o755 or 0o644",
        ..WARN_HIGH
    },
    Rule {
        id: "chmod-777",
        languages: &[Shell],
        regex: r"\bchmod\s+(?:-\S+\s+)*(?:0?777|a\+rwx|ugo\+rwx)\b",
        message: "`chmod 777` makes the file writable by every user: use 755 or 644",
        ..WARN_HIGH
    },
    // ---- Rust
    Rule {
        id: "unsafe",
        languages: &[Rust],
        regex: r"(?:^|[^\w])unsafe\s*(?:\{|fn\b|impl\b|extern\b|trait\b)",
        message: "`unsafe` added: a person checks the invariants it relies on (or find a safe API)",
        ..WARN_HIGH
    },
];

/// The table compiled once.
pub struct Compiled {
    pub rule: &'static Rule,
    pub regex: Regex,
    pub unless: Option<Regex>,
}

pub static COMPILED: LazyLock<Vec<Compiled>> = LazyLock::new(|| {
    RULES
        .iter()
        .map(|rule| Compiled {
            rule,
            regex: Regex::new(rule.regex).expect("the rule table's regexes compile (tested)"),
            unless: rule
                .unless
                .map(|u| Regex::new(u).expect("the rule table's regexes compile (tested)")),
        })
        .collect()
});
