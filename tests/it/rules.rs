//! Every built-in rule's own examples, run through the full scanner (prefilter
//! included). All failures are reported at once.

use keyward::rules::Catalogue;
use keyward::scan::{Match, Scanner};

#[test]
fn every_rule_matches_its_examples_and_none_of_its_negatives() {
    let catalogue = Catalogue::builtin().expect("built-in catalogue parses");
    let scanner = Scanner::new(&catalogue).expect("automaton builds");
    let mut failures = Vec::new();
    for (index, rule) in catalogue.rules.iter().enumerate() {
        let spec = &rule.spec;
        if let Err(e) = rule.compile() {
            failures.push(format!("{e}"));
            continue;
        }
        if spec.examples.is_empty() || spec.negative_examples.is_empty() {
            failures.push(format!("{}: needs examples and negative_examples", spec.id));
        }
        for example in &spec.examples {
            let mut found: Vec<Match> = Vec::new();
            if let Err(e) = scanner.scan(example.input.as_bytes(), &mut found) {
                failures.push(format!("{}: {e}", spec.id));
                continue;
            }
            let mine: Vec<&Match> = found.iter().filter(|m| m.rule == index).collect();
            if mine.len() != 1 || mine[0].secret.expose() != example.secret.as_bytes() {
                failures.push(format!(
                    "{}: example {:?} should yield exactly {:?}, got {:?}",
                    spec.id,
                    example.input,
                    example.secret,
                    mine.iter()
                        .map(|m| String::from_utf8_lossy(m.secret.expose()).into_owned())
                        .collect::<Vec<_>>()
                ));
            }
        }
        for negative in &spec.negative_examples {
            let mut found = Vec::new();
            if scanner.scan(negative.as_bytes(), &mut found).is_err() {
                continue;
            }
            if found.iter().any(|m| m.rule == index) {
                failures.push(format!(
                    "{}: negative example {negative:?} matched",
                    spec.id
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
