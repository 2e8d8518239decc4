//! A finding: a confirmed secret placed in a file (and, for history, a commit). The
//! common currency between the input sources and the report formats.

use sha2::{Digest, Sha256};

use crate::rules::Severity;
use crate::secret::Secret;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// 1-based line and character column in a text file.
    Text { line: usize, column: usize },
    /// Byte offset in a binary file, where lines mean nothing.
    Binary { offset: usize },
    /// In the file's path (a file or directory name), not its content.
    Path,
}

/// A range of 1-based lines: `start..start + count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineRange {
    pub start: usize,
    pub count: usize,
}

/// The commit a finding was added in (history and pre-push).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    /// Full hex object id.
    pub id: String,
    /// Commit time, seconds since the epoch, UTC.
    pub time: i64,
}

#[derive(Debug, Clone)]
pub struct Finding {
    /// Index of the rule in the catalogue.
    pub rule: usize,
    pub rule_id: String,
    pub severity: Severity,
    /// Path as git stores it: bytes, not necessarily UTF-8.
    pub path: Vec<u8>,
    pub location: Location,
    pub secret: Secret,
    /// A hash of rule, path and secret: stable when code moves, and never the
    /// secret itself.
    pub fingerprint: String,
    pub public_example: bool,
    pub commit: Option<CommitInfo>,
    /// Inside an archive: the member's path (`config/app.properties`, or
    /// `lib/inner.jar!config/app.properties` for nested archives). `location`
    /// is then within the member.
    pub member: Option<Vec<u8>>,
    /// How the secret was hidden where it was found (`base64-encoded`, `joined
    /// from string literals`); `None` when it was there in plain text.
    pub encoding: Option<String>,
    /// For a generic credential: the name it is assigned to, the value's kind and
    /// length, and the confidence at this place. Reports print this instead of any
    /// part of the value.
    pub assessment: Option<crate::scan::generic::Assessment>,
}

impl Finding {
    /// The file and, inside an archive, the member: `app.jar!config/app.properties`.
    pub fn place(&self) -> Vec<u8> {
        let mut p = self.path.clone();
        if let Some(member) = &self.member {
            p.push(b'!');
            p.extend_from_slice(member);
        }
        p
    }

    pub fn blocks(&self) -> bool {
        self.severity == Severity::Block
    }

    pub fn line(&self) -> Option<usize> {
        match self.location {
            Location::Text { line, .. } => Some(line),
            Location::Binary { .. } | Location::Path => None,
        }
    }
}

/// `sha256(rule id, path, secret)` in hex. No line number: a fingerprint must
/// survive the code around it moving.
pub fn fingerprint(rule_id: &str, path: &[u8], secret: &Secret) -> String {
    let mut h = Sha256::new();
    h.update(rule_id.as_bytes());
    h.update([0]);
    h.update(path);
    h.update([0]);
    h.update(secret.expose());
    let digest = h.finalize();
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}
