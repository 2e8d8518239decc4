//! `--format sarif`: SARIF 2.1.0 as GitHub code scanning reads it. One run; the
//! rules that produced results are listed in `tool.driver.rules`; each result
//! carries the redacted secret in its message and keyward's fingerprint in
//! `partialFingerprints`.

use serde_json::{json, Value};

use super::Report;
use crate::finding::Location;
use crate::text::printable_path;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

pub fn document(report: &Report) -> Value {
    let mut rule_indices: Vec<usize> = report.results.findings.iter().map(|f| f.rule).collect();
    rule_indices.sort_unstable();
    rule_indices.dedup();
    let rules: Vec<Value> = rule_indices
        .iter()
        .map(|&i| {
            let spec = &report.catalogue.get(i).spec;
            json!({
                "id": spec.id,
                "name": spec.id,
                "shortDescription": { "text": spec.description },
                "fullDescription": { "text": spec.description },
                "help": { "text": if spec.remediation.is_empty() { spec.description.as_str() } else { spec.remediation.trim() } },
                "defaultConfiguration": { "level": level(spec.severity.as_str()) },
                "properties": { "tags": ["security", "secret"] }
            })
        })
        .collect();
    let results: Vec<Value> = report
        .results
        .findings
        .iter()
        .map(|f| {
            let spec = &report.catalogue.get(f.rule).spec;
            let region = match f.location {
                Location::Text { line, column } => {
                    json!({ "startLine": line, "startColumn": column })
                }
                Location::Binary { offset } => json!({ "byteOffset": offset }),
                Location::Path => Value::Null,
            };
            let mut result = json!({
                "ruleId": spec.id,
                "ruleIndex": rule_indices.binary_search(&f.rule).expect("rule listed"),
                "level": level(f.severity.as_str()),
                "message": { "text": format!("{}{} {}{}",
                    f.encoding.as_deref().map(|how| format!("{how} ")).unwrap_or_default()
                        + &f.member.as_deref().map(|m| format!("in archive member {}: ", printable_path(m))).unwrap_or_default(),
                    spec.description,
                    f.assessment.as_ref().map_or_else(|| f.secret.redacted(), |a| a.describe()),
                    if f.public_example { " (a published documentation example)" } else { "" }) },
                "locations": [{
                    "physicalLocation": physical(&f.path, (f.member.is_none() && !region.is_null()).then_some(region))
                }],
                "partialFingerprints": { "keyward/v1": f.fingerprint }
            });
            if let Some(c) = &f.commit {
                result["properties"] =
                    json!({ "commit": c.id, "commitDate": super::iso8601(c.time) });
            }
            if let Some(a) = &f.assessment {
                result["properties"]["generic"] = json!({
                    "name": a.name,
                    "valueKind": a.kind_name(),
                    "valueLength": a.length,
                    "confidence": a.confidence
                });
            }
            result
        })
        .collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "keyward",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rules
            }},
            "results": results
        }]
    })
}

fn level(severity: &str) -> &'static str {
    if severity == "block" {
        "error"
    } else {
        "warning"
    }
}

/// A relative path as a URI reference: percent-encode what a URI cannot hold.
/// A region in an archive member's lines would point into the archive's bytes:
/// such findings name the archive, and the member in their message.
fn physical(path: &[u8], region: Option<Value>) -> Value {
    let mut location = json!({ "artifactLocation": { "uri": uri(&printable_path(path)) } });
    if let Some(region) = region {
        location["region"] = region;
    }
    location
}

fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub struct Sarif;

impl super::Render for Sarif {
    fn render(&self, report: &Report) -> String {
        render(report)
    }
    fn to_stdout(&self) -> bool {
        true
    }
}

fn render(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(&document(report)).expect("report serialises");
    s.push('\n');
    s
}
