//! Every built-in rule's own examples, through the full scanner.

use keyward::config::Config;
use keyward::scan::{check_examples, Scanner};

#[test]
fn every_rule_matches_its_examples_and_none_of_its_negatives() {
    let config = Config::builtin().expect("built-in catalogue parses");
    assert!(!config.catalogue.rules.is_empty());
    let scanner = Scanner::new(config.catalogue).expect("automaton builds");
    let failures = check_examples(&scanner, true);
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The same, once the scanner has moved to its faster keyword search (after
/// 512 KiB: see `Scanner::searches_for`), and every example found again when
/// all are joined into one long input, each rule's match at its place.
#[test]
fn the_fast_keyword_search_finds_what_the_first_one_does() {
    let scanner = || {
        let config = Config::builtin().expect("built-in catalogue parses");
        Scanner::new(config.catalogue).expect("automaton builds")
    };
    let (quick, fast) = (scanner(), scanner());
    let filler = "let x = compute(a, b); // nothing here\n".repeat(16 << 10);
    let mut none = Vec::new();
    fast.scan(filler.as_bytes(), &mut none).unwrap();
    assert!(none.is_empty());
    let failures = check_examples(&fast, true);
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    let mut joined = String::new();
    for rule in &quick.catalogue().rules {
        for example in &rule.spec.examples {
            joined.push_str(&example.input);
            joined.push_str("\n\n");
            joined.push_str(&filler[..997]);
        }
    }
    let (mut a, mut b) = (Vec::new(), Vec::new());
    quick.scan(joined.as_bytes(), &mut a).unwrap();
    fast.scan(joined.as_bytes(), &mut b).unwrap();
    let key = |m: &keyward::scan::Match| (m.rule, m.offset, m.secret.expose().to_vec());
    let a: Vec<_> = a.iter().map(key).collect();
    let b: Vec<_> = b.iter().map(key).collect();
    assert!(
        a.len() > quick.catalogue().rules.len() / 2,
        "{} matches",
        a.len()
    );
    assert_eq!(a, b);
}

/// The scanner remembers keyword lines it found clean (`CleanLines`): scanning
/// the same inputs again, in another order, finds exactly what it found first.
#[test]
fn a_second_scan_finds_what_the_first_did() {
    let config = Config::builtin().expect("built-in catalogue parses");
    let scanner = Scanner::new(config.catalogue).expect("automaton builds");
    let mut inputs: Vec<String> = Vec::new();
    for rule in &scanner.catalogue().rules {
        for example in &rule.spec.examples {
            inputs.push(example.input.clone());
        }
        inputs.extend(rule.spec.negative_examples.iter().cloned());
    }
    let scan_all = |order: &mut dyn Iterator<Item = &String>| {
        let mut all: Vec<(usize, usize, Vec<u8>)> = Vec::new();
        for input in order {
            let mut found = Vec::new();
            scanner.scan(input.as_bytes(), &mut found).unwrap();
            all.extend(
                found
                    .iter()
                    .map(|m| (m.rule, m.offset, m.secret.expose().to_vec())),
            );
        }
        all
    };
    let first = scan_all(&mut inputs.iter());
    let mut again = scan_all(&mut inputs.iter().rev());
    again.reverse();
    let mut first_sorted = first.clone();
    first_sorted.sort();
    again.sort();
    assert!(first.len() > inputs.len() / 3, "{} matches", first.len());
    assert_eq!(first_sorted, again);
}

/// A line whose verdict depends on the lines after it is not remembered as
/// clean: a Terraform variable first seen without a default, then with one.
#[test]
fn a_line_read_with_what_follows_is_confirmed_again() {
    let config = Config::builtin().expect("built-in catalogue parses");
    let scanner = Scanner::new(config.catalogue).expect("automaton builds");
    let head = "variable \"db_password\" {\n";
    let mut found = Vec::new();
    let bare = format!("{head}  type = string\n}}\n");
    scanner.scan(bare.as_bytes(), &mut found).unwrap();
    assert!(
        found.is_empty(),
        "{} matches without a default",
        found.len()
    );
    let with_default = format!("{head}  default = \"Tq8vRz2mKp4wXn7sLb3c\"\n}}\n");
    scanner.scan(with_default.as_bytes(), &mut found).unwrap();
    assert_eq!(found.len(), 1, "the default after a line seen clean before");
    assert_eq!(found[0].line, 2);
}

/// Nor is a line that woke a multi-line rule: its window decides, not the line.
#[test]
fn a_line_that_opens_a_block_is_confirmed_again() {
    let config = Config::parse(
        std::path::Path::new(".keyward.toml"),
        r#"
[[rules]]
id = "block"
description = "a block whose body is the secret"
keywords = ["begin block"]
regex = '(?s)BEGIN BLOCK\n([A-Z]{16})\nEND'
multiline = true
"#,
    )
    .unwrap();
    let scanner = Scanner::new(config.catalogue).unwrap();
    let mut found = Vec::new();
    scanner
        .scan(b"BEGIN BLOCK\nnothing here\nEND\n", &mut found)
        .unwrap();
    assert!(found.is_empty());
    scanner
        .scan(b"BEGIN BLOCK\nQWERTYUIOPASDFGH\nEND\n", &mut found)
        .unwrap();
    assert_eq!(
        found.len(),
        1,
        "the block after its first line was seen clean"
    );
}
