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
        let mut i = 0;
        while i < text.len() {
            if !ALPHABET[usize::from(text[i])] {
                i += 1;
                continue;
            }
            let start = i;
            while i < text.len() && ALPHABET[usize::from(text[i])] {
                i += 1;
            }
            let mut end = i;
            while end < text.len() && end - i < 2 && text[end] == b'=' {
                end += 1;
            }
            let run = &text[start..i];
            i = end;
            if run.len() < MIN_RUN {
                continue;
            }
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
