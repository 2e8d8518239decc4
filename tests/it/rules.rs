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
