//! Backslash escapes that spell characters by number: `\u0073\u006b_live_…` in
//! JSON and JavaScript, `\x73\x6b` in C, Python and shell, `\u{73}` in Rust and
//! Swift. One-letter escapes (`\n`) need no decoding: the scanner reads past them.

use super::Tokens;

pub const ESCAPES: Tokens = Tokens {
    marker: b'\\',
    escape: |at| matches!(at.get(1), Some(b'u' | b'x')),
    encoding: "escaped",
    decode,
};

fn hex(bytes: &[u8]) -> Option<u32> {
    if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u32::from_str_radix(std::str::from_utf8(bytes).ok()?, 16).ok()
}

/// The token with its numeric escapes decoded, when one of them spells a letter
/// or digit (escapes of quotes and newlines alone hide nothing).
fn decode(token: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(token.len());
    let mut hid = false;
    let mut i = 0;
    let mut pending_high: Option<u32> = None;
    while i < token.len() {
        let (code, len) = match (token[i], token.get(i + 1)) {
            (b'\\', Some(b'u')) if token.get(i + 2) == Some(&b'{') => {
                let close = token[i + 3..].iter().position(|&b| b == b'}');
                match close.and_then(|c| hex(&token[i + 3..i + 3 + c]).map(|v| (v, c + 4))) {
                    Some((v, len)) => (Some(v), len),
                    None => (None, 1),
                }
            }
            (b'\\', Some(b'u')) => match token.get(i + 2..i + 6).and_then(hex) {
                Some(v) => (Some(v), 6),
                None => (None, 1),
            },
            (b'\\', Some(b'x')) => match token.get(i + 2..i + 4).and_then(hex) {
                Some(v) => (Some(v), 4),
                None => (None, 1),
            },
            _ => (None, 1),
        };
        match code {
            Some(high @ 0xD800..=0xDBFF) => pending_high = Some(high),
            Some(low @ 0xDC00..=0xDFFF) => {
                if let Some(high) = pending_high.take() {
                    let c = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
                    push_char(&mut out, c);
                }
            }
            Some(c) => {
                hid |= char::from_u32(c).is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
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
}
