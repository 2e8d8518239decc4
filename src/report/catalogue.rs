//! `keyward rules list` and `keyward rules check` as documents: the rule
//! catalogue, and what checking its examples found. These describe rules, not
//! findings, so they are not a [`super::Render`] format; the JSON wire types are
//! kept apart from `rules::RuleSpec` (and documented in the README, "Rules as
//! JSON") so the catalogue's internals can change without breaking readers.
//!
//! SARIF has no place for a catalogue without a scan (its rules describe the
//! results of a run), so `--format sarif` is refused here with one line rather
//! than answered with a document that GitHub would read as "no findings".

use serde::Serialize;

use super::json::{Tool, FORMAT_VERSION};
use crate::cli::Format;
use crate::error::{Error, Result};
use crate::rules::{Catalogue, Rule};
use crate::text::{plural, printable_text};

#[derive(Serialize)]
struct List<'a> {
    /// Format version, shared with the findings report.
    version: u32,
    tool: Tool,
    rules: Vec<JsonRule<'a>>,
    /// Configuration warnings (a gitleaks field keyward cannot honour, ...):
    /// here rather than on stderr, so that stderr stays empty.
    warnings: &'a [String],
}

#[derive(Serialize)]
struct JsonRule<'a> {
    id: &'a str,
    description: &'a str,
    /// The service whose credential this is (the first word of the id, e.g.
    /// `stripe`); null for a kind of secret (private keys, generic passwords).
    provider: Option<&'a str>,
    /// block or warn.
    severity: &'static str,
    /// Literals the prefilter looks for; the rule's pattern runs only on a line
    /// holding one.
    keywords: &'a [String],
    /// Path globs the rule is limited to; empty for every path.
    paths: &'a [String],
    /// The environment variable keyward suggests loading the credential from.
    env_var: Option<&'a str>,
    /// "regex" for a pattern, or the built-in engine ("assignment", "url").
    confirm: &'static str,
    /// Where the rule comes from: "built-in rules" or a configuration path.
    origin: &'a str,
    examples: usize,
    negative_examples: usize,
}

#[derive(Serialize)]
struct Check<'a> {
    version: u32,
    tool: Tool,
    /// How many rules had their examples run.
    rules: usize,
    /// Whether every example passed (the exit status is then 0, else 1).
    passed: bool,
    /// One line per failing example, rule id first.
    failures: Vec<String>,
    warnings: &'a [String],
}

fn tool() -> Tool {
    Tool {
        name: "keyward",
        version: env!("CARGO_PKG_VERSION"),
    }
}

fn refuse_sarif(format: Format) -> Result<()> {
    if format == Format::Sarif {
        return Err(Error::Usage(
            "--format sarif: SARIF describes the results of a scan, and `keyward rules` \
             scans nothing; use --format json for the rule catalogue"
                .into(),
        ));
    }
    Ok(())
}

fn json(value: &impl Serialize) -> String {
    let mut s = serde_json::to_string_pretty(value).expect("plain data serialises");
    s.push('\n');
    s
}

fn json_rule(rule: &Rule) -> JsonRule<'_> {
    let spec = &rule.spec;
    JsonRule {
        id: &spec.id,
        description: &spec.description,
        provider: rule.provider(),
        severity: spec.severity.as_str(),
        keywords: &spec.keywords,
        paths: &spec.paths,
        env_var: spec.env_var.as_deref(),
        confirm: match spec.engine {
            None => "regex",
            Some(crate::rules::Engine::Assignment) => "assignment",
            Some(crate::rules::Engine::Url) => "url",
        },
        origin: rule.origin(),
        examples: spec.examples.len(),
        negative_examples: spec.negative_examples.len(),
    }
}

/// `keyward rules list`: one line per rule, or the JSON catalogue. Warnings go
/// into the JSON document; in human form the caller prints them on stderr.
pub fn list(catalogue: &Catalogue, format: Format, warnings: &[String]) -> Result<String> {
    refuse_sarif(format)?;
    if format == Format::Json {
        return Ok(json(&List {
            version: FORMAT_VERSION,
            tool: tool(),
            rules: catalogue.rules.iter().map(json_rule).collect(),
            warnings,
        }));
    }
    let mut out = String::new();
    for rule in &catalogue.rules {
        // A committed config writes these: untrusted text.
        out.push_str(&format!(
            "{:<40} {:<6} {}\n",
            printable_text(&rule.spec.id),
            rule.spec.severity.as_str(),
            printable_text(&rule.spec.description)
        ));
    }
    Ok(out)
}

/// `keyward rules check`: the failing examples and a count, or the same as JSON.
pub fn check(
    catalogue: &Catalogue,
    failures: Vec<String>,
    format: Format,
    warnings: &[String],
) -> Result<String> {
    refuse_sarif(format)?;
    if format == Format::Json {
        return Ok(json(&Check {
            version: FORMAT_VERSION,
            tool: tool(),
            rules: catalogue.rules.len(),
            passed: failures.is_empty(),
            failures,
            warnings,
        }));
    }
    let mut out = String::new();
    for f in &failures {
        out.push_str(&format!("FAIL {}\n", printable_text(f)));
    }
    out.push_str(&format!(
        "{} checked, {}\n",
        plural(catalogue.rules.len(), "rule", "rules"),
        plural(failures.len(), "failure", "failures")
    ));
    Ok(out)
}
