//! Making attacker-controlled text (paths, matched bytes) safe to print and to paste
//! into a shell.

/// A count with its noun in the right number: "1 failure", "2 failures". Every
/// message with a count goes through this, so none says "1 failures".
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A path as printable text: invalid UTF-8 is replaced, and control characters
/// (escape sequences, newlines, bidi overrides) are shown escaped rather than sent
/// to the terminal.
pub fn printable_path(path: &[u8]) -> String {
    let lossy = String::from_utf8_lossy(path);
    let mut out = String::with_capacity(lossy.len());
    for c in lossy.chars() {
        if c.is_control() || is_bidi_control(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Text from a configuration file (rule descriptions, remediation): a committed
/// config is untrusted, so its control characters are escaped like a path's.
pub fn printable_text(text: &str) -> String {
    printable_path(text.as_bytes())
}

/// Characters that reorder, hide or break the text around them without being
/// control characters: bidi marks and overrides (U+061C, U+200E/F, U+202A–E,
/// U+2066–9), zero-width characters (U+200B–D, U+2060, U+FEFF) and the line and
/// paragraph separators (U+2028/9), which terminals and editors honour.
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// A path as one shell word, for the commands the report suggests.
pub fn shell_word(path: &[u8]) -> String {
    let text = printable_path(path);
    let plain = text
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_./+,:@%".contains(&b));
    if plain && !text.is_empty() {
        return text;
    }
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_controls() {
        assert_eq!(printable_path(b"a\x1b[31mb\nc"), "a\\u{1b}[31mb\\nc");
        assert_eq!(printable_path("x\u{202E}y".as_bytes()), "x\\u{202e}y");
    }

    #[test]
    fn escapes_invisible_and_reordering_characters() {
        for c in [
            '\u{061C}', '\u{200B}', '\u{2028}', '\u{2029}', '\u{2060}', '\u{FEFF}',
        ] {
            let shown = printable_path(format!("a{c}b").as_bytes());
            assert!(!shown.contains(c), "{:?} printed raw", c);
        }
    }

    #[test]
    fn quotes_for_the_shell() {
        assert_eq!(shell_word(b"src/app.py"), "src/app.py");
        assert_eq!(shell_word(b"my file's.txt"), r"'my file'\''s.txt'");
    }
}
