//! Backslash escapes that spell characters by number: `\u0073\u006b_live_…` in
//! JSON and JavaScript, `\x73\x6b` in C, Python and shell, `\u{73}` in Rust and
//! Swift. One-letter escapes (`\n`) need no decoding: the scanner reads past them.

use super::Escape;

pub const ESCAPES: Escape = Escape {
    marker: b'\\',
    // Only an escape that spells a word character makes a token worth decoding
    // (see `decode`): `\x00` in byte strings and `\u0022` alone are common and
    // hide nothing.
    escape: |at| escape(at).0.is_some_and(word_char),
    encoding: "escaped",
    decode,
};

fn hex(bytes: &[u8]) -> Option<u32> {
    // `\u{…}` holds at most six digits; more is not an escape.
    if bytes.is_empty() || bytes.len() > 6 {
        return None;
    }
    bytes.iter().try_fold(0u32, |v, &b| {
        let digit = char::from(b).to_digit(16)?;
        Some(v << 4 | digit)
    })
}

/// The code point spelled by the escape `text` starts with, if it is one, and
/// the bytes it takes (1 when it is not one).
fn escape(text: &[u8]) -> (Option<u32>, usize) {
    match (text.first(), text.get(1)) {
        (Some(b'\\'), Some(b'u')) if text.get(2) == Some(&b'{') => {
            let close = text[3..].iter().position(|&b| b == b'}');
            match close.and_then(|c| hex(&text[3..3 + c]).map(|v| (v, c + 4))) {
                Some((v, len)) => (Some(v), len),
                None => (None, 1),
            }
        }
        (Some(b'\\'), Some(b'u')) => match text.get(2..6).and_then(hex) {
            Some(v) => (Some(v), 6),
            None => (None, 1),
        },
        (Some(b'\\'), Some(b'x')) => match text.get(2..4).and_then(hex) {
            Some(v) => (Some(v), 4),
            None => (None, 1),
        },
        _ => (None, 1),
    }
}

fn word_char(code: u32) -> bool {
    char::from_u32(code).is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The token with its numeric escapes decoded, when one of them spells a letter
/// or digit (escapes of quotes and newlines alone hide nothing).
fn decode(token: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(token.len());
    let mut hid = false;
    let mut i = 0;
    let mut pending_high: Option<u32> = None;
    while i < token.len() {
        let (code, len) = escape(&token[i..]);
        match code {
            Some(high @ 0xD800..=0xDBFF) => pending_high = Some(high),
            Some(low @ 0xDC00..=0xDFFF) => {
                if let Some(high) = pending_high.take() {
                    let c = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
                    push_char(&mut out, c);
                }
            }
            Some(c) => {
                hid |= word_char(c);
                push_char(&mut out, c);
            }
            None => out.push(token[i]),
        }
        i += len;
    }
    hid.then_some(out)
}

fn push_char(out: &mut Vec<u8>, code: u32) {
    let c = char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER);
    let mut buf = [0; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_escapes_are_decoded() {
        assert_eq!(decode(br"\u004DARKER_\x61bc").unwrap(), b"MARKER_abc");
        assert_eq!(decode(br"\u{4D}ARKER").unwrap(), b"MARKER");
        assert_eq!(decode(br"\ud83d\ude00\u0041").unwrap(), "😀A".as_bytes());
        // Only quotes and newlines escaped: nothing hidden.
        assert_eq!(decode(br"\u0022MARKER\n"), None);
        assert_eq!(decode(br"C:\users\xyz"), None);
    }

    #[test]
    fn a_token_is_decoded_from_its_first_escape_of_a_word_character() {
        let mut budget = crate::decode::Budget {
            bytes: 1 << 20,
            members: 0,
        };
        let mut out = Vec::new();
        let text = br#"x = "\x00\x01\x4DARKER_abc" y = "\x00\n" z = "\u0022""#;
        crate::decode::Decoder::fragments(
            &crate::decode::Tokens(&[&ESCAPES]),
            text,
            &mut budget,
            &mut out,
        )
        .unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].bytes, b"\0\x01MARKER_abc");
    }
}
