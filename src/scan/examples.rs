//! Every rule's own examples, run through the full scanner (keyword prefilter
//! included): what `keyward rules check` prints and the test suite asserts.

use super::{Match, Scanner};

/// Runs every rule's examples and negative examples; returns one line per failure,
/// so all failing rules are reported at once.
pub fn check_examples(scanner: &Scanner, require_examples: bool) -> Vec<String> {
    let catalogue = scanner.catalogue();
    let mut failures = Vec::new();
    for (index, rule) in catalogue.rules.iter().enumerate() {
        let spec = &rule.spec;
        if let Err(e) = rule.compile() {
            failures.push(e.to_string());
            continue;
        }
        if require_examples && (spec.examples.is_empty() || spec.negative_examples.is_empty()) {
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
                // Examples are fake keys written for this purpose, so showing what
                // was extracted is safe and is what makes the failure fixable.
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
            if let Err(e) = scanner.scan(negative.as_bytes(), &mut found) {
                failures.push(format!("{}: {e}", spec.id));
                continue;
            }
            // A published documentation key is reported as such (warn), by design.
            if found.iter().any(|m| m.rule == index && !m.public_example) {
                failures.push(format!(
                    "{}: negative example {negative:?} matched",
                    spec.id
                ));
            }
        }
    }
    failures
}
