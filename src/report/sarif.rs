//! `--format sarif`: SARIF 2.1.0 as GitHub code scanning reads it. The wire types
//! below are the subset of SARIF keyward writes, each field as GitHub documents
//! its use; they are kept apart from the internal types. One run; the rules that
//! produced results are listed in `tool.driver.rules` with the metadata GitHub
//! shows (name, descriptions, help, tags, `security-severity`, `precision`);
//! each result points to its rule by `ruleIndex`, names its file relative to the
//! repository root (`%SRCROOT%`), carries the redacted secret in its message and
//! keyward's fingerprint (a salted hash of rule, path and secret, never the
//! secret, and no line number, so it survives code moving) in
//! `partialFingerprints`, and, for commits, each commit and its exposure in
//! `properties`.

use serde::Serialize;

use super::json::most_exposed;
use super::Report;
use crate::finding::{Exposure, Location};
use crate::rules::RuleSpec;
use crate::text::{printable_path, printable_text};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// What relative `uri`s are relative to: the repository root (or, for `keyward
/// scan`, the directory it ran in). GitHub resolves it to the checkout.
const SRCROOT: &str = "%SRCROOT%";

#[derive(Serialize)]
pub struct Log {
    #[serde(rename = "$schema")]
    pub schema: &'static str,
    pub version: &'static str,
    pub runs: Vec<Run>,
}

#[derive(Serialize)]
pub struct Run {
    pub tool: Tool,
    pub results: Vec<SarifResult>,
}

#[derive(Serialize)]
pub struct Tool {
    pub driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Driver {
    pub name: &'static str,
    pub version: &'static str,
    pub semantic_version: &'static str,
    pub rules: Vec<Rule>,
}

/// A `reportingDescriptor`: what GitHub shows beside each alert of the rule.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub short_description: Text,
    pub full_description: Text,
    pub help: Text,
    pub default_configuration: Configuration,
    pub properties: RuleProperties,
}

#[derive(Serialize)]
pub struct Text {
    pub text: String,
}

#[derive(Serialize)]
pub struct Configuration {
    /// error (keyward blocks) or warning.
    pub level: &'static str,
}

#[derive(Serialize)]
pub struct RuleProperties {
    pub tags: Vec<&'static str>,
    /// GitHub's severity scale, a number in a string: 9.0 and up is critical,
    /// 7.0 high, 4.0 medium.
    #[serde(rename = "security-severity")]
    pub security_severity: &'static str,
    /// very-high for a provider's key shape, medium for a generic credential,
    /// low for what only warns.
    pub precision: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SarifResult {
    pub rule_id: String,
    pub rule_index: usize,
    pub level: &'static str,
    pub message: Text,
    pub locations: Vec<ResultLocation>,
    pub partial_fingerprints: PartialFingerprints,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<ResultProperties>,
}

#[derive(Serialize)]
pub struct PartialFingerprints {
    #[serde(rename = "keyward/v1")]
    pub keyward: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResultLocation {
    pub physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PhysicalLocation {
    pub artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactLocation {
    pub uri: String,
    /// `%SRCROOT%` for a relative path; absent for an absolute one (a `file:`
    /// URI, from `keyward scan /abs/path`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri_base_id: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Region {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub byte_offset: Option<usize>,
}

/// keyward's own facts about a result, in the property bag SARIF leaves to tools.
#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ResultProperties {
    /// The first commit that introduced the key (as before `commits`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit_date: Option<String>,
    /// Every commit that introduced the key at this place, newest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub commits: Vec<CommitProperty>,
    /// The most exposed of `commits`: pushed, tagged or local.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exposure: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generic: Option<GenericProperty>,
}

#[derive(Serialize)]
pub struct CommitProperty {
    pub id: String,
    pub date: String,
    /// local, pushed, tagged or unknown.
    pub exposure: &'static str,
    pub remotes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GenericProperty {
    pub name: String,
    pub value_kind: &'static str,
    pub value_length: usize,
    pub confidence: i32,
}

pub fn document(report: &Report) -> Log {
    let mut rule_indices: Vec<usize> = report.results.findings.iter().map(|f| f.rule).collect();
    rule_indices.sort_unstable();
    rule_indices.dedup();
    let rules = rule_indices
        .iter()
        .map(|&i| rule(&report.catalogue.get(i).spec))
        .collect();
    let results = report
        .results
        .findings
        .iter()
        .map(|f| {
            let spec = &report.catalogue.get(f.rule).spec;
            // A region in an archive member's lines would point into the
            // archive's bytes: such findings name the archive, and the member in
            // their message.
            let region = match (f.location, &f.member) {
                (_, Some(_)) | (Location::Path, _) => None,
                (Location::Text { line, column }, None) => Some(Region {
                    start_line: Some(line),
                    start_column: Some(column),
                    byte_offset: None,
                }),
                (Location::Binary { offset }, None) => Some(Region {
                    start_line: None,
                    start_column: None,
                    byte_offset: Some(offset),
                }),
            };
            let message = format!(
                "{}{}{} {}{}",
                f.encoding
                    .as_deref()
                    .map(|how| format!("{how} "))
                    .unwrap_or_default(),
                f.member
                    .as_deref()
                    .map(|m| format!("in archive member {}: ", printable_path(m)))
                    .unwrap_or_default(),
                printable_text(&spec.description),
                f.assessment
                    .as_ref()
                    .map_or_else(|| f.secret.redacted(), |a| printable_text(&a.describe())),
                if f.public_example {
                    " (a published documentation example)"
                } else {
                    ""
                }
            );
            let mut properties = ResultProperties::default();
            if let Some(c) = f.commit() {
                properties.commit = Some(c.id.clone());
                properties.commit_date = Some(super::iso8601(c.time));
                properties.commits = f
                    .commits
                    .iter()
                    .map(|c| {
                        let (remotes, tag) = match &c.exposure {
                            Exposure::Published { remotes, tag } => {
                                (remotes.iter().map(|r| printable_text(r)).collect(), tag)
                            }
                            _ => (Vec::new(), &None),
                        };
                        CommitProperty {
                            id: c.commit.id.clone(),
                            date: super::iso8601(c.commit.time),
                            exposure: c.exposure.status(),
                            remotes,
                            tag: tag.as_deref().map(printable_text),
                        }
                    })
                    .collect();
                properties.exposure = most_exposed(&f.commits);
            }
            properties.generic = f.assessment.as_ref().map(|a| GenericProperty {
                name: printable_text(&a.name),
                value_kind: a.kind_name(),
                value_length: a.length,
                confidence: a.confidence,
            });
            let has_properties = properties.commit.is_some() || properties.generic.is_some();
            SarifResult {
                rule_id: spec.id.clone(),
                rule_index: rule_indices.binary_search(&f.rule).expect("rule listed"),
                level: level(f.blocks()),
                message: Text { text: message },
                locations: vec![ResultLocation {
                    physical_location: PhysicalLocation {
                        artifact_location: artifact(&printable_path(&f.path)),
                        region,
                    },
                }],
                partial_fingerprints: PartialFingerprints {
                    keyward: f.fingerprint.clone(),
                },
                properties: has_properties.then_some(properties),
            }
        })
        .collect();
    Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "keyward",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    rules,
                },
            },
            results,
        }],
    }
}

fn rule(spec: &RuleSpec) -> Rule {
    let blocks = spec.severity.as_str() == "block";
    let help = if spec.remediation.trim().is_empty() {
        format!(
            "{}: revoke or rotate it with its provider, then load it from the environment or a secrets vault.",
            spec.description
        )
    } else {
        spec.remediation
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let (security_severity, precision) = match (blocks, spec.fallback) {
        (true, false) => ("9.0", "very-high"),
        (true, true) => ("7.0", "medium"),
        (false, _) => ("4.0", "low"),
    };
    Rule {
        id: spec.id.clone(),
        name: spec.id.clone(),
        short_description: Text {
            text: printable_text(&spec.description),
        },
        full_description: Text {
            text: format!(
                "{}: a credential committed to a git repository, readable by everyone who can read the repository and every clone.",
                printable_text(&spec.description)
            ),
        },
        help: Text {
            text: printable_text(&help),
        },
        default_configuration: Configuration {
            level: level(blocks),
        },
        properties: RuleProperties {
            tags: vec!["security", "secret", "external/cwe/cwe-798"],
            security_severity,
            precision,
        },
    }
}

fn level(blocks: bool) -> &'static str {
    if blocks {
        "error"
    } else {
        "warning"
    }
}

/// A relative path as a URI reference under `%SRCROOT%`, an absolute one as a
/// `file:` URI; what a URI cannot hold is percent-encoded.
fn artifact(path: &str) -> ArtifactLocation {
    match path.strip_prefix('/') {
        Some(_) => ArtifactLocation {
            uri: format!("file://{}", uri(path)),
            uri_base_id: None,
        },
        None => ArtifactLocation {
            uri: uri(path),
            uri_base_id: Some(SRCROOT),
        },
    }
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
