//! Turning a blob's bytes into what the scan engine reads. Two stages:
//!
//! - **Readings** ([`decode`]): the text encoding (UTF-16 as UTF-8; when in doubt
//!   both readings) and git's binary heuristic. Each blob is decoded once, and its
//!   earlier versions the same way, so "already held before" compares like with like.
//! - **Fragments** ([`Decoder`]): spans of a reading that hold other text in
//!   disguise: base64, percent-encoding, `\uXXXX` escapes, HTML entities, string
//!   literals joined by concatenation, archive members. Each decoder is a module and
//!   one line in [`DECODERS`]; the pipeline scans what they yield, to a bounded depth
//!   and within a bounded budget of decoded bytes, and reports a key found there at
//!   the span, with the encoding named.

mod archive;
mod base64;
mod continuation;
mod escapes;
mod html;
mod join;
mod percent;

use std::borrow::Cow;
use std::ops::Range;

/// Text that was hiding inside a span of another text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fragment {
    /// Where the encoded form lies in the text it was found in.
    pub span: Range<usize>,
    /// What it decodes to.
    pub bytes: Vec<u8>,
    /// How it was hidden, as the report names it: `base64-encoded`,
    /// `percent-encoded`, `joined from string literals`, `in archive member`.
    pub encoding: &'static str,
    /// For an archive member: its path inside the archive. Findings in it are
    /// placed by its own lines, at `outer!member`, not at the span.
    pub member: Option<Vec<u8>>,
}

/// How much decoding one blob may cause, so a crafted input (a zip bomb, base64
/// nested a hundred deep) costs a bounded amount and says so instead of hanging.
#[derive(Debug, Clone)]
pub struct Budget {
    /// Decoded bytes left for this blob, all decoders and depths together.
    pub bytes: usize,
    /// Archive members left.
    pub members: usize,
}

/// Why a decoder stopped before the end: named in the report, never silent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exhausted(pub String);

/// One way text hides other text.
pub trait Decoder: Sync {
    /// Appends the fragments of `text`, charging what it decodes to `budget`.
    /// Returns `Err` when the budget ran out (what was found so far is kept).
    fn fragments(
        &self,
        text: &[u8],
        budget: &mut Budget,
        out: &mut Vec<Fragment>,
    ) -> Result<(), Exhausted>;

    /// Whether it looks inside binary content too. Text encodings hide text:
    /// only containers (archives) are worth opening in a binary.
    fn reads_binary(&self) -> bool {
        false
    }

    /// Which parts of a text it needs to read. Decoders whose encoding hides
    /// the keywords too read everything.
    fn reads(&self) -> Reads {
        Reads::Everything
    }
}

/// Where a decoder looks in a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reads {
    Everything,
    /// Lines near a rule keyword: for decoders that rearrange text without
    /// re-encoding it (a key split into string literals keeps its prefix,
    /// `"sk_live_" + "…"`), which can then skip the rest of a file.
    NearKeywords,
}

/// Every decoder, in the order they run.
pub static DECODERS: &[&dyn Decoder] = &[
    &archive::Archives,
    &base64::Base64,
    &Tokens(TOKEN_ESCAPES),
    &join::Join,
    &continuation::Continuation,
];

/// Bytes that end an encoded token: a credential, a URL or an encoded run never
/// holds them raw.
fn delimiter(b: u8) -> bool {
    b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b'`' | b'<' | b'>')
}

/// The token around `at`: the longest run without a delimiter. Decoders that
/// find an escape somewhere in a token decode the whole token, so a key's escaped
/// and plain characters come out together.
fn token_around(text: &[u8], at: usize) -> Range<usize> {
    let start = text[..at]
        .iter()
        .rposition(|&b| delimiter(b))
        .map_or(0, |i| i + 1);
    let end = text[at..]
        .iter()
        .position(|&b| delimiter(b))
        .map_or(text.len(), |i| at + i);
    start..end
}

/// Charges `bytes` to the budget, or says which decoder ran out.
fn charge(budget: &mut Budget, bytes: usize, who: &str) -> Result<(), Exhausted> {
    if bytes > budget.bytes {
        return Err(Exhausted(format!("{who}: byte limit reached")));
    }
    budget.bytes -= bytes;
    Ok(())
}

/// One kind of escape written inside tokens: a `marker` byte that `escape`
/// accepts where it stands (`%` before two hex digits, `&#`, `\\u`) makes the
/// token around it worth `decode`-ing, once per token, keeping the tokens it turns
/// into something else. Markers that start no escape (Rust's `&`, a path's `\\`)
/// cost one comparison. Percent-encoding, numeric escapes and HTML references are
/// each one of these, and one line in [`TOKEN_ESCAPES`].
pub struct Escape {
    marker: u8,
    escape: fn(&[u8]) -> bool,
    encoding: &'static str,
    decode: fn(&[u8]) -> Option<Vec<u8>>,
}

/// Every kind of escape written inside tokens.
static TOKEN_ESCAPES: &[&Escape] = &[&percent::PERCENT, &escapes::ESCAPES, &html::ENTITIES];

/// The decoder of escapes in tokens: the markers of up to three kinds are found
/// in one pass over the text, since markers are common in code (`&`, `\\`) and a
/// pass per kind would read every clean byte once more per kind.
pub struct Tokens(pub &'static [&'static Escape]);

impl Decoder for Tokens {
    fn fragments(
        &self,
        text: &[u8],
        budget: &mut Budget,
        out: &mut Vec<Fragment>,
    ) -> Result<(), Exhausted> {
        for kinds in self.0.chunks(3) {
            let marker = |i: usize| kinds.get(i).map_or(kinds[0].marker, |k| k.marker);
            let mut done_to = [0usize; 3];
            for at in memchr::memchr3_iter(marker(0), marker(1), marker(2), text) {
                let Some(which) = kinds.iter().position(|k| k.marker == text[at]) else {
                    continue;
                };
                let kind = kinds[which];
                if at < done_to[which] || !(kind.escape)(&text[at..]) {
                    continue;
                }
                let span = token_around(text, at);
                done_to[which] = span.end;
                if let Some(bytes) = (kind.decode)(&text[span.clone()]) {
                    charge(budget, bytes.len(), kind.encoding)?;
                    out.push(Fragment {
                        span,
                        bytes,
                        encoding: kind.encoding,
                        member: None,
                    });
                }
            }
        }
        Ok(())
    }
}

/// git's own heuristic: a NUL byte in the first 8,000 bytes makes a file binary.
const BINARY_SNIFF: usize = 8000;

pub fn is_binary(bytes: &[u8]) -> bool {
    memchr::memchr(0, &bytes[..bytes.len().min(BINARY_SNIFF)]).is_some()
}

/// What the scan engine reads for one blob.
pub struct Decoded<'a> {
    pub text: Cow<'a, [u8]>,
    /// Re-encoded from another encoding: line numbers hold, lines were not diffed.
    pub transcoded: bool,
    /// Binary: findings are placed by byte offset, not line.
    pub binary: bool,
}

/// Every reading of a blob worth scanning, the likeliest first. Text that looks
/// like UTF-16 is read as UTF-16 and also as it is: two stray bytes `FF FE` before
/// an ASCII `.env`, or a binary whose first kilobyte happens to look like UTF-16,
/// must not hide the keys a plain reading finds. When in doubt, both are scanned.
pub fn decode(bytes: &[u8]) -> Vec<Decoded<'_>> {
    let raw = Decoded {
        text: Cow::Borrowed(bytes),
        transcoded: false,
        binary: is_binary(bytes),
    };
    // UTF-16 and UTF-32 text is full of NULs, and otherwise starts with a mark:
    // text without either (nearly every file) needs no sniffing.
    let head = &bytes[..bytes.len().min(1024)];
    if !head.starts_with(&[0xFF, 0xFE])
        && !head.starts_with(&[0xFE, 0xFF])
        && !head.starts_with(&[0, 0, 0xFE, 0xFF])
        && !raw.binary
    {
        return vec![raw];
    }
    match decode_utf32(bytes).or_else(|| decode_utf16(bytes)) {
        Some(text) => vec![
            Decoded {
                text: Cow::Owned(text.into_bytes()),
                transcoded: true,
                binary: false,
            },
            raw,
        ],
        None => vec![raw],
    }
}

/// UTF-32 text (with a byte-order mark, or ASCII-heavy with three NULs in every
/// four bytes) as UTF-8. Checked before UTF-16, whose little-endian mark is the
/// start of UTF-32's. (Hand-written: encoding_rs, like the WHATWG standard it
/// implements, has no UTF-32.)
fn decode_utf32(bytes: &[u8]) -> Option<String> {
    let (little, body) = match bytes {
        [0xFF, 0xFE, 0, 0, rest @ ..] => (true, rest),
        [0, 0, 0xFE, 0xFF, rest @ ..] => (false, rest),
        _ => {
            let sample = &bytes[..bytes.len().min(1024) & !3];
            if sample.len() < 32 {
                return None;
            }
            let units = sample.len() / 4;
            let le = sample
                .chunks(4)
                .filter(|u| u[0] != 0 && u[1..] == [0, 0, 0])
                .count();
            let be = sample
                .chunks(4)
                .filter(|u| u[3] != 0 && u[..3] == [0, 0, 0])
                .count();
            if le * 10 >= units * 9 {
                (true, bytes)
            } else if be * 10 >= units * 9 {
                (false, bytes)
            } else {
                return None;
            }
        }
    };
    Some(
        body.chunks_exact(4)
            .map(|u| {
                let code = if little {
                    u32::from_le_bytes([u[0], u[1], u[2], u[3]])
                } else {
                    u32::from_be_bytes([u[0], u[1], u[2], u[3]])
                };
                char::from_u32(code).unwrap_or('\u{FFFD}')
            })
            .collect(),
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_sniff_matches_git() {
        assert!(is_binary(b"abc\0def"));
        assert!(!is_binary(b"plain text\n"));
    }

    #[test]
    fn utf32_is_decoded_before_utf16() {
        let text = "key = value, and more text here";
        let mut le = vec![0xFF, 0xFE, 0, 0];
        le.extend(text.chars().flat_map(|c| (c as u32).to_le_bytes()));
        assert_eq!(decode_utf32(&le).as_deref(), Some(text));
        assert_eq!(decode(&le)[0].text.as_ref(), text.as_bytes());
        let be: Vec<u8> = text
            .chars()
            .flat_map(|c| (c as u32).to_be_bytes())
            .collect();
        assert_eq!(decode_utf32(&be).as_deref(), Some(text));
        assert_eq!(
            decode_utf32(b"plain ascii text, long enough to sniff it"),
            None
        );
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
