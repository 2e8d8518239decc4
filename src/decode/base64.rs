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
        // A run long enough to decode (16 or more) holds a whole aligned 8-byte
        // block: test blocks a word at a time, and walk out only from one that is
        // all alphabet. Most text (words, spaces, punctuation) fails the word test.
        let mut done_to = 0;
        let mut block = 0;
        while block + 8 <= text.len() {
            let word = u64::from_le_bytes(text[block..block + 8].try_into().expect("8 bytes"));
            if !maybe_alphabet(word) {
                block += 8;
                continue;
            }
            if !text[block..block + 8]
                .iter()
                .all(|&b| ALPHABET[usize::from(b)])
            {
                block += 8;
                continue;
            }
            let mut start = block;
            while start > done_to && ALPHABET[usize::from(text[start - 1])] {
                start -= 1;
            }
            let mut run_end = block + 8;
            while run_end < text.len() && ALPHABET[usize::from(text[run_end])] {
                run_end += 1;
            }
            let mut end = run_end;
            while end < text.len() && end - run_end < 2 && text[end] == b'=' {
                end += 1;
            }
            done_to = end;
            block = (end + 7) & !7;
            if run_end - start < MIN_RUN {
                continue;
            }
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

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Whether every byte of the word lies in `+`..=`z`, a superset of both base64
/// alphabets (the classic "has a byte less than / more than" word tricks).
fn maybe_alphabet(word: u64) -> bool {
    let less = word.wrapping_sub(ONES * 0x2B) & !word & HIGHS;
    let more = (word.wrapping_add(ONES * (127 - 0x7A)) | word) & HIGHS;
    less == 0 && more == 0
}

/// The run decoded, if it is base64 of text.
fn decode_run(run: &[u8]) -> Option<Vec<u8>> {
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
    // The first character of each group of four encodes the top six bits of a
    // byte, and a printable ASCII byte's top six bits are 8..=31: `I`..`Z`,
    // `a`..`f`. Text encodes with nearly every group so; a camelCase identifier
    // or a path picks from all 52 letters. Checked before anything is decoded,
    // which is what keeps clean code cheap.
    let leads = run.iter().step_by(4);
    let text_like = leads
        .clone()
        .filter(|&&c| c.is_ascii_uppercase() && c >= b'I' || (b'a'..=b'f').contains(&c))
        .count();
    if text_like * 10 < leads.count() * 8 {
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
    fn the_word_test_admits_every_alphabet_byte_and_few_others() {
        for b in 0..=255u8 {
            let word = u64::from_le_bytes([b; 8]);
            if ALPHABET[usize::from(b)] {
                assert!(maybe_alphabet(word), "{b:#x}");
            }
            if !(b'+'..=b'z').contains(&b) {
                assert!(!maybe_alphabet(word), "{b:#x}");
                let mut mixed = *b"abcdefgh";
                mixed[3] = b;
                assert!(
                    !maybe_alphabet(u64::from_le_bytes(mixed)),
                    "{b:#x} in a word"
                );
            }
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
