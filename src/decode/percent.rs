//! Percent-encoding (`%73%6B_live_…`, `key%3Dsk_live_…`): URLs, form bodies,
//! query strings in logs.

use super::Escape;

pub const PERCENT: Escape = Escape {
    marker: b'%',
    escape: |at| at.len() >= 3 && at[1].is_ascii_hexdigit() && at[2].is_ascii_hexdigit(),
    encoding: "percent-encoded",
    decode,
};

/// The token decoded, when it holds at least one `%XX`.
fn decode(token: &[u8]) -> Option<Vec<u8>> {
    let escaped = token
        .windows(3)
        .any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit());
    escaped.then(|| percent_encoding::percent_decode(token).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{Budget, Decoder};

    #[test]
    fn escapes_are_decoded_token_by_token() {
        let mut budget = Budget {
            bytes: 1 << 20,
            members: 0,
        };
        let mut out = Vec::new();
        let text = b"GET /pay?k=%4D%41RKER_abc&x=1 HTTP/1.1 and 100% sure";
        crate::decode::Tokens(&[&PERCENT])
            .fragments(text, &mut budget, &mut out)
            .unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].bytes, b"/pay?k=MARKER_abc&x=1");
        assert_eq!(&text[out[0].span.clone()], b"/pay?k=%4D%41RKER_abc&x=1");
    }
}
