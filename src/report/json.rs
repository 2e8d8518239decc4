//! `--format json`: one JSON document per run. The wire types here are the
//! documented, stable format (see README, "JSON report"); they are kept apart from
//! the internal types so the internals can change without breaking readers.

use serde::Serialize;

use super::{iso8601, Report};
use crate::finding::{Exposure, InCommit, Location};
use crate::text::printable_path;

/// Bumped only on an incompatible change.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Serialize)]
pub struct Document<'a> {
    /// Format version of this document.
    pub version: u32,
    pub tool: Tool,
    /// staged, files, history, pre-push or commit-msg.
    pub mode: &'static str,
    /// Whether any finding blocks (the exit status is then 1).
    pub blocked: bool,
    pub findings: Vec<JsonFinding<'a>>,
    /// Files not read, and why.
    pub not_scanned: Vec<NotScanned>,
    /// Findings suppressed by the baseline.
    pub baselined: usize,
    /// Keys let through by an inline allow marker, as `path:line`.
    pub allowed_by_marker: &'a [String],
    pub warnings: &'a [String],
}

#[derive(Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Serialize)]
pub struct JsonFinding<'a> {
    pub rule: &'a str,
    pub description: &'a str,
    /// block or warn.
    pub severity: &'static str,
    pub path: String,
    /// 1-based; null for binary files and for a key in the path itself (`path`
    /// then shows it redacted, as it always shows keys in paths).
    pub line: Option<usize>,
    /// 1-based, in characters; null for binary files.
    pub column: Option<usize>,
    /// Byte offset in a binary file; null for text.
    pub byte_offset: Option<usize>,
    /// Redacted: the kind prefix and at most the last four characters.
    pub secret: String,
    /// sha256 of rule, path and secret, as used by the baseline.
    pub fingerprint: &'a str,
    /// The secret is a provider's published documentation example.
    pub public_example: bool,
    /// The commit that added it (history and pre-push), else null: the first of
    /// `commits`.
    pub commit: Option<JsonCommit<'a>>,
    /// Every commit that introduced this key at this place, newest first: more
    /// than one when a branch was rebased or a commit cherry-picked. Each says
    /// how far it has gone. Empty outside commits.
    pub commits: Vec<JsonInCommit<'a>>,
    /// The most exposed of `commits`: pushed, tagged or local (as far as git
    /// knows: a push to a URL rather than a named remote leaves no trace); null
    /// outside commits.
    pub exposure: Option<&'static str>,
    pub remediation: &'a str,
    /// How the secret was hidden (`base64-encoded`, `joined from string
    /// literals`, ...); null when it was in plain text.
    pub encoding: Option<&'a str>,
    /// Inside an archive at `path`: the member's path (nested archives joined
    /// with `!`), to which `line` and `column` refer; else null.
    pub member: Option<String>,
    /// For a generic credential (no provider prefix), what the model saw; else
    /// null. `secret` then shows none of the value's characters.
    pub generic: Option<JsonGeneric>,
}

/// What the generic model concluded, for triage without opening the file.
#[derive(Serialize)]
pub struct JsonGeneric {
    /// The name the value is assigned to, as written (`DB_PASSWORD`), or what
    /// stands for it (`curl -u`, `postgres URL password for db.internal`).
    pub name: String,
    /// password, passphrase, random, hex, jwt, basic-auth, uuid, password-hash.
    pub value_kind: &'static str,
    /// The value's length in characters.
    pub value_length: usize,
    /// `DB_PASSWORD = 12-character password`.
    pub summary: String,
    /// The model's confidence before the place was weighed (blocks from 75,
    /// warns from 50, after the place moved it).
    pub confidence: i32,
}

#[derive(Serialize)]
pub struct JsonCommit<'a> {
    pub id: &'a str,
    pub date: String,
}

#[derive(Serialize)]
pub struct JsonInCommit<'a> {
    pub id: &'a str,
    pub date: String,
    /// local, pushed (on a remote's tracking ref), tagged (only in a tag), or
    /// unknown (not looked up).
    pub exposure: &'static str,
    /// Remotes whose tracking refs reach the commit.
    pub remotes: &'a [String],
    /// The earliest tag holding the commit, else null.
    pub tag: Option<&'a str>,
}

#[derive(Serialize)]
pub struct NotScanned {
    pub path: String,
    pub reason: String,
}

pub fn document<'a>(report: &'a Report) -> Document<'a> {
    let findings = report
        .results
        .findings
        .iter()
        .map(|f| {
            let spec = &report.catalogue.get(f.rule).spec;
            let (line, column, byte_offset) = match f.location {
                Location::Text { line, column } => (Some(line), Some(column), None),
                Location::Binary { offset } => (None, None, Some(offset)),
                Location::Path => (None, None, None),
            };
            JsonFinding {
                rule: &spec.id,
                description: &spec.description,
                severity: f.severity.as_str(),
                path: printable_path(&f.path),
                line,
                column,
                byte_offset,
                secret: f.secret.redacted(),
                fingerprint: &f.fingerprint,
                public_example: f.public_example,
                commit: f.commit().map(|c| JsonCommit {
                    id: &c.id,
                    date: iso8601(c.time),
                }),
                commits: f
                    .commits
                    .iter()
                    .map(|c| {
                        let (remotes, tag) = match &c.exposure {
                            Exposure::Published { remotes, tag } => {
                                (remotes.as_slice(), tag.as_deref())
                            }
                            _ => (&[][..], None),
                        };
                        JsonInCommit {
                            id: &c.commit.id,
                            date: iso8601(c.commit.time),
                            exposure: c.exposure.status(),
                            remotes,
                            tag,
                        }
                    })
                    .collect(),
                exposure: most_exposed(&f.commits),
                remediation: spec.remediation.trim(),
                encoding: f.encoding.as_deref(),
                member: f.member.as_deref().map(printable_path),
                generic: f.assessment.as_ref().map(|a| JsonGeneric {
                    name: crate::text::printable_text(&a.name),
                    value_kind: a.kind_name(),
                    value_length: a.length,
                    summary: crate::text::printable_text(&a.describe()),
                    confidence: a.confidence,
                }),
            }
        })
        .collect();
    Document {
        version: FORMAT_VERSION,
        tool: Tool {
            name: "keyward",
            version: env!("CARGO_PKG_VERSION"),
        },
        mode: report.mode.name(),
        blocked: report.blocked(),
        findings,
        not_scanned: report
            .results
            .not_scanned
            .iter()
            .map(|n| NotScanned {
                path: printable_path(&n.path),
                reason: n.reason.clone(),
            })
            .collect(),
        baselined: report.results.baselined,
        allowed_by_marker: &report.results.marked,
        warnings: report.warnings,
    }
}

/// The status of the most exposed commit: pushed, then tagged, then local.
pub fn most_exposed(commits: &[InCommit]) -> Option<&'static str> {
    let rank = |status: &str| match status {
        "pushed" => 3,
        "tagged" => 2,
        "local" => 1,
        _ => 0,
    };
    commits
        .iter()
        .map(|c| c.exposure.status())
        .max_by_key(|s| rank(s))
}

pub struct Json;

impl super::Render for Json {
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
