//! The `Secret` type: matched credential bytes that cannot be printed whole by accident.
//!
//! `Debug` and `Display` both show the redacted form, so a `{:?}` in a log line, a
//! panic message or a test failure never carries the key it was about.

use std::fmt;

/// How many trailing characters a redacted secret keeps. Stripe's own Dashboard shows
/// the last four, which is what people use to tell their keys apart.
const VISIBLE_TAIL: usize = 4;

/// The longest prefix kept, even when a rule's keyword is longer.
const MAX_VISIBLE_PREFIX: usize = 8;

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Secret {
    bytes: Vec<u8>,
    /// Length of the non-secret prefix (the rule keyword such as `sk_live_`) that
    /// identifies the kind of key and is safe to show.
    prefix_len: usize,
    /// Shows nothing of itself: a generic credential (a short password's last
    /// four characters are half of it), reported by name, length and kind.
    opaque: bool,
}

impl Secret {
    pub fn new(bytes: Vec<u8>, prefix_len: usize) -> Secret {
        let prefix_len = prefix_len.min(bytes.len()).min(MAX_VISIBLE_PREFIX);
        Secret {
            bytes,
            prefix_len,
            opaque: false,
        }
    }

    /// A secret whose redacted form shows none of its characters.
    pub fn opaque(bytes: Vec<u8>) -> Secret {
        Secret {
            bytes,
            prefix_len: 0,
            opaque: true,
        }
    }

    /// The raw bytes, for comparisons and hashing only: never for output.
    pub fn expose(&self) -> &[u8] {
        &self.bytes
    }

    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// `sk_live_…Ab3d`: the kind of key and enough of its tail to find it in a
    /// Dashboard, never enough to use it. Short secrets show less: at most a quarter
    /// of the secret is ever visible.
    pub fn redacted(&self) -> String {
        if self.opaque {
            return "…".to_string();
        }
        let body_len = self.bytes.len() - self.prefix_len;
        let tail = if body_len >= 4 * VISIBLE_TAIL {
            VISIBLE_TAIL
        } else {
            0
        };
        let prefix = printable(&self.bytes[..self.prefix_len]);
        let suffix = printable(&self.bytes[self.bytes.len() - tail..]);
        format!("{prefix}…{suffix}")
    }
}

fn printable(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| if b.is_ascii_graphic() { b as char } else { '?' })
        .collect()
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.redacted())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_keeps_prefix_and_last_four_only() {
        // Assembled at run time so keyward's own scan of this file stays quiet.
        let raw = ["sk_live_", "4fQ9zKp2LmN8xR7tY3wE5vB1Ab3d"]
            .concat()
            .into_bytes();
        let s = Secret::new(raw, 8);
        assert_eq!(s.redacted(), "sk_live_…Ab3d");
        assert_eq!(format!("{s:?}"), "Secret(sk_live_…Ab3d)");
        assert_eq!(format!("{s}"), "sk_live_…Ab3d");
        assert!(!format!("{s:?}").contains("4fQ9zKp2"));
    }

    #[test]
    fn short_secrets_show_no_tail() {
        let s = Secret::new(b"hunter2pass".to_vec(), 0);
        assert_eq!(s.redacted(), "…");
    }

    #[test]
    fn binary_bytes_never_reach_output() {
        let s = Secret::new(b"\x1b[31mAAAAAAAAAAAAAAAAAAAA\x07\x00\x01\x02".to_vec(), 5);
        assert!(!s.redacted().contains('\x1b'));
        assert!(!s.redacted().contains('\x00'));
    }
}
