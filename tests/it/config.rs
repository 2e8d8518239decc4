//! .keyward.toml, suppression (inline markers, baseline, .gitleaksignore) and the
//! gitleaks config import, through the real binary.

use crate::util::{key, Repo};

fn staged_with(repo: &Repo, path: &str, text: &str) {
    repo.write(path, text);
    repo.git(&["add", "-A"]).ok();
}

#[test]
fn config_adds_a_rule_and_overrides_a_builtin() {
    let repo = Repo::without_hook();
    repo.write(
        ".keyward.toml",
        r#"
[[rules]]
id = "acme-token"
description = "ACME internal token"
keywords = ["acme_"]
regex = '(acme_[a-f0-9]{32})'
remediation = "Revoke it at https://acme.invalid/tokens."

[[override]]
id = "stripe-test-secret-key"
severity = "warn"
"#,
    );
    let acme = format!(
        "acme_{}",
        "0123456789abcdef"
            .repeat(2)
            .chars()
            .rev()
            .collect::<String>()
    );
    let test_key = key("sk_test_", 24);
    staged_with(&repo, "a.txt", &format!("{acme}\n"));
    repo.keyward(&[])
        .code_is(1)
        .contains("acme-token")
        .contains("https://acme.invalid/tokens")
        .no_leak(&acme);
    repo.git(&["rm", "-q", "--cached", "a.txt"]).ok();
    staged_with(&repo, "b.txt", &format!("{test_key}\n"));
    repo.git(&["rm", "-q", "--cached", "a.txt"]);
    repo.keyward(&[])
        .code_is(0)
        .contains("keyward: warning:")
        .contains("stripe-test-secret-key")
        .no_leak(&test_key);
}

#[test]
fn config_disables_rules_and_allowlists() {
    let repo = Repo::without_hook();
    repo.write(
        ".keyward.toml",
        r#"
disabled_rules = ["stripe-webhook-secret"]

[allowlist]
paths = ["fixtures/**"]
secrets = ['^rk_test_']
stopwords = ["notreal"]
"#,
    );
    // What the commit holds decides: the config is staged with it.
    repo.git(&["add", ".keyward.toml"]).ok();
    let lines = [
        key("whsec_", 32),
        key("rk_test_", 24),
        format!(
            "sk_live_{}NotReal{}",
            crate::util::base62(10),
            crate::util::base62(10)
        ),
    ];
    staged_with(&repo, "src/ok.txt", &(lines.join("\n") + "\n"));
    staged_with(
        &repo,
        "fixtures/keys.txt",
        &format!("{}\n", key("sk_live_", 99)),
    );
    repo.keyward(&[]).code_is(0);
    // Without the config every one of them blocks.
    repo.git(&["rm", "-q", "-f", ".keyward.toml"]).ok();
    repo.keyward(&["--format", "json"])
        .code_is(1)
        .contains("\"stripe-webhook-secret\"");
}

#[test]
fn invalid_config_is_an_error_with_file_line_and_column() {
    let repo = Repo::without_hook();
    staged_with(&repo, "a.txt", &format!("{}\n", key("sk_live_", 99)));
    let cases: &[(&str, &[&str])] = &[
        ("bogus_field = 1\n", &[".keyward.toml:1:1", "bogus_field"]),
        ("[allowlist]\npaths = [\n", &[".keyward.toml:2:"]),
        (
            "[[rules]]\nid = \"broken\"\ndescription = \"x\"\nkeywords = [\"abc\"]\nregex = '(abc[a-z'\n",
            &[".keyward.toml:5:9", "rule 'broken'", "invalid regex"],
        ),
        ("[[override]]\nid = \"no-such-rule\"\nseverity = \"warn\"\n", &[".keyward.toml:2:6", "no-such-rule", "keyward rules list"]),
        ("disabled_rules = [\"stripe-live-secret-kye\"]\n", &["did you mean 'stripe-live-secret-key'?"]),
        ("[allowlist]\nsecrets = ['(unclosed']\n", &[".keyward.toml:2:12", "allowlist.secrets"]),
        ("[[rules]]\nid = \"x\"\ndescription = \"x\"\nkeywords = [\"abc\"]\nregex = '(abc)'\nsecret_group = 3\n", &["rule 'x'", "secret_group 3"]),
    ];
    for (text, expected) in cases {
        staged_with(&repo, ".keyward.toml", text);
        let run = repo.keyward(&[]).code_is(2);
        let first = run.stderr().lines().next().unwrap_or("").to_string();
        assert!(first.starts_with("keyward: error: "), "{first}");
        for e in *expected {
            assert!(
                first.contains(e),
                "expected {e:?} in {first:?} for config {text:?}"
            );
        }
    }
    // Through the hook, a broken config blocks the commit.
    staged_with(&repo, ".keyward.toml", "nonsense = [\n");
    repo.install(&[]).ok();
    repo.commit(&[]).code_is(1).contains("keyward: error:");
    assert!(repo.head().is_none());
}

#[test]
fn config_named_with_flag_must_exist() {
    let repo = Repo::without_hook();
    staged_with(&repo, "a.txt", "fine\n");
    repo.keyward(&["--config", "missing.toml"])
        .code_is(2)
        .contains("missing.toml");
}

#[test]
fn a_huge_config_is_refused() {
    let repo = Repo::without_hook();
    let mut text = String::new();
    for i in 0..2_500 {
        text.push_str(&format!(
            "[[rules]]\nid = \"r{i}\"\ndescription = \"d\"\nkeywords = [\"kw{i}x\"]\nregex = '(kw{i}x[0-9]{{8}})'\n"
        ));
    }
    staged_with(&repo, ".keyward.toml", &text);
    staged_with(&repo, "a.txt", "fine\n");
    repo.keyward(&[]).code_is(2).contains("too much to check");
}

#[test]
fn inline_markers_of_keyward_gitleaks_and_detect_secrets() {
    let repo = Repo::without_hook();
    let text = format!(
        "a = '{}'  # keyward:allow\nb = '{}'  // gitleaks:allow\nc = '{}'  # pragma: allowlist secret\n",
        key("sk_live_", 99),
        key("sk_live_", 99),
        key("sk_live_", 99)
    );
    staged_with(&repo, "m.py", &text);
    // Let through, and said so: a way past the check is never silent.
    repo.keyward(&[])
        .code_is(0)
        .contains("3 keys let through by an inline allow marker: m.py:1, m.py:2, m.py:3");
    staged_with(&repo, "n.py", &format!("d = '{}'\n", key("sk_live_", 99)));
    repo.keyward(&[])
        .code_is(1)
        .contains("n.py:1:6")
        .lacks("m.py:1:");
}

/// After two statements on a line, the marker covers the key next to it: the
/// `;` between them ends a statement, it opens no comment.
#[test]
fn a_marker_after_two_statements_covers_the_key_next_to_it() {
    let repo = Repo::without_hook();
    let (a, b) = (key("sk_live_", 40), key("sk_live_", 40));
    staged_with(
        &repo,
        "two.js",
        &format!("a = '{a}'; b = '{b}';  // keyward:allow\n"),
    );
    let run = repo.keyward(&["--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{}", run.stdout());
    // `a = '` is five characters: the first key, at column 6, is still blocked.
    assert_eq!(findings[0]["column"], 6, "{}", run.stdout());
    assert_eq!(doc["allowed_by_marker"], serde_json::json!(["two.js:1"]));
}

/// A marker is a comment next to one key: not text inside a string, not a
/// marker that a second key on the line hides behind, not a minified line, not a
/// binary; and a marker on a line of its own covers only the next line's first key.
#[test]
fn inline_markers_cover_one_key_in_a_comment() {
    let repo = Repo::without_hook();
    let k = || key("sk_live_", 40);
    let cases = [
        // Inside a string literal: data, not a comment.
        ("string.py", format!("a = '{} keyward:allow'\n", k()), 1),
        // Two keys, one marker: the marker covers the key next to it only.
        (
            "two.py",
            format!("a, b = '{}', '{}'  # keyward:allow\n", k(), k()),
            1,
        ),
        // A minified line: too long for a marker to sit next to one key.
        (
            "app.min.js",
            format!("var a='{}';{}// keyward:allow\n", k(), "x=1;".repeat(300)),
            1,
        ),
        // The next-line form covers the first key of the next line, once.
        (
            "next.py",
            format!(
                "# pragma: allowlist nextline secret\na = '{}'\nb = '{}'\n",
                k(),
                k()
            ),
            1,
        ),
    ];
    for (path, text, blocked) in &cases {
        staged_with(&repo, path, text);
        let run = repo.keyward(&["--format", "json"]);
        let doc: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
        let found = doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["path"] == *path)
            .count();
        assert_eq!(found, *blocked, "{path}: {}", run.stdout());
    }
    // In a binary, a marker counts for nothing.
    let mut bin = vec![0u8, 1, 2];
    bin.extend_from_slice(format!("{} # keyward:allow\n", k()).as_bytes());
    staged_with(&repo, "blob.bin", &String::from_utf8_lossy(&bin));
    repo.keyward(&[]).code_is(1).contains("blob.bin");
}

#[test]
fn baseline_survives_code_moving() {
    let repo = Repo::without_hook();
    let secret = key("sk_live_", 99);
    repo.write("legacy/config.py", format!("KEY = '{secret}'\n"));
    repo.keyward(&["scan"]).code_is(1);
    // A live key is a credential by its shape: the baseline refuses it, and says
    // how to name it once it is rolled or known to be a fake.
    let refused = repo
        .keyward(&["baseline"])
        .code_is(2)
        .contains("not recorded: legacy/config.py:1")
        .contains("refusing to baseline 1 live key")
        .contains("--accept")
        .no_leak(&secret);
    assert!(!repo.path(".keyward-baseline.json").exists());
    let stderr = refused.stderr();
    let fp = stderr
        .split("(fingerprint ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .expect("the refusal names the fingerprint")
        .to_string();
    let run = repo.keyward(&["baseline", "--accept", &fp]).ok();
    run.contains("recording legacy/config.py:1")
        .contains("wrote 1 fingerprint")
        .no_leak(&secret);
    let file = String::from_utf8(repo.read(".keyward-baseline.json")).unwrap();
    assert!(
        !file.contains(&secret[8..]),
        "the baseline holds the secret: {file}"
    );
    let doc: serde_json::Value = serde_json::from_str(&file).unwrap();
    assert_eq!(doc["version"], 2);
    assert!(doc["salt"].as_str().unwrap().parse::<u128>().is_ok());
    repo.keyward(&["scan"]).code_is(0);
    // The same key moved down the file is still baselined; the staged check too.
    repo.write(
        "legacy/config.py",
        format!("import os\n\n\nKEY = '{secret}'\n"),
    );
    repo.keyward(&["scan"]).code_is(0);
    repo.git(&["add", ".keyward-baseline.json", "legacy/config.py"])
        .ok();
    repo.keyward(&["--staged"]).code_is(0);
    // A new key is not.
    let other = key("sk_live_", 99);
    repo.write(
        "legacy/config.py",
        format!("KEY = '{secret}'\nNEW = '{other}'\n"),
    );
    repo.keyward(&["scan"])
        .code_is(1)
        .contains("legacy/config.py:2:8")
        .no_leak(&other);
    // The same key in another file is a new finding.
    repo.write("elsewhere.py", format!("KEY = '{secret}'\n"));
    repo.keyward(&["scan", "elsewhere.py"]).code_is(1);
}

/// A generic finding (a value that may not be a credential at all) is recorded
/// without being named; a baseline from keyward's first format still applies.
#[test]
fn baselines_take_generic_findings_and_old_files_still_work() {
    use sha2::Digest;
    let repo = Repo::without_hook();
    repo.write(
        "settings.py",
        // Seeded, not fresh: a random body now and then spells a word, which the
        // generic model rightly lets pass.
        format!("SECRET_KEY = \"{}\"\n", crate::util::seeded_key(32, "", 32)),
    );
    repo.keyward(&["scan"]).code_is(1);
    repo.keyward(&["baseline"])
        .ok()
        .contains("recording settings.py:1");
    repo.keyward(&["scan"]).code_is(0);
    // Version 1: sha256(rule, path, secret), no salt.
    let secret = key("sk_live_", 99);
    std::fs::remove_file(repo.path(".keyward-baseline.json")).unwrap();
    repo.write("old.py", format!("KEY = '{secret}'\n"));
    let mut h = sha2::Sha256::new();
    h.update(b"stripe-live-secret-key\0old.py\0");
    h.update(secret.as_bytes());
    let fp: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    repo.write(
        ".keyward-baseline.json",
        format!("{{\"version\": 1, \"findings\": [{{\"fingerprint\": \"{fp}\", \"rule\": \"r\", \"path\": \"old.py\"}}]}}\n"),
    );
    repo.keyward(&["scan", "old.py"]).code_is(0);
}

#[test]
fn gitleaksignore_entries_are_honoured() {
    let repo = Repo::without_hook();
    let secret = key("sk_live_", 99);
    repo.write("conf/app.yml", format!("a: 1\nkey: {secret}\n"));
    repo.keyward(&["scan"]).code_is(1);
    repo.write(
        ".gitleaksignore",
        "# reviewed\nconf/app.yml:stripe-access-token:2\n",
    );
    repo.keyward(&["scan"]).code_is(0);
    repo.write(".gitleaksignore", "conf/app.yml:stripe-access-token:7\n");
    repo.keyward(&["scan"]).code_is(1);
    // An entry names one kind of secret: a GitHub token later put on the same
    // line is not covered by the Stripe entry.
    let gh = key("ghp_", 36);
    repo.write("conf/app.yml", format!("a: 1\nkey: {secret} {gh}\n"));
    repo.write(".gitleaksignore", "conf/app.yml:stripe-access-token:2\n");
    repo.keyward(&["scan"])
        .code_is(1)
        .contains("GitHub")
        .lacks("Stripe live secret key")
        .no_leak(&gh);
}

#[test]
fn gitleaks_config_is_imported_with_warnings() {
    let repo = Repo::without_hook();
    repo.write(
        ".gitleaks.toml",
        r#"
title = "team config"

[extend]
useDefault = true

[[rules]]
id = "internal-token"
description = "Internal service token"
regex = '''int_tok_[A-Za-z0-9]{24}'''
keywords = ["int_tok_"]
tags = ["internal"]
path = '''\.py$'''

[allowlist]
description = "fixtures"
paths = ['''^fixtures/''']
regexes = ['''int_tok_TESTTEST''']
"#,
    );
    let token = format!("int_tok_{}", crate::util::base62(24));
    staged_with(&repo, "svc.go", &format!("t := \"{token}\"\n"));
    staged_with(
        &repo,
        "fixtures/x.go",
        &format!("t := \"{}\"\n", key("sk_live_", 99)),
    );
    let run = repo.keyward(&["--config", ".gitleaks.toml"]).code_is(1);
    run.contains("internal-token")
        .contains("svc.go:1:7")
        .contains("warning: gitleaks config: rule 'internal-token': path")
        .lacks("fixtures/x.go")
        .no_leak(&token);
    // Built-ins stay on with useDefault = true.
    staged_with(
        &repo,
        "pay.go",
        &format!("k := \"{}\"\n", key("rk_live_", 24)),
    );
    repo.keyward(&["--config", ".gitleaks.toml"])
        .code_is(1)
        .contains("stripe-live-restricted-key");
    // Without [extend], as in gitleaks, only the file's rules run, and keyward says so.
    let text = String::from_utf8(repo.read(".gitleaks.toml")).unwrap();
    repo.write(
        ".gitleaks.toml",
        text.replace("[extend]\nuseDefault = true\n", ""),
    );
    repo.keyward(&["--config", ".gitleaks.toml"])
        .code_is(1)
        .contains("only its own rules run")
        .lacks("stripe-live-restricted-key");
}

#[test]
fn public_example_keys_warn_but_never_block() {
    let repo = Repo::without_hook();
    let aws_id = ["AKIA", "IOSFODNN7", "EXAMPLE"].concat();
    let stripe_doc = ["sk_test_", "4eC39HqLyjWDarjtT1zdp7dc"].concat();
    staged_with(
        &repo,
        "docs.md",
        &format!("aws_access_key_id = {aws_id}\nstripe.api_key = \"{stripe_doc}\"\n"),
    );
    repo.keyward(&[])
        .code_is(0)
        .contains("published documentation example")
        .contains("docs.md:2:19");
}

#[test]
fn rules_check_and_list() {
    let repo = Repo::without_hook();
    let out = repo.keyward(&["rules", "list"]).ok().stdout();
    assert!(out.lines().count() >= 5, "{out}");
    assert!(out.contains("stripe-live-secret-key"));
    repo.keyward(&["rules", "check"])
        .ok()
        .contains("0 failures");
    repo.write(
        ".keyward.toml",
        "[[rules]]\nid = \"bad-examples\"\ndescription = \"d\"\nkeywords = [\"tok_\"]\nregex = '(tok_[0-9]{8})'\nexamples = [{ input = 'tok_abcdefgh', secret = 'tok_abcdefgh' }]\n",
    );
    repo.keyward(&["rules", "check"])
        .code_is(1)
        .contains("FAIL bad-examples");
}

/// A configuration that switches keyward off is allowed, and said on every run.
#[test]
fn a_configuration_that_switches_keyward_off_is_loud() {
    let repo = Repo::without_hook();
    staged_with(&repo, "a.txt", "x\n");
    for (config, says) in [
        ("use_default_rules = false\n", "nothing is checked"),
        ("[allowlist]\npaths = [\"**\"]\n", "no file is scanned"),
        ("[allowlist]\nsecrets = ['.*']\n", "no key blocks"),
    ] {
        repo.write(".keyward.toml", config);
        repo.keyward(&["scan"]).contains(says);
    }
}

/// Text from a committed config reaches the terminal escaped: in `rules list`
/// and in errors that quote it.
#[test]
fn config_text_is_escaped_wherever_it_is_printed() {
    let repo = Repo::without_hook();
    repo.write(
        ".keyward.toml",
        "[[rules]]\nid = \"x-token\"\ndescription = \"evil \\u001b[2J text\"\nkeywords = [\"xtok_\"]\nregex = '(xtok_[a-z]{8})'\nexamples = []\nnegative_examples = []\n",
    );
    let list = repo.keyward(&["rules", "list"]).ok();
    assert!(!list.all().contains('\u{1b}'), "raw escape in rules list");
    list.contains("evil \\u{1b}[2J text");
    // A valid TOML escape, and a bad regex, so the error quotes the id.
    repo.write(
        ".keyward.toml",
        "[[rules]]\nid = \"bad\\u001b[2Jid\"\ndescription = \"d\"\nkeywords = [\"x\"]\nregex = \"(\"\n",
    );
    let err = repo.keyward(&["scan"]).code_is(2);
    assert!(!err.all().contains('\u{1b}'), "raw escape in an error");
    err.contains("bad\\u{1b}[2Jid");
}

/// A commit that changes what keyward lets through says so.
#[test]
fn a_commit_changing_the_config_or_baseline_is_named() {
    let repo = Repo::without_hook();
    staged_with(
        &repo,
        ".keyward.toml",
        "[allowlist]\npaths = [\"vendor/**\"]\n",
    );
    repo.keyward(&[])
        .ok()
        .contains("this commit changes .keyward.toml");
}

/// What the commit holds decides what it lets through: an untracked
/// `.keyward.toml` that would allowlist everything is ignored, and said to be.
#[test]
fn an_untracked_config_does_not_decide_a_commit() {
    let repo = Repo::without_hook();
    let secret = key("sk_live_", 99);
    staged_with(&repo, "app.py", &format!("KEY = '{secret}'\n"));
    repo.write(".keyward.toml", "[allowlist]\npaths = [\"**\"]\n");
    repo.keyward(&[])
        .code_is(1)
        .contains(".keyward.toml is not in the commit")
        .no_leak(&secret);
    // Staged with the commit, it counts (and says it switches keyward off).
    repo.git(&["add", ".keyward.toml"]).ok();
    repo.keyward(&[])
        .code_is(0)
        .contains("takes every path")
        .contains("this commit changes .keyward.toml");
}
