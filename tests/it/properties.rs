//! Properties of the scan engine over generated input: a key anywhere in any
//! surrounding bytes is found where it is; arbitrary bytes never make it panic.

use keyward::config::Config;
use keyward::finding::Location;
use keyward::pipeline::{Earlier, Pipeline};
use proptest::prelude::*;

fn checker() -> &'static Pipeline {
    static PIPELINE: std::sync::OnceLock<Pipeline> = std::sync::OnceLock::new();
    PIPELINE.get_or_init(|| Pipeline::new(Config::builtin().unwrap(), Default::default()).unwrap())
}

fn kind() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["sk_live_", "rk_live_", "sk_test_", "rk_test_"])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn a_key_in_any_surrounding_bytes_is_found(
        mut prefix in prop::collection::vec(any::<u8>(), 0..300),
        separator in prop::sample::select(b" \t\n=:\"'(,;/\0".to_vec()),
        suffix in prop::collection::vec(any::<u8>(), 0..300),
        kind in kind(),
        body in "[0-9A-Za-z]{24,160}",
    ) {
        let key = format!("{kind}{body}");
        // In text, a key must not continue an identifier (`risk_live_...` is
        // not one): it follows a byte that cannot, whatever came before.
        prefix.push(separator);
        let mut input = prefix.clone();
        input.extend_from_slice(key.as_bytes());
        input.extend_from_slice(&suffix);
        let checked = checker().check_bytes(b"f.txt", &input, Earlier::Nothing).unwrap();
        let start = prefix.len();
        // The secret may run on into alphanumeric bytes after the key (that is
        // where a key ends), but it must cover the key and start where it does.
        let covered = checked.findings.iter().any(|f| {
            f.secret.expose().starts_with(key.as_bytes())
                && match f.location {
                    Location::Binary { offset } => offset == start,
                    Location::Path => false,
                    Location::Text { line, .. } => {
                        line == 1 + input[..start].iter().filter(|&&b| b == b'\n').count()
                    }
                }
        });
        prop_assert!(covered, "key not found at {start}");
    }

    #[test]
    fn line_and_column_are_where_the_key_is(
        lines in prop::collection::vec("[ -~]{0,80}", 0..40),
        at_line in 0usize..40,
        at_col in 0usize..80,
        body in "[0-9A-Za-z]{24,99}",
    ) {
        // Printable lines that cannot hold a keyword of their own.
        let mut lines: Vec<String> = lines.into_iter().map(|l| l.replace(['_', '-'], " ")).collect();
        let at_line = at_line.min(lines.len());
        lines.insert(at_line, String::new());
        let col = at_col.min(lines[at_line].len());
        let key = format!("sk_live_{body}");
        lines[at_line].insert_str(col, &format!(" {key} "));
        let text = lines.join("\n");
        let checked = checker().check_bytes(b"f.txt", text.as_bytes(), Earlier::Nothing).unwrap();
        let f = checked.findings.iter().find(|f| f.secret.expose() == key.as_bytes());
        prop_assert!(f.is_some(), "not found");
        prop_assert_eq!(f.unwrap().location, Location::Text { line: at_line + 1, column: col + 2 });
    }

    #[test]
    fn arbitrary_bytes_never_panic(input in prop::collection::vec(any::<u8>(), 0..4096)) {
        checker().check_bytes(b"x", &input, Earlier::Nothing).unwrap();
        checker().check_bytes(b"x", &input, Earlier::Secrets(vec![keyward::pipeline::Content::Bytes(input[..input.len() / 2].into())])).unwrap();
    }

    #[test]
    fn keyword_soup_never_panics(parts in prop::collection::vec(
        prop::sample::select(vec!["sk_live_", "rk_", "whsec_", "\n", "\r\n", "\0", "=", "\"", "A", "9", "-----BEGIN ", "password", "\u{feff}"]),
        0..200,
    )) {
        let input = parts.concat();
        checker().check_bytes(b"x", input.as_bytes(), Earlier::Nothing).unwrap();
    }
}
