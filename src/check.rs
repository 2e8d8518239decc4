//! From one blob to its findings: size limit, path allowlist, binary and UTF-16
//! handling, which bytes are new (only added lines are checked when an old version
//! exists), the scan itself, then the secret allowlist and the baseline. Every input
//! source (staged changes, files on disk, history, commit messages) goes through here.

use crate::baseline::Baseline;
use crate::config::{Allowlist, Config};
use crate::error::Result;
use crate::finding::{fingerprint, Finding, LineRange, Location};
use crate::scan::{Match, Scanner};

/// git's own heuristic: a NUL byte in the first 8,000 bytes makes a file binary.
const BINARY_SNIFF: usize = 8000;

pub fn is_binary(bytes: &[u8]) -> bool {
    memchr::memchr(0, &bytes[..bytes.len().min(BINARY_SNIFF)]).is_some()
}

/// Computes the lines of `new` not in `old` (the git module's line diff).
pub type Differ<'a> = &'a dyn Fn(&[u8], &[u8]) -> Result<Vec<LineRange>>;

/// What a blob is compared against, to check only what it adds.
#[derive(Clone, Copy)]
pub enum Against<'a> {
    /// Nothing: every byte is new.
    Nothing,
    /// An older version, line by line: only added lines are scanned.
    Lines(&'a [u8], Differ<'a>),
    /// An older version, by secret: the whole blob is scanned and a secret the old
    /// version already held is not reported. No line diff is made, which is what
    /// keeps history scans fast.
    Secrets(&'a [u8]),
}

impl<'a> Against<'a> {
    fn old(&self) -> Option<&'a [u8]> {
        match *self {
            Against::Nothing => None,
            Against::Lines(old, _) | Against::Secrets(old) => Some(old),
        }
    }
}

/// What one blob holds, independent of where it appears.
#[derive(Debug, Default)]
pub struct BlobScan {
    pub matches: Vec<Match>,
    binary: bool,
    utf16: bool,
}

/// A file keyward did not read, and why: always reported, never silent.
#[derive(Debug, Clone)]
pub struct NotScanned {
    pub path: Vec<u8>,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct Checked {
    pub findings: Vec<Finding>,
    pub not_scanned: Vec<NotScanned>,
    /// Findings dropped because the baseline lists them.
    pub baselined: usize,
}

impl Checked {
    pub fn merge(&mut self, other: Checked) {
        self.findings.extend(other.findings);
        self.not_scanned.extend(other.not_scanned);
        self.baselined += other.baselined;
    }
}

pub struct Checker {
    scanner: Scanner,
    allowlist: Allowlist,
    max_file_size: u64,
    baseline: Baseline,
    pub warnings: Vec<String>,
}

impl Checker {
    pub fn new(config: Config, baseline: Baseline) -> Result<Checker> {
        Ok(Checker {
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

    /// Whether a blob of this size at this path would be read at all: lets a
    /// source skip loading it.
    pub fn wants(&self, path: &[u8], size: u64, out: &mut Checked) -> bool {
        if self.allowlist.path_allowed(path) {
            return false;
        }
        if size > self.max_file_size {
            out.not_scanned.push(NotScanned {
                path: path.to_vec(),
                reason: format!(
                    "{size} bytes, over the limit of {} (limits.max_file_size)",
                    self.max_file_size
                ),
            });
            return false;
        }
        true
    }

    /// Checks the content `new` at `path`, only for what it adds to `against`.
    /// Binary content is always compared by secret, since it has no lines.
    pub fn check(&self, path: &[u8], new: &[u8], against: Against) -> Result<Checked> {
        let mut out = Checked::default();
        if !self.wants(path, new.len() as u64, &mut out) {
            return Ok(out);
        }
        let mut matches = Vec::new();
        let decoded_new;
        let decoded_old;
        let old = against.old();
        let (new, old, by_lines) = match (decode_utf16(new), old.map(decode_utf16)) {
            (Some(n), o) => {
                decoded_new = n;
                decoded_old = o.flatten();
                (
                    decoded_new.as_bytes(),
                    decoded_old.as_ref().map(|s| s.as_bytes()),
                    false,
                )
            }
            (None, _) => (new, old, matches!(against, Against::Lines(..))),
        };
        if !by_lines || is_binary(new) || old.is_some_and(is_binary) {
            let binary = is_binary(new);
            self.scanner.scan(path, new, &mut matches)?;
            for m in matches {
                if old.is_some_and(|old| memchr::memmem::find(old, m.secret.expose()).is_some()) {
                    continue;
                }
                let location = if binary {
                    Location::Binary { offset: m.offset }
                } else {
                    Location::Text {
                        line: m.line,
                        column: m.column,
                    }
                };
                self.keep(path, m, location, &mut out);
            }
            return Ok(out);
        }
        match (old, against) {
            (Some(old), Against::Lines(_, differ)) => {
                let ranges = differ(old, new)?;
                for (first_line, region) in regions(new, &ranges) {
                    let mut matches = Vec::new();
                    self.scanner.scan(path, &new[region], &mut matches)?;
                    self.place(path, matches, first_line - 1, &mut out);
                }
            }
            _ => {
                self.scanner.scan(path, new, &mut matches)?;
                self.place(path, matches, 0, &mut out);
            }
        }
        Ok(out)
    }

    /// Scans a blob on its own, before knowing every path it appears at: the
    /// first half of a history check, done once per distinct blob.
    pub fn scan_blob(&self, content: &[u8]) -> Result<BlobScan> {
        let mut matches = Vec::new();
        match decode_utf16(content) {
            Some(text) => {
                self.scanner.scan_at(None, text.as_bytes(), &mut matches)?;
                Ok(BlobScan {
                    matches,
                    binary: false,
                    utf16: true,
                })
            }
            None => {
                self.scanner.scan_at(None, content, &mut matches)?;
                Ok(BlobScan {
                    matches,
                    binary: is_binary(content),
                    utf16: false,
                })
            }
        }
    }

    /// The second half: the findings of a scanned blob where it appears at `path`,
    /// leaving out secrets that `previous` versions (its parent's version, other
    /// parents of a merge) already held.
    pub fn place_blob(&self, path: &[u8], scan: &BlobScan, previous: &[&[u8]]) -> Checked {
        let mut out = Checked::default();
        if self.allowlist.path_allowed(path) {
            return out;
        }
        let decoded: Vec<String> = if scan.utf16 {
            previous.iter().filter_map(|p| decode_utf16(p)).collect()
        } else {
            Vec::new()
        };
        for m in &scan.matches {
            if !self.scanner.applies(m.rule, Some(path)) {
                continue;
            }
            let secret = m.secret.expose();
            let held = |old: &[u8]| memchr::memmem::find(old, secret).is_some();
            if previous.iter().any(|p| held(p)) || decoded.iter().any(|p| held(p.as_bytes())) {
                continue;
            }
            let location = if scan.binary {
                Location::Binary { offset: m.offset }
            } else {
                Location::Text {
                    line: m.line,
                    column: m.column,
                }
            };
            self.keep(path, m.clone(), location, &mut out);
        }
        out
    }

    fn place(&self, path: &[u8], matches: Vec<Match>, line_offset: usize, out: &mut Checked) {
        for m in matches {
            let location = Location::Text {
                line: m.line + line_offset,
                column: m.column,
            };
            self.keep(path, m, location, out);
        }
    }

    fn keep(&self, path: &[u8], m: Match, location: Location, out: &mut Checked) {
        if self.allowlist.secret_allowed(m.secret.expose()) {
            return;
        }
        let rule_id = self.scanner.catalogue().get(m.rule).spec.id.clone();
        let fingerprint = fingerprint(&rule_id, path, &m.secret);
        let finding = Finding {
            rule: m.rule,
            rule_id,
            severity: m.severity,
            path: path.to_vec(),
            location,
            secret: m.secret,
            fingerprint,
            public_example: m.public_example,
            commit: None,
        };
        if self.baseline.suppresses(&finding) {
            out.baselined += 1;
            return;
        }
        out.findings.push(finding);
    }

    /// The baseline, for sources that learn a finding's commit only after
    /// `check` (history), where `.gitleaksignore` entries naming a commit apply.
    pub fn baseline(&self) -> &Baseline {
        &self.baseline
    }
}

/// UTF-16 text (with a byte-order mark, or ASCII-heavy with every other byte NUL)
/// as UTF-8, so a key in a UTF-16 file is found like any other.
fn decode_utf16(bytes: &[u8]) -> Option<String> {
    let (little, body) = match bytes {
        [0xFF, 0xFE, rest @ ..] => (true, rest),
        [0xFE, 0xFF, rest @ ..] => (false, rest),
        _ => {
            let sample = &bytes[..bytes.len().min(1024) & !1];
            if sample.len() < 16 {
                return None;
            }
            let pairs = sample.len() / 2;
            let zero_odd = sample.chunks(2).filter(|p| p[1] == 0 && p[0] != 0).count();
            let zero_even = sample.chunks(2).filter(|p| p[0] == 0 && p[1] != 0).count();
            if zero_odd * 10 >= pairs * 9 {
                (true, bytes)
            } else if zero_even * 10 >= pairs * 9 {
                (false, bytes)
            } else {
                return None;
            }
        }
    };
    let units = body.chunks_exact(2).map(|p| {
        if little {
            u16::from_le_bytes([p[0], p[1]])
        } else {
            u16::from_be_bytes([p[0], p[1]])
        }
    });
    Some(
        char::decode_utf16(units)
            .map(|c| c.unwrap_or('\u{FFFD}'))
            .collect(),
    )
}

/// Byte ranges of the given line ranges, each with its first line number. Ranges
/// arrive in ascending order, so one pass over the newlines finds them all.
fn regions(text: &[u8], ranges: &[LineRange]) -> Vec<(usize, std::ops::Range<usize>)> {
    let mut newlines = memchr::memchr_iter(b'\n', text);
    let mut line = 1;
    let mut line_start = 0;
    let mut out = Vec::with_capacity(ranges.len());
    let mut advance_to = |target: usize, line: &mut usize, line_start: &mut usize| {
        while *line < target {
            match newlines.next() {
                Some(nl) => {
                    *line += 1;
                    *line_start = nl + 1;
                }
                None => {
                    *line = target;
                    *line_start = text.len();
                }
            }
        }
    };
    for range in ranges {
        advance_to(range.start, &mut line, &mut line_start);
        let start = line_start;
        advance_to(range.start + range.count, &mut line, &mut line_start);
        out.push((range.start, start..line_start));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_cover_exactly_the_added_lines() {
        let text = b"one\ntwo\nthree\nfour\nfive";
        let ranges = [
            LineRange { start: 2, count: 1 },
            LineRange { start: 4, count: 2 },
        ];
        let got: Vec<_> = regions(text, &ranges)
            .into_iter()
            .map(|(line, r)| (line, &text[r]))
            .collect();
        assert_eq!(got, vec![(2, &b"two\n"[..]), (4, &b"four\nfive"[..])]);
    }

    #[test]
    fn binary_sniff_matches_git() {
        assert!(is_binary(b"abc\0def"));
        assert!(!is_binary(b"plain text\n"));
    }

    #[test]
    fn utf16_is_decoded() {
        let text = "key = value, and more text here";
        let mut le = vec![0xFF, 0xFE];
        le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(decode_utf16(&le).as_deref(), Some(text));
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(decode_utf16(&be).as_deref(), Some(text));
        assert_eq!(decode_utf16(b"plain ascii text, long enough"), None);
    }
}
