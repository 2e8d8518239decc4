//! The one pipeline: every source decides the same way, in linear time, and input
//! shaped to break it (deep trees, crafted indexes, hostile configs, a flood of
//! matches) is checked or refused cleanly.

use std::io::Write;
use std::process::{Command, Stdio};

use keyward::config::Config;
use keyward::pipeline::{Earlier, Pipeline};
use keyward::scan::Scanner;

use crate::util::{key, Repo};

/// With `fixtures/**` allowlisted, a key committed both under `fixtures/` and
/// under `app/` is one blob with two appearances: the allowlisted one must not
/// decide for the other, in any mode.
#[test]
fn content_also_at_an_allowlisted_path_is_checked_everywhere_else() {
    let repo = Repo::without_hook();
    repo.install(&["--hook", "pre-push"]).ok();
    let remote = repo.scratch("remote.git");
    repo.git_in(&remote, &["init", "-q", "--bare"]).ok();
    repo.git(&["remote", "add", "origin", remote.to_str().unwrap()])
        .ok();
    repo.write(".keyward.toml", "[allowlist]\npaths = [\"fixtures/**\"]\n");
    repo.commit_unchecked("config");
    repo.git(&["push", "-q", "origin", "main"]).ok();
    let secret = key("sk_live_", 99);
    let body = format!("KEY = '{secret}'\n");
    repo.write("fixtures/stripe.py", &body);
    repo.write("app/stripe.py", &body);
    repo.commit_unchecked("the same file twice");
    repo.keyward(&["history"])
        .code_is(1)
        .contains("app/stripe.py:1:8")
        .lacks("fixtures/stripe.py")
        .no_leak(&secret);
    repo.git(&["push", "-q", "origin", "main"])
        .code_is(1)
        .contains("app/stripe.py:1:8")
        .no_leak(&secret);
    // And staged: both paths staged at once.
    repo.git(&["reset", "-q", "--soft", "HEAD~1"]).ok();
    repo.keyward(&[])
        .code_is(1)
        .contains("app/stripe.py:1:8")
        .lacks("fixtures/stripe.py")
        .no_leak(&secret);
}

/// A tree nested 3,000 levels deep is input like any other: the walk keeps its
/// directories on the heap, so the key at the bottom is found and nothing crashes.
#[test]
fn a_tree_nested_thousands_of_levels_deep_is_walked() {
    let repo = Repo::without_hook();
    repo.write("top.txt", "top\n");
    repo.commit_unchecked("init");
    let secret = key("sk_live_", 40);
    let deep = format!("{}key.py", "d/".repeat(3000));
    let data = format!("KEY = '{secret}'\n");
    let stream = format!(
        "commit refs/heads/main\ncommitter T <t@example.com> 1700000000 +0000\ndata 4\ndeep\nfrom refs/heads/main^0\nM 100644 inline {deep}\ndata {}\n{data}\n",
        data.len()
    );
    repo.fast_import(&stream);
    repo.keyward(&["history"])
        .code_is(1)
        .contains("d/d/d/")
        .contains("key.py:1:8")
        .no_leak(&secret);
    repo.keyward(&["history", "HEAD~1..HEAD"])
        .code_is(1)
        .no_leak(&secret);
}

/// An index whose entries are out of order (crafted; git never writes one) is
/// not walked by binary search: libgit2 reads it or keyward refuses it with one
/// line. It never panics, and never passes the key it holds.
#[test]
fn a_crafted_unsorted_index_never_panics_or_passes() {
    let repo = Repo::without_hook();
    repo.write("a.txt", "a\n");
    repo.commit_unchecked("init");
    let secret = key("sk_live_", 40);
    repo.write("b/key.py", format!("KEY = '{secret}'\n"));
    repo.write("c.txt", "c\n");
    repo.git(&["add", "-A"]).ok();
    let index_path = repo.path(".git/index");
    let mut index = std::fs::read(&index_path).unwrap();
    // Version 2 entries: 62 fixed bytes, the name, NUL padding to 8. Swap the
    // first two entries' bytes wholesale, then fix the trailing checksum.
    let entry_len = |at: usize, index: &[u8]| {
        let name = u16::from_be_bytes([index[at + 60], index[at + 61]]) as usize & 0xFFF;
        (62 + name + 8) & !7
    };
    let first = 12;
    let a = entry_len(first, &index);
    let b = entry_len(first + a, &index);
    let mut swapped = index[first + a..first + a + b].to_vec();
    swapped.extend_from_slice(&index[first..first + a]);
    index.splice(first..first + a + b, swapped);
    let body = index.len() - 20;
    let sum = Command::new("sha1sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin.take().unwrap().write_all(&index[..body])?;
            c.wait_with_output()
        })
        .expect("sha1sum");
    let hex = String::from_utf8(sum.stdout).unwrap();
    for i in 0..20 {
        index[body + i] = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
    }
    std::fs::write(&index_path, &index).unwrap();
    let run = repo.keyward(&[]).no_leak(&secret);
    let stderr = run.stderr();
    assert!(!stderr.contains("panicked"), "{stderr}");
    match run.code() {
        1 => assert!(stderr.contains("b/key.py"), "{stderr}"),
        2 => assert!(
            stderr
                .lines()
                .next()
                .unwrap_or("")
                .starts_with("keyward: error:"),
            "{stderr}"
        ),
        code => panic!("exit {code}: a crafted index passed or crashed:\n{stderr}"),
    }
}

/// A committed config with a multi-line rule whose keyword is on every line: the
/// bytes the engine examines stay within a small constant of the input, where
/// each hit once paid a 64 KiB look-ahead of its own.
#[test]
fn a_hostile_config_cannot_make_a_scan_superlinear() {
    let config = Config::parse(
        std::path::Path::new(".keyward.toml"),
        r#"
[[rules]]
id = "everywhere"
description = "a multi-line rule whose keyword is on every line"
keywords = ["line"]
regex = '(?s)(BEGIN[^#]*END)'
multiline = true
"#,
    )
    .unwrap();
    let scanner = Scanner::new(config.catalogue).unwrap();
    let input = "a line of ordinary text, nothing to see here\n".repeat(30_000);
    let mut matches = Vec::new();
    let stats = scanner.scan(input.as_bytes(), &mut matches).unwrap();
    let n = input.len() as u64;
    // The keyword pass, the overlapping pass over keyword lines, the built-in
    // rules' single-line runs and the multi-line windows (at most 2n + W): a
    // handful of n, against 30,000 x 128 KiB had every hit paid its window.
    assert!(
        stats.examined <= 8 * n,
        "examined {} bytes for {n} bytes of input",
        stats.examined
    );
    assert!(stats.examined >= n, "the counter counts nothing");
}

/// Tens of thousands of matches on one line and on as many lines are all found,
/// each at its own line and column.
#[test]
fn a_flood_of_matches_is_all_found_in_place() {
    let pipeline = Pipeline::new(Config::builtin().unwrap(), Default::default()).unwrap();
    let keys: Vec<String> = (0..20_000).map(|_| key("sk_live_", 24)).collect();
    let one_line = keys.join(" ");
    let results = pipeline
        .check_bytes(b"one.txt", one_line.as_bytes(), Earlier::Nothing)
        .unwrap();
    assert_eq!(results.findings.len(), keys.len());
    let last = results.findings.last().unwrap();
    assert_eq!(
        last.location,
        keyward::finding::Location::Text {
            line: 1,
            column: 1 + (keys.len() - 1) * 33,
        }
    );
    let many_lines = keys.join("\n");
    let results = pipeline
        .check_bytes(b"many.txt", many_lines.as_bytes(), Earlier::Nothing)
        .unwrap();
    assert_eq!(results.findings.len(), keys.len());
    assert_eq!(results.findings.last().unwrap().line(), Some(keys.len()));
}

/// The body of a private key added between BEGIN and END lines that were already
/// committed: the whole blob is scanned, so the key is seen whole, and it is new
/// because its lines are.
#[test]
fn a_key_body_filled_in_between_committed_lines_is_blocked() {
    let repo = Repo::new();
    let begin = format!("-----BEGIN {}PRIVATE KEY-----", "RSA ");
    let end = format!("-----END {}PRIVATE KEY-----", "RSA ");
    repo.write("deploy/key.pem", format!("{begin}\n{end}\n"));
    repo.commit_unchecked("a placeholder block");
    let body: Vec<String> = (0..20).map(|_| crate::util::base62(64)).collect();
    repo.write(
        "deploy/key.pem",
        format!("{begin}\n{}\n{end}\n", body.join("\n")),
    );
    repo.git(&["add", "-A"]).ok();
    repo.commit(&[])
        .code_is(1)
        .contains("deploy/key.pem:1")
        .no_leak(&body[5]);
}

/// Every occurrence of a key is reported, each must go; the same occurrence
/// seen again through a decoder (a continued line) is reported once.
#[test]
fn each_occurrence_is_reported_once() {
    let pipeline = Pipeline::new(Config::builtin().unwrap(), Default::default()).unwrap();
    let k = key("sk_live_", 40);
    let text = format!("a = '{k}'\nb = '{k}'\nrun --key {k} \\\n  --verbose\n");
    let results = pipeline
        .check_bytes(b"twice.sh", text.as_bytes(), Earlier::Nothing)
        .unwrap();
    let lines: Vec<Option<usize>> = results.findings.iter().map(|f| f.line()).collect();
    assert_eq!(lines, vec![Some(1), Some(2), Some(3)]);
}
