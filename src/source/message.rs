//! A commit message, as the commit-msg hook receives it.

use crate::pipeline::{Appearance, Blob, Content, Earlier, Origin};

/// git's scissors line, after the comment character and a space: with
/// `commit -v` the diff follows it in the message file.
const SCISSORS: &[u8] = b"------------------------ >8 ------------------------";

/// The message file as git may record it. The hook runs before git's cleanup
/// and cannot see `-m`, `--cleanup` or `commit.cleanup`: under `commit -m` git
/// keeps `#` lines (cleanup `whitespace`), and `--cleanup=verbatim` keeps
/// everything. So every line counts, comment lines included, whatever the comment
/// character (`core.commentChar=auto` picks one per message). The one exception
/// is `commit -v`'s diff, which git always strips: below a scissors line, and only
/// when a diff really follows it (a scissors line typed into a message is text).
pub fn message_text(raw: &[u8]) -> &[u8] {
    let mut at = 0;
    for line in raw.split_inclusive(|&b| b == b'\n') {
        let body = line.strip_suffix(b"\n").unwrap_or(line);
        let body = body.strip_suffix(b"\r").unwrap_or(body);
        let is_scissors =
            body.len() == SCISSORS.len() + 2 && body[1] == b' ' && body.ends_with(SCISSORS);
        if is_scissors && diff_follows(&raw[at + line.len()..]) {
            return &raw[..at];
        }
        at += line.len();
    }
    raw
}

/// Whether a `commit -v` diff follows: its few comment lines, then `diff --git`.
fn diff_follows(rest: &[u8]) -> bool {
    rest.split(|&b| b == b'\n')
        .take(8)
        .any(|l| l.starts_with(b"diff --git "))
}

pub fn blobs(label: &[u8], raw: &[u8]) -> Vec<Blob> {
    vec![Blob {
        content: Content::Bytes(message_text(raw).into()),
        appearances: vec![Appearance {
            path: label.to_vec(),
            origin: Origin::Message,
            earlier: Earlier::Nothing,
            order: 0,
        }],
    }]
}

/// Annotated tags' messages, published by a push with the tags.
pub fn tag_blobs(tags: &[crate::git::TagMessage], first_order: usize) -> Vec<Blob> {
    tag_blobs_of(&tags.iter().collect::<Vec<_>>(), first_order)
}

pub fn tag_blobs_of(tags: &[&crate::git::TagMessage], first_order: usize) -> Vec<Blob> {
    tags.iter()
        .enumerate()
        .map(|(i, t)| Blob {
            content: Content::Bytes(t.message.as_slice().into()),
            appearances: vec![Appearance {
                path: format!("(tag {} message)", t.name).into_bytes(),
                origin: Origin::Message,
                earlier: Earlier::Nothing,
                order: first_order + i,
            }],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::message_text;

    #[test]
    fn only_a_verbose_diff_below_the_scissors_is_not_the_message() {
        let raw = b"subject\n# a comment\nbody\n# ------------------------ >8 ------------------------\n# Do not modify or remove the line above.\ndiff --git a b\n";
        assert_eq!(message_text(raw), b"subject\n# a comment\nbody\n");
        // Any comment character (core.commentChar, or auto's choice).
        let raw = b"subject\n; ------------------------ >8 ------------------------\n; x\ndiff --git a b\n";
        assert_eq!(message_text(raw), b"subject\n");
        // A scissors line with no diff after it is part of the message.
        let raw = b"subject\n# ------------------------ >8 ------------------------\nkey here\n";
        assert_eq!(message_text(raw), raw);
    }
}
