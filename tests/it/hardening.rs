//! Hostile and odd input, read-only operation, failing closed, never leaking.

use std::collections::BTreeMap;
use std::path::Path;

use crate::util::{key, Repo, KEYWARD};

/// Every file under .git except objects' contents, with its bytes: what keyward
/// must leave exactly as it found it.
fn git_state(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(dir: &Path, base: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            let rel = path
                .strip_prefix(base)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if entry.file_type().unwrap().is_dir() {
                walk(&path, base, out);
            } else {
                // Object files are immutable by name: their presence is what counts.
                let content = if rel.starts_with("objects/") {
                    Vec::new()
                } else {
                    std::fs::read(&path).unwrap()
                };
                out.insert(rel, content);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(&root.join(".git"), &root.join(".git"), &mut out);
    out
}

#[test]
fn no_mode_writes_to_the_repository() {
    let repo = Repo::without_hook();
    let remote = repo.scratch("r.git");
    repo.git_in(&remote, &["init", "-q", "--bare"]).ok();
    repo.git(&["remote", "add", "origin", remote.to_str().unwrap()])
        .ok();
    repo.write("a.txt", "a\n");
    repo.commit_unchecked("one");
    repo.git(&["push", "-q", "origin", "main"]).ok();
    let secret = key("sk_live_", 99);
    repo.write("b.txt", format!("{secret}\n"));
    repo.commit_unchecked("two");
    repo.write("c.txt", format!("{}\n", key("rk_live_", 24)));
    repo.git(&["add", "c.txt"]).ok();
    let msg = repo.scratch("m").join("MSG");
    std::fs::write(&msg, format!("msg {secret}\n")).unwrap();
    let head = repo.head().unwrap();
    let push_line = format!(
        "refs/heads/main {head} refs/heads/main {}\n",
        "0".repeat(40)
    );
    let before = git_state(&repo.root);
    let runs = [
        repo.keyward(&[]),
        repo.keyward(&["scan"]),
        repo.keyward(&["history"]),
        repo.keyward(&["history", "--format", "sarif"]),
        repo.keyward(&["commit-msg", msg.to_str().unwrap()]),
        repo.keyward(&["rules", "check"]),
        pipe(&repo, &["pre-push", "origin"], &push_line),
    ];
    for run in runs {
        assert!(run.code() == 0 || run.code() == 1, "{}", run.all());
        assert!(!run.all().contains(&secret[8..]), "secret printed");
    }
    assert_eq!(
        git_state(&repo.root),
        before,
        "keyward changed something under .git"
    );
}

fn pipe(repo: &Repo, args: &[&str], input: &str) -> crate::util::Run {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(KEYWARD)
        .args(args)
        .current_dir(&repo.root)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    crate::util::Run {
        cmd: format!("keyward {}", args.join(" ")),
        out: child.wait_with_output().unwrap(),
    }
}

#[test]
fn pre_push_by_hand_with_malformed_input_fails_closed() {
    let repo = Repo::without_hook();
    repo.write("a", "a\n");
    repo.commit_unchecked("one");
    pipe(&repo, &["pre-push"], "garbage\n")
        .code_is(2)
        .contains("pre-push: expected");
    pipe(
        &repo,
        &["pre-push"],
        &format!(
            "refs/heads/main {} refs/heads/main {}\n",
            "f".repeat(40),
            "0".repeat(40)
        ),
    )
    .code_is(2)
    .contains("keyward: error:");
}

#[test]
fn debug_output_of_findings_is_redacted() {
    use keyward::pipeline::{Earlier, Pipeline};
    let secret = key("sk_live_", 99);
    let checker = Pipeline::new(
        keyward::config::Config::builtin().unwrap(),
        Default::default(),
    )
    .unwrap();
    let checked = checker
        .check_bytes(
            b"a.py",
            format!("k = '{secret}'\n").as_bytes(),
            Earlier::Nothing,
        )
        .unwrap();
    assert_eq!(checked.findings.len(), 1);
    let debug = format!("{checked:?} {:#?}", checked.findings[0]);
    assert!(
        !debug.contains(&secret[8..]),
        "Debug leaks the secret: {debug}"
    );
    assert!(debug.contains(&secret[secret.len() - 4..]));
}

#[test]
fn utf16_files_are_decoded() {
    let repo = Repo::without_hook();
    let secret = key("sk_live_", 99);
    for (name, bom, le) in [
        ("le.txt", true, true),
        ("be.txt", true, false),
        ("nobom.txt", false, true),
    ] {
        let text = format!("first line\nstripe_key = \"{secret}\"\n");
        let mut bytes = Vec::new();
        if bom {
            bytes.extend(if le { [0xFF, 0xFE] } else { [0xFE, 0xFF] });
        }
        for unit in text.encode_utf16() {
            bytes.extend(if le {
                unit.to_le_bytes()
            } else {
                unit.to_be_bytes()
            });
        }
        repo.write(name, bytes);
    }
    repo.git(&["add", "."]).ok();
    repo.keyward(&[])
        .code_is(1)
        .contains("le.txt:2:15")
        .contains("be.txt:2:15")
        .contains("nobom.txt:2:15")
        .no_leak(&secret);
}

#[test]
fn odd_paths_newlines_non_ascii_and_deep_trees() {
    let repo = Repo::without_hook();
    let secret = key("sk_live_", 99);
    let deep: String = (0..120).map(|i| format!("d{i}/")).collect();
    repo.write(&format!("{deep}leaf.txt"), format!("{secret}\n"));
    repo.write("line\nbreak.txt", format!("{secret}\n"));
    repo.write("ünïcødé ✓/ファイル.txt", format!("{secret}\n"));
    repo.git(&["add", "."]).ok();
    let run = repo
        .keyward(&[])
        .code_is(1)
        .contains("3 secrets")
        .no_leak(&secret);
    run.contains("d119/leaf.txt:1:1")
        .contains("line\\nbreak.txt:1:1")
        .contains("ünïcødé ✓/ファイル.txt:1:1");
}

#[test]
fn a_file_over_the_size_limit_is_named_not_skipped_silently() {
    let repo = Repo::without_hook();
    repo.write(".keyward.toml", "[limits]\nmax_file_size = 1000\n");
    repo.write(
        "big.txt",
        format!("{}\n{}\n", "x".repeat(2000), key("sk_live_", 99)),
    );
    repo.write("small.txt", "fine\n");
    repo.git(&["add", ".keyward.toml", "big.txt", "small.txt"])
        .ok();
    // Not checked is not passed: exit 2, the file named, the way out named.
    repo.keyward(&[])
        .code_is(2)
        .contains("1 file not scanned")
        .contains("big.txt: 2")
        .contains("limits.max_file_size")
        .contains("limits.unscanned");
    let doc: serde_json::Value =
        serde_json::from_str(&repo.keyward(&["--format", "json"]).code_is(2).stdout()).unwrap();
    assert_eq!(doc["not_scanned"][0]["path"], "big.txt");
    // Let through only when the configuration says so, and says it loudly.
    repo.write(
        ".keyward.toml",
        "[limits]\nmax_file_size = 1000\nunscanned = \"warn\"\n",
    );
    repo.git(&["add", ".keyward.toml"]).ok();
    repo.keyward(&[])
        .code_is(0)
        .contains("1 file not scanned")
        .contains("limits.unscanned = \"warn\"");
}

#[test]
fn a_corrupt_index_blocks_with_exit_2() {
    let repo = Repo::without_hook();
    repo.write("a.txt", "a\n");
    repo.git(&["add", "."]).ok();
    let mut index = repo.read(".git/index");
    let mid = index.len() / 2;
    index.truncate(mid);
    repo.write(".git/index", index);
    let run = repo.keyward(&[]).code_is(2);
    assert_eq!(
        run.stderr()
            .lines()
            .filter(|l| l.starts_with("keyward: error:"))
            .count(),
        1
    );
}

#[test]
fn ctrl_c_exits_130_and_says_so() {
    use std::process::{Command, Stdio};
    let repo = Repo::without_hook();
    repo.write("a", "a\n");
    repo.commit_unchecked("one");
    // pre-push waits on standard input: a reliable moment to interrupt it.
    let child = Command::new(KEYWARD)
        .arg("pre-push")
        .current_dir(&repo.root)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("interrupted"));
}

#[test]
fn a_hostile_config_cannot_exhaust_memory_or_escape_the_terminal() {
    let repo = Repo::without_hook();
    repo.write(
        ".keyward.toml",
        "[[rules]]\nid = \"huge\"\ndescription = \"x\"\nkeywords = [\"abc\"]\nregex = '(abc\\w{1000}\\w{1000}\\w{1000}){100}'\n",
    );
    repo.write("a.txt", "fine\n");
    repo.git(&["add", "."]).ok();
    repo.keyward(&[])
        .code_is(2)
        .contains("rule 'huge'")
        .contains("invalid regex");
    repo.write(
        ".keyward.toml",
        "[[rules]]\nid = \"evil\"\ndescription = \"\\u001b[2J\\u0007 evil\"\nremediation = \"\\u001b]0;title\\u0007\"\nkeywords = [\"tok_\"]\nregex = '(tok_[0-9]{8})'\n",
    );
    repo.write("a.txt", "tok_48151623\n");
    repo.git(&["add", "."]).ok();
    let run = repo.keyward(&[]).code_is(1).contains("evil");
    assert!(
        !run.out.stderr.contains(&0x1b) && !run.out.stderr.contains(&0x07),
        "{}",
        run.stderr()
    );
}

/// A SHA-256 repository cannot be read yet: every hook blocks with a line that
/// says why, and install.sh warns before installing.
#[test]
fn a_sha256_repository_fails_closed_and_says_why() {
    let repo = Repo::without_hook();
    let dir = repo.scratch("sha256");
    repo.git_in(&dir, &["init", "-q", "--object-format=sha256"])
        .ok();
    std::fs::write(dir.join("a.txt"), format!("{}\n", key("sk_live_", 40))).unwrap();
    repo.git_in(&dir, &["add", "a.txt"]).ok();
    repo.run_in(&dir, crate::util::KEYWARD, &[], &[])
        .code_is(2)
        .contains("SHA-256")
        .lacks("set GIT_DIR");
    let script = format!("{}/install.sh", crate::util::SRC_DIR);
    repo.run_in(&dir, "sh", &[&script, "--bin", crate::util::KEYWARD], &[])
        .ok()
        .contains("SHA-256");
}

/// A partial clone leaves blobs out and keyward never fetches: a history scan
/// names each missing blob as not checked (and so exits 2) instead of failing
/// as a whole or passing it.
#[test]
fn a_partial_clones_missing_blobs_are_named_not_fetched() {
    let repo = Repo::without_hook();
    repo.write("a.txt", "kept\n");
    repo.write("big/data.txt", format!("{}\n", "x".repeat(5000)));
    repo.commit_unchecked("init");
    repo.git(&["config", "uploadpack.allowFilter", "true"]).ok();
    let clone = repo.scratch("clone");
    let url = format!("file://{}", repo.root.display());
    repo.git_in(
        clone.parent().unwrap(),
        &[
            "clone",
            "-q",
            "--no-checkout",
            "--filter=blob:limit=1k",
            &url,
            "clone",
        ],
    )
    .ok();
    repo.run_in(&clone, crate::util::KEYWARD, &["history"], &[])
        .code_is(2)
        .contains("big/data.txt")
        .contains("not in this repository");
}
