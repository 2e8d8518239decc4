//! Which lines hold a keyword, and which keywords each holds, found by several
//! walks of one DFA at once.
//!
//! Walking a DFA is a chain of dependent loads: the next state needs the one
//! before, so one walk runs at the latency of a load (about 0.45 GB/s over
//! source code with the catalogue's 270 keywords, whether the automaton is
//! asked for leftmost or earliest matches). The input is cut into `STRIPES`
//! stretches and the walks advance side by side; the processor overlaps their
//! loads, and the pass runs about twice as fast. Each walk starts
//! `longest keyword - 1` bytes before its stretch, so a keyword crossing the
//! cut is whole in the walk that owns its last byte; matches ending in that
//! lead-in belong to the walk before and are not taken.
//!
//! Keywords never hold a newline (the scanner only uses this when that is so).
//! A walk that finds one walks the rest of its line alone, collecting every
//! keyword that ends there (standard semantics: one that is a suffix of another
//! is reported too), and restarts at the next line. So each keyword line is
//! read once, not found here and searched again. A line's first hit names
//! every keyword ending on it from that hit on, and no keyword ends on the line
//! before it: a walk's own first hit is its first match on the line, and a
//! line reaching back into the stretch before was already walked to its end by
//! that stretch's walk if it had a keyword there.

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::dfa::DFA;
use aho_corasick::{Anchored, MatchKind};

const STRIPES: usize = 4;

pub struct KeywordLines {
    table: Table,
    lead_in: usize,
}

/// The keyword DFA copied into a compact table: states renumbered densely,
/// match states first (so "is this a match" is one comparison), bytes mapped
/// to classes of bytes no state tells apart, and each next state a `u16`. Its
/// hot rows are half the size of the crate's `u32` table, so more of it stays
/// in cache, and a step is two loads with no bounds check left in the loop.
struct Table {
    /// `next[state << shift | class[byte]]`.
    next: Vec<u16>,
    class: [u8; 256],
    shift: u32,
    start: u16,
    /// States below this are matches.
    matches: u16,
    /// For each match state, the patterns it completes.
    patterns: Vec<Vec<usize>>,
}

impl Table {
    fn build(dfa: &DFA) -> Option<Table> {
        let start = dfa.start_state(Anchored::No).ok()?;
        // Every reachable state, breadth first.
        let mut order = vec![start];
        let mut seen: std::collections::HashSet<StateID> = Default::default();
        seen.insert(start);
        let mut at = 0;
        while at < order.len() {
            let s = order[at];
            at += 1;
            for b in 0..=255u8 {
                let t = dfa.next_state(Anchored::No, s, b);
                if seen.insert(t) {
                    order.push(t);
                }
            }
        }
        // Match states first.
        order.sort_by_key(|&s| !dfa.is_match(s));
        let matches = order.iter().take_while(|&&s| dfa.is_match(s)).count();
        if order.len() > usize::from(u16::MAX) {
            return None;
        }
        let dense: std::collections::HashMap<StateID, u16> = order
            .iter()
            .enumerate()
            .map(|(i, &s)| (s, i as u16))
            .collect();
        // Bytes whose column of next states is the same share a class.
        let mut classes: std::collections::HashMap<Vec<u16>, u8> = Default::default();
        let mut class = [0u8; 256];
        let mut columns: Vec<Vec<u16>> = Vec::new();
        for b in 0..=255u8 {
            let column: Vec<u16> = order
                .iter()
                .map(|&s| dense[&dfa.next_state(Anchored::No, s, b)])
                .collect();
            let n = classes.len();
            let c = *classes.entry(column.clone()).or_insert(n as u8);
            if usize::from(c) == columns.len() {
                columns.push(column);
            }
            class[usize::from(b)] = c;
        }
        let shift = (columns.len().max(2) as u32)
            .next_power_of_two()
            .trailing_zeros();
        let stride = 1usize << shift;
        let mut next = vec![0u16; order.len() * stride];
        for (c, column) in columns.iter().enumerate() {
            for (s, &t) in column.iter().enumerate() {
                next[s * stride + c] = t;
            }
        }
        let patterns = order[..matches]
            .iter()
            .map(|&s| {
                (0..dfa.match_len(s))
                    .map(|m| dfa.match_pattern(s, m).as_usize())
                    .collect()
            })
            .collect();
        Some(Table {
            next,
            class,
            shift,
            start: dense[&start],
            matches: matches as u16,
            patterns,
        })
    }

    #[inline(always)]
    fn step(&self, state: u16, byte: u8) -> u16 {
        let at = (usize::from(state) << self.shift) | usize::from(self.class[usize::from(byte)]);
        // `state` is a row of the table and a class is below the stride, so
        // `at` is always inside it; the check stays out of the hot loop.
        debug_assert!(at < self.next.len());
        // SAFETY: see above: every state is a row, every class < stride.
        unsafe { *self.next.get_unchecked(at) }
    }

    #[inline(always)]
    fn is_match(&self, state: u16) -> bool {
        state < self.matches
    }
}

/// Keyword lines in order: for each, an offset within its first keyword and
/// the keywords (automaton pattern indexes) ending on it from there. A line
/// may be named more than once; its first entry is the one to use.
#[derive(Default)]
pub struct Hits {
    at: Vec<usize>,
    /// Where each entry's patterns end in `patterns`.
    ends: Vec<usize>,
    patterns: Vec<usize>,
}

impl Hits {
    pub fn len(&self) -> usize {
        self.at.len()
    }

    pub fn at(&self, i: usize) -> usize {
        self.at[i]
    }

    pub fn patterns(&self, i: usize) -> &[usize] {
        let from = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.patterns[from..self.ends[i]]
    }

    fn append(&mut self, other: &mut Hits) {
        let base = self.patterns.len();
        self.at.append(&mut other.at);
        self.ends.extend(other.ends.drain(..).map(|e| e + base));
        self.patterns.append(&mut other.patterns);
    }
}

impl KeywordLines {
    /// `None` when a keyword holds a newline (the line logic would not hold) or
    /// the automaton cannot be built.
    pub fn build(keywords: &[String]) -> Option<KeywordLines> {
        if keywords.iter().any(|k| k.contains('\n')) {
            return None;
        }
        let dfa = aho_corasick::dfa::Builder::new()
            .match_kind(MatchKind::Standard)
            .ascii_case_insensitive(true)
            .prefilter(false)
            .build(keywords)
            .ok()?;
        let longest = keywords.iter().map(String::len).max().unwrap_or(1);
        Some(KeywordLines {
            table: Table::build(&dfa)?,
            lead_in: longest.saturating_sub(1),
        })
    }

    /// Every line of `input` that holds a keyword, into `out` (emptied first).
    pub fn find(&self, input: &[u8], out: &mut Hits) {
        *out = Hits::default();
        let n = input.len();
        let stretch = n.div_ceil(STRIPES).max(1);
        let mut walks: [Walk; STRIPES] = std::array::from_fn(|k| {
            let from = (k * stretch).min(n);
            Walk {
                pos: from.saturating_sub(self.lead_in),
                owned_from: from,
                end: ((k + 1) * stretch).min(n),
                state: self.table.start,
                found: Hits::default(),
            }
        });
        // Side by side while every walk has bytes left. States and positions
        // are copied into locals for the stretch between two matches, so they
        // stay in registers: kept in the walks, each step's state went through
        // memory and back, a store-to-load delay on every byte of the chain.
        loop {
            let steps = walks
                .iter()
                .map(|w| w.end.saturating_sub(w.pos))
                .min()
                .unwrap_or(0);
            if steps == 0 {
                break;
            }
            let mut state: [u16; STRIPES] = std::array::from_fn(|k| walks[k].state);
            let mut pos: [usize; STRIPES] = std::array::from_fn(|k| walks[k].pos);
            let mut hit = false;
            for _ in 0..steps {
                for k in 0..STRIPES {
                    state[k] = self.table.step(state[k], input[pos[k]]);
                    pos[k] += 1;
                }
                if state.iter().any(|&s| self.table.is_match(s)) {
                    hit = true;
                    break;
                }
            }
            for (k, w) in walks.iter_mut().enumerate() {
                w.state = state[k];
                w.pos = pos[k];
            }
            if hit {
                for w in &mut walks {
                    if self.table.is_match(w.state) {
                        self.found(w, input);
                    }
                }
            }
        }
        for w in &mut walks {
            while w.pos < w.end {
                w.state = self.table.step(w.state, input[w.pos]);
                w.pos += 1;
                if self.table.is_match(w.state) {
                    self.found(w, input);
                }
            }
            out.append(&mut w.found);
        }
    }

    /// A keyword ends just before `w.pos`. If the walk owns it, the rest of
    /// the line is walked for every keyword ending there, and the walk moves to
    /// the next line.
    fn found(&self, w: &mut Walk, input: &[u8]) {
        let last = w.pos - 1;
        if last < w.owned_from {
            return;
        }
        let line_end = memchr::memchr(b'\n', &input[w.pos..]).map_or(input.len(), |i| w.pos + i);
        let from = w.found.patterns.len();
        let mut state = w.state;
        let take = |state: u16, patterns: &mut Vec<usize>| {
            for &p in &self.table.patterns[usize::from(state)] {
                if !patterns[from..].contains(&p) {
                    patterns.push(p);
                }
            }
        };
        take(state, &mut w.found.patterns);
        for &b in &input[w.pos..line_end] {
            state = self.table.step(state, b);
            if self.table.is_match(state) {
                take(state, &mut w.found.patterns);
            }
        }
        w.found.at.push(last);
        w.found.ends.push(w.found.patterns.len());
        w.pos = (line_end + 1).min(input.len());
        w.state = self.table.start;
    }
}

struct Walk {
    pos: usize,
    owned_from: usize,
    end: usize,
    state: u16,
    found: Hits,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against the plain search: every line holding a keyword is named, and no
    /// other, with every keyword on it (from its first entry), for inputs cut at
    /// every place relative to the keywords.
    #[test]
    fn names_the_lines_a_plain_search_finds() {
        let keywords: Vec<String> = ["key", "sk_live_", "password", "ghp_", "://", "kEy"]
            .iter()
            .map(|s| s.to_ascii_lowercase())
            .collect();
        let plain = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&keywords)
            .unwrap();
        let lines = KeywordLines::build(&keywords).unwrap();
        let pieces: &[&[u8]] = &[
            b"a",
            b"KEY",
            b"\n",
            b"sk_live_",
            b"pass",
            b"word",
            b"gh",
            b"p_",
            b"https:",
            b"//",
            b"zzzz",
            b"\r\n",
            b"k",
            b"ey",
        ];
        let mut seed = 7u64;
        let mut checked = 0;
        for len in 0..300 {
            for _ in 0..4 {
                let mut input = Vec::new();
                while input.len() < len {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    input.extend_from_slice(pieces[(seed >> 33) as usize % pieces.len()]);
                }
                let line_of = |at: usize| memchr::memrchr(b'\n', &input[..at]).map_or(0, |i| i + 1);
                // Each keyword line, with the keywords on it.
                let mut want: std::collections::BTreeMap<usize, std::collections::BTreeSet<usize>> =
                    Default::default();
                for m in plain.find_overlapping_iter(&input) {
                    want.entry(line_of(m.start()))
                        .or_default()
                        .insert(m.pattern().as_usize());
                }
                let mut hits = Hits::default();
                lines.find(&input, &mut hits);
                let at: Vec<usize> = (0..hits.len()).map(|i| hits.at(i)).collect();
                assert!(at.windows(2).all(|w| w[0] <= w[1]), "in order: {at:?}");
                let mut got: std::collections::BTreeMap<usize, std::collections::BTreeSet<usize>> =
                    Default::default();
                for i in 0..hits.len() {
                    got.entry(line_of(hits.at(i)))
                        .or_insert_with(|| hits.patterns(i).iter().copied().collect());
                }
                assert_eq!(got, want, "{:?}", String::from_utf8_lossy(&input));
                checked += want.len();
            }
        }
        assert!(checked > 1000, "{checked} keyword lines");
    }

    #[test]
    fn a_keyword_with_a_newline_is_left_to_the_plain_search() {
        assert!(KeywordLines::build(&["a\nb".to_string()]).is_none());
    }
}
