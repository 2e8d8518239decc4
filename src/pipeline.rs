//! The one pipeline every source goes through. A source yields [`Blob`]s, each
//! with the [`Appearance`]s where it occurs; the pipeline reads each blob once
//! (its size from the object header or file metadata first, so an oversized one is
//! never inflated), decodes it once, scans it once, then places its matches at
//! every appearance in one function, [`Pipeline::place`]: rule path filters,
//! "already held before", the secret allowlist, the fingerprint and the baseline.
//! The path allowlist and the size limit are decided per appearance too, so content
//! that also sits at an allowlisted path is still checked everywhere else. No
//! source and no mode applies any of these itself.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aho_corasick::AhoCorasick;

use crate::baseline::Baseline;
use crate::config::{Allowlist, Config};
use crate::decode::{self, Budget};
use crate::error::{Error, Result};
use crate::finding::{fingerprint, CommitInfo, Exposure, Finding, InCommit, LineRange, Location};
use crate::git::{BlobData, Loose, ObjectId, Repo, RepoLocation};
use crate::rules::Severity;
use crate::scan::{Match, Scanner};

/// Where a blob's bytes are.
#[derive(Debug, Clone)]
pub enum Content {
    /// An object in the repository.
    Object(ObjectId),
    /// A file on disk.
    File(PathBuf),
    /// Bytes already in memory (a tag's message).
    Bytes(Arc<[u8]>),
    /// A commit's message, read when it is scanned: a history holds no copy of
    /// every message (42 MB on git.git) while it waits.
    Message(ObjectId),
}

/// What kind of place an appearance is: what the reports say about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Staged for the next commit.
    Staged,
    /// A file on disk.
    File,
    /// Introduced by a commit. Shared: a commit has many appearances, and a
    /// history scan holds them all at once.
    Commit(std::sync::Arc<CommitInfo>),
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
    /// Keys an inline marker let through, as `path:line`: never silent.
    pub marked: Vec<String>,
}

/// One blob's contribution, findings keyed by their appearance's order.
#[derive(Default)]
struct Placed {
    findings: Vec<(usize, Finding)>,
    not_scanned: Vec<NotScanned>,
    baselined: usize,
    marked: Vec<(usize, String)>,
}

pub struct Pipeline {
    scanner: Scanner,
    allowlist: Allowlist,
    max_file_size: u64,
    baseline: Baseline,
    pub warnings: Vec<String>,
    /// Whether content that could not be checked blocks the verdict.
    pub unscanned_blocks: bool,
    /// Whether an inline allow marker lets a key through.
    honour_markers: bool,
    /// `[fix] env_file`, relative to the top of the work tree: carried here so
    /// `keyward fix` and the hook's offer of it read the same config as the
    /// check (for a commit, the one being committed).
    fix_env_file: PathBuf,
}

impl Pipeline {
    pub fn new(config: Config, baseline: Baseline) -> Result<Pipeline> {
        Ok(Pipeline {
            scanner: Scanner::new(config.catalogue)?,
            allowlist: config.allowlist,
            max_file_size: config.max_file_size,
            baseline,
            warnings: config.warnings,
            unscanned_blocks: config.unscanned_blocks,
            honour_markers: config.honour_markers,
            fix_env_file: config.fix_env_file.unwrap_or_else(|| PathBuf::from(".env")),
        })
    }

    /// Where `keyward fix` moves keys, relative to the top of the work tree.
    pub fn fix_env_file(&self) -> &Path {
        &self.fix_env_file
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
        let mut marked = Vec::new();
        let mut out = Results::default();
        for (_, p) in placed {
            findings.extend(p.findings);
            marked.extend(p.marked);
            out.not_scanned.extend(p.not_scanned);
            out.baselined += p.baselined;
        }
        marked.sort();
        out.marked = marked.into_iter().map(|(_, place)| place).collect();
        // Stable: within an appearance, findings are already in order of offset.
        findings.sort_by_key(|(order, _)| *order);
        out.findings = one_per_key(findings.into_iter().map(|(_, f)| f));
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
        let mut out = Placed::default();
        // Each appearance with its path as it may be printed: a key in a file or
        // directory name is a finding, and is never printed whole, in any line.
        let mut wanted: Vec<(&Appearance, Vec<u8>)> = Vec::new();
        for a in &blob.appearances {
            if self.allowlist.path_allowed(&a.path) {
                continue;
            }
            let shown = self.path_findings(a, &mut out)?;
            wanted.push((a, shown));
        }
        let Some((_, first)) = wanted.first() else {
            return Ok(None);
        };
        // Everywhere the blob appears is named when it cannot be checked.
        let not_scanned = |out: &mut Placed, reason: &str| {
            for (_, shown) in &wanted {
                out.not_scanned.push(NotScanned {
                    path: shown.clone(),
                    reason: reason.to_string(),
                });
            }
        };
        let too_large = |size: u64| {
            format!(
                "{size} bytes, over the limit of {} (limits.max_file_size)",
                self.max_file_size
            )
        };
        let data = match reader.load(&blob.content, first, self.max_file_size) {
            Ok(Loaded::Data(data)) => data,
            Ok(Loaded::TooLarge(size)) => {
                not_scanned(&mut out, &too_large(size));
                return Ok(Some(out));
            }
            Err(Unreadable::NotScanned(reason)) => {
                not_scanned(&mut out, &reason);
                return Ok(Some(out));
            }
            Err(Unreadable::Fatal(e)) => return Err(e),
        };
        // Content read in place of what the header sized (a Git LFS object).
        if data.len() as u64 > self.max_file_size {
            not_scanned(&mut out, &too_large(data.len() as u64));
            return Ok(Some(out));
        }
        let mut budget = budget_for(data.len());
        let mut hits = Vec::new();
        let mut unfinished = Vec::new();
        let mut seen = Seen::default();
        for (reading, decoded) in decode::decode(&data).into_iter().enumerate() {
            let frame = Frame {
                at: None,
                encodings: Vec::new(),
                member: Vec::new(),
                comparable: reading == 0 && !decoded.transcoded && !decoded.binary,
            };
            self.collect(
                &decoded.text,
                decoded.binary,
                &frame,
                0,
                &mut budget,
                &mut seen,
                &mut hits,
                &mut unfinished,
            )?;
        }
        for reason in &unfinished {
            not_scanned(&mut out, &format!("not fully decoded: {reason}"));
        }
        if hits.is_empty() {
            let said = !unfinished.is_empty() || !out.findings.is_empty();
            return Ok(said.then_some(out));
        }
        for (a, shown) in &wanted {
            self.place(reader, &data, &hits, a, shown, &mut out)?;
        }
        Ok(Some(out))
    }

    /// Keys in an appearance's path: findings where the path is new (a file
    /// added, not one edited in place), and the path as it may be printed, each
    /// key in it redacted.
    fn path_findings(&self, a: &Appearance, out: &mut Placed) -> Result<Vec<u8>> {
        let mut matches = Vec::new();
        self.scanner.scan(&a.path, &mut matches)?;
        matches.retain(|m| self.scanner.applies(m.rule, &a.path));
        if matches.is_empty() {
            return Ok(a.path.clone());
        }
        let mut shown = Vec::with_capacity(a.path.len());
        let mut at = 0;
        for m in &matches {
            if m.offset < at {
                continue;
            }
            shown.extend_from_slice(&a.path[at..m.offset]);
            shown.extend_from_slice(m.secret.redacted().as_bytes());
            at = m.offset + m.secret.len();
        }
        shown.extend_from_slice(&a.path[at..]);
        let new_path = match &a.earlier {
            Earlier::Nothing => true,
            Earlier::Lines(_) => false,
            Earlier::Secrets(olds) => olds.is_empty(),
        };
        if new_path {
            for m in matches {
                self.keep(a, &shown, None, Location::Path, &m, None, out);
            }
        }
        Ok(shown)
    }

    /// Scans `text`, then what its decoders find in it, to `MAX_DEPTH`.
    #[allow(clippy::too_many_arguments)]
    fn collect(
        &self,
        text: &[u8],
        binary: bool,
        frame: &Frame,
        depth: usize,
        budget: &mut Budget,
        seen: &mut Seen,
        hits: &mut Vec<Hit>,
        unfinished: &mut Vec<String>,
    ) -> Result<()> {
        let mut matches = Vec::new();
        let stats = self.scanner.scan_as(text, binary, &mut matches)?;
        // In text, a key in plain sight is reported as such before anything
        // decoded from it; in a binary, an archive member names the key's place
        // better than a byte offset into compressed data, so members go first.
        if !binary {
            record(std::mem::take(&mut matches), binary, frame, seen, hits);
        }
        let mut fragments = Vec::new();
        let near_keywords = near(text, &stats.keyword_lines, NEAR_LINES);
        for decoder in decode::DECODERS {
            if binary && !decoder.reads_binary() {
                continue;
            }
            let windows = match decoder.reads() {
                decode::Reads::Everything => None,
                decode::Reads::NearKeywords => Some(&near_keywords),
            };
            let result = if let Some(windows) = windows {
                windows.iter().try_for_each(|w| {
                    let first = fragments.len();
                    let result = decoder.fragments(&text[w.clone()], budget, &mut fragments);
                    for f in &mut fragments[first..] {
                        f.span = f.span.start + w.start..f.span.end + w.start;
                    }
                    result
                })
            } else {
                decoder.fragments(text, budget, &mut fragments)
            };
            if let Err(decode::Exhausted(reason)) = result {
                unfinished.push(reason);
            }
        }
        if fragments.is_empty() {
            record(matches, binary, frame, seen, hits);
            return Ok(());
        }
        if depth >= MAX_DEPTH {
            unfinished.push(format!(
                "encodings or archives nested more than {MAX_DEPTH} deep were not opened"
            ));
            record(matches, binary, frame, seen, hits);
            return Ok(());
        }
        fragments.sort_by_key(|f| f.span.start);
        if binary && !matches.is_empty() {
            // An archive's stored members are text inside its bytes: what the
            // member's own reading decides (a `risk_live_` identifier is not a
            // key there) must not be overruled by the raw bytes around it.
            let secrets: Vec<&[u8]> = matches.iter().map(|m| m.secret.expose()).collect();
            let finder = AhoCorasick::new(&secrets)
                .map_err(|e| Error::Catalogue(format!("secret automaton: {e}")))?;
            let mut inside = vec![false; secrets.len()];
            for f in fragments.iter().filter(|f| f.member.is_some()) {
                for hit in finder.find_overlapping_iter(&f.bytes) {
                    inside[hit.pattern().as_usize()] = true;
                }
            }
            let mut i = 0;
            matches.retain(|_| {
                i += 1;
                !inside[i - 1]
            });
        }
        let mut lines = LineIndex::new(text);
        for f in fragments {
            let inner_binary = decode::is_binary(&f.bytes);
            let child = match &f.member {
                Some(member) => {
                    let mut path = frame.member.clone();
                    path.push(b'!');
                    path.extend_from_slice(member);
                    Frame {
                        at: frame.at,
                        encodings: frame.encodings.clone(),
                        member: path,
                        comparable: false,
                    }
                }
                None => {
                    let at = frame.at.unwrap_or_else(|| {
                        let (line, column) = lines.position(f.span.start);
                        // Each decoder's spans are disjoint, so counting inside them
                        // stays linear.
                        let end_line =
                            line + memchr::memchr_iter(b'\n', &text[f.span.clone()]).count();
                        let location = if binary {
                            Location::Binary {
                                offset: f.span.start,
                            }
                        } else {
                            Location::Text { line, column }
                        };
                        (location, (line, end_line))
                    });
                    let mut encodings = frame.encodings.clone();
                    encodings.push(f.encoding);
                    Frame {
                        at: Some(at),
                        encodings,
                        member: frame.member.clone(),
                        comparable: frame.comparable,
                    }
                }
            };
            self.collect(
                &f.bytes,
                inner_binary,
                &child,
                depth + 1,
                budget,
                seen,
                hits,
                unfinished,
            )?;
        }
        record(matches, binary, frame, seen, hits);
        Ok(())
    }

    /// A scanned blob's hits where it appears at `a`: every decision that
    /// depends on the place is made here, and only here.
    fn place(
        &self,
        reader: &Reader,
        data: &[u8],
        hits: &[Hit],
        a: &Appearance,
        shown: &[u8],
        out: &mut Placed,
    ) -> Result<()> {
        let applicable: Vec<&Hit> = hits
            .iter()
            .filter(|h| self.scanner.applies(h.m.rule, &a.path))
            .collect();
        if applicable.is_empty() {
            return Ok(());
        }
        let fresh = self.fresh(reader, data, &applicable, &a.earlier, &a.path)?;
        for (h, fresh) in applicable.into_iter().zip(fresh) {
            if !fresh || self.allowlist.secret_allowed(h.m.secret.expose()) {
                continue;
            }
            // A generic credential's confidence moves with the place (env and
            // credential files up, tests, docs and vendored code down); a
            // provider's key is what it is wherever it is.
            let placed;
            let m = match &h.m.assessment {
                Some(assessment) => {
                    let Some(severity) = crate::scan::generic::decide(assessment, &a.path) else {
                        continue;
                    };
                    let ceiling = self.scanner.catalogue().get(h.m.rule).spec.severity;
                    let mut m = h.m.clone();
                    m.severity = if ceiling == Severity::Warn {
                        Severity::Warn
                    } else {
                        severity
                    };
                    placed = m;
                    &placed
                }
                None => &h.m,
            };
            if m.allowed_by_marker && self.honour_markers {
                let line = match h.location {
                    Location::Text { line, .. } => format!(":{line}"),
                    _ => String::new(),
                };
                let place = String::from_utf8_lossy(shown).into_owned() + &line;
                out.marked.push((a.order, place));
                continue;
            }
            // `!member!inner`, as the frames built it: the first `!` is ours.
            let member = h.member.strip_prefix(b"!").map(<[u8]>::to_vec);
            let encoding = (!h.encodings.is_empty()).then(|| {
                // Innermost first: "base64-encoded, in percent-encoded" reads as
                // what a person would undo, in order.
                h.encodings
                    .iter()
                    .rev()
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", in ")
            });
            self.keep(a, shown, member, h.location, m, encoding, out);
        }
        Ok(())
    }

    /// Whether a secret could be guessed, so its fingerprint must be slow: what a
    /// generic rule found (a password, a token of unknown shape), or anything
    /// shorter than a random 24-character key.
    pub fn guessable(&self, rule: usize, secret_len: usize) -> bool {
        self.scanner.catalogue().get(rule).spec.fallback || secret_len < 24
    }

    /// Whether a finding is one a baseline must not take without being told by
    /// name: a blocking finding of a specific rule (a provider key, a private key),
    /// which is a credential whatever file it sits in.
    pub fn high_confidence(&self, f: &Finding) -> bool {
        f.blocks() && !f.public_example && !self.scanner.catalogue().get(f.rule).spec.fallback
    }

    /// Makes the finding: fingerprint, baseline, and its place in the report.
    #[allow(clippy::too_many_arguments)]
    fn keep(
        &self,
        a: &Appearance,
        shown: &[u8],
        member: Option<Vec<u8>>,
        location: Location,
        m: &Match,
        encoding: Option<String>,
        out: &mut Placed,
    ) {
        let mut place = shown.to_vec();
        if let Some(member) = &member {
            place.push(b'!');
            place.extend_from_slice(member);
        }
        let rule_id = self.scanner.catalogue().get(m.rule).spec.id.clone();
        let finding = Finding {
            rule: m.rule,
            fingerprint: fingerprint(
                self.baseline.salt(),
                &rule_id,
                &place,
                &m.secret,
                self.guessable(m.rule, m.secret.len()),
            ),
            rule_id,
            severity: m.severity,
            path: shown.to_vec(),
            member,
            location,
            secret: m.secret.clone(),
            public_example: m.public_example,
            commits: match &a.origin {
                Origin::Commit(info) => vec![InCommit {
                    commit: CommitInfo::clone(info),
                    exposure: Exposure::Unknown,
                }],
                _ => Vec::new(),
            },
            encoding,
            remotes: Vec::new(),
            assessment: m.assessment.clone(),
        };
        if self.baseline.suppresses(&finding) {
            out.baselined += 1;
        } else {
            out.findings.push((a.order, finding));
        }
    }

    /// For each hit, whether its key is new at this appearance.
    fn fresh(
        &self,
        reader: &Reader,
        new: &[u8],
        hits: &[&Hit],
        earlier: &Earlier,
        path: &[u8],
    ) -> Result<Vec<bool>> {
        let olds: Vec<&Content> = match earlier {
            Earlier::Nothing => return Ok(vec![true; hits.len()]),
            Earlier::Lines(old) => {
                // An earlier version not here to read (a partial clone) held
                // nothing as far as keyward can tell: everything counts as new.
                let old_data = match reader.read(old, path) {
                    Ok(data) => data,
                    Err(Unreadable::NotScanned(_)) => return Ok(vec![true; hits.len()]),
                    Err(Unreadable::Fatal(e)) => return Err(e),
                };
                // Lines are compared only between two plain texts; anything else
                // (binary, another encoding, an archive member) is compared by
                // secret.
                if hits.iter().all(|h| h.comparable) && !decode::is_binary(&old_data) {
                    let added = crate::git::added_lines(&old_data, new)?;
                    return Ok(hits
                        .iter()
                        .map(|h| touches(&added, h.lines.0, h.lines.1))
                        .collect());
                }
                vec![old]
            }
            Earlier::Secrets(olds) => olds.iter().collect(),
        };
        if olds.is_empty() {
            return Ok(vec![true; hits.len()]);
        }
        // Every distinct secret of the blob, searched for in one pass over each
        // reading and decoded fragment of each earlier version: linear in their
        // sizes, however many keys there are.
        let mut ids: HashMap<&[u8], usize> = HashMap::new();
        let of: Vec<usize> = hits
            .iter()
            .map(|h| {
                let next = ids.len();
                *ids.entry(h.m.secret.expose()).or_insert(next)
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
            let data = match reader.read(old, path) {
                Ok(data) => data,
                Err(Unreadable::NotScanned(_)) => continue,
                Err(Unreadable::Fatal(e)) => return Err(e),
            };
            let mut budget = budget_for(data.len());
            for decoded in decode::decode(&data) {
                every_text(&decoded.text, 0, &mut budget, &mut |text| {
                    for hit in finder.find_overlapping_iter(text) {
                        held[hit.pattern().as_usize()] = true;
                    }
                });
            }
        }
        Ok(of.into_iter().map(|i| !held[i]).collect())
    }
}

/// One finding per key: the same key (rule, place and secret: the fingerprint)
/// introduced by several commits (a branch rebased, a commit cherry-picked, a key
/// deleted and added again) is listed once, with every commit that introduced it,
/// in order. A key that occurs twice in one commit's file is two findings there,
/// so the n-th occurrence in one commit joins the n-th in another. One pass, one
/// hash map: linear in the findings. Findings outside commits are left as they are.
/// Only findings of one severity join: the same secret can be judged differently
/// at different places (a generic credential's name decides, `password =` or
/// `key =`), and a blocking finding must never be absorbed into a warning.
fn one_per_key(findings: impl Iterator<Item = Finding>) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    type Judged = (String, std::mem::Discriminant<Severity>);
    // (fingerprint and severity, occurrence within its commit) -> index in `out`.
    let mut kept: HashMap<(Judged, usize), usize> = HashMap::new();
    // (fingerprint and severity, commit id) -> occurrences so far.
    let mut nth: HashMap<(Judged, String), usize> = HashMap::new();
    for f in findings {
        let Some(commit) = f.commit() else {
            out.push(f);
            continue;
        };
        let judged = (f.fingerprint.clone(), std::mem::discriminant(&f.severity));
        let n = nth.entry((judged.clone(), commit.id.clone())).or_insert(0);
        let occurrence = *n;
        *n += 1;
        match kept.entry((judged, occurrence)) {
            std::collections::hash_map::Entry::Occupied(e) => {
                out[*e.get()].commits.extend(f.commits);
            }
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(out.len());
                out.push(f);
            }
        }
    }
    out
}

/// Lines of context around each keyword line, for decoders that only matter near
/// one: a concatenation may span a few lines (`key = "sk_live_" +` then the rest).
const NEAR_LINES: usize = 3;

/// The given lines (in order of start) widened by `by` lines each way, merged
/// where they meet. Each widening reads a few lines, so this stays linear.
fn near(text: &[u8], lines: &[std::ops::Range<usize>], by: usize) -> Vec<std::ops::Range<usize>> {
    let mut out: Vec<std::ops::Range<usize>> = Vec::new();
    for line in lines {
        if out.last().is_some_and(|w| line.end <= w.end) {
            continue;
        }
        let mut start = line.start;
        for _ in 0..by {
            match start
                .checked_sub(1)
                .and_then(|s| memchr::memrchr(b'\n', &text[..s]))
            {
                Some(nl) => start = nl + 1,
                None => {
                    start = 0;
                    break;
                }
            }
        }
        let mut end = line.end;
        for _ in 0..by {
            match memchr::memchr(b'\n', &text[(end + 1).min(text.len())..]) {
                Some(i) => end = end + 1 + i,
                None => {
                    end = text.len();
                    break;
                }
            }
        }
        match out.last_mut() {
            Some(w) if start <= w.end => w.end = w.end.max(end),
            _ => out.push(start..end),
        }
    }
    out
}

/// What one blob has reported so far: keys (rule and secret), and where.
#[derive(Default)]
struct Seen {
    keys: HashSet<(usize, Vec<u8>)>,
    occurrences: HashSet<((usize, Vec<u8>), Location)>,
}

/// Adds the matches of one text as hits, placed by `frame`, each occurrence once.
fn record(matches: Vec<Match>, binary: bool, frame: &Frame, seen: &mut Seen, hits: &mut Vec<Hit>) {
    for m in matches {
        let (location, lines) = match frame.at {
            Some(at) => at,
            None if binary => (Location::Binary { offset: m.offset }, (m.line, m.end_line)),
            None => (
                Location::Text {
                    line: m.line,
                    column: m.column,
                },
                (m.line, m.end_line),
            ),
        };
        // Each occurrence of a key in the text itself is reported (each must be
        // removed); a key decoded from a span or an archive member is reported
        // unless the same key was already found, so a line continuation or a
        // second reading does not report it twice.
        let key = (m.rule, m.secret.expose().to_vec());
        let plain = frame.at.is_none() && frame.member.is_empty();
        let fresh = if plain {
            seen.occurrences.insert((key.clone(), location))
        } else {
            !seen.keys.contains(&key)
        };
        seen.keys.insert(key);
        if !fresh {
            continue;
        }
        hits.push(Hit {
            location,
            lines,
            comparable: frame.comparable,
            encodings: frame.encodings.clone(),
            member: frame.member.clone(),
            m,
        });
    }
}

/// `text` and every fragment decoded from it, to `MAX_DEPTH`, for `visit`.
fn every_text(text: &[u8], depth: usize, budget: &mut Budget, visit: &mut dyn FnMut(&[u8])) {
    visit(text);
    if depth >= MAX_DEPTH {
        return;
    }
    let binary = decode::is_binary(text);
    let mut fragments = Vec::new();
    for decoder in decode::DECODERS {
        if binary && !decoder.reads_binary() {
            continue;
        }
        // What an earlier version held is only ever a reason to report less: a
        // budget that runs out here reports more, never less.
        let _ = decoder.fragments(text, budget, &mut fragments);
    }
    for f in fragments {
        every_text(&f.bytes, depth + 1, budget, visit);
    }
}

/// Decoders nest at most this deep: base64 in a zip member in an apk in base64.
const MAX_DEPTH: usize = 4;

/// What decoding one blob may cost: four times its size (archives expand), at
/// least 4 MiB and at most 256 MiB; at most 10,000 archive members.
fn budget_for(len: usize) -> Budget {
    Budget {
        bytes: len.saturating_mul(4).clamp(4 << 20, 256 << 20),
        members: 10_000,
    }
}

/// Where everything found inside a decoded span is reported: the span's place in
/// the text the pipeline read, its encodings, and the archive member it is in.
#[derive(Clone)]
struct Frame {
    /// The span's location and line range in the top text; `None` at the top, and
    /// inside an archive member, whose own lines place what is found.
    at: Option<(Location, (usize, usize))>,
    encodings: Vec<&'static str>,
    /// `!member!inner` for archive members.
    member: Vec<u8>,
    /// Found in the blob's plain text, where line diffs mean something.
    comparable: bool,
}

/// A match and where it is reported.
struct Hit {
    m: Match,
    location: Location,
    /// First and last line in the blob's text, for newness by line.
    lines: (usize, usize),
    comparable: bool,
    encodings: Vec<&'static str>,
    member: Vec<u8>,
}

/// Line and column of offsets asked for in increasing order, in one pass.
struct LineIndex<'a> {
    text: &'a [u8],
    /// Bytes before this are counted.
    at: usize,
    line: usize,
    line_start: usize,
    /// Characters from `line_start` to `at`: kept as it goes, so many positions
    /// on one long line cost its length once, not once each.
    chars: usize,
}

/// Characters in UTF-8 text (bytes that do not continue a character).
fn chars(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count()
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a [u8]) -> LineIndex<'a> {
        LineIndex {
            text,
            at: 0,
            line: 1,
            line_start: 0,
            chars: 0,
        }
    }

    fn advance(&mut self, offset: usize) {
        let offset = offset.min(self.text.len());
        if offset < self.at {
            // Out of order (nested spans): count again from the start.
            *self = LineIndex::new(self.text);
        }
        let gap = &self.text[self.at..offset];
        let newlines = memchr::memchr_iter(b'\n', gap).count();
        if newlines > 0 {
            self.line += newlines;
            self.line_start = self.at + memchr::memrchr(b'\n', gap).expect("counted one") + 1;
            self.chars = chars(&self.text[self.line_start..offset]);
        } else {
            self.chars += chars(gap);
        }
        self.at = offset;
    }

    /// 1-based line and character column.
    fn position(&mut self, offset: usize) -> (usize, usize) {
        self.advance(offset);
        (self.line, 1 + self.chars)
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

/// Content as `Reader::load` found it.
enum Loaded<'a> {
    Data(Data<'a>),
    /// Its size, over the limit: not read.
    TooLarge(u64),
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

    /// The repository, if it holds the object: a partial clone's missing blob is
    /// named as not checked, and never fetched.
    fn present(&self, id: ObjectId) -> std::result::Result<&Repo, Unreadable> {
        let repo = self.repo()?;
        if !repo.has_object(id) {
            return Err(Unreadable::NotScanned(
                "its content is not in this repository (a partial clone?), and keyward never fetches"
                    .into(),
            ));
        }
        Ok(repo)
    }

    /// The content, when it is no larger than `max`, sized before it is read
    /// where that costs less than reading it.
    fn load(
        &self,
        content: &Content,
        path: &[u8],
        max: u64,
    ) -> std::result::Result<Loaded<'_>, Unreadable> {
        let size = match content {
            Content::Object(id) => {
                match self.repo()?.read_loose_blob(*id, max) {
                    Some(Loose::TooLarge(size)) => return Ok(Loaded::TooLarge(size)),
                    Some(Loose::Bytes(bytes)) => {
                        return self.lfs_or(Data::Owned(bytes)).map(Loaded::Data)
                    }
                    None => {}
                }
                let repo = self.present(*id)?;
                repo.blob_size(*id, path)?
            }
            Content::File(file) => std::fs::metadata(file)
                .map(|m| m.len())
                .map_err(|e| Unreadable::NotScanned(format!("cannot read: {e}")))?,
            // In memory, or read whole to be sized at all (a commit message):
            // read once, then weighed.
            Content::Bytes(_) | Content::Message(_) => {
                let data = self.read(content, path)?;
                let size = data.len() as u64;
                return Ok(if size > max {
                    Loaded::TooLarge(size)
                } else {
                    Loaded::Data(data)
                });
            }
        };
        if size > max {
            return Ok(Loaded::TooLarge(size));
        }
        self.read(content, path).map(Loaded::Data)
    }

    /// A Git LFS pointer stands for content kept beside the repository: that
    /// content is what gets pushed (by LFS's own hook), so it is what is
    /// checked, and named when it is not here to check. Anything else is itself.
    fn lfs_or<'a>(&'a self, blob: Data<'a>) -> std::result::Result<Data<'a>, Unreadable> {
        let Some(oid) = crate::git::lfs_pointer(&blob) else {
            return Ok(blob);
        };
        let stored = self.repo()?.lfs_object(&oid).ok_or_else(|| {
            Unreadable::NotScanned(format!(
                "a Git LFS pointer whose object ({}…) is not present here",
                &oid[..12]
            ))
        })?;
        std::fs::read(stored)
            .map(Data::Owned)
            .map_err(|e| Unreadable::NotScanned(format!("cannot read its Git LFS object: {e}")))
    }

    fn read(&self, content: &Content, path: &[u8]) -> std::result::Result<Data<'_>, Unreadable> {
        match content {
            Content::Object(id) => {
                let repo = self.present(*id)?;
                let blob = repo.read_blob(*id, path)?;
                self.lfs_or(Data::Object(blob))
            }
            Content::File(file) => std::fs::read(file)
                .map(Data::Owned)
                .map_err(|e| Unreadable::NotScanned(format!("cannot read: {e}"))),
            Content::Bytes(b) => Ok(Data::Shared(b.clone())),
            Content::Message(id) => Ok(Data::Owned(self.repo()?.commit_message(*id)?)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index_counts_characters_as_it_goes() {
        let text = "ab\u{e9}cd\nx\u{e9}y z\n\nlast".as_bytes();
        let mut lines = LineIndex::new(text);
        let at = |c: &str| {
            text.windows(c.len())
                .position(|w| w == c.as_bytes())
                .unwrap()
        };
        assert_eq!(lines.position(at("c")), (1, 4));
        assert_eq!(lines.position(at("d")), (1, 5));
        assert_eq!(lines.position(at("y")), (2, 3));
        assert_eq!(lines.position(at("z")), (2, 5));
        assert_eq!(lines.position(at("last")), (4, 1));
        // Out of order (nested spans): counted again from the start.
        assert_eq!(lines.position(at("d")), (1, 5));
    }

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
