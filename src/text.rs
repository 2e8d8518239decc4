//! Making attacker-controlled text (paths, matched bytes) safe to print and to paste
//! into a shell.

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

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
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
    fn quotes_for_the_shell() {
        assert_eq!(shell_word(b"src/app.py"), "src/app.py");
        assert_eq!(shell_word(b"my file's.txt"), r"'my file'\''s.txt'");
    }
}
