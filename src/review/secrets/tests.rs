//! The secrets layer on real diffs. No credential-shaped literal is written in this file:
//! each token is built at run time from its format's prefix and a pseudo-random body, so
//! the layer (or anyone's scanner) reviewing this repository finds nothing here.

use super::*;
use crate::review::Verdict;
use crate::review::diff::{self, Line, Status};
use crate::review::test_git::git;

/// `len` characters of `alphabet`, the same for the same seed.
fn random(seed: u64, len: usize, alphabet: &str) -> String {
    let alphabet = alphabet.as_bytes();
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            char::from(alphabet[((state >> 33) % alphabet.len() as u64) as usize])
        })
        .collect()
}

const UPPER_DIGITS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const BASE64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// One line per family: (the rule expected, the secret, the added line).
fn families() -> Vec<(&'static str, String, String)> {
    let aws_id = format!("{}{}", "AKIA", random(1, 16, UPPER_DIGITS));
    let aws_secret = random(2, 40, BASE64);
    let gh = |prefix: &str, seed| format!("{prefix}{}", random(seed, 36, ALNUM));
    let pat = format!(
        "{}{}",
        "github_pat_",
        random(
            9,
            82,
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"
        )
    );
    let slack = format!(
        "{}-{}-{}-{}",
        "xoxb",
        random(10, 12, "0123456789"),
        random(11, 13, "0123456789"),
        random(12, 24, ALNUM)
    );
    let webhook = format!(
        "https://hooks.slack.com/services/T{}/B{}/{}",
        random(13, 8, UPPER_DIGITS),
        random(14, 10, UPPER_DIGITS),
        random(15, 24, ALNUM)
    );
    let stripe = format!("{}{}", "sk_live_", random(16, 24, ALNUM));
    let restricted = format!("{}{}", "rk_live_", random(17, 24, ALNUM));
    let jwt = format!(
        "{}.{}.{}",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
        ["eyJzdWIiOi", &random(18, 60, ALNUM)].concat(),
        random(19, 43, URL_SAFE)
    );
    let generic = random(20, 32, "abcdef0123456789");
    let password = format!("{}!{}", random(21, 6, ALNUM), random(22, 6, ALNUM));
    let entropy = random(23, 40, BASE64);
    let pem = format!("-----BEGIN {} PRIVATE KEY-----", "RSA");
    vec![
        (
            "aws-access-token",
            aws_id.clone(),
            format!("AWS_ACCESS_KEY_ID = \"{aws_id}\""),
        ),
        (
            "aws-secret-access-key",
            aws_secret.clone(),
            format!("aws_secret_access_key = {aws_secret}"),
        ),
        (
            "github-pat",
            gh("ghp_", 3),
            format!("GITHUB_TOKEN=\"{}\"", gh("ghp_", 3)),
        ),
        (
            "github-oauth",
            gh("gho_", 4),
            format!("auth = '{}'", gh("gho_", 4)),
        ),
        (
            "github-app-token",
            gh("ghu_", 5),
            format!("headers['Authorization'] = 'token {}'", gh("ghu_", 5)),
        ),
        (
            "github-app-token",
            gh("ghs_", 6),
            format!("let t = \"{}\";", gh("ghs_", 6)),
        ),
        (
            "github-refresh-token",
            gh("ghr_", 7),
            format!("refresh: {}", gh("ghr_", 7)),
        ),
        (
            "github-fine-grained-pat",
            pat.clone(),
            format!("const pat = `{pat}`"),
        ),
        (
            "slack-access-token",
            slack.clone(),
            format!("SLACK_BOT=\"{slack}\""),
        ),
        (
            "slack-web-hook",
            webhook.clone(),
            format!("requests.post(\"{webhook}\", json=msg)"),
        ),
        (
            "stripe-access-token",
            stripe.clone(),
            format!("stripe.api_key = \"{stripe}\""),
        ),
        (
            "stripe-restricted-key",
            restricted.clone(),
            format!("STRIPE_KEY: {restricted}"),
        ),
        ("private-key-header", pem.clone(), pem),
        ("jwt", jwt.clone(), format!("Authorization: Bearer {jwt}")),
        (
            "generic-api-key",
            generic.clone(),
            format!("api_key = \"{generic}\""),
        ),
        (
            "generic-password",
            password.clone(),
            format!("DB_PASSWORD = \"{password}\""),
        ),
        (
            ENTROPY_RULE,
            entropy.clone(),
            format!("token = \"{entropy}\""),
        ),
    ]
}

/// A diff adding `added` to `path` and removing `removed` from it.
fn diff_of(path: &str, added: &[String], removed: &[String]) -> Diff {
    let lines = |v: &[String]| {
        v.iter()
            .enumerate()
            .map(|(n, t)| Line {
                number: n as u32 + 1,
                text: t.clone(),
            })
            .collect()
    };
    Diff {
        files: vec![FileDiff {
            path: path.to_string(),
            status: Status::Modified,
            binary: false,
            added: lines(added),
            removed: lines(removed),
        }],
    }
}

#[test]
fn each_family_is_caught_in_an_added_line_as_a_final_block() {
    for (rule, secret, line) in families() {
        let findings = check(&diff_of(
            "app/settings.py",
            std::slice::from_ref(&line),
            &[],
        ));
        let expected = format!("secrets.{rule}");
        assert_eq!(findings.len(), 1, "{rule}: {line}: {findings:#?}");
        let f = &findings[0];
        assert_eq!(f.rule, expected, "{line}");
        assert_eq!(f.layer, Layer::Secrets);
        assert_eq!(f.verdict, Verdict::Block);
        assert_eq!(f.risk, Risk::Critical);
        assert!(f.final_block, "{rule}");
        assert_eq!(f.file.as_deref(), Some("app/settings.py"));
        assert_eq!(f.line, Some(1));
        assert!(
            f.message.contains("rules") || f.message.contains("entropy check"),
            "{}",
            f.message
        );
        // never the value: no 5 characters of it past a 4-character prefix
        for window in secret.as_bytes().windows(5).skip(4) {
            let window = String::from_utf8_lossy(window);
            assert!(
                !f.message.contains(window.as_ref()),
                "{rule}: `{}` leaks {window}",
                f.message
            );
        }
    }
}

#[test]
fn the_message_names_the_kind_the_rule_set_and_only_the_prefix() {
    let (_, _, line) = families().remove(0);
    let f = &check(&diff_of("deploy.sh", &[line], &[]))[0];
    assert!(f.message.starts_with("AWS"), "{}", f.message);
    assert!(f.message.contains("`AKIA…`"), "{}", f.message);
    assert!(f.message.contains("gitleaks 8.16.0 rules"), "{}", f.message);
    assert!(f.located().starts_with("deploy.sh:1: "), "{}", f.located());
    let pem = format!("-----BEGIN {} PRIVATE KEY-----", "EC");
    let f = &check(&diff_of("key.pem", &[pem], &[]))[0];
    assert!(
        f.message
            .starts_with("Private Key (PEM header) (found by dayshift's rules)"),
        "{}",
        f.message
    );
}

#[test]
fn a_secret_in_a_removed_line_is_leaving_not_a_finding() {
    for (rule, _, line) in families() {
        let findings = check(&diff_of("app/settings.py", &[], &[line]));
        assert!(findings.is_empty(), "{rule}: {findings:?}");
    }
}

#[test]
fn one_finding_per_line_and_rule_and_the_known_format_wins() {
    let (_, _, aws) = families().remove(0);
    let added = vec![format!("{aws}  # {aws}"), "x = 1".to_string(), aws.clone()];
    let findings = check(&diff_of("a.py", &added, &[]));
    let at: Vec<_> = findings.iter().map(|f| (f.line, f.rule.as_str())).collect();
    assert_eq!(
        at,
        [
            (Some(1), "secrets.aws-access-token"),
            (Some(3), "secrets.aws-access-token")
        ],
        "the generic rule is not repeated beside the known format"
    );
}

#[test]
fn a_real_format_token_in_a_test_fixture_is_still_a_warning() {
    // an attacker who reads the allow-list puts the key under tests/ with a friendly comment
    let key = format!("{}{}", "AKIA", random(40, 16, UPPER_DIGITS));
    let line = format!("KEY = \"{key}\"  # example, fake, dummy key for tests: gitleaks:allow");
    for path in [
        "tests/fixtures/aws.py",
        "src/test_upload.py",
        "web/vendor/sdk.js",
        "package-lock.json",
    ] {
        let findings = check(&diff_of(path, std::slice::from_ref(&line), &[]));
        assert_eq!(findings.len(), 1, "{path}: {findings:?}");
        let f = &findings[0];
        assert_eq!(f.rule, "secrets.aws-access-token");
        assert_eq!(f.verdict, Verdict::Warn, "{path}");
        assert_eq!(f.risk, Risk::High, "{path}");
        assert!(!f.final_block);
        assert!(f.message.contains("a person must confirm"), "{}", f.message);
    }
    // and the same comment does not excuse it anywhere else
    let f = &check(&diff_of("src/upload.py", &[line], &[]))[0];
    assert!(f.final_block);
}

#[test]
fn generic_and_entropy_rules_are_relaxed_on_test_paths_only() {
    let all = families();
    let relaxable: Vec<String> = all
        .iter()
        .filter(|(rule, ..)| rule.starts_with("generic") || *rule == ENTROPY_RULE)
        .map(|(_, _, line)| line.clone())
        .collect();
    assert_eq!(relaxable.len(), 3);
    assert!(check(&diff_of("tests/test_client.py", &relaxable, &[])).is_empty());
    // names that only look like relaxed paths (gitleaks' own path list would match some)
    for path in [
        "client.py",
        "src/vendor_keys.py",
        "robin",
        "latest/tests.md.py",
    ] {
        let findings = check(&diff_of(path, &relaxable, &[]));
        assert_eq!(findings.len(), 3, "{path}: {findings:#?}");
        assert!(findings.iter().all(|f| f.final_block), "{path}");
    }
}

#[test]
fn a_placeholder_first_does_not_hide_a_random_token_after_it() {
    let line = format!(
        "creds = (\"{}\", \"{}\")",
        "Xx9Kq2Lm7Pz4Rt6Vw8Ny3Bc5EXAMPLE1",
        random(60, 40, BASE64)
    );
    let first = entropy::find(&line).expect("the placeholder is a high-entropy token too");
    assert!(allow::placeholder(&line[first.start..first.end]));
    let findings = check(&diff_of("src/creds.py", &[line], &[]));
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].rule, format!("secrets.{ENTROPY_RULE}"));
}

#[test]
fn documented_examples_and_placeholders_pass_anywhere() {
    let lines = [
        "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "api_key = \"<your-api-key>\"",
        "API_KEY=${API_KEY}",
        "password: \"changeme\"",
        "token = os.environ[\"GITHUB_TOKEN\"]",
        "password = \"xxxxxxxxxxxx\"",
        "secret = \"{{ secrets.DEPLOY_KEY }}\"",
        "DB_PASSWORD = \"dummy-pass-1\"",
    ]
    .map(str::to_string);
    let findings = check(&diff_of("src/config.py", &lines, &[]));
    assert!(findings.is_empty(), "{findings:#?}");
}

/// Real code, named as if it were the application's: no finding. (The files are under
/// testdata/, a relaxed path, so the layer reviewing this repository would not even run
/// the generic rules on them; here they are judged as ordinary source.)
#[test]
fn clean_real_python_and_javascript_have_no_finding() {
    for (path, text) in [
        (
            "more_itertools/recipes.py",
            include_str!("../../../tests/fixtures/review/more_itertools_recipes.py"),
        ),
        ("lib/auth.js", include_str!("testdata/auth.js")),
        ("src/review/secrets/mod.rs", include_str!("mod.rs")),
        ("src/review/secrets/entropy.rs", include_str!("entropy.rs")),
    ] {
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        assert!(lines.len() > 150, "{path}");
        let findings = check(&diff_of(path, &lines, &[]));
        assert!(findings.is_empty(), "{path}: {findings:#?}");
    }
}

#[test]
fn lockfile_integrity_lines_have_no_finding_even_outside_a_lockfile() {
    let text = include_str!("testdata/package-lock.json");
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    assert!(
        lines
            .iter()
            .filter(|l| l.contains("\"integrity\": \"sha512-"))
            .count()
            >= 5
    );
    for path in ["package-lock.json", "web/deps.json"] {
        let findings = check(&diff_of(path, &lines, &[]));
        assert!(findings.is_empty(), "{path}: {findings:#?}");
    }
}

#[test]
fn binary_files_and_empty_diffs_have_no_finding() {
    let (_, _, aws) = families().remove(0);
    let mut d = diff_of("blob.bin", &[aws], &[]);
    d.files[0].binary = true;
    assert!(check(&d).is_empty());
    assert!(check(&Diff::default()).is_empty());
}

#[test]
fn the_scanner_reports_hits_per_line() {
    let scanner = Scanner::new();
    assert!(scanner.rule_count() > 147);
    assert!(
        scanner
            .scan_line("let total = items.iter().sum::<u32>();")
            .is_empty()
    );
    let (_, _, line) = families().remove(2);
    let hits = scanner.scan_line(&line);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].rule, "github-pat");
    assert_eq!(hits[0].prefix.as_deref(), Some("ghp_"));
    assert!(!hits[0].generic);
}

#[test]
fn a_rule_is_compiled_only_when_its_keyword_appears() {
    let scanner = Scanner::new();
    assert_eq!(scanner.compiled_count(), 0, "loading compiles nothing");
    scanner.scan_line("fn main() { println!(\"{}\", 1 + 2); }");
    assert_eq!(scanner.compiled_count(), 0, "no keyword, no regex");
    let (_, _, line) = families().remove(2);
    assert_eq!(scanner.scan_line(&line).len(), 1);
    let compiled = scanner.compiled_count();
    assert!(
        (1..=6).contains(&compiled),
        "{compiled} rules compiled for one GitHub token"
    );
}

/// Through real git: a base commit holding one token, a change that removes it and adds
/// another file with a different one. Only the added token is found, at its line.
#[test]
fn through_real_git_only_the_added_token_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    git(root, &["init", "-q", "-b", "main"]);
    let old = format!("{}{}", "ghp_", random(50, 36, ALNUM));
    std::fs::write(
        root.join("old.py"),
        format!("import os\nTOKEN = \"{old}\"\n"),
    )
    .unwrap();
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "base"]);
    std::fs::write(
        root.join("old.py"),
        "import os\nTOKEN = os.environ[\"TOKEN\"]\n",
    )
    .unwrap();
    let new = format!("{}{}", "sk_live_", random(51, 24, ALNUM));
    std::fs::create_dir_all(root.join("billing")).unwrap();
    std::fs::write(
        root.join("billing/charge.py"),
        format!("import stripe\n\n\nstripe.api_key = \"{new}\"\n"),
    )
    .unwrap();
    git(root, &["add", "-A"]);
    let text = git(root, &["diff", "--cached", "main"]);
    let parsed = diff::parse(&text).unwrap();
    let findings = check(&parsed);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = &findings[0];
    assert_eq!(f.rule, "secrets.stripe-access-token");
    assert_eq!(f.file.as_deref(), Some("billing/charge.py"));
    assert_eq!(f.line, Some(4));
    assert!(f.final_block);
    assert!(!f.message.contains(&new[8..]), "{}", f.message);
}

/// The entropy check's thresholds against chance: random 40-character base64 tokens are
/// found (nearly) always, random 24-character ones mostly.
#[test]
fn the_entropy_check_finds_random_tokens_reliably() {
    let scanner = Scanner::new();
    let rate = |len: usize| {
        (0..200u64)
            .filter(|&seed| {
                let line = format!("signing = \"{}\"", random(1_000 + seed, len, BASE64));
                scanner
                    .scan_line(&line)
                    .iter()
                    .any(|h| h.rule == ENTROPY_RULE)
            })
            .count()
    };
    let (long, short) = (rate(40), rate(24));
    assert!(long >= 194, "40 characters: {long} of 200 found");
    assert!(short >= 150, "24 characters: {short} of 200 found");
}

/// A whole file's text ([`Scanner::scan_text`], the scanner's fast path) finds what the
/// same lines find one by one: every family, an entropy token on a line that names no
/// keyword, CRLF line ends, a last line with no newline, lines with no secret between,
/// and dayshift's own sources.
#[test]
fn a_whole_text_finds_what_its_lines_find() {
    let scanner = Scanner::new();
    let mut lines: Vec<String> = vec![format!("KEY = \"{}\"", random(7, 40, BASE64))];
    for (i, (_, _, line)) in families().into_iter().enumerate() {
        lines.push(format!("x = {i}  # nothing here, they said"));
        lines.push(line);
    }
    // a line only the long-token pass finds: it names no keyword
    let digest = format!("digest = \"{}\"", random(11, 40, BASE64));
    assert!(scanner.rules_named_on(&digest).is_empty(), "{digest}");
    lines.push(digest);
    let digest_line = lines.len() as u32;
    let mut texts = vec![
        ("app/settings.py".to_string(), lines.join("\n")),
        ("app/windows.py".to_string(), lines.join("\r\n") + "\r\n"),
    ];
    for dir in ["src/review", "src/review/secrets", "src/scan"] {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            if let Ok(text) = std::fs::read_to_string(entry.path()) {
                texts.push((entry.path().display().to_string(), text));
            }
        }
    }
    // the same finding, said as a change's (an added line) or as a file's
    let key = |f: &Finding| {
        let message = f.message.replace(" in an added line of ", " in ");
        let message = message.replace(
            " in an added line: take it out of the change",
            ": take it out of the code",
        );
        (f.line, f.rule.clone(), f.risk, f.final_block, message)
    };
    let mut found = 0;
    for (path, text) in &texts {
        let added: Vec<String> = text.lines().map(str::to_string).collect();
        let file = &diff_of(path, &added, &[]).files[0];
        let by_line: Vec<_> = scanner.scan_file(file).iter().map(key).collect();
        let whole: Vec<_> = scanner.scan_text(path, text).iter().map(key).collect();
        assert_eq!(whole, by_line, "{path}");
        if path.starts_with("app/") {
            assert!(
                whole
                    .iter()
                    .any(|(line, rule, ..)| *line == Some(digest_line)
                        && rule == "secrets.high-entropy-string"),
                "{path}: {whole:?}"
            );
        }
        found += whole.len();
    }
    assert!(found >= 2 * families().len(), "{found} findings");
}

/// A rule whose every match holds a run of token characters as long as the entropy
/// check's is not tried on a line without one (the one-pass walk knows); the rules that
/// match shorter values always are. `a_whole_text_finds_what_its_lines_find` checks that
/// this skips no finding.
#[test]
fn rules_whose_matches_need_a_long_run_are_known_from_their_regexes() {
    let set = rules::builtin().unwrap();
    let least = |id: &str| {
        set.rules
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.least_run())
            .unwrap()
    };
    for id in ["jwt", "telegram-bot-api-token", "lob-api-key", "github-pat"] {
        assert!(least(id) >= entropy::MIN_LEN, "{id}: {}", least(id));
    }
    for id in ["generic-api-key", "generic-password", "aws-access-token"] {
        assert!(least(id) < entropy::MIN_LEN, "{id}: {}", least(id));
    }
}

/// gitleaks' generic rule is not tried on a line without a digit other than 0: its
/// secret needs one, and the secret is part of the line. Every line here that has none
/// is matched against the rule in full — the gate skips nothing it would have found.
#[test]
fn the_generic_rule_needs_a_digit_and_a_line_without_one_cannot_match() {
    let scanner = Scanner::new();
    let gated: Vec<&Rule> = scanner
        .set
        .rules
        .iter()
        .filter(|r| r.needs_digit())
        .collect();
    let ids: Vec<&str> = gated.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["generic-api-key"]);
    let rule = gated[0];
    let with_digits = random(20, 32, "abcdef0123456789");
    let line = format!("api_key = \"{with_digits}\"");
    assert!(scanner.match_rule(rule, &line).is_some(), "{line}");
    // the same value with its digits 1 to 9 made letters
    let token: String = with_digits
        .chars()
        .map(|c| match c {
            '1'..='9' => char::from(b'f' + (c as u8 - b'0')),
            c => c,
        })
        .collect();
    let mut lines = vec![
        format!("api_key = \"{token}\""),
        format!("api_key = \"{token}\"  # 1 of 9 keys"),
    ];
    for dir in ["src/review", "src/scan", "src/review/secrets"] {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            lines.extend(text.lines().map(str::to_string));
        }
    }
    let mut tried = 0;
    let named = |line: &str| {
        let lower = line.to_ascii_lowercase();
        rule.keywords.iter().any(|k| lower.contains(k.as_str()))
    };
    for line in lines.iter().filter(|l| named(l)) {
        if !line.bytes().any(|b| (b'1'..=b'9').contains(&b)) || line.contains("# 1 of 9") {
            tried += 1;
            assert!(scanner.match_rule(rule, line).is_none(), "{line}");
        }
    }
    assert!(tried > 100, "{tried}");
}

/// A secret found in a change is said to be in an added line, to take out of the change;
/// one found by a scan of a tree is in the code, to take out of it.
#[test]
fn a_scan_says_the_code_and_a_review_says_the_added_line() {
    let scanner = Scanner::new();
    let token = format!("ghp_{}", random(5, 36, ALNUM));
    let line = format!("TOKEN = \"{token}\"");
    for (path, place) in [
        ("app/settings.py", None),
        ("tests/test_api.py", Some("a test path")),
    ] {
        let file = &diff_of(path, std::slice::from_ref(&line), &[]).files[0];
        let review = &scanner.scan_file(file)[0].message;
        let scan = &scanner.scan_text(path, &line)[0].message;
        assert!(review.contains("in an added line"), "{review}");
        assert!(
            !scan.contains("added line") && !scan.contains("change"),
            "{scan}"
        );
        match place {
            None => assert!(
                scan.contains(": take it out of the code, read it from"),
                "{scan}"
            ),
            Some(place) => assert!(scan.contains(&format!(") in {place}: a person")), "{scan}"),
        }
    }
}
