//! A labelled corpus of the shapes credentials take in real repositories, and the
//! decoys that stand next to them, generated from a seed at run time (no key is
//! ever written down). The test suite scores keyward on it; `examples/corpus.rs`
//! writes it to disk so `benches/corpus/score.py` can score the peers on the same
//! files in the same run.
//!
//! Every case is one file. A case lists the lines where a secret is (`expect`);
//! a finding on any other line of any case is a false alarm. Cases come in two
//! splits: `Tune`, the templates detection was developed against, and `HeldOut`,
//! templates written separately and never tuned against. Report both.
//!
//! std only, so the module also compiles with plain `rustc` for quick iteration.

#![allow(dead_code)]

/// Which half of the corpus a case belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    Tune,
    HeldOut,
}

impl Split {
    pub fn name(self) -> &'static str {
        match self {
            Split::Tune => "tune",
            Split::HeldOut => "heldout",
        }
    }
}

/// Where in a case a secret must be reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// 1-based line of the secret's first byte (for a multi-line secret, its first line).
    Line(usize),
    /// Anywhere in the file (archives, binaries, file names).
    File,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// Must block (exit 1).
    Block,
    /// Should be reported; either level counts as found (a warn-level finding is
    /// not a false alarm here, a block-level one on a decoy is).
    Report,
}

#[derive(Debug, Clone)]
pub struct Expect {
    pub place: Place,
    pub want: Want,
}

#[derive(Debug, Clone)]
pub struct Case {
    /// Relative path, as committed: directories and a real-looking file name, so
    /// tools that weigh the path see what they would see in a repository.
    pub path: String,
    pub content: Vec<u8>,
    /// A family of shapes (`stripe`, `pem`, `encoded`, `split`, `generic-env`, ...),
    /// for the per-family table.
    pub family: &'static str,
    /// The shape within the family, for diagnosis.
    pub shape: String,
    pub split: Split,
    /// Where secrets are; empty for a decoy-only case.
    pub expect: Vec<Expect>,
}

impl Case {
    pub fn is_positive(&self) -> bool {
        !self.expect.is_empty()
    }
}

/// splitmix64: small, seedable, and the same on every platform.
#[derive(Debug, Clone)]
pub struct Rng(u64);

pub const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
pub const HEX: &[u8] = b"0123456789abcdef";
pub const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn range(&mut self, lo: usize, hi_inclusive: usize) -> usize {
        lo + self.below(hi_inclusive - lo + 1)
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    pub fn chance(&mut self, numerator: usize, denominator: usize) -> bool {
        self.below(denominator) < numerator
    }

    /// `len` characters drawn from `alphabet`.
    pub fn string(&mut self, alphabet: &[u8], len: usize) -> String {
        (0..len)
            .map(|_| alphabet[self.below(alphabet.len())] as char)
            .collect()
    }

    pub fn base62(&mut self, len: usize) -> String {
        self.string(BASE62, len)
    }

    pub fn hex(&mut self, len: usize) -> String {
        self.string(HEX, len)
    }
}

/// The line (1-based) on which `needle` first starts in `text`.
pub fn line_of(text: &str, needle: &str) -> usize {
    let at = text
        .find(needle)
        .expect("a generated case holds the secret it was generated with");
    1 + text[..at].bytes().filter(|&b| b == b'\n').count()
}

pub mod detection;
pub mod generic;

/// Every case of one split, all families.
pub fn all(seed: u64, split: Split) -> Vec<Case> {
    let mut cases = detection::cases(seed, split);
    cases.extend(generic::cases(seed, split));
    cases
}
