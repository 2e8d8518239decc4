//! HTML and XML character references: `&#115;&#107;_live_…`, `&#x73;`, and the
//! named ones people write around them (`&quot;`, `&amp;`).

use super::Escape;

pub const ENTITIES: Escape = Escape {
    marker: b'&',
    escape: |at| at.get(1) == Some(&b'#'),
    encoding: "HTML-entity-encoded",
    decode,
};

const NAMED: &[(&[u8], u8)] = &[
    (b"quot", b'"'),
    (b"amp", b'&'),
    (b"lt", b'<'),
    (b"gt", b'>'),
    (b"apos", b'\''),
    (b"sol", b'/'),
    (b"colon", b':'),
    (b"equals", b'='),
];

/// The token with its references decoded, when a numeric one spells a letter or
/// digit.
fn decode(token: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(token.len());
    let mut hid = false;
    let mut i = 0;
    while i < token.len() {
        if token[i] == b'&' {
            if let Some(semi) = token[i + 1..].iter().take(12).position(|&b| b == b';') {
                let name = &token[i + 1..i + 1 + semi];
                let code = match name {
                    [b'#', b'x' | b'X', digits @ ..] => std::str::from_utf8(digits)
                        .ok()
                        .and_then(|d| u32::from_str_radix(d, 16).ok()),
                    [b'#', digits @ ..] => std::str::from_utf8(digits)
                        .ok()
                        .and_then(|d| d.parse().ok()),
                    _ => None,
                };
                if let Some(c) = code.and_then(char::from_u32) {
                    hid |= c.is_ascii_alphanumeric() || c == '_';
                    let mut buf = [0; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    i += semi + 2;
                    continue;
                }
                if let Some(&(_, b)) = NAMED.iter().find(|(n, _)| *n == name) {
                    out.push(b);
                    i += semi + 2;
                    continue;
                }
            }
        }
        out.push(token[i]);
        i += 1;
    }
    hid.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_decoded() {
        assert_eq!(decode(b"&#77;&#x41;RKER_abc&amp;").unwrap(), b"MARKER_abc&");
        assert_eq!(decode(b"&quot;MARKER&quot;"), None);
        assert_eq!(decode(b"a&b;c&#;"), None);
    }
}
