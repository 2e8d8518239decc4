//! A finding: a confirmed secret placed in a file (and, for history, a commit). The
//! common currency between the input sources and the report formats.

use sha2::{Digest, Sha256};

use crate::rules::Severity;
use crate::secret::Secret;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    /// Remotes whose tracking refs already reach `commit`: as far as git knows,
    /// the key is published there (pushes and merges say so).
    pub remotes: Vec<String>,
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

/// Rounds of SHA-256 for the fingerprint of a secret a person might have chosen
/// (a password, a short token): enough that guessing it back from a committed
/// baseline or a published SARIF file costs years of GPU time for anything but
/// a trivial password, at about a millisecond a finding.
const SLOW_ROUNDS: usize = 4096;

/// A salted hash of rule, path and secret, in hex. No line number: a fingerprint
/// must survive the code around it moving. A salt stored in the baseline keeps a
/// precomputed table from serving every repository; `slow` (for secrets short or
/// generic enough to guess) makes each guess cost thousands of hashes. A random
/// 24-character key needs neither: it cannot be guessed at any speed.
pub fn fingerprint(salt: &[u8], rule_id: &str, path: &[u8], secret: &Secret, slow: bool) -> String {
    let mut h = Sha256::new();
    h.update(salt);
    h.update([0]);
    h.update(rule_id.as_bytes());
    h.update([0]);
    h.update(path);
    h.update([0]);
    h.update(secret.expose());
    let mut digest = h.finalize();
    if slow {
        for _ in 0..SLOW_ROUNDS {
            let mut h = Sha256::new();
            h.update(digest);
            h.update(salt);
            digest = h.finalize();
        }
    }
    hex(&digest)
}

/// keyward's first fingerprint, `sha256(rule id, path, secret)`: still matched,
/// so baselines written before the salted form keep working.
pub fn legacy_fingerprint(rule_id: &str, path: &[u8], secret: &Secret) -> String {
    let mut h = Sha256::new();
    h.update(rule_id.as_bytes());
    h.update([0]);
    h.update(path);
    h.update([0]);
    h.update(secret.expose());
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(2 * bytes.len());
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
    out
}
