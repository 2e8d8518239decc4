//! What separates a credential from text that merely has its shape: entropy,
//! placeholders people write in docs and templates, and inline allow markers.

/// Markers that, in a comment after a key on its line, say a person has looked
/// and allowed that key. keyward's own, and the ones gitleaks and detect-secrets
/// users already have in their code, so a team can switch without editing every
/// marker.
const ALLOW_MARKERS: &[&[u8]] = &[
    b"keyward:allow",
    b"gitleaks:allow",
    b"pragma: allowlist secret",
];

/// Markers that, in a comment on a line of their own, allow the first key on the
/// next line.
const NEXT_LINE_MARKERS: &[&[u8]] = &[
    b"keyward:allow-next-line",
    b"pragma: allowlist nextline secret",
];

/// Lines longer than this are minified code, one-line JSON or data: a marker
/// there could not be said to sit next to one key, so it counts for nothing.
pub const MARKER_LINE_LIMIT: usize = 1000;

/// Comment openers across languages: `#` (shell, Python, Ruby, YAML, TOML),
/// `//` and `/*` (C family, JS, Go, Rust), `<!--` (HTML, XML, Markdown), `--`
/// (SQL, Lua, Haskell). `'` is left out (VB comments look like strings
/// everywhere else).
const COMMENT_OPENERS: &[&[u8]] = &[b"#", b"//", b"/*", b"<!--", b"--"];

/// `;` (INI, Lisp, assembly) and `%` (TeX, Erlang) open a comment only where
/// none of the openers above does: elsewhere they end a statement or format a
/// string, and taken as the comment's start they moved the marker onto the key
/// before them (`a = 'k1'; b = 'k2'  // keyward:allow` allowed k1, not k2).
const WEAK_COMMENT_OPENERS: &[&[u8]] = &[b";", b"%"];

/// Where `needle` first occurs in `hay`. The scanner asks this of short lines
/// and values, where comparing windows beats building a `memmem` searcher (some
/// hundreds of instructions each time); long haystacks still get one.
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    if hay.len() < 256 {
        hay.windows(needle.len()).position(|w| w == needle)
    } else {
        memchr::memmem::find(hay, needle)
    }
}

/// Where `needle` last occurs in `hay`; see [`find`].
pub fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(hay.len());
    }
    if hay.len() < 256 {
        hay.windows(needle.len()).rposition(|w| w == needle)
    } else {
        memchr::memmem::rfind(hay, needle)
    }
}

/// Where the comment holding `marker` starts on `line`: the marker must sit
/// after a comment opener that is not inside a string literal.
fn marker_comment(line: &[u8], markers: &[&[u8]]) -> Option<usize> {
    if line.len() > MARKER_LINE_LIMIT {
        return None;
    }
    let at = markers.iter().filter_map(|m| find(line, m)).min()?;
    // Walk the line up to the marker, tracking string literals, and take the
    // first opener that stands outside them; a weak one only if no other is.
    let mut quote: Option<u8> = None;
    let mut weak = None;
    let mut i = 0;
    while i < at {
        let b = line[i];
        match quote {
            Some(q) => {
                if b == b'\\' {
                    i += 1;
                } else if b == q {
                    quote = None;
                }
            }
            None if b == b'"' || b == b'\'' || b == b'`' => quote = Some(b),
            None => {
                if COMMENT_OPENERS.iter().any(|o| line[i..at].starts_with(o)) {
                    return Some(i);
                }
                if weak.is_none()
                    && WEAK_COMMENT_OPENERS
                        .iter()
                        .any(|o| line[i..at].starts_with(o))
                {
                    weak = Some(i);
                }
            }
        }
        i += 1;
    }
    weak
}

/// Where a same-line allow marker's comment starts, if the line has one.
pub fn allow_comment(line: &[u8]) -> Option<usize> {
    marker_comment(line, ALLOW_MARKERS)
}

/// Whether `line` is a comment allowing the first key on the next line.
pub fn allows_next_line(line: &[u8]) -> bool {
    marker_comment(line, NEXT_LINE_MARKERS)
        .is_some_and(|c| line[..c].iter().all(u8::is_ascii_whitespace))
}

/// Words that only placeholders contain. Each is 7 or more letters, so the chance of
/// one turning up inside a random base62 key is below one in 10^8.
const PLACEHOLDER_WORDS: &[&[u8]] = &[
    b"example",
    b"placeholder",
    b"redacted",
    b"yourkey",
    b"yoursecret",
    b"yourapi",
    b"yourtoken",
    b"goeshere",
    b"keyhere",
    b"changeme",
    b"replaceme",
    b"dummykey",
    b"fakekey",
    b"insertyour",
    // Underscores never occur in base62 keys, so these short forms are safe too.
    b"your_",
    b"_here",
];

/// A run of this many identical characters (`xxxxxxxx`, `00000000`) marks a
/// placeholder; in 250 random base62 characters it has odds of about 10^-10.
const PLACEHOLDER_RUN: usize = 8;

/// A run of this many consecutive characters (`123456`, `abcdef`) likewise.
const SEQUENCE_RUN: usize = 6;

pub fn entropy(bytes: &[u8]) -> f64 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in bytes {
        counts[b as usize] += 1;
    }
    let len = bytes.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / len;
            -p * p.log2()
        })
        .sum()
}

/// Whether the body of a secret (its kind prefix removed) is a placeholder.
pub fn is_placeholder(body: &[u8]) -> bool {
    if body.is_empty() {
        return true;
    }
    let lower = body.to_ascii_lowercase();
    if PLACEHOLDER_WORDS.iter().any(|w| find(&lower, w).is_some()) {
        return true;
    }
    let (mut same, mut sequence) = (1, 1);
    for pair in body.windows(2) {
        same = if pair[1] == pair[0] { same + 1 } else { 1 };
        sequence = if pair[1] == pair[0].wrapping_add(1) {
            sequence + 1
        } else {
            1
        };
        if same >= PLACEHOLDER_RUN || sequence >= SEQUENCE_RUN {
            return true;
        }
    }
    false
}

/// Whether a secret starting at `at` in `input` stands on its own on the left:
/// nothing before it, or a byte that cannot continue an identifier, or the end of
/// an escape or encoding (`\n`, `\t`, `%22`, `%3D`, `\u0022`, `\x22`).
pub fn left_boundary(input: &[u8], at: usize) -> bool {
    let Some(&before) = at.checked_sub(1).and_then(|i| input.get(i)) else {
        return true;
    };
    if !(before.is_ascii_alphanumeric() || before == b'_') {
        return true;
    }
    let ends = |escape: &[u8], hex: usize| -> bool {
        let len = escape.len() + hex;
        at >= len
            && input[at - len..].starts_with(escape)
            && input[at - hex..at].iter().all(u8::is_ascii_hexdigit)
    };
    // One-letter escapes: `\n` before the key, and not `\\n` (an escaped
    // backslash followed by a letter that continues a word).
    let letter = at >= 2
        && input[at - 2] == b'\\'
        && b"ntrbfv0".contains(&before)
        && (at < 3 || input[at - 3] != b'\\');
    letter || ends(b"%", 2) || ends(b"\\u", 4) || ends(b"\\x", 2)
}

/// Base64 characters a key body needs at the least: an Ed25519 PKCS#8 key, the
/// smallest in use, is 64.
const PEM_MIN_BODY: usize = 64;

/// Whether a PEM block (BEGIN line to END line, in any layout) has a key's body.
/// Layout is everything that is not base64: whitespace, `\n`/`\r` escapes, quotes,
/// concatenation operators, YAML's `|`, header lines' punctuation. A key's block is
/// mostly base64 and random; a template's is `...`, `XXXX`, or prose.
pub fn pem_body(block: &[u8]) -> bool {
    // The body lies between the BEGIN line's closing dashes and the END line.
    let Some(begin_end) = memchr::memmem::find(&block[5..], b"-----").map(|i| i + 10) else {
        return false;
    };
    let Some(end) = memchr::memmem::rfind(block, b"-----END") else {
        return false;
    };
    if end <= begin_end {
        return false;
    }
    let body = &block[begin_end..end];
    if memchr::memmem::find(body, b"...").is_some()
        || memchr::memmem::find(body, b"\xe2\x80\xa6").is_some()
    {
        return false;
    }
    let mut base64 = Vec::with_capacity(body.len());
    let mut layout = 0usize;
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        if b == b'\\' && matches!(body.get(i + 1), Some(b'n' | b'r' | b't')) {
            layout += 2;
            i += 2;
            continue;
        }
        if b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=' {
            base64.push(b);
        } else {
            layout += 1;
        }
        i += 1;
    }
    base64.len() >= PEM_MIN_BODY && layout * 3 <= base64.len() && entropy(&base64) >= 4.5
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_of_uniform_and_constant() {
        assert_eq!(entropy(b"aaaa"), 0.0);
        assert!((entropy(b"abcd") - 2.0).abs() < 1e-9);
    }

    #[test]
    fn markers_count_only_in_comments() {
        assert_eq!(allow_comment(b"k = 'x'  # keyward:allow"), Some(9));
        assert_eq!(allow_comment(b"k = 'x'; // gitleaks:allow"), Some(9));
        // `;` and `%` start the comment only where nothing else does.
        assert_eq!(allow_comment(b"a = 'x'; b = 'y' # keyward:allow"), Some(17));
        assert_eq!(allow_comment(b"a = \"%s\" % b  # keyward:allow"), Some(14));
        assert_eq!(allow_comment(b"key = abc ; keyward:allow"), Some(10));
        assert_eq!(allow_comment(b"Key = \"x\". % keyward:allow"), Some(11));
        assert_eq!(
            allow_comment(b"k = 'x'  # pragma: allowlist secret"),
            Some(9)
        );
        // Inside a string literal it is data, not a comment.
        assert_eq!(allow_comment(b"k = 'x keyward:allow'"), None);
        assert_eq!(allow_comment(b"k = \"#keyward:allow\""), None);
        assert_eq!(allow_comment(b"no marker # here"), None);
        let long = [b"k = 'x' ".as_slice(), &[b' '; 1000], b"# keyward:allow"].concat();
        assert_eq!(allow_comment(&long), None);
        assert!(allows_next_line(b"    # pragma: allowlist nextline secret"));
        assert!(allows_next_line(b"// keyward:allow-next-line"));
        assert!(!allows_next_line(b"x = 1 # keyward:allow-next-line"));
        assert!(!allows_next_line(b"x = 'keyward:allow-next-line'"));
    }

    #[test]
    fn boundaries() {
        let at = |text: &str| left_boundary(text.as_bytes(), text.find("sk_").unwrap());
        for ok in [
            "sk_",
            " sk_",
            "=sk_",
            "\"sk_",
            "\\nsk_",
            "\\tsk_",
            "%22sk_",
            "%3Dsk_",
            "%3dsk_",
            "\\u0022sk_",
            "\\x22sk_",
            "&quot;sk_",
            "'sk_",
            "(sk_",
            ":sk_",
            "/sk_",
        ] {
            assert!(at(ok), "{ok:?} should be a boundary");
        }
        for no in [
            "risk_",
            "disk_",
            "task_",
            "ask_",
            "_sk_",
            "0sk_",
            "Xsk_",
            "\\\\nsk_",
            "%2sk_",
            "\\u002sk_",
            "nsk_",
        ] {
            assert!(!at(no), "{no:?} continues an identifier");
        }
    }

    #[test]
    fn placeholders() {
        assert!(is_placeholder(b"xxxxxxxxxxxxxxxxxxxxxxxx"));
        assert!(is_placeholder(b"YOUR_KEY"));
        assert!(is_placeholder(b"abc123456def"));
        assert!(is_placeholder(b"MyExampleKeyValue"));
        assert!(!is_placeholder(b"u8jzPde0IgxLd6GncfBAepfJ"));
        // Short runs happen in random keys and must not hide them.
        assert!(!is_placeholder(b"JzzzzgEOzdm123AbC"));
    }
}
