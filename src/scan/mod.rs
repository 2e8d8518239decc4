//! The scan engine: bytes in, matches out. It knows nothing of git or of files.
//!
//! Cost model: one Aho-Corasick pass over the input finds every rule keyword
//! (ASCII-case-insensitively); that pass is the only per-byte work on a clean input,
//! and it costs the same with ten rules or three hundred. Only on a line holding a
//! keyword does the keyword's rule run its regex, once per rule and line, compiled on
//! first use. Confirmed matches then pass the entropy floor, the placeholder filter
//! and the inline allow markers. Line numbers and columns are counted incrementally,
//! so the whole scan stays linear in the input however many keywords it holds.

mod filter;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use crate::error::{Error, Result};
use crate::rules::{Catalogue, Severity};
use crate::secret::Secret;

/// How far past the keyword's line a multi-line rule (a PEM block) may look.
const MULTILINE_WINDOW: usize = 64 * 1024;

/// A confirmed secret within one input.
#[derive(Debug, Clone)]
pub struct Match {
    /// Index of the rule in the catalogue.
    pub rule: usize,
    pub severity: Severity,
    /// Byte offset of the secret within the input.
    pub offset: usize,
    /// 1-based line of the secret's first byte within the input.
    pub line: usize,
    /// 1-based column, in characters (UTF-8 continuation bytes do not count).
    pub column: usize,
    pub secret: Secret,
}

pub struct Scanner<'c> {
    catalogue: &'c Catalogue,
    automaton: AhoCorasick,
    /// For each automaton pattern, the rules that asked for that keyword.
    pattern_rules: Vec<Vec<usize>>,
}

impl<'c> Scanner<'c> {
    pub fn new(catalogue: &'c Catalogue) -> Result<Scanner<'c>> {
        let mut keywords: Vec<String> = Vec::new();
        let mut pattern_rules: Vec<Vec<usize>> = Vec::new();
        let mut index = std::collections::HashMap::new();
        for (rule_index, rule) in catalogue.rules.iter().enumerate() {
            for keyword in &rule.spec.keywords {
                let key = keyword.to_ascii_lowercase();
                let pattern = *index.entry(key.clone()).or_insert_with(|| {
                    keywords.push(key);
                    pattern_rules.push(Vec::new());
                    keywords.len() - 1
                });
                if !pattern_rules[pattern].contains(&rule_index) {
                    pattern_rules[pattern].push(rule_index);
                }
            }
        }
        // Standard semantics with overlapping search: a keyword that is a suffix of
        // another must still be reported.
        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .ascii_case_insensitive(true)
            .build(&keywords)
            .map_err(|e| Error::Catalogue(format!("keyword automaton: {e}")))?;
        Ok(Scanner {
            catalogue,
            automaton,
            pattern_rules,
        })
    }

    /// Scans one input, appending matches in order of offset.
    pub fn scan(&self, input: &[u8], out: &mut Vec<Match>) -> Result<()> {
        let first = out.len();
        let mut lines = LineCursor::new(input);
        // The line each rule last ran on: hits arrive in order of their end offset,
        // so one slot per rule is enough to run each rule once per line.
        let mut last_line: Vec<usize> = vec![usize::MAX; self.catalogue.rules.len()];
        for hit in self.automaton.find_overlapping_iter(input) {
            let (line_start, line_end) = lines.line_around(hit.start());
            for &rule_index in &self.pattern_rules[hit.pattern().as_usize()] {
                if last_line[rule_index] == line_start {
                    continue;
                }
                last_line[rule_index] = line_start;
                let rule = self.catalogue.get(rule_index);
                let window_end = if rule.spec.multiline {
                    input.len().min(line_start.saturating_add(MULTILINE_WINDOW))
                } else {
                    line_end
                };
                let window = &input[line_start..window_end];
                let regex = rule.regex()?;
                for caps in regex.captures_iter(window) {
                    let Some(group) = caps.get(rule.spec.secret_group) else {
                        continue;
                    };
                    let bytes = group.as_bytes();
                    if bytes.is_empty() {
                        continue;
                    }
                    let offset = line_start + group.start();
                    if out[first..]
                        .iter()
                        .any(|m| m.rule == rule_index && m.offset == offset)
                    {
                        continue;
                    }
                    let prefix = rule.visible_prefix(bytes);
                    if let Some(floor) = rule.spec.min_entropy {
                        if filter::entropy(bytes) < floor {
                            continue;
                        }
                    }
                    if filter::is_placeholder(&bytes[prefix..]) {
                        continue;
                    }
                    let (line, column) = lines.position(offset);
                    if filter::has_allow_marker(lines.line_of(offset)) {
                        continue;
                    }
                    out.push(Match {
                        rule: rule_index,
                        severity: rule.spec.severity,
                        offset,
                        line,
                        column,
                        secret: Secret::new(bytes.to_vec(), prefix),
                    });
                }
            }
        }
        out[first..].sort_by_key(|m| (m.offset, m.rule));
        Ok(())
    }
}

/// Finds line bounds and numbers for offsets that mostly arrive in increasing order,
/// counting newlines only over bytes not yet counted.
struct LineCursor<'a> {
    input: &'a [u8],
    /// A line start whose 1-based number is known.
    known_start: usize,
    known_line: usize,
    /// The line last asked for, as [start, end).
    current: (usize, usize),
}

impl<'a> LineCursor<'a> {
    fn new(input: &'a [u8]) -> LineCursor<'a> {
        LineCursor {
            input,
            known_start: 0,
            known_line: 1,
            current: (usize::MAX, usize::MAX),
        }
    }

    fn line_around(&mut self, offset: usize) -> (usize, usize) {
        if offset >= self.current.0 && offset < self.current.1 {
            return self.current;
        }
        let start = memchr::memrchr(b'\n', &self.input[..offset]).map_or(0, |i| i + 1);
        let end =
            memchr::memchr(b'\n', &self.input[offset..]).map_or(self.input.len(), |i| offset + i);
        self.current = (start, end);
        self.current
    }

    fn line_of(&self, offset: usize) -> &'a [u8] {
        let start = memchr::memrchr(b'\n', &self.input[..offset]).map_or(0, |i| i + 1);
        let end =
            memchr::memchr(b'\n', &self.input[offset..]).map_or(self.input.len(), |i| offset + i);
        &self.input[start..end]
    }

    /// 1-based line and character column of `offset`.
    fn position(&mut self, offset: usize) -> (usize, usize) {
        let start = memchr::memrchr(b'\n', &self.input[..offset]).map_or(0, |i| i + 1);
        if start < self.known_start {
            self.known_start = 0;
            self.known_line = 1;
        }
        self.known_line += memchr::memchr_iter(b'\n', &self.input[self.known_start..start]).count();
        self.known_start = start;
        let column = 1 + self.input[start..offset]
            .iter()
            .filter(|&&b| (b & 0xC0) != 0x80)
            .count();
        (self.known_line, column)
    }
}
