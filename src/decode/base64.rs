//! Base64: Kubernetes `Secret` values, `Authorization: Basic`, docker's `auth`,
//! any long run of the base64 alphabet that decodes to text. Both alphabets (`+/`
//! and `-_`), padded or not. Runs that decode to binary (hashes, images, keys'
//! own bodies) are not fragments: what hides a credential is text.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;

use super::{Budget, Decoder, Exhausted, Fragment};

/// Shortest run worth decoding: `user:pass` with a short password encodes to 16.
const MIN_RUN: usize = 16;

/// Of the decoded bytes, the share that must be printable for the run to be text.
const PRINTABLE_PERCENT: usize = 90;

const fn alphabet() -> [bool; 256] {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'-' || b == b'_';
        c += 1;
    }
    t
}

static ALPHABET: [bool; 256] = alphabet();

const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
const STANDARD: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, LENIENT);

pub struct Base64;

impl Decoder for Base64 {
    fn fragments(
        &self,
        text: &[u8],
        budget: &mut Budget,
        out: &mut Vec<Fragment>,
    ) -> Result<(), Exhausted> {
        let mut from = 0;
        while let Some(found) = runs::next_long(text, from) {
            let (start, run_end) = (found.start, found.end);
            let mut end = run_end;
            while end < text.len() && end - run_end < 2 && text[end] == b'=' {
                end += 1;
            }
            from = end;
            let run = &text[start..run_end];
            let Some(bytes) = decode_run(run) else {
                continue;
            };
            if bytes.len() > budget.bytes {
                return Err(Exhausted(format!(
                    "base64: byte limit reached at offset {start}"
                )));
            }
            budget.bytes -= bytes.len();
            out.push(Fragment {
                span: start..end,
                bytes,
                encoding: "base64-encoded",
                member: None,
            });
        }
        Ok(())
    }
}

/// The run decoded, if it is base64 of text.
fn decode_run(run: &[u8]) -> Option<Vec<u8>> {
    // The first character of each group of four encodes the top six bits of a
    // byte, and a printable ASCII byte's top six bits are 8..=31: `I`..`Z`,
    // `a`..`f`. Text encodes with nearly every group so; a camelCase identifier,
    // a snake_case one or a path picks from all 52 letters. Checked first, on a
    // quarter of the bytes, before anything is decoded: this is what keeps the
    // long identifiers of clean code cheap.
    let leads = run.iter().step_by(4);
    let text_like = leads
        .clone()
        .filter(|&&c| c.is_ascii_uppercase() && c >= b'I' || (b'a'..=b'f').contains(&c))
        .count();
    if text_like * 10 < leads.count() * 8 {
        return None;
    }
    let mut upper = false;
    let mut lower = false;
    let mut standard = false;
    let mut url = false;
    for &b in run {
        upper |= b.is_ascii_uppercase();
        lower |= b.is_ascii_lowercase();
        standard |= b == b'+' || b == b'/';
        url |= b == b'-' || b == b'_';
    }
    // Base64 of text mixes cases; identifiers in one case, snake_case words and
    // paths mixing both alphabets are not base64.
    if !(upper && lower) || (standard && url) {
        return None;
    }
    // A length of 4k+1 is never base64: the last character is not part of it.
    let usable = if run.len() % 4 == 1 {
        &run[..run.len() - 1]
    } else {
        run
    };
    let engine = if url { &URL_SAFE } else { &STANDARD };
    let bytes = engine.decode(usable).ok()?;
    let printable = bytes
        .iter()
        .filter(|&&b| (0x20..0x7f).contains(&b) || b == b'\n' || b == b'\r' || b == b'\t')
        .count();
    (printable * 100 >= bytes.len() * PRINTABLE_PERCENT).then_some(bytes)
}

/// Finding long runs of the alphabet. Nearly every byte of a clean file is
/// outside any such run, and this test is the only cost base64 decoding adds to
/// it, so it is vectorised where the machine allows.
mod runs {
    use std::ops::Range;

    use super::{ALPHABET, MIN_RUN};

    /// The first run of `MIN_RUN` or more alphabet bytes that starts at or
    /// after `from`, whole (a run under way at `from` counts from `from`).
    pub fn next_long(text: &[u8], from: usize) -> Option<Range<usize>> {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, checked on the line above.
            return unsafe { avx2::next_long(text, from) };
        }
        scalar(text, from)
    }

    pub fn scalar(text: &[u8], from: usize) -> Option<Range<usize>> {
        let mut run = 0;
        for (i, &b) in text.iter().enumerate().skip(from) {
            if ALPHABET[usize::from(b)] {
                run += 1;
                if run == MIN_RUN {
                    let start = i + 1 - MIN_RUN;
                    let len = text[start..]
                        .iter()
                        .position(|&b| !ALPHABET[usize::from(b)])
                        .unwrap_or(text.len() - start);
                    return Some(start..start + len);
                }
            } else {
                run = 0;
            }
        }
        None
    }

    /// Bit `i` set where bits `i..i + 16` of `mask` are all set.
    fn windows(mask: u64) -> u64 {
        const _: () = assert!(MIN_RUN == 16, "windows() is written for 16");
        let mut r = mask & (mask >> 1);
        r &= r >> 2;
        r &= r >> 4;
        r & (r >> 8)
    }

    #[cfg(target_arch = "x86_64")]
    mod avx2 {
        use std::arch::x86_64::*;
        use std::ops::Range;

        use super::{windows, MIN_RUN};

        /// The nibble tables, each 16 entries repeated for both 128-bit lanes
        /// (the shuffle looks up within a lane). A byte is in the alphabet when
        /// the entries for its two nibbles share a bit; the bits name groups:
        /// b0 `+-/`, b1 digits, b2 letters after `@` and `` ` ``, b3 letters up
        /// to `Z` and `z`, b5 `_`.
        const fn lanes(t: [u8; 16]) -> [u8; 32] {
            let mut out = [0u8; 32];
            let mut i = 0;
            while i < 32 {
                out[i] = t[i % 16];
                i += 1;
            }
            out
        }
        /// By high nibble: 2 → b0, 3 → b1, 4 and 6 → b2, 5 → b3 | b5, 7 → b3.
        /// Bytes of 0x80 and up have high nibbles 8..15: none.
        static HI: [u8; 32] = lanes([0, 0, 1, 2, 4, 8 | 32, 4, 8, 0, 0, 0, 0, 0, 0, 0, 0]);
        /// By low nibble: b0 for B, D, F; b1 for 0..=9; b2 for 1..=F; b3 for
        /// 0..=A; b5 for F.
        static LO: [u8; 32] = lanes([
            2 | 8,
            2 | 4 | 8,
            2 | 4 | 8,
            2 | 4 | 8,
            2 | 4 | 8,
            2 | 4 | 8,
            2 | 4 | 8,
            2 | 4 | 8,
            2 | 4 | 8,
            2 | 4 | 8,
            4 | 8,
            1 | 4,
            4,
            1 | 4,
            4,
            1 | 4 | 32,
        ]);

        /// One bit a byte for 32 bytes, set where the byte is in the alphabet.
        #[target_feature(enable = "avx2")]
        fn mask32(block: &[u8]) -> u32 {
            debug_assert_eq!(block.len(), 32);
            // SAFETY: every pointer here covers 32 readable bytes (the tables are
            // 32 bytes; `block` is 32 bytes, checked by both callers); loadu takes
            // any alignment.
            let (v, hi_table, lo_table) = unsafe {
                (
                    _mm256_loadu_si256(block.as_ptr().cast()),
                    _mm256_loadu_si256(HI.as_ptr().cast()),
                    _mm256_loadu_si256(LO.as_ptr().cast()),
                )
            };
            let nibble = _mm256_set1_epi8(0x0F);
            let lo = _mm256_and_si256(v, nibble);
            let hi = _mm256_and_si256(_mm256_srli_epi16::<4>(v), nibble);
            let groups = _mm256_and_si256(
                _mm256_shuffle_epi8(lo_table, lo),
                _mm256_shuffle_epi8(hi_table, hi),
            );
            let outside = _mm256_cmpeq_epi8(groups, _mm256_setzero_si256());
            !(_mm256_movemask_epi8(outside) as u32)
        }

        /// The mask of the 64 bytes at `at`; bytes past the end of `text` are
        /// outside the alphabet.
        #[target_feature(enable = "avx2")]
        fn mask(text: &[u8], at: usize) -> u64 {
            let halves = |chunk: &[u8]| {
                u64::from(mask32(&chunk[..32])) | u64::from(mask32(&chunk[32..])) << 32
            };
            if let Some(chunk) = text.get(at..at + 64) {
                return halves(chunk);
            }
            // The tail, once a blob.
            let mut padded = [0u8; 64];
            let rest = text.get(at..).unwrap_or_default();
            padded[..rest.len()].copy_from_slice(rest);
            halves(&padded)
        }

        #[target_feature(enable = "avx2")]
        pub fn next_long(text: &[u8], from: usize) -> Option<Range<usize>> {
            // Alphabet bytes that ended the chunk before, a run that may go on.
            let mut carry = 0usize;
            let mut at = from;
            let start = loop {
                if at >= text.len() {
                    return None;
                }
                let m = mask(text, at);
                let lead = m.trailing_ones() as usize;
                if carry > 0 && carry + lead >= MIN_RUN {
                    break at - carry;
                }
                let w = windows(m);
                if w != 0 {
                    break at + w.trailing_zeros() as usize;
                }
                carry = if m == u64::MAX {
                    carry + 64
                } else {
                    m.leading_ones() as usize
                };
                at += 64;
            };
            let mut end = start;
            loop {
                let ones = mask(text, end).trailing_ones() as usize;
                end += ones;
                if ones < 64 {
                    return Some(start..end.min(text.len()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fragments(text: &str) -> Vec<Fragment> {
        let mut budget = Budget {
            bytes: 1 << 20,
            members: 10,
        };
        let mut out = Vec::new();
        Base64
            .fragments(text.as_bytes(), &mut budget, &mut out)
            .unwrap();
        out
    }

    #[test]
    fn text_in_base64_is_found_at_its_span() {
        let encoded = STANDARD.encode("user:MARKER_abcdefghijklmnop");
        let text = format!("Authorization: Basic {encoded}\n");
        let got = fragments(&text);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].bytes, b"user:MARKER_abcdefghijklmnop");
        assert_eq!(&text[got[0].span.clone()], encoded);
        let url = URL_SAFE.encode("MARKER_abcdefghijklmnop??>>");
        assert_eq!(
            fragments(&format!("x: {url}"))[0].bytes,
            b"MARKER_abcdefghijklmnop??>>"
        );
    }

    #[test]
    fn identifiers_hashes_and_binary_are_not_fragments() {
        assert!(fragments("this_is_a_very_long_snake_case_identifier_name").is_empty());
        assert!(fragments("ALLUPPERCASEIDENTIFIERSAREHERE").is_empty());
        assert!(fragments("src/components/widgets/ButtonGroup/index").is_empty());
        let binary = STANDARD.encode([
            0u8, 255, 3, 200, 17, 99, 1, 2, 250, 251, 252, 253, 254, 0, 1, 2,
        ]);
        assert!(fragments(&binary).is_empty());
        assert!(fragments("short dGVzdA==").is_empty());
    }

    #[test]
    fn the_vectorised_run_finder_agrees_with_the_plain_one() {
        let alphabet: Vec<u8> = (0..=255u8).filter(|&b| ALPHABET[usize::from(b)]).collect();
        let others: Vec<u8> = (0..=255u8).filter(|&b| !ALPHABET[usize::from(b)]).collect();
        // Every byte value on each side of the test, in runs of every length
        // around 16, across 64-byte chunk boundaries, from every start.
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        for _ in 0..400 {
            let mut text = Vec::new();
            while text.len() < 300 {
                let run = next(20);
                text.extend((0..run).map(|_| alphabet[next(alphabet.len())]));
                text.push(others[next(others.len())]);
            }
            for from in [0, 1, 7, 15, 16, 63, 64, 65, 130] {
                assert_eq!(
                    runs::next_long(&text, from),
                    runs::scalar(&text, from),
                    "{text:?} from {from}"
                );
            }
        }
        for b in 0..=255u8 {
            let same = [b; 40];
            let expect = ALPHABET[usize::from(b)].then_some(3..40);
            assert_eq!(runs::next_long(&same, 3), expect, "{b:#x}");
        }
        let long = vec![b'A'; 200];
        for from in 0..200 {
            let expect = (from + MIN_RUN <= 200).then_some(from..200);
            assert_eq!(runs::next_long(&long, from), expect);
        }
    }

    #[test]
    fn runs_at_any_alignment_are_found() {
        let encoded = STANDARD.encode("user:MARKER_abcdefghijklmnop");
        for pad in 0..9 {
            let text = format!("{}{encoded} tail", " ".repeat(pad));
            let got = fragments(&text);
            assert_eq!(got.len(), 1, "pad {pad}");
            assert_eq!(&text[got[0].span.clone()], encoded);
        }
    }

    #[test]
    fn the_budget_bounds_decoding() {
        let encoded = STANDARD.encode("MARKER_abcdefghijklmnop");
        let text = format!("{encoded} {encoded} {encoded}");
        let mut budget = Budget {
            bytes: 30,
            members: 0,
        };
        let mut out = Vec::new();
        assert!(Base64
            .fragments(text.as_bytes(), &mut budget, &mut out)
            .is_err());
        assert_eq!(out.len(), 1);
    }
}
