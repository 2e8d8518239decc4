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
