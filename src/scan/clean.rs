//! Keyword lines that every rule they woke found clean, by their bytes.
//!
//! Successive versions of a file share nearly every line, and a tree holds many
//! copies of the same lines (stripe-python's history reads 407 MB of blobs whose
//! keyword lines are mostly repeats), so confirming a line should cost once per
//! distinct line, not once per copy. The scanner decides which lines may be kept:
//! only those whose verdict depends on nothing but their own bytes.
//!
//! The bytes are kept whole in one arena, so a lookup is exact and the memory is
//! one block that pins nothing else (a `HashSet<Box<[u8]>>` of small boxes, made
//! by both workers between their blob buffers, grew the 312 MB commit's peak from
//! 48 to 119 MB). Lines are found by a keyed hash of their bytes; two lines with
//! the same hash keep only the first, and the second is confirmed every time. The
//! arena's size is capped: past it, lines are confirmed every time.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher, RandomState};
use std::sync::Mutex;

/// Bytes of lines kept at most. On git.git's history, 8 MiB was no faster than 4
/// and cost 3 MB more at the peak.
const BUDGET: usize = 4 << 20;
/// Longer lines are confirmed every time: they rarely repeat.
pub const MAX_LINE: usize = 1024;

pub struct CleanLines {
    /// Keyed, so that a repository cannot be written to make its lines collide.
    keys: RandomState,
    kept: Mutex<Kept>,
}

struct Kept {
    arena: Vec<u8>,
    /// A line's hash to its start and length in `arena`.
    spans: HashMap<u64, (u32, u32), Spread>,
}

/// A line's hash, taken as it is: it is already a keyed hash. Hashing it again
/// with SipHash cost 0.8% of stripe-python's history in instructions (callgrind).
#[derive(Default, Clone, Copy)]
struct Spread;

impl BuildHasher for Spread {
    type Hasher = Identity;
    fn build_hasher(&self) -> Identity {
        Identity(0)
    }
}

struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used (a u64 key); anything else still hashes.
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// A line looked up: its hash, to keep it by if it is then found clean.
pub struct Probe(u64);

impl CleanLines {
    pub fn new() -> CleanLines {
        CleanLines {
            keys: RandomState::new(),
            kept: Mutex::new(Kept {
                // Reserved, not touched: pages are mapped as lines are kept, and
                // the arena is never copied to grow.
                arena: Vec::with_capacity(BUDGET),
                spans: HashMap::default(),
            }),
        }
    }

    // Neither call waits for the lock: when another thread holds it, the line is
    // confirmed (or not kept) as if it were new. A lock a panic poisoned is never
    // taken again.

    /// Whether `line` was kept; if not, how to keep it.
    pub fn find(&self, line: &[u8]) -> Result<(), Probe> {
        let mut hasher = self.keys.build_hasher();
        hasher.write(line);
        let hash = hasher.finish();
        let Ok(kept) = self.kept.try_lock() else {
            return Err(Probe(hash));
        };
        match kept.spans.get(&hash) {
            Some(&(start, len)) => {
                let start = start as usize;
                if kept.arena[start..start + len as usize] == *line {
                    Ok(())
                } else {
                    Err(Probe(hash))
                }
            }
            None => Err(Probe(hash)),
        }
    }

    /// Keeps `line`, found clean, if there is room.
    pub fn keep(&self, line: &[u8], probe: Probe) {
        let Ok(mut kept) = self.kept.try_lock() else {
            return;
        };
        let start = kept.arena.len();
        if start + line.len() > BUDGET || kept.spans.contains_key(&probe.0) {
            return;
        }
        kept.arena.extend_from_slice(line);
        // BUDGET and MAX_LINE fit in u32.
        kept.spans
            .insert(probe.0, (start as u32, line.len() as u32));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_line_is_found_and_no_other() {
        let clean = CleanLines::new();
        let probe = clean.find(b"api_key = os.environ['KEY']").unwrap_err();
        clean.keep(b"api_key = os.environ['KEY']", probe);
        assert!(clean.find(b"api_key = os.environ['KEY']").is_ok());
        assert!(clean.find(b"api_key = os.environ['KEY'] ").is_err());
        assert!(clean.find(b"api_key = os.environ['KEZ']").is_err());
        assert!(clean.find(b"").is_err());
    }

    #[test]
    fn lines_past_the_budget_are_not_kept() {
        let clean = CleanLines::new();
        let line = vec![b'a'; MAX_LINE];
        let fits = BUDGET / MAX_LINE;
        for i in 0..fits + 10 {
            let mut l = line.clone();
            l[..8].copy_from_slice(&(i as u64).to_le_bytes());
            let probe = clean.find(&l).unwrap_err();
            clean.keep(&l, probe);
        }
        let kept = clean.kept.lock().unwrap();
        assert_eq!(kept.spans.len(), fits);
        assert_eq!(kept.arena.len(), BUDGET);
    }
}
