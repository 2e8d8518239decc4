//! The one pipeline every source goes through. A source yields [`Blob`]s, each
//! with the [`Appearance`]s where it occurs; the pipeline reads each blob once
//! (its size from the object header or file metadata first, so an oversized one is
//! never inflated), decodes it once, scans it once, then places its matches at
//! every appearance in one function, [`Pipeline::place`]: rule path filters,
//! "already held before", the secret allowlist, the fingerprint and the baseline.
//! The path allowlist and the size limit are decided per appearance too, so content
//! that also sits at an allowlisted path is still checked everywhere else. No
//! source and no mode applies any of these itself.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use aho_corasick::AhoCorasick;

use crate::baseline::Baseline;
use crate::config::{Allowlist, Config};
use crate::decode::{self, Decoded};
use crate::error::{Error, Result};
use crate::finding::{fingerprint, CommitInfo, Finding, LineRange, Location};
use crate::git::{BlobData, ObjectId, Repo, RepoLocation};
use crate::scan::{Match, Scanner};

/// Where a blob's bytes are.
#[derive(Debug, Clone)]
pub enum Content {
    /// An object in the repository.
    Object(ObjectId),
    /// A file on disk.
    File(PathBuf),
    /// Bytes already in memory (a commit message).
    Bytes(Arc<[u8]>),
}

/// What kind of place an appearance is: what the reports say about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Staged for the next commit.
    Staged,
    /// A file on disk.
    File,
    /// Introduced by a commit.
    Commit(CommitInfo),
    /// The message of the commit being made.
    Message,
}

/// What came before a blob at an appearance, to tell which of its keys are new.
#[derive(Debug, Clone)]
pub enum Earlier {
    /// Nothing: every byte is new.
    Nothing,
    /// An earlier version at this path: a key is new when it touches a line git's
    /// diff calls added. The whole blob is scanned, so a multi-line key whose body
    /// was filled in between lines already committed is seen whole.
    Lines(Content),
    /// Earlier versions (a parent's, a merge's other parents'): a key is new unless
    /// one of them already held it. No diff is made, which keeps history fast.
    Secrets(Vec<Content>),
}

/// One place a blob occurs.
#[derive(Debug, Clone)]
pub struct Appearance {
    pub path: Vec<u8>,
    pub origin: Origin,
    pub earlier: Earlier,
    /// The source's order for its appearances: findings are reported in it.
    pub order: usize,
}

/// Distinct content and everywhere it occurs.
#[derive(Debug, Clone)]
pub struct Blob {
    pub content: Content,
    pub appearances: Vec<Appearance>,
}

/// A file keyward did not read, and why: always reported, never silent.
#[derive(Debug, Clone)]
pub struct NotScanned {
    pub path: Vec<u8>,
    pub reason: String,
}

/// What a run found: owned data, for the reports.
#[derive(Debug, Default)]
pub struct Results {
    pub findings: Vec<Finding>,
    pub not_scanned: Vec<NotScanned>,
    /// Findings dropped because the baseline lists them.
    pub baselined: usize,
}

/// One blob's contribution, findings keyed by their appearance's order.
#[derive(Default)]
struct Placed {
    findings: Vec<(usize, Finding)>,
    not_scanned: Vec<NotScanned>,
    baselined: usize,
}

pub struct Pipeline {
    scanner: Scanner,
    allowlist: Allowlist,
    max_file_size: u64,
    baseline: Baseline,
    pub warnings: Vec<String>,
}

impl Pipeline {
    pub fn new(config: Config, baseline: Baseline) -> Result<Pipeline> {
        Ok(Pipeline {
            scanner: Scanner::new(config.catalogue)?,
            allowlist: config.allowlist,
            max_file_size: config.max_file_size,
            baseline,
            warnings: config.warnings,
        })
    }

    pub fn scanner(&self) -> &Scanner {
        &self.scanner
    }

    /// Runs every blob through the pipeline over the cores. Objects are read from
    /// the repository at `repo`, opened once per worker.
    pub fn run(
        &self,
        blobs: &[Blob],
        repo: Option<&RepoLocation>,
        progress: Option<&str>,
    ) -> Result<Results> {
        let placed = crate::pool::run(
            blobs.len(),
            progress,
            || {
                Ok(Reader {
                    repo: repo.map(RepoLocation::open).transpose()?,
                })
            },
            |reader, i| self.blob(reader, &blobs[i]),
        )?;
        let mut findings = Vec::new();
        let mut out = Results::default();
        for (_, p) in placed {
            findings.extend(p.findings);
            out.not_scanned.extend(p.not_scanned);
            out.baselined += p.baselined;
        }
        // Stable: within an appearance, findings are already in order of offset.
        findings.sort_by_key(|(order, _)| *order);
        out.findings = findings.into_iter().map(|(_, f)| f).collect();
        Ok(out)
    }

    /// Bytes in memory at `path`: for tests and callers without a repository.
    pub fn check_bytes(&self, path: &[u8], bytes: &[u8], earlier: Earlier) -> Result<Results> {
        let blob = Blob {
            content: Content::Bytes(bytes.into()),
            appearances: vec![Appearance {
                path: path.to_vec(),
                origin: Origin::File,
                earlier,
                order: 0,
            }],
        };
        self.run(std::slice::from_ref(&blob), None, None)
    }

    fn blob(&self, reader: &Reader, blob: &Blob) -> Result<Option<Placed>> {
        let wanted: Vec<&Appearance> = blob
            .appearances
            .iter()
            .filter(|a| !self.allowlist.path_allowed(&a.path))
            .collect();
        let Some(first) = wanted.first() else {
            return Ok(None);
        };
        let mut out = Placed::default();
        let size = match reader.size(&blob.content, &first.path) {
            Ok(size) => size,
            Err(Unreadable::NotScanned(reason)) => {
                for a in &wanted {
                    out.not_scanned.push(NotScanned {
                        path: a.path.clone(),
                        reason: reason.clone(),
                    });
                }
                return Ok(Some(out));
            }
            Err(Unreadable::Fatal(e)) => return Err(e),
        };
        if size > self.max_file_size {
            for a in &wanted {
                out.not_scanned.push(NotScanned {
                    path: a.path.clone(),
                    reason: format!(
                        "{size} bytes, over the limit of {} (limits.max_file_size)",
                        self.max_file_size
                    ),
                });
            }
            return Ok(Some(out));
        }
        let data = match reader.read(&blob.content, &first.path) {
            Ok(data) => data,
            Err(Unreadable::NotScanned(reason)) => {
                for a in &wanted {
                    out.not_scanned.push(NotScanned {
                        path: a.path.clone(),
                        reason: reason.clone(),
                    });
                }
                return Ok(Some(out));
            }
            Err(Unreadable::Fatal(e)) => return Err(e),
        };
        // A key found in more than one reading is one key: the first reading's.
        let mut seen: std::collections::HashSet<(usize, Vec<u8>)> = Default::default();
        let mut any = false;
        for decoded in decode::decode(&data) {
            let mut matches = Vec::new();
            self.scanner
                .scan_as(&decoded.text, decoded.binary, &mut matches)?;
            matches.retain(|m| seen.insert((m.rule, m.secret.expose().to_vec())));
            if matches.is_empty() {
                continue;
            }
            any = true;
            for a in &wanted {
                self.place(reader, &decoded, &matches, a, &mut out)?;
            }
        }
        Ok(any.then_some(out))
    }

    /// A scanned blob's matches where it appears at `a`: every decision that
    /// depends on the place is made here, and only here.
    fn place(
        &self,
        reader: &Reader,
        new: &Decoded,
        matches: &[Match],
        a: &Appearance,
        out: &mut Placed,
    ) -> Result<()> {
        let applicable: Vec<&Match> = matches
            .iter()
            .filter(|m| self.scanner.applies(m.rule, &a.path))
            .collect();
        if applicable.is_empty() {
            return Ok(());
        }
        let fresh = self.fresh(reader, new, &applicable, &a.earlier, &a.path)?;
        for (m, fresh) in applicable.into_iter().zip(fresh) {
            if !fresh || self.allowlist.secret_allowed(m.secret.expose()) {
                continue;
            }
            let location = if new.binary {
                Location::Binary { offset: m.offset }
            } else {
                Location::Text {
                    line: m.line,
                    column: m.column,
                }
            };
            let rule_id = self.scanner.catalogue().get(m.rule).spec.id.clone();
            let finding = Finding {
                rule: m.rule,
                fingerprint: fingerprint(&rule_id, &a.path, &m.secret),
                rule_id,
                severity: m.severity,
                path: a.path.clone(),
                location,
                secret: m.secret.clone(),
                public_example: m.public_example,
                commit: match &a.origin {
                    Origin::Commit(info) => Some(info.clone()),
                    _ => None,
                },
            };
            if self.baseline.suppresses(&finding) {
                out.baselined += 1;
            } else {
                out.findings.push((a.order, finding));
            }
        }
        Ok(())
    }

    /// For each match, whether its key is new at this appearance.
    fn fresh(
        &self,
        reader: &Reader,
        new: &Decoded,
        matches: &[&Match],
        earlier: &Earlier,
        path: &[u8],
    ) -> Result<Vec<bool>> {
        let olds: Vec<&Content> = match earlier {
            Earlier::Nothing => return Ok(vec![true; matches.len()]),
            Earlier::Lines(old) => {
                let old_data = reader.read(old, path).map_err(Unreadable::fatal)?;
                // Lines are compared only between two plain texts; anything else
                // (binary, another encoding) is compared by secret.
                if !new.binary && !new.transcoded && !decode::is_binary(&old_data) {
                    let added = crate::git::added_lines(&old_data, &new.text)?;
                    return Ok(matches
                        .iter()
                        .map(|m| touches(&added, m.line, m.end_line))
                        .collect());
                }
                vec![old]
            }
            Earlier::Secrets(olds) => olds.iter().collect(),
        };
        if olds.is_empty() {
            return Ok(vec![true; matches.len()]);
        }
        // Every distinct secret of the blob, searched for in one pass over each
        // earlier version: linear in their sizes, however many keys there are.
        let mut ids: HashMap<&[u8], usize> = HashMap::new();
        let of: Vec<usize> = matches
            .iter()
            .map(|m| {
                let next = ids.len();
                *ids.entry(m.secret.expose()).or_insert(next)
            })
            .collect();
        let mut patterns: Vec<&[u8]> = vec![&[][..]; ids.len()];
        for (secret, &i) in &ids {
            patterns[i] = secret;
        }
        let finder = AhoCorasick::new(&patterns)
            .map_err(|e| Error::Catalogue(format!("secret automaton: {e}")))?;
        let mut held = vec![false; patterns.len()];
        for old in olds {
            let data = reader.read(old, path).map_err(Unreadable::fatal)?;
            for decoded in decode::decode(&data) {
                for hit in finder.find_overlapping_iter(&*decoded.text) {
                    held[hit.pattern().as_usize()] = true;
                }
            }
        }
        Ok(of.into_iter().map(|i| !held[i]).collect())
    }
}

/// Whether lines `first..=last` meet any of the sorted, disjoint `ranges`.
fn touches(ranges: &[LineRange], first: usize, last: usize) -> bool {
    // The first range that ends after `first`; it touches when it starts by `last`.
    let i = ranges.partition_point(|r| r.start + r.count <= first);
    ranges.get(i).is_some_and(|r| r.start <= last)
}

/// Why content could not be read: a file that vanished or is unreadable is named
/// as not scanned; a repository that fails to give up an object stops the check.
enum Unreadable {
    NotScanned(String),
    Fatal(Error),
}

impl Unreadable {
    fn fatal(self) -> Error {
        match self {
            Unreadable::Fatal(e) => e,
            Unreadable::NotScanned(reason) => Error::Usage(reason),
        }
    }
}

impl From<Error> for Unreadable {
    fn from(e: Error) -> Unreadable {
        Unreadable::Fatal(e)
    }
}

/// Bytes as read: borrowed from libgit2 where it inflated them, or owned.
enum Data<'a> {
    Object(BlobData<'a>),
    Owned(Vec<u8>),
    Shared(Arc<[u8]>),
}

impl std::ops::Deref for Data<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Data::Object(b) => b,
            Data::Owned(v) => v,
            Data::Shared(s) => s,
        }
    }
}

/// One worker's access to content.
struct Reader {
    repo: Option<Repo>,
}

impl Reader {
    fn repo(&self) -> std::result::Result<&Repo, Unreadable> {
        self.repo.as_ref().ok_or_else(|| {
            Unreadable::Fatal(Error::Usage(
                "internal: an object was asked for without a repository".into(),
            ))
        })
    }

    fn size(&self, content: &Content, path: &[u8]) -> std::result::Result<u64, Unreadable> {
        match content {
            Content::Object(id) => Ok(self.repo()?.blob_size(*id, path)?),
            Content::File(file) => std::fs::metadata(file)
                .map(|m| m.len())
                .map_err(|e| Unreadable::NotScanned(format!("cannot read: {e}"))),
            Content::Bytes(b) => Ok(b.len() as u64),
        }
    }

    fn read(&self, content: &Content, path: &[u8]) -> std::result::Result<Data<'_>, Unreadable> {
        match content {
            Content::Object(id) => Ok(Data::Object(self.repo()?.read_blob(*id, path)?)),
            Content::File(file) => std::fs::read(file)
                .map(Data::Owned)
                .map_err(|e| Unreadable::NotScanned(format!("cannot read: {e}"))),
            Content::Bytes(b) => Ok(Data::Shared(b.clone())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn touching_added_lines() {
        let ranges = [
            LineRange { start: 3, count: 2 },
            LineRange {
                start: 10,
                count: 1,
            },
        ];
        assert!(!touches(&ranges, 1, 2));
        assert!(touches(&ranges, 1, 3));
        assert!(touches(&ranges, 4, 4));
        assert!(!touches(&ranges, 5, 9));
        assert!(touches(&ranges, 5, 12));
        assert!(!touches(&ranges, 11, 11));
        assert!(!touches(&[], 1, 1));
    }
}
