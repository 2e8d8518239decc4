//! Suppression by file: keyward's baseline (fingerprints of findings someone has
//! reviewed) and, for teams moving over, gitleaks' `.gitleaksignore`.
//!
//! A keyward fingerprint hashes rule, path and secret and has no line number, so it
//! survives code moving. `.gitleaksignore` entries are line-bound
//! (`[commit:]path:rule:line`); they are honoured as written, matching path and
//! line (and the commit when both sides have one), since gitleaks' rule ids are not
//! keyward's.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::finding::{fingerprint, legacy_fingerprint, Finding};
use crate::text::printable_path;

pub const FILE_NAME: &str = ".keyward-baseline.json";
pub const GITLEAKS_IGNORE: &str = ".gitleaksignore";

#[derive(Debug, Default)]
pub struct Baseline {
    fingerprints: HashSet<String>,
    /// The salt of the loaded baseline's fingerprints, if it has one.
    salt: Option<Vec<u8>>,
    /// Fingerprints of the unsalted first format (version 1 files).
    legacy: HashSet<String>,
    ignores: Vec<IgnoreEntry>,
}

#[derive(Debug)]
struct IgnoreEntry {
    commit: Option<String>,
    path: String,
    rule: String,
    line: usize,
}

/// Whether a `.gitleaksignore` entry's rule id names this finding's rule:
/// keyward's own id, or a gitleaks id of the same provider (gitleaks and keyward
/// both name rules `<provider>-<kind>`: `stripe-access-token` covers keyward's
/// Stripe rules, `generic-api-key` its generic ones). So an entry made for one
/// secret cannot hide a different kind of secret later put on the same line.
fn same_rule(entry: &str, rule_id: &str) -> bool {
    let provider = |id: &str| {
        id.split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase()
    };
    entry == rule_id || provider(entry) == provider(rule_id)
}

/// The file `keyward baseline` writes.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineFile {
    pub version: u32,
    /// From version 2: the salt of the fingerprints, a 128-bit number in decimal.
    /// Not a secret, and written in digits so that no scanner takes it for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
    pub findings: Vec<BaselineEntry>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineEntry {
    pub fingerprint: String,
    /// For the reader of the file: which rule and where. Not used for matching.
    pub rule: String,
    pub path: String,
}

impl Baseline {
    /// Reads `explicit` (which must exist), or the repository root's baseline and
    /// `.gitleaksignore` when present.
    pub fn load(root: Option<&Path>, explicit: Option<&Path>) -> Result<Baseline> {
        Baseline::load_from(root, explicit, &crate::config::read_if_file)
    }

    /// As `load`, with the root's files read through `read` (the index, for a
    /// commit).
    pub fn load_from(
        root: Option<&Path>,
        explicit: Option<&Path>,
        read: &dyn Fn(&Path) -> Result<Option<String>>,
    ) -> Result<Baseline> {
        let mut baseline = Baseline::default();
        let found = match explicit {
            Some(p) => Some((
                p.to_path_buf(),
                crate::config::read_if_file(p)?.ok_or_else(|| {
                    Error::Usage(format!(
                        "no baseline at {}",
                        printable_path(p.as_os_str().as_encoded_bytes())
                    ))
                })?,
            )),
            None => match root.map(|r| r.join(FILE_NAME)) {
                Some(p) => read(&p)?.map(|text| (p, text)),
                None => None,
            },
        };
        if let Some((path, text)) = found {
            let file: BaselineFile = serde_json::from_str(&text).map_err(|e| Error::Config {
                path: path.clone(),
                line: e.line(),
                column: e.column(),
                message: format!("not a keyward baseline: {e}"),
            })?;
            let fingerprints = file.findings.into_iter().map(|e| e.fingerprint);
            match file.version {
                1 => baseline.legacy.extend(fingerprints),
                _ => {
                    baseline.fingerprints.extend(fingerprints);
                    baseline.salt = file
                        .salt
                        .as_deref()
                        .and_then(|d| d.parse::<u128>().ok())
                        .map(|n| n.to_be_bytes().to_vec());
                }
            }
        }
        let ignore = match root.map(|r| r.join(GITLEAKS_IGNORE)) {
            Some(p) => read(&p)?,
            None => None,
        };
        if let Some(text) = ignore {
            for line in text.lines().map(str::trim) {
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                if let Some(entry) = parse_ignore(line) {
                    baseline.ignores.push(entry);
                } else if line.len() == 64 && line.bytes().all(|b| b.is_ascii_hexdigit()) {
                    baseline.fingerprints.insert(line.to_ascii_lowercase());
                }
            }
        }
        Ok(baseline)
    }

    /// The salt new fingerprints are made with: the loaded baseline's, so its
    /// entries match, or a fixed one (stable across runs for SARIF consumers).
    pub fn salt(&self) -> &[u8] {
        self.salt.as_deref().unwrap_or(DEFAULT_SALT)
    }

    pub fn suppresses(&self, f: &Finding) -> bool {
        if self.fingerprints.contains(&f.fingerprint) {
            return true;
        }
        if !self.legacy.is_empty()
            && self
                .legacy
                .contains(&legacy_fingerprint(&f.rule_id, &f.place(), &f.secret))
        {
            return true;
        }
        let Some(line) = f.line() else {
            return false;
        };
        if self.ignores.is_empty() {
            return false;
        }
        let path = printable_path(&f.path);
        self.ignores.iter().any(|e| {
            e.line == line
                && e.path == path
                && same_rule(&e.rule, &f.rule_id)
                && match (&e.commit, f.commit()) {
                    (Some(a), Some(b)) => b.id.starts_with(a.as_str()),
                    (Some(_), None) => false,
                    (None, _) => true,
                }
        })
    }

    /// Writes `findings` as a new baseline with a fresh salt; `slow` says, per
    /// finding, whether its fingerprint must be slow to guess from.
    pub fn write(path: &Path, findings: &[(&Finding, bool)]) -> Result<usize> {
        let salt = fresh_salt()?;
        let mut seen = HashSet::new();
        let mut entries: Vec<BaselineEntry> = findings
            .iter()
            .map(|(f, slow)| BaselineEntry {
                fingerprint: fingerprint(&salt, &f.rule_id, &f.place(), &f.secret, *slow),
                rule: f.rule_id.clone(),
                path: printable_path(&f.place()),
            })
            .filter(|e| seen.insert(e.fingerprint.clone()))
            .collect();
        entries.sort_by(|a, b| {
            (&a.path, &a.rule, &a.fingerprint).cmp(&(&b.path, &b.rule, &b.fingerprint))
        });
        let count = entries.len();
        let file = BaselineFile {
            version: 2,
            salt: Some(
                u128::from_be_bytes(salt.as_slice().try_into().expect("16 bytes")).to_string(),
            ),
            findings: entries,
        };
        let mut text = serde_json::to_string_pretty(&file).expect("baseline serialises");
        text.push('\n');
        std::fs::write(path, text).map_err(|source| Error::Io {
            path: PathBuf::from(path),
            source,
        })?;
        Ok(count)
    }
}

/// The salt when no baseline names one.
const DEFAULT_SALT: &[u8] = b"keyward/v2";

/// Sixteen random bytes from the operating system, for a new baseline's salt.
fn fresh_salt() -> Result<Vec<u8>> {
    use std::io::Read;
    let mut salt = vec![0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut salt))
        .map_err(|source| Error::Io {
            path: PathBuf::from("/dev/urandom"),
            source,
        })?;
    Ok(salt)
}

/// `[commit:]path:rule:line`, split from the right since paths may hold colons.
fn parse_ignore(line: &str) -> Option<IgnoreEntry> {
    let (rest, line_no) = line.rsplit_once(':')?;
    let line_no: usize = line_no.parse().ok()?;
    let (rest, rule) = rest.rsplit_once(':')?;
    let (commit, path) = match rest.split_once(':') {
        Some((c, p)) if c.len() >= 7 && c.bytes().all(|b| b.is_ascii_hexdigit()) => {
            (Some(c.to_string()), p)
        }
        _ => (None, rest),
    };
    Some(IgnoreEntry {
        commit,
        path: path.to_string(),
        rule: rule.to_string(),
        line: line_no,
    })
}

#[cfg(test)]
mod tests {
    use super::parse_ignore;

    #[test]
    fn gitleaksignore_entries() {
        let e = parse_ignore(
            "0123abcd0123abcd0123abcd0123abcd0123abcd:src/a:b.py:stripe-access-token:12",
        )
        .unwrap();
        assert_eq!(
            e.commit.as_deref(),
            Some("0123abcd0123abcd0123abcd0123abcd0123abcd")
        );
        assert_eq!((e.path.as_str(), e.line), ("src/a:b.py", 12));
        let e = parse_ignore("config/app.yml:generic-api-key:3").unwrap();
        assert_eq!(
            (e.commit, e.path.as_str(), e.line),
            (None, "config/app.yml", 3)
        );
        assert!(parse_ignore("nonsense").is_none());
    }

    #[test]
    fn gitleaks_rule_ids_cover_only_their_provider() {
        use super::same_rule;
        assert!(same_rule("stripe-access-token", "stripe-live-secret-key"));
        assert!(same_rule("generic-api-key", "generic-secret-assignment"));
        assert!(same_rule("aws-access-token", "aws-access-key-id"));
        assert!(same_rule("private-key", "private-key-rsa"));
        assert!(!same_rule("generic-api-key", "stripe-live-secret-key"));
        assert!(!same_rule("slack-bot-token", "github-pat"));
    }
}
