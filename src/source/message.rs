//! A commit message, as the commit-msg hook receives it.

use crate::pipeline::{Appearance, Blob, Content, Earlier, Origin};

/// git's scissors line: with `commit -v` the diff follows it in the message file,
/// and is not part of the message.
const SCISSORS: &str = "------------------------ >8 ------------------------";

/// The message as git will record it: comment lines blanked (so line numbers stay
/// true) and nothing after the scissors line.
pub fn message_text(raw: &[u8], comment_char: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    for line in raw.split_inclusive(|&b| b == b'\n') {
        let text = String::from_utf8_lossy(line);
        if text.starts_with(comment_char as char) {
            if text.contains(SCISSORS) {
                break;
            }
            out.push(b'\n');
            continue;
        }
        out.extend_from_slice(line);
    }
    out
}

pub fn blobs(label: &[u8], raw: &[u8], comment_char: u8) -> Vec<Blob> {
    vec![Blob {
        content: Content::Bytes(message_text(raw, comment_char).into()),
        appearances: vec![Appearance {
            path: label.to_vec(),
            origin: Origin::Message,
            earlier: Earlier::Nothing,
            order: 0,
        }],
    }]
}

#[cfg(test)]
mod tests {
    use super::message_text;

    #[test]
    fn comments_and_verbose_diff_are_not_the_message() {
        let raw = b"subject\n# a comment\nbody\n# ------------------------ >8 ------------------------\ndiff --git a b\n";
        assert_eq!(message_text(raw, b'#'), b"subject\n\nbody\n");
    }
}
