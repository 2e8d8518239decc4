//! The scan engine: bytes in, matches out. It knows nothing of git.
//!
//! Cost model. Let n be the input's length and W the multi-line window (128 KiB).
//! One Aho-Corasick pass over the input finds every rule keyword
//! (ASCII-case-insensitively); on a clean input that pass is the only per-byte work,
//! and it costs the same with ten rules or three hundred. On a line holding a
//! keyword, each rule asking for a keyword there runs its regex once over that line;
//! a multi-line rule (a PEM block) runs over a window of W bytes from the line, and
//! only when the line lies past the first half of that rule's previous window, so
//! its windows overlap at most by half. The bytes a scan examines are therefore at
//! most n for the keyword pass, plus n per single-line rule and 2n + W per
//! multi-line rule that has a keyword in the input, plus n per rule without
//! keywords: linear in n whatever a configuration says (which bounds the number of
//! rules), and [`Stats::examined`] counts them so tests can hold the engine to it.
//! A rule with an engine (the generic model, `generic`) runs its extractor once
//! over a keyword line instead of a regex: one walk of the line, each candidate
//! bounded (a name at most 80 bytes, a value 1 KiB, a right-hand side 512 bytes or
//! the next statement separator, and an operator inside a value just read starts
//! no candidate), the shapes that need the whole line only on lines under 1 KiB,
//! and a Terraform variable looks at most 1 KiB ahead: so n per engine rule too.
//! Matches are then sorted once; fallback shadowing, line numbers, columns and
//! allow markers are found in one sweep over them, so a million matches on one line
//! cost a million times a constant, not a million times the line.
//!
//! A keyword line that no rule found anything on is remembered by its bytes
//! (`clean`, 4 MiB of lines at most), and the next copy of it, in this input or
//! any later one, skips the rules: so a history, whose versions of a file share
//! nearly every line, confirms each distinct line once.

mod clean;
mod examples;
mod filter;
pub mod generic;
mod lines;

pub use examples::check_examples;

use std::os::unix::ffi::OsStrExt;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use globset::GlobSet;

use crate::error::{Error, Result};
use crate::rules::{Catalogue, Severity};
use crate::secret::Secret;

pub use filter::entropy;

/// How far past the keyword's line a multi-line rule (a PEM block) may look. A
/// match up to half of this long is always found whole (see the cost model).
const MULTILINE_WINDOW: usize = 128 * 1024;

/// What a scan cost: the bytes the keyword pass and every regex examined.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Stats {
    pub examined: u64,
    /// The lines holding a rule keyword, as byte ranges in order: where decoders
    /// that only matter next to a keyword (string concatenation) look.
    pub keyword_lines: Vec<std::ops::Range<usize>>,
}

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
    /// 1-based line of the secret's last byte (the same as `line` but for
    /// multi-line secrets).
    pub end_line: usize,
    pub secret: Secret,
    /// The secret is a provider's published documentation example.
    pub public_example: bool,
    /// An inline marker in a comment next to it allows it: not a finding, but
    /// counted and named in the report.
    pub allowed_by_marker: bool,
    /// For a rule with an engine (the generic model): what it concluded, whose
    /// confidence the place then moves (`generic::decide`).
    pub assessment: Option<generic::Assessment>,
}

/// A match before it is placed at a line: what `confirm` finds.
struct Raw {
    rule: usize,
    offset: usize,
    secret: Secret,
    public_example: bool,
    assessment: Option<generic::Assessment>,
}

/// The two keyword searches over one automaton kind.
struct Searches {
    /// Leftmost search for the first keyword of a line.
    first: AhoCorasick,
    /// The same, for all the lines of an input at once, faster (see `lines`);
    /// built with the DFAs.
    lines: Option<lines::KeywordLines>,
    /// Overlapping search for every keyword of a line that has one (standard
    /// semantics: a keyword that is a suffix of another must still be reported).
    every: AhoCorasick,
}

impl Searches {
    /// Case-insensitive searches for `keywords`; `kind` `None` lets the crate
    /// choose.
    fn build(keywords: &[String], kind: Option<aho_corasick::AhoCorasickKind>) -> Result<Searches> {
        let fail =
            |e: aho_corasick::BuildError| Error::Catalogue(format!("keyword automaton: {e}"));
        let first = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostFirst)
            .kind(kind.or(Some(aho_corasick::AhoCorasickKind::ContiguousNFA)))
            .ascii_case_insensitive(true)
            .build(keywords)
            .map_err(fail)?;
        let every = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .kind(kind)
            .ascii_case_insensitive(true)
            .build(keywords)
            .map_err(fail)?;
        let lines = (kind == Some(aho_corasick::AhoCorasickKind::DFA))
            .then(|| lines::KeywordLines::build(keywords))
            .flatten();
        Ok(Searches {
            first,
            every,
            lines,
        })
    }
}

pub struct Scanner {
    catalogue: Catalogue,
    /// The keyword searches for short inputs (see `searches_for`).
    quick: Searches,
    /// The same searches as DFAs, built at the first long input.
    fast: std::sync::OnceLock<std::result::Result<Searches, String>>,
    /// Bytes searched so far, all threads together.
    scanned: std::sync::atomic::AtomicU64,
    /// The keywords, lower-cased, to build `fast` from.
    keywords: Vec<String>,
    /// For each automaton pattern, the rules that asked for that keyword.
    pattern_rules: Vec<Vec<usize>>,
    /// Rules without keywords (imported ones), run over every input.
    unfiltered: Vec<usize>,
    /// Per rule: the paths it is limited to, if any.
    paths: Vec<Option<GlobSet>>,
    /// Per rule: lower-cased stopwords.
    stopwords: Vec<Vec<Vec<u8>>>,
    /// Per rule: regexes that mark a secret as not one.
    allow: Vec<Vec<regex::bytes::Regex>>,
    /// Per automaton pattern: a rule asking for it reads past its line (a PEM
    /// block), so the line alone does not decide what it finds.
    pattern_reaches: Vec<bool>,
    /// Keyword lines already confirmed clean, and not to be confirmed again.
    clean: clean::CleanLines,
}

impl Scanner {
    pub fn new(catalogue: Catalogue) -> Result<Scanner> {
        let mut keywords: Vec<String> = Vec::new();
        let mut pattern_rules: Vec<Vec<usize>> = Vec::new();
        let mut unfiltered = Vec::new();
        let mut paths = Vec::with_capacity(catalogue.rules.len());
        let mut stopwords = Vec::with_capacity(catalogue.rules.len());
        let mut allow = Vec::with_capacity(catalogue.rules.len());
        let mut index = std::collections::HashMap::new();
        for (rule_index, rule) in catalogue.rules.iter().enumerate() {
            if rule.spec.keywords.is_empty() {
                unfiltered.push(rule_index);
            }
            for keyword in &rule.spec.keywords {
                let key = keyword.to_ascii_lowercase();
                let pattern = *index.entry(key.clone()).or_insert_with(|| {
                    keywords.push(key);
                    pattern_rules.push(Vec::new());
                    keywords.len() - 1
                });
                // A rule's keywords are few, so this is the last entry or nothing.
                if pattern_rules[pattern].last() != Some(&rule_index) {
                    pattern_rules[pattern].push(rule_index);
                }
            }
            paths.push(if rule.spec.paths.is_empty() {
                None
            } else {
                Some(
                    crate::config::globset(&rule.spec.paths)
                        .map_err(|e| rule.fail(format!("paths: {e}")))?,
                )
            });
            let compiled: std::result::Result<Vec<_>, _> = rule
                .spec
                .allow
                .iter()
                .map(|a| crate::rules::build_regex(a))
                .collect();
            allow.push(compiled.map_err(|e| rule.fail(format!("allow: invalid regex: {e}")))?);
            stopwords.push(
                rule.spec
                    .stopwords
                    .iter()
                    .map(|w| w.to_ascii_lowercase().into_bytes())
                    .collect(),
            );
        }

        let quick = Searches::build(&keywords, None)?;
        let pattern_reaches = pattern_rules
            .iter()
            .map(|rules| rules.iter().any(|&r| catalogue.get(r).spec.multiline))
            .collect();
        Ok(Scanner {
            catalogue,
            quick,
            fast: std::sync::OnceLock::new(),
            scanned: std::sync::atomic::AtomicU64::new(0),
            keywords,
            pattern_rules,
            unfiltered,
            paths,
            stopwords,
            allow,
            pattern_reaches,
            clean: clean::CleanLines::new(),
        })
    }

    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    /// Whether a rule applies at `path` (its `paths` globs).
    pub fn applies(&self, rule: usize, path: &[u8]) -> bool {
        match &self.paths[rule] {
            None => true,
            Some(set) => set.is_match(std::path::Path::new(std::ffi::OsStr::from_bytes(path))),
        }
    }

    /// Scans one input, appending its matches in order of offset. Every rule runs,
    /// whatever its path filter: the same content may appear at several paths, and
    /// where it appears is for the caller to weigh (`applies`).
    pub fn scan(&self, input: &[u8], out: &mut Vec<Match>) -> Result<Stats> {
        self.scan_as(input, false, out)
    }

    /// The keyword searches for the next `len` bytes. With more than a handful of
    /// keywords a DFA scans source code three times as fast as an NFA (0.65
    /// against 0.2 GB/s with 150 keywords) but takes milliseconds to build, more
    /// than a typical commit takes to scan: so NFAs serve the first 512 KiB this
    /// scanner reads, and DFAs, built once, everything after.
    fn searches_for(&self, len: usize) -> Result<&Searches> {
        const DFA_FROM: u64 = 512 << 10;
        let before = self
            .scanned
            .fetch_add(len as u64, std::sync::atomic::Ordering::Relaxed);
        if before + len as u64 <= DFA_FROM {
            return Ok(&self.quick);
        }
        // Built by one thread; the others wait for it rather than build their own.
        self.fast
            .get_or_init(|| {
                Searches::build(&self.keywords, Some(aho_corasick::AhoCorasickKind::DFA))
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| Error::Catalogue(e.clone()))
    }

    /// `scan`, saying whether the input is binary: there a key may follow any
    /// byte (a length prefix, a packed string), so rule boundaries do not apply.
    pub fn scan_as(&self, input: &[u8], binary: bool, out: &mut Vec<Match>) -> Result<Stats> {
        let mut stats = Stats::default();
        let mut raw: Vec<Raw> = Vec::new();
        let rules = self.catalogue.rules.len();
        // Per rule: the line it last ran on (hits arrive in order of their end
        // offset, so one slot is enough to run each rule once per line), where its
        // last multi-line window started, and where its last accepted match ended
        // (windows may overlap, and a match must be taken once).
        // Made at the first keyword: most texts (and most decoded fragments) have
        // none, and pay for no per-rule state.
        let mut last_line: Vec<usize> = Vec::new();
        let mut window_start: Vec<Option<usize>> = Vec::new();
        let mut taken_to: Vec<usize> = Vec::new();
        // The first keyword on a line is found by a plain leftmost search (the
        // fast path, with the automaton's prefilter); only on such a line does an
        // overlapping search collect every keyword, and so every rule, it holds.
        let searches = self.searches_for(input.len())?;
        let mut hits = lines::Hits::default();
        if let Some(lines) = &searches.lines {
            lines.find(input, &mut hits);
        }
        let mut next = 0;
        // The keywords of the line at hand (automaton pattern indexes).
        let mut patterns: Vec<usize> = Vec::new();
        let mut pos = 0;
        while pos < input.len() {
            patterns.clear();
            let next_hit = match &searches.lines {
                Some(_) => {
                    while next < hits.len() && hits.at(next) < pos {
                        next += 1;
                    }
                    (next < hits.len()).then(|| {
                        patterns.extend_from_slice(hits.patterns(next));
                        hits.at(next)
                    })
                }
                None => searches
                    .first
                    .find(aho_corasick::Input::new(input).span(pos..input.len()))
                    .map(|m| m.start()),
            };
            let Some(hit) = next_hit else {
                stats.examined += (input.len() - pos) as u64;
                break;
            };
            let line_start = memchr::memrchr(b'\n', &input[pos..hit]).map_or(pos, |i| pos + i + 1);
            let line_end = memchr::memchr(b'\n', &input[hit..]).map_or(input.len(), |i| hit + i);
            stats.examined += (line_end - pos) as u64;
            let line = &input[line_start..line_end];
            stats.examined += line.len() as u64;
            if last_line.is_empty() {
                last_line = vec![usize::MAX; rules];
                window_start = vec![None; rules];
                taken_to = vec![0; rules];
            }
            stats.keyword_lines.push(line_start..line_end);
            if searches.lines.is_none() {
                patterns.extend(
                    searches
                        .every
                        .find_overlapping_iter(line)
                        .map(|hit| hit.pattern().as_usize()),
                );
            }
            // A line confirmed clean is kept, and not confirmed again, only if its
            // verdict is its bytes alone: not in a binary, not woken by a
            // multi-line rule, not where an earlier match of one of its rules
            // reaches in, and (below) not when a rule read the lines after it.
            let alone = !binary
                && line.len() <= clean::MAX_LINE
                && patterns.iter().all(|&p| {
                    !self.pattern_reaches[p]
                        && self.pattern_rules[p]
                            .iter()
                            .all(|&r| taken_to[r] <= line_start)
                });
            let probe = if alone {
                match self.clean.find(line) {
                    Ok(()) => {
                        pos = line_end + 1;
                        continue;
                    }
                    Err(probe) => Some(probe),
                }
            } else {
                None
            };
            let found_before = raw.len();
            let mut looked_past = false;
            for &pattern in &patterns {
                for &rule_index in &self.pattern_rules[pattern] {
                    if last_line[rule_index] == line_start {
                        continue;
                    }
                    last_line[rule_index] = line_start;
                    let end = if self.catalogue.get(rule_index).spec.multiline {
                        if window_start[rule_index]
                            .is_some_and(|w| line_start < w.saturating_add(MULTILINE_WINDOW / 2))
                        {
                            continue;
                        }
                        window_start[rule_index] = Some(line_start);
                        input.len().min(line_start.saturating_add(MULTILINE_WINDOW))
                    } else {
                        line_end
                    };
                    stats.examined += (end - line_start) as u64;
                    looked_past |= self.confirm(
                        rule_index,
                        input,
                        line_start..end,
                        binary,
                        &mut taken_to[rule_index],
                        &mut raw,
                    )?;
                }
            }
            if let Some(probe) = probe.filter(|_| !looked_past && raw.len() == found_before) {
                self.clean.keep(line, probe);
            }
            pos = line_end + 1;
        }
        if taken_to.is_empty() && !self.unfiltered.is_empty() {
            taken_to = vec![0; rules];
        }
        for &rule_index in &self.unfiltered {
            stats.examined += input.len() as u64;
            self.confirm(
                rule_index,
                input,
                0..input.len(),
                binary,
                &mut taken_to[rule_index],
                &mut raw,
            )?;
        }
        raw.sort_unstable_by_key(|m| (m.offset, m.rule));
        self.drop_shadowed_fallbacks(&mut raw);
        place(&self.catalogue, input, binary, raw, out);
        Ok(stats)
    }

    /// Removes fallback-rule matches that overlap a specific rule's match. With the
    /// specific spans sorted by start and a running maximum of their ends, each
    /// fallback needs one binary search: O(m log m) for m matches.
    fn drop_shadowed_fallbacks(&self, raw: &mut Vec<Raw>) {
        let is_fallback = |m: &Raw| self.catalogue.get(m.rule).spec.fallback;
        if !raw.iter().any(is_fallback) {
            return;
        }
        // `raw` is sorted by offset, so the specific spans are too.
        let mut starts = Vec::new();
        let mut max_end = Vec::new();
        for m in raw.iter().filter(|m| !is_fallback(m)) {
            let end = m.offset + m.secret.len();
            starts.push(m.offset);
            max_end.push(max_end.last().map_or(end, |&e: &usize| e.max(end)));
        }
        raw.retain(|m| {
            if !is_fallback(m) {
                return true;
            }
            let end = m.offset + m.secret.len();
            // Specific spans starting before this one ends; one of them overlaps
            // it when the furthest-reaching ends after this one starts.
            let before = starts.partition_point(|&s| s < end);
            !(before > 0 && max_end[before - 1] > m.offset)
        });
    }

    /// Runs one rule's regex over `input[span]` and keeps what survives the
    /// filters. `taken_to` is where this rule's last accepted match ended. True
    /// when the rule read past `span`: then the line alone did not decide.
    fn confirm(
        &self,
        rule_index: usize,
        input: &[u8],
        span: std::ops::Range<usize>,
        binary: bool,
        taken_to: &mut usize,
        out: &mut Vec<Raw>,
    ) -> Result<bool> {
        let rule = self.catalogue.get(rule_index);
        if let Some(engine) = rule.spec.engine {
            return Ok(self.confirm_engine(rule_index, engine, input, span, taken_to, out));
        }
        let regex = rule.regex()?;
        let start = span.start;
        for caps in regex.captures_iter(&input[span]) {
            let Some(group) = caps.get(rule.spec.secret_group) else {
                continue;
            };
            let bytes = group.as_bytes();
            let offset = start + group.start();
            if bytes.is_empty() || offset < *taken_to {
                continue;
            }
            if rule.spec.boundary && !binary && !filter::left_boundary(input, offset) {
                continue;
            }
            let prefix = rule.visible_prefix(bytes);
            // Published examples are reported as such before the placeholder filter,
            // which would otherwise drop the ones that say EXAMPLE.
            let public_example = self.catalogue.is_public_example(bytes).is_some();
            if !public_example && !self.plausible(rule_index, bytes, prefix) {
                continue;
            }
            *taken_to = offset + bytes.len();
            out.push(Raw {
                rule: rule_index,
                offset,
                secret: Secret::new(bytes.to_vec(), prefix),
                public_example,
                assessment: None,
            });
        }
        Ok(false)
    }

    /// Runs a built-in engine over each line of `input[span]` (one line, but
    /// for a multi-line rule). Its allow regexes and stopwords still apply; the
    /// entropy floor and placeholder filter are the model's own business. True
    /// when it read the lines after `span`.
    fn confirm_engine(
        &self,
        rule_index: usize,
        engine: crate::rules::Engine,
        input: &[u8],
        span: std::ops::Range<usize>,
        taken_to: &mut usize,
        out: &mut Vec<Raw>,
    ) -> bool {
        let mut found = Vec::new();
        let mut looked_past = false;
        let mut line_start = span.start;
        for line in input[span].split(|&b| b == b'\n') {
            found.clear();
            // Where found spans count from: this line, or (a Terraform
            // default) the lines after it.
            let mut later = Vec::new();
            match engine {
                crate::rules::Engine::Assignment => {
                    generic::assignments(line, &mut found);
                    let next = (line_start + line.len() + 1).min(input.len());
                    looked_past |= generic::terraform_default(line, &input[next..], &mut later);
                    for f in &mut later {
                        f.span = f.span.start + next - line_start..f.span.end + next - line_start;
                    }
                }
                crate::rules::Engine::Url => generic::url_passwords(line, &mut found),
            }
            found.append(&mut later);
            found.sort_by_key(|f| f.span.start);
            for f in found.drain(..) {
                let offset = line_start + f.span.start;
                let bytes = &input[offset..line_start + f.span.end];
                if offset < *taken_to || !self.allowed_by_rule(rule_index, bytes) {
                    continue;
                }
                *taken_to = offset + bytes.len();
                out.push(Raw {
                    rule: rule_index,
                    offset,
                    secret: Secret::opaque(bytes.to_vec()),
                    public_example: false,
                    assessment: Some(f.assessment),
                });
            }
            line_start += line.len() + 1;
        }
        looked_past
    }

    /// A rule's allow regexes and stopwords.
    fn allowed_by_rule(&self, rule_index: usize, bytes: &[u8]) -> bool {
        if self.allow[rule_index].iter().any(|re| re.is_match(bytes)) {
            return false;
        }
        if !self.stopwords[rule_index].is_empty() {
            let lower = bytes.to_ascii_lowercase();
            if self.stopwords[rule_index]
                .iter()
                .any(|w| memchr::memmem::find(&lower, w).is_some())
            {
                return false;
            }
        }
        true
    }

    /// The rule's own filters: entropy floor, placeholders, allow regexes, stopwords.
    fn plausible(&self, rule_index: usize, bytes: &[u8], prefix: usize) -> bool {
        let spec = &self.catalogue.get(rule_index).spec;
        if spec
            .min_entropy
            .is_some_and(|floor| filter::entropy(bytes) < floor)
        {
            return false;
        }
        if spec.placeholder_filter && filter::is_placeholder(&bytes[prefix..]) {
            return false;
        }
        if spec.shape == Some(crate::rules::Shape::Pem) && !filter::pem_body(bytes) {
            return false;
        }
        self.allowed_by_rule(rule_index, bytes)
    }
}

/// Gives sorted raw matches their line and column, and marks the ones an inline
/// allow marker covers, in one forward sweep: every byte before a match is looked
/// at once for newlines and once for its column, and each line (and the line
/// before it) is searched for a marker at most once. A marker covers one key: on
/// its line, the last key before the comment that holds it; on the line before,
/// in a comment of its own, the first key of the next line. Never in binaries.
fn place(catalogue: &Catalogue, input: &[u8], binary: bool, raw: Vec<Raw>, out: &mut Vec<Match>) {
    let mut line = 1;
    let mut line_start = 0;
    // Bytes before this have been counted.
    let mut counted_to = 0;
    let mut col = 1;
    // The current line's end, where its allow comment starts, and whether the
    // line before allows its first key; once asked.
    let mut line_info: Option<(usize, Option<usize>, bool)> = None;
    let mut first_on_line = true;
    for (i, m) in raw.iter().enumerate() {
        let gap = &input[counted_to..m.offset];
        let newlines = memchr::memchr_iter(b'\n', gap).count();
        if newlines > 0 {
            line += newlines;
            let last = memchr::memrchr(b'\n', gap).expect("counted a newline in the gap");
            line_start = counted_to + last + 1;
            line_info = None;
            first_on_line = true;
            col = 1;
            counted_to = line_start;
        }
        col += input[counted_to..m.offset]
            .iter()
            .filter(|&&b| (b & 0xC0) != 0x80)
            .count();
        counted_to = m.offset;
        let (line_end, comment, next_line_allowed) = *line_info.get_or_insert_with(|| {
            let end =
                memchr::memchr(b'\n', &input[line_start..]).map_or(input.len(), |i| line_start + i);
            if binary {
                return (end, None, false);
            }
            let previous = line_start.checked_sub(1).map(|nl| {
                let start = memchr::memrchr(b'\n', &input[..nl]).map_or(0, |i| i + 1);
                &input[start..nl]
            });
            (
                end,
                filter::allow_comment(&input[line_start..end]).map(|c| line_start + c),
                previous.is_some_and(filter::allows_next_line),
            )
        });
        let end = m.offset + m.secret.len();
        // The marker's key: the last one that ends before its comment.
        let same_line = comment.is_some_and(|c| {
            end <= c
                && raw
                    .get(i + 1)
                    .is_none_or(|next| next.offset >= c || next.offset + next.secret.len() > c)
        });
        let allowed = same_line || (next_line_allowed && first_on_line);
        first_on_line = false;
        let end_line = if end > line_end {
            line + memchr::memchr_iter(b'\n', &input[m.offset..end]).count()
        } else {
            line
        };
        let ceiling = catalogue.get(m.rule).spec.severity;
        out.push(Match {
            rule: m.rule,
            severity: if m.public_example {
                Severity::Warn
            } else if let Some(a) = &m.assessment {
                // Where nothing is known of the place; the pipeline decides again
                // per appearance.
                match generic::decide(a, b"") {
                    Some(Severity::Block) if ceiling == Severity::Block => Severity::Block,
                    _ => Severity::Warn,
                }
            } else {
                ceiling
            },
            offset: m.offset,
            line,
            column: col,
            end_line,
            secret: m.secret.clone(),
            public_example: m.public_example,
            allowed_by_marker: allowed,
            assessment: m.assessment.clone(),
        });
    }
}
