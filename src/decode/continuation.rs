//! Lines joined by a trailing backslash outside any quotes (shell, Makefiles,
//! Dockerfiles, C macros): `KEY=sk_live_\` then the rest on the next line. The
//! continuation and the next line's indentation are removed, as the shell does
//! with an unquoted word. Quoted continuations are the join decoder's.

use super::{charge, Budget, Decoder, Exhausted, Fragment};

pub struct Continuation;

impl Decoder for Continuation {
    fn fragments(
        &self,
        text: &[u8],
        budget: &mut Budget,
        out: &mut Vec<Fragment>,
    ) -> Result<(), Exhausted> {
        let mut done_to = 0;
        // Built once: a searcher costs more to build than most files take to search.
        static CONTINUED: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
            std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"\\\n"));
        for at in CONTINUED.find_iter(text) {
            if at < done_to {
                continue;
            }
            // From the start of the line holding the first continuation to the end
            // of the first line that does not continue.
            let start = text[..at]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
            let mut bytes = Vec::new();
            let mut line_start = start;
            let end = loop {
                let line_end = memchr::memchr(b'\n', &text[line_start..])
                    .map_or(text.len(), |i| line_start + i);
                let line = &text[line_start..line_end];
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                let body = if line_start == start {
                    line
                } else {
                    let indent = line.iter().take_while(|b| b.is_ascii_whitespace()).count();
                    &line[indent..]
                };
                match body.strip_suffix(b"\\") {
                    Some(joined) if line_end < text.len() && bytes.len() < 4096 => {
                        bytes.extend_from_slice(joined);
                        line_start = line_end + 1;
                    }
                    _ => {
                        bytes.extend_from_slice(body);
                        break line_end;
                    }
                }
            };
            done_to = end;
            charge(budget, bytes.len(), "line continuation")?;
            out.push(Fragment {
                span: start..end,
                bytes,
                encoding: "joined across a line continuation",
                member: None,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continued_lines_are_joined() {
        let text = b"#!/bin/sh\nexport KEY=MARKER_\\\n  abcdef\\\nghi\nnext\n";
        let mut budget = Budget {
            bytes: 1 << 20,
            members: 0,
        };
        let mut out = Vec::new();
        Continuation.fragments(text, &mut budget, &mut out).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].bytes, b"export KEY=MARKER_abcdefghi");
        assert_eq!(out[0].span, 10..text.len() - 6);
    }
}
