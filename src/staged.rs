//! The staged-changes source: turns what `git commit` is about to record into the
//! added regions of each blob, scans them, and places the matches in their files.

use crate::error::Result;
use crate::finding::{Finding, Location};
use crate::git::{self, LineRange, Repo, Staged, StagedChange};
use crate::scan::{Match, Scanner};

/// git's own heuristic: a NUL byte in the first 8,000 bytes makes a file binary.
const BINARY_SNIFF: usize = 8000;

pub fn is_binary(bytes: &[u8]) -> bool {
    memchr::memchr(0, &bytes[..bytes.len().min(BINARY_SNIFF)]).is_some()
}

pub fn scan_staged(repo: &Repo, staged: &Staged, scanner: &Scanner) -> Result<Vec<Finding>> {
    let mut findings = Vec::new();
    let mut matches = Vec::new();
    for change in &staged.changes {
        matches.clear();
        let new = repo.read_blob(change.new, &change.path)?;
        let old = match change.old {
            Some(id) => Some(repo.read_blob(id, change.old_path.as_ref().unwrap_or(&change.path))?),
            None => None,
        };
        if is_binary(&new) || old.as_deref().is_some_and(is_binary) {
            scan_binary(scanner, change, &new, old.as_deref(), &mut findings)?;
            continue;
        }
        match old {
            None => {
                scanner.scan(&new, &mut matches)?;
                place(change, &matches, 0, &mut findings);
            }
            Some(old) => {
                let ranges = git::added_lines(&old, &new)?;
                for (first_line, region) in regions(&new, &ranges) {
                    matches.clear();
                    scanner.scan(&new[region], &mut matches)?;
                    place(change, &matches, first_line - 1, &mut findings);
                }
            }
        }
    }
    Ok(findings)
}

/// A binary file has no lines to diff: the whole new blob is scanned, and a secret
/// that the old blob already held is not news.
fn scan_binary(
    scanner: &Scanner,
    change: &StagedChange,
    new: &[u8],
    old: Option<&[u8]>,
    findings: &mut Vec<Finding>,
) -> Result<()> {
    let mut matches = Vec::new();
    scanner.scan(new, &mut matches)?;
    for m in matches {
        if old.is_some_and(|old| memchr::memmem::find(old, m.secret.expose()).is_some()) {
            continue;
        }
        findings.push(Finding {
            rule: m.rule,
            severity: m.severity,
            path: change.path.clone(),
            location: Location::Binary { offset: m.offset },
            secret: m.secret,
        });
    }
    Ok(())
}

fn place(
    change: &StagedChange,
    matches: &[Match],
    line_offset: usize,
    findings: &mut Vec<Finding>,
) {
    findings.extend(matches.iter().map(|m| Finding {
        rule: m.rule,
        severity: m.severity,
        path: change.path.clone(),
        location: Location::Text {
            line: m.line + line_offset,
            column: m.column,
        },
        secret: m.secret.clone(),
    }));
}

/// Byte ranges of the given line ranges, each with its first line number. Ranges
/// arrive in ascending order, so one pass over the newlines finds them all.
fn regions(text: &[u8], ranges: &[LineRange]) -> Vec<(usize, std::ops::Range<usize>)> {
    // starts[n] is the byte offset where line n + 1 starts, found lazily.
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
}
