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

/// How far a commit has gone, as far as this repository knows. A push to a URL
/// rather than to a named remote updates no tracking ref, so `Local` means "no
/// trace of a publication", not "never left the machine".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Exposure {
    /// Not looked up (runs that do not report it).
    #[default]
    Unknown,
    /// Reachable from no remote-tracking ref and no tag.
    Local,
    /// Reachable from these remotes' tracking refs and/or from a tag (the
    /// earliest tag holding it, by the tagged commit's date): published.
    Published {
        remotes: Vec<String>,
        tag: Option<String>,
    },
}

impl Exposure {
    /// `local`, `pushed` (on a remote, tagged or not), `tagged` (only a tag
    /// holds it) or `unknown`: the status field of the JSON and SARIF reports.
    pub fn status(&self) -> &'static str {
        match self {
            Exposure::Unknown => "unknown",
            Exposure::Local => "local",
            Exposure::Published { remotes, .. } if !remotes.is_empty() => "pushed",
            Exposure::Published { .. } => "tagged",
        }
    }

    pub fn published(&self) -> bool {
        matches!(self, Exposure::Published { .. })
    }
}

/// A commit that introduced a finding's key, and how far that commit has gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InCommit {
    pub commit: CommitInfo,
    pub exposure: Exposure,
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
    /// The commits that introduced this key at this place (history and
    /// pre-push), in the source's order (newest first): one when the pipeline
    /// places it, more once rebased or cherry-picked copies are folded into one
    /// finding (see `pipeline::one_per_key`). Empty outside commits.
    pub commits: Vec<InCommit>,
    /// Inside an archive: the member's path (`config/app.properties`, or
    /// `lib/inner.jar!config/app.properties` for nested archives). `location`
    /// is then within the member.
    pub member: Option<Vec<u8>>,
    /// How the secret was hidden where it was found (`base64-encoded`, `joined
    /// from string literals`); `None` when it was there in plain text.
    pub encoding: Option<String>,
    /// Remotes where, as far as git knows, the key is already published: whose
    /// tracking refs reach one of `commits` (pre-push, history), or hold the key
    /// at this path (a merge).
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

    /// The first commit that introduced the key, if it is in commits.
    pub fn commit(&self) -> Option<&CommitInfo> {
        self.commits.first().map(|c| &c.commit)
    }

    /// Whether the key is published, as far as git knows: on a remote (by a
    /// tracking ref, or by content for a merge) or in a tag.
    pub fn published(&self) -> bool {
        !self.remotes.is_empty() || self.commits.iter().any(|c| c.exposure.published())
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
