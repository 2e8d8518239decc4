//! Every way git commits, through the installed pre-commit hook.

use crate::util::{key, Repo, Run, KEYWARD};

fn redacted(secret: &str) -> String {
    format!("{}…{}", &secret[..8], &secret[secret.len() - 4..])
}

/// The commit was refused by keyward, the report names the place and the redacted
/// key, and the key itself was not printed.
#[track_caller]
fn blocked(repo: &Repo, before: Option<String>, run: Run, secret: &str, place: &str) -> Run {
    let run = run
        .code_is(1)
        .contains("keyward: commit blocked")
        .contains(place)
        .contains(&redacted(secret))
        .no_leak(secret);
    assert_eq!(repo.head(), before, "a commit was made despite the block");
    run
}

#[track_caller]
fn passed(run: Run) -> Run {
    run.ok().lacks("keyward")
}

#[test]
fn key_in_a_new_file_blocks_the_commit() {
    let repo = Repo::new();
    repo.write("README", "hello\n");
    repo.commit_unchecked("init");
    let secret = key("sk_live_", 99);
    repo.write(
        "app/settings.py",
        format!("import os\nDEBUG = False\nstripe.api_key = \"{secret}\"\n"),
    );
    repo.git(&["add", "app/settings.py"]).ok();
    let head = repo.head();
    let run = blocked(&repo, head, repo.commit(&[]), &secret, "app/settings.py");
    run.contains("3:19")
        .contains("stripe-live-secret-key")
        .contains("git add -p app/settings.py")
        .contains("os.environ[\"STRIPE_SECRET_KEY\"]")
        .contains("Roll key")
        .contains("--no-verify");
}

#[test]
fn clean_commit_passes_silently() {
    let repo = Repo::new();
    repo.write("a.py", "x = 1\n");
    repo.git(&["add", "."]).ok();
    passed(repo.commit(&[]));
    assert!(repo.head().is_some());
}

#[test]
fn publishable_keys_and_placeholders_pass() {
    let repo = Repo::new();
    let lines = [
        format!("STRIPE_PUBLISHABLE_KEY={}", key("pk_live_", 99)),
        format!("pk_test = '{}'", key("pk_test_", 24)),
        "STRIPE_SECRET_KEY=sk_live_xxxxxxxxxxxxxxxxxxxxxxxx".to_string(),
        "stripe.api_key = 'sk_live_...'".to_string(),
        "key = sk_live_<your key>".to_string(),
        "RESTRICTED=rk_live_YOUR_KEY_HERE".to_string(),
        "key: ${STRIPE_SECRET_KEY}".to_string(),
        "task_live_settings = True".to_string(),
    ];
    repo.write("config.env.example", lines.join("\n") + "\n");
    repo.git(&["add", "."]).ok();
    passed(repo.commit(&[]));
}

#[test]
fn first_commit_of_a_repository_is_checked() {
    let repo = Repo::new();
    let secret = key("rk_live_", 99);
    repo.write("config.yml", format!("stripe:\n  key: {secret}\n"));
    repo.git(&["add", "."]).ok();
    blocked(&repo, None, repo.commit(&[]), &secret, "config.yml:2:8")
        // No HEAD to restore from: the advice must be a command that works.
        .contains("git add -p config.yml");
}

#[test]
fn commit_all_checks_modified_tracked_files() {
    let repo = Repo::new();
    repo.write("server.js", "const x = 1;\n");
    repo.commit_unchecked("init");
    let secret = key("sk_live_", 24);
    repo.write(
        "server.js",
        format!("const x = 1;\nconst stripe = require('stripe')('{secret}');\n"),
    );
    // Nothing staged: only `-a` (a temporary index in GIT_INDEX_FILE) holds the key.
    let head = repo.head();
    blocked(&repo, head, repo.commit(&["-a"]), &secret, "server.js:2")
        .contains("process.env.STRIPE_SECRET_KEY");
}

#[test]
fn commit_with_paths_checks_those_paths() {
    let repo = Repo::new();
    repo.write("a.rb", "a = 1\n");
    repo.write("b.rb", "b = 1\n");
    repo.commit_unchecked("init");
    let secret = key("sk_live_", 99);
    repo.write("a.rb", format!("a = 1\nStripe.api_key = '{secret}'\n"));
    repo.write("b.rb", "b = 2\n");
    let head = repo.head();
    blocked(
        &repo,
        head.clone(),
        repo.commit(&["--", "a.rb"]),
        &secret,
        "a.rb:2",
    )
    .contains("ENV[\"STRIPE_SECRET_KEY\"]");
    // The key is in a.rb only: committing b.rb alone passes.
    passed(repo.commit(&["--", "b.rb"]));
    assert_ne!(repo.head(), head);
}

#[test]
fn a_key_only_in_the_unstaged_part_passes() {
    let repo = Repo::new();
    repo.write("app.go", "package main\n");
    repo.commit_unchecked("init");
    repo.write("app.go", "package main\n\nfunc main() {}\n");
    repo.git(&["add", "app.go"]).ok();
    let secret = key("sk_live_", 99);
    repo.write(
        "app.go",
        format!("package main\n\nfunc main() {{}}\n\nconst key = \"{secret}\"\n"),
    );
    passed(repo.commit(&[]));
    // The key is still in the working tree, uncommitted.
    assert!(String::from_utf8_lossy(&repo.read("app.go")).contains(&secret));
    let committed = repo.git(&["show", "HEAD:app.go"]).ok();
    assert!(!committed.stdout().contains(&secret[8..]));
}

#[test]
fn a_key_staged_then_removed_from_the_work_tree_still_blocks() {
    let repo = Repo::new();
    repo.write("Main.java", "class Main {}\n");
    repo.commit_unchecked("init");
    let secret = key("sk_live_", 99);
    repo.write(
        "Main.java",
        format!("class Main {{ String k = \"{secret}\"; }}\n"),
    );
    repo.git(&["add", "Main.java"]).ok();
    // Fixed in the work tree but not re-staged: the index still holds the key.
    repo.write(
        "Main.java",
        "class Main { String k = System.getenv(\"K\"); }\n",
    );
    let head = repo.head();
    blocked(&repo, head, repo.commit(&[]), &secret, "Main.java:1:26");
}

#[test]
fn partial_staging_of_one_file_checks_only_the_staged_hunk() {
    let repo = Repo::new();
    let body: Vec<String> = (0..40).map(|i| format!("line {i}")).collect();
    repo.write("notes.txt", body.join("\n") + "\n");
    repo.commit_unchecked("init");
    let secret = key("sk_live_", 99);
    let mut edited = body.clone();
    edited[0] = "line 0 edited".into();
    edited[39] = format!("line 39 {secret}");
    repo.write("notes.txt", edited.join("\n") + "\n");
    // Stage the first hunk only, as `git add -p` would.
    let patch = repo.git(&["diff", "-U0", "notes.txt"]).ok().stdout();
    let first_hunk: String = {
        let mut lines = patch.lines();
        let mut out = String::new();
        let mut hunks = 0;
        for line in lines.by_ref() {
            if line.starts_with("@@") {
                hunks += 1;
                if hunks == 2 {
                    break;
                }
            }
            out.push_str(line);
            out.push('\n');
        }
        out
    };
    let patch_file = repo.scratch("p").join("first.patch");
    std::fs::write(&patch_file, first_hunk).unwrap();
    repo.git(&[
        "apply",
        "--cached",
        "--unidiff-zero",
        patch_file.to_str().unwrap(),
    ])
    .ok();
    passed(repo.commit(&[]));
    // Now stage the rest: the key is in it.
    repo.git(&["add", "notes.txt"]).ok();
    let head = repo.head();
    blocked(&repo, head, repo.commit(&[]), &secret, "notes.txt:40:9");
}

#[test]
fn commit_from_a_subdirectory() {
    let repo = Repo::new();
    repo.write("deep/er/x.php", "<?php\n");
    repo.commit_unchecked("init");
    let secret = key("rk_live_", 24);
    repo.write("deep/er/x.php", format!("<?php\n$k = '{secret}';\n"));
    let head = repo.head();
    let run = repo.git_in(&repo.path("deep/er"), &["commit", "-q", "-am", "x"]);
    blocked(&repo, head, run, &secret, "deep/er/x.php:2:7")
        .contains("getenv('STRIPE_RESTRICTED_KEY')");
    // By hand, from the subdirectory, with --staged.
    repo.git(&["add", "-A"]).ok();
    let by_hand = repo.run_in(&repo.path("deep"), KEYWARD, &["--staged"], &[]);
    by_hand
        .code_is(1)
        .contains("deep/er/x.php")
        .no_leak(&secret);
}

#[test]
fn commit_in_a_linked_worktree() {
    let repo = Repo::new();
    repo.write("a.txt", "a\n");
    repo.commit_unchecked("init");
    let wt = repo.scratch("wt").join("tree");
    repo.git(&[
        "worktree",
        "add",
        "-q",
        "-b",
        "feature",
        wt.to_str().unwrap(),
    ])
    .ok();
    let secret = key("sk_live_", 99);
    std::fs::write(wt.join("b.txt"), format!("key={secret}\n")).unwrap();
    repo.git_in(&wt, &["add", "b.txt"]).ok();
    let run = repo.git_in(&wt, &["commit", "-q", "-m", "x"]);
    run.code_is(1).contains("b.txt:1:5").no_leak(&secret);
    let feature = repo.git(&["rev-parse", "feature"]).ok().stdout();
    let main = repo.git(&["rev-parse", "main"]).ok().stdout();
    assert_eq!(
        feature, main,
        "the worktree's branch moved despite the block"
    );
    // The main worktree's index is not the linked one's: a commit there passes.
    repo.write("c.txt", "c\n");
    repo.git(&["add", "c.txt"]).ok();
    passed(repo.commit(&[]));
}

#[test]
fn amend_that_adds_a_key_blocks() {
    let repo = Repo::new();
    repo.write("a.py", "a = 1\n");
    repo.git(&["add", "."]).ok();
    passed(repo.commit(&[]));
    let secret = key("sk_live_", 99);
    repo.write("a.py", format!("a = 1\nKEY = '{secret}'\n"));
    repo.git(&["add", "."]).ok();
    let head = repo.head();
    blocked(&repo, head, repo.commit(&["--amend"]), &secret, "a.py:2:8");
}

#[test]
fn merge_commit_resolving_a_conflict() {
    let repo = Repo::new();
    repo.write("conf.ini", "[stripe]\nkey = env\n");
    repo.commit_unchecked("init");
    repo.git(&["checkout", "-q", "-b", "other"]).ok();
    repo.write("conf.ini", "[stripe]\nkey = from-other\n");
    repo.commit_unchecked("other");
    repo.git(&["checkout", "-q", "main"]).ok();
    repo.write("conf.ini", "[stripe]\nkey = from-main\n");
    repo.commit_unchecked("main");
    repo.git(&["merge", "-q", "other"]).code_is(1);
    // Resolved by pasting a key: blocked.
    let secret = key("sk_live_", 99);
    repo.write("conf.ini", format!("[stripe]\nkey = {secret}\n"));
    repo.git(&["add", "conf.ini"]).ok();
    let head = repo.head();
    blocked(
        &repo,
        head.clone(),
        repo.git(&["commit", "-q", "--no-edit"]),
        &secret,
        "conf.ini:2:7",
    );
    // Resolved properly: the merge commit goes through.
    repo.write("conf.ini", "[stripe]\nkey = from-both\n");
    repo.git(&["add", "conf.ini"]).ok();
    passed(repo.git(&["commit", "-q", "--no-edit"]));
    let parents = repo
        .git(&["rev-list", "--parents", "-n1", "HEAD"])
        .ok()
        .stdout();
    assert_eq!(parents.split_whitespace().count(), 3, "not a merge commit");
}

#[test]
fn deleting_a_line_that_holds_a_key_passes() {
    let repo = Repo::new();
    let secret = key("sk_live_", 99);
    repo.write(
        "old.sh",
        format!("#!/bin/sh\nexport STRIPE_SECRET_KEY={secret}\necho hi\n"),
    );
    repo.commit_unchecked("the mistake");
    repo.write("old.sh", "#!/bin/sh\necho hi\n");
    repo.git(&["add", "."]).ok();
    passed(repo.commit(&[]));
}

#[test]
fn editing_elsewhere_in_a_file_with_an_old_key_passes() {
    // Only added lines are checked: a key already committed is history's problem
    // (`keyward history`), not a reason to block every later edit of the file.
    let repo = Repo::new();
    let secret = key("sk_live_", 99);
    repo.write("legacy.py", format!("KEY = '{secret}'\nx = 1\n"));
    repo.commit_unchecked("legacy");
    repo.write("legacy.py", format!("KEY = '{secret}'\nx = 2\n"));
    repo.git(&["add", "."]).ok();
    passed(repo.commit(&[]));
}

#[test]
fn rename_with_edits_checks_only_added_lines() {
    let repo = Repo::new();
    let old_key = key("sk_live_", 99);
    let mut text: Vec<String> = (0..30).map(|i| format!("setting_{i} = {i}")).collect();
    text[5] = format!("legacy = '{old_key}'");
    repo.write("old_name.py", text.join("\n") + "\n");
    repo.commit_unchecked("init");
    repo.git(&["mv", "old_name.py", "new_name.py"]).ok();
    text[20] = "setting_20 = 'changed'".into();
    repo.write("new_name.py", text.join("\n") + "\n");
    repo.git(&["add", "."]).ok();
    let status = repo.git(&["status", "--porcelain"]).ok().stdout();
    assert!(
        status.starts_with("R "),
        "git did not see a rename: {status}"
    );
    passed(repo.commit(&[]));
    // Renamed again, this time adding a key.
    repo.git(&["mv", "new_name.py", "third.py"]).ok();
    let secret = key("rk_live_", 99);
    text[25] = format!("fresh = '{secret}'");
    repo.write("third.py", text.join("\n") + "\n");
    repo.git(&["add", "."]).ok();
    let head = repo.head();
    blocked(&repo, head, repo.commit(&[]), &secret, "third.py:26:10").lacks(&old_key[8..]);
}

#[test]
fn crlf_file() {
    let repo = Repo::new();
    let secret = key("sk_live_", 99);
    repo.write(
        "win.cs",
        format!("var a = 1;\r\nvar k = \"{secret}\";\r\nvar b = 2;\r\n"),
    );
    repo.git(&["add", "."]).ok();
    blocked(&repo, None, repo.commit(&[]), &secret, "win.cs:2:10");
}

#[test]
fn non_utf8_file() {
    let repo = Repo::new();
    let secret = key("sk_live_", 24);
    let mut bytes = b"caf\xe9 = 'latin-1 \xff\xfe'\nkey = ".to_vec();
    bytes.extend_from_slice(secret.as_bytes());
    bytes.extend_from_slice(b" \xe9\n");
    repo.write("latin1.txt", bytes);
    repo.git(&["add", "."]).ok();
    blocked(&repo, None, repo.commit(&[]), &secret, "latin1.txt:2:7");
}

#[test]
fn one_megabyte_minified_line() {
    let repo = Repo::new();
    let secret = key("sk_live_", 99);
    let filler = "var a=function(b){return b+1};".repeat(35_000);
    let mut line = filler.clone();
    line.push_str(&format!("var s=\"{secret}\";"));
    line.push_str(&filler);
    assert!(line.len() > 2_000_000);
    repo.write("dist/app.min.js", &line);
    repo.git(&["add", "."]).ok();
    let column = filler.len() + 8;
    blocked(
        &repo,
        None,
        repo.commit(&[]),
        &secret,
        &format!("dist/app.min.js:1:{column}"),
    );
}

#[test]
fn key_at_end_of_file_without_newline() {
    let repo = Repo::new();
    repo.write("k.txt", "first\n");
    repo.commit_unchecked("init");
    let secret = key("sk_live_", 99);
    repo.write("k.txt", format!("first\n{secret}"));
    repo.git(&["add", "."]).ok();
    let head = repo.head();
    blocked(&repo, head, repo.commit(&[]), &secret, "k.txt:2:1");
}

#[test]
fn binary_file_is_scanned_and_reported_without_garbage() {
    let repo = Repo::new();
    let secret = key("sk_live_", 99);
    let mut blob: Vec<u8> = (0u8..=255).cycle().take(5000).collect();
    blob.extend_from_slice(b"\x00\x1b[2J");
    blob.extend_from_slice(secret.as_bytes());
    blob.extend_from_slice(b"\x00\x07\xff");
    blob.extend((0u8..=255).cycle().take(5000));
    repo.write("build/app.bin", &blob);
    repo.git(&["add", "."]).ok();
    let run = blocked(
        &repo,
        None,
        repo.commit(&[]),
        &secret,
        "build/app.bin (binary file, byte 5005)",
    );
    let stderr = &run.out.stderr;
    assert!(
        std::str::from_utf8(stderr).is_ok(),
        "report is not valid UTF-8"
    );
    assert!(!stderr.contains(&0u8) && !stderr.windows(2).any(|w| w == b"\x1b["));
}

#[test]
fn binary_file_modified_without_a_new_key_passes() {
    let repo = Repo::new();
    let secret = key("sk_live_", 99);
    let mut blob = vec![0u8, 1, 2, 3];
    blob.extend_from_slice(secret.as_bytes());
    repo.write("asset.bin", &blob);
    repo.commit_unchecked("init");
    blob.extend_from_slice(b"\x00more");
    repo.write("asset.bin", &blob);
    repo.git(&["add", "."]).ok();
    passed(repo.commit(&[]));
}

#[test]
fn path_with_spaces_and_quotes() {
    let repo = Repo::new();
    repo.write("docs/it's here.md", "x\n");
    repo.commit_unchecked("init");
    let secret = key("sk_live_", 99);
    repo.write("docs/it's here.md", format!("x\n{secret}\n"));
    repo.git(&["add", "."]).ok();
    let head = repo.head();
    blocked(
        &repo,
        head,
        repo.commit(&[]),
        &secret,
        "docs/it's here.md:2:1",
    )
    .contains(r"git add -p 'docs/it'\''s here.md'");
}

#[test]
fn allow_marker_on_the_line_passes() {
    let repo = Repo::new();
    let secret = key("sk_test_", 24);
    repo.write("fixture.py", format!("KEY = '{secret}'  # keyward:allow\n"));
    repo.git(&["add", "."]).ok();
    repo.commit(&[])
        .ok()
        .contains("1 key let through by an inline allow marker: fixture.py:1")
        .no_leak(&secret);
}

#[test]
fn several_keys_and_rules_in_one_report() {
    let repo = Repo::new();
    let (a, b, c) = (key("sk_live_", 99), key("rk_live_", 24), key("whsec_", 32));
    repo.write("one.ts", format!("const a = '{a}';\nconst b = '{b}';\n"));
    repo.write("two.env", format!("STRIPE_WEBHOOK_SECRET={c}\n"));
    repo.git(&["add", "."]).ok();
    repo.commit(&[])
        .code_is(1)
        .contains("3 secrets")
        .no_leak(&a)
        .no_leak(&b)
        .no_leak(&c)
        .contains("one.ts")
        .contains("two.env")
        .contains("stripe-live-secret-key")
        .contains("stripe-live-restricted-key")
        .contains("stripe-webhook-secret")
        .contains("git add -p one.ts two.env");
}

#[test]
fn staged_by_hand_reports_exit_codes() {
    let repo = Repo::without_hook();
    repo.keyward(&["--staged"]).code_is(0);
    repo.write("a.txt", "nothing\n");
    repo.git(&["add", "."]).ok();
    let run = repo.keyward(&[]).code_is(0);
    assert!(run.all().is_empty(), "clean run printed: {}", run.all());
    let secret = key("sk_live_", 99);
    repo.write("b.txt", &secret);
    repo.git(&["add", "."]).ok();
    repo.keyward(&["--staged"]).code_is(1).no_leak(&secret);
    repo.keyward(&["--no-such-flag"]).code_is(2);
}

#[test]
fn outside_a_repository_fails_closed_with_one_line() {
    let repo = Repo::without_hook();
    let elsewhere = repo.scratch("not-a-repo");
    let run = repo.run_in(
        &elsewhere,
        KEYWARD,
        &["--staged"],
        &[(
            "GIT_CEILING_DIRECTORIES",
            elsewhere.parent().unwrap().to_str().unwrap(),
        )],
    );
    let run = run
        .code_is(2)
        .contains("keyward: error: not inside a git repository");
    assert!(run.stdout().is_empty());
}

#[test]
fn an_unreadable_staged_object_blocks_with_exit_2() {
    let repo = Repo::new();
    let secret = key("sk_live_", 99);
    repo.write("gone.txt", format!("{secret}\n"));
    repo.git(&["add", "."]).ok();
    let id = repo
        .git(&["rev-parse", ":gone.txt"])
        .ok()
        .stdout()
        .trim()
        .to_string();
    let object = repo.path(&format!(".git/objects/{}/{}", &id[..2], &id[2..]));
    std::fs::remove_file(object).unwrap();
    repo.commit(&[])
        .code_is(1)
        .contains("gone.txt: its content is not in this repository")
        .contains("keyward: error: some content could not be checked")
        .no_leak(&secret);
    assert!(repo.head().is_none());
    repo.keyward(&["--staged"]).code_is(2).contains("gone.txt");
}

#[test]
fn missing_binary_behind_the_hook_blocks() {
    let repo = Repo::without_hook();
    let copy = repo.scratch("bin").join("keyward");
    std::fs::copy(KEYWARD, &copy).unwrap();
    repo.run_in(
        &repo.root,
        "sh",
        &[
            &format!("{}/install.sh", crate::util::SRC_DIR),
            "--bin",
            copy.to_str().unwrap(),
        ],
        &[],
    )
    .ok();
    std::fs::remove_file(&copy).unwrap();
    repo.write("a.txt", "a\n");
    repo.git(&["add", "."]).ok();
    // PATH without any keyward: the hook must refuse, not wave the commit through.
    let run = repo.run_in(
        &repo.root,
        "git",
        &["commit", "-q", "-m", "x"],
        &[("PATH", "/usr/local/bin:/usr/bin:/bin")],
    );
    run.code_is(1)
        .contains("keyward: error: the keyward binary is missing");
    assert!(repo.head().is_none());
}

#[test]
fn the_cache_tree_spares_reading_unchanged_directories() {
    let repo = Repo::new();
    repo.write("src/a.rs", "fn a() {}\n");
    repo.write("src/deep/b.rs", "fn b() {}\n");
    repo.write("docs/x.md", "x\n");
    repo.write("lib/y.rs", "y\n");
    repo.commit_unchecked("init");
    let traced = |args: &[&str]| repo.run_in(&repo.root, "git", args, &[("KEYWARD_TRACE", "1")]);
    // A plain commit and `commit -a`: git has written the tree it will commit, so
    // docs/, lib/ and src/a.rs are passed over.
    repo.write("src/deep/b.rs", "fn b() { 1 }\n");
    repo.git(&["add", "."]).ok();
    traced(&["commit", "-q", "-m", "x"])
        .ok()
        .contains("2 of 4 entries skipped by the cache-tree");
    repo.write("src/deep/b.rs", "fn b() { 2 }\n");
    traced(&["commit", "-q", "-am", "x"])
        .ok()
        .contains("2 of 4 entries skipped by the cache-tree");
    let secret = key("sk_live_", 99);
    repo.write("src/deep/b.rs", format!("fn b() {{ \"{secret}\" }}\n"));
    let head = repo.head();
    let run = traced(&["commit", "-q", "-am", "x"]).contains("entries skipped by the cache-tree");
    blocked(&repo, head, run, &secret, "src/deep/b.rs:1:11");
    // By hand after `git add`, the cache-tree is stale only where the change is.
    // (A path, not `.`: files written within the index's own second are racily
    // clean, and `git add .` would then invalidate every directory.)
    repo.git(&["add", "src/deep/b.rs"]).ok();
    repo.run_in(&repo.root, KEYWARD, &[], &[("KEYWARD_TRACE", "1")])
        .code_is(1)
        .contains("2 of 4 entries skipped by the cache-tree");
    // A rename with edits goes to libgit2's similarity detection.
    repo.git(&["reset", "-q", "--hard"]).ok();
    repo.git(&["mv", "src/a.rs", "src/moved.rs"]).ok();
    repo.write("src/moved.rs", "fn a() {}\nfn more() {}\n");
    repo.git(&["add", "."]).ok();
    repo.run_in(&repo.root, KEYWARD, &[], &[("KEYWARD_TRACE", "1")])
        .code_is(0)
        .contains("from a full index diff");
    // A pure move is paired without it, and adds nothing.
    repo.git(&["reset", "-q", "--hard"]).ok();
    repo.git(&["mv", "lib", "lib2"]).ok();
    repo.run_in(&repo.root, KEYWARD, &[], &[("KEYWARD_TRACE", "1")])
        .code_is(0)
        .contains("from the index file");
}

#[test]
fn index_version_4_and_split_index() {
    for setup in [
        &["update-index", "--index-version", "4"][..],
        &["update-index", "--split-index"][..],
    ] {
        let repo = Repo::new();
        repo.write("a/b/c.txt", "c\n");
        repo.write("d.txt", "d\n");
        repo.commit_unchecked("init");
        repo.git(setup).ok();
        repo.write("a/b/c.txt", "c\nmore\n");
        repo.git(&["add", "."]).ok();
        passed(repo.commit(&[]));
        let secret = key("sk_live_", 99);
        repo.write("a/b/c.txt", format!("c\nmore\n{secret}\n"));
        repo.git(&["add", "."]).ok();
        let head = repo.head();
        blocked(&repo, head, repo.commit(&[]), &secret, "a/b/c.txt:3:1");
    }
}

#[test]
fn one_secret_is_one_finding_under_its_specific_rule() {
    let repo = Repo::without_hook();
    let secret = key("sk_live_", 99);
    repo.write(
        "pay.c",
        format!("static const char *stripe_secret_key = \"{secret}\";\n"),
    );
    repo.git(&["add", "."]).ok();
    repo.keyward(&[])
        .code_is(1)
        .contains("1 secret in the staged changes")
        .contains("stripe-live-secret-key")
        .lacks("generic-secret-assignment")
        .no_leak(&secret);
}

/// The advice fits how the commit was staged: `commit -a` and `commit <path>`
/// build a temporary index from the working tree, where unstaging does nothing;
/// several keys are spoken of in the plural.
#[test]
fn the_advice_fits_how_the_commit_was_staged() {
    let repo = Repo::new();
    repo.write("a.py", "x = 1\n");
    repo.commit_unchecked("init");
    let (one, two) = (key("sk_live_", 40), key("rk_live_", 40));
    repo.write("a.py", format!("x = 1\nA = '{one}'\nB = '{two}'\n"));
    repo.commit(&["-a"])
        .code_is(1)
        .contains("run the same git commit again")
        .contains("These keys are staged")
        .lacks("git restore --staged")
        .no_leak(&one)
        .no_leak(&two);
    repo.commit(&["a.py"])
        .code_is(1)
        .contains("run the same git commit again");
}

/// `git commit --amend` replaces HEAD: a key HEAD brought in with --no-verify
/// and the amend keeps is checked again; an amend that takes it out passes.
#[test]
fn an_amend_that_keeps_a_key_is_blocked() {
    let repo = Repo::new();
    repo.write("a.py", "x = 1\n");
    repo.commit_unchecked("init");
    let secret = key("sk_live_", 40);
    repo.write("a.py", format!("x = 1\nKEY = '{secret}'\n"));
    repo.commit_unchecked("a key, with --no-verify");
    repo.write("b.txt", "more\n");
    repo.git(&["add", "b.txt"]).ok();
    repo.git(&["commit", "-q", "--amend", "-m", "amended"])
        .code_is(1)
        .contains("a.py:2:8")
        .no_leak(&secret);
    repo.write("a.py", "x = 1\nKEY = os.environ['KEY']\n");
    repo.git(&["add", "a.py"]).ok();
    repo.git(&["commit", "-q", "--amend", "-m", "amended, key out"])
        .ok();
}

/// With `core.splitIndex`, `git commit <path>` builds a split temporary index
/// that libgit2 cannot read: keyward has git list it, and checks it like any.
#[test]
fn commit_of_paths_with_a_split_index_is_checked() {
    let repo = Repo::new();
    repo.git(&["config", "core.splitIndex", "true"]).ok();
    repo.write("a.txt", "a\n");
    repo.write("b.txt", "b\n");
    repo.commit_unchecked("init");
    repo.write("b.txt", "b\nclean change\n");
    repo.git(&["commit", "-q", "b.txt", "-m", "clean"]).ok();
    let secret = key("sk_live_", 40);
    repo.write("a.txt", format!("a\n{secret}\n"));
    repo.write("b.txt", "b\nclean change\nmore\n");
    repo.git(&["commit", "-q", "a.txt", "-m", "a key"])
        .code_is(1)
        .contains("a.txt:2:1")
        .no_leak(&secret);
}

/// A sparse index holds whole directories as entries: git expands it for
/// keyward, so commits are checked instead of refused.
#[test]
fn a_sparse_index_is_checked_not_refused() {
    let repo = Repo::new();
    repo.write("in/a.txt", "a\n");
    repo.write("out/b.txt", "b\n");
    repo.commit_unchecked("init");
    repo.git(&["sparse-checkout", "init", "--cone", "--sparse-index"])
        .ok();
    repo.git(&["sparse-checkout", "set", "in"]).ok();
    let secret = key("sk_live_", 40);
    repo.write("in/a.txt", format!("{secret}\n"));
    repo.git(&["add", "in/a.txt"]).ok();
    repo.commit(&[])
        .code_is(1)
        .contains("in/a.txt:1:1")
        .no_leak(&secret);
    repo.write("in/a.txt", "fine\n");
    repo.git(&["add", "in/a.txt"]).ok();
    repo.commit(&[]).ok();
}

/// A commit of a Git LFS file holds only its pointer: the object LFS keeps
/// under .git/lfs is what is checked, and a pointer whose object is not here is
/// named as not checked (and blocks, as anything unchecked does).
#[test]
fn git_lfs_content_is_checked_through_its_pointer() {
    use sha2::Digest;
    let repo = Repo::new();
    repo.write("README", "x\n");
    repo.commit_unchecked("init");
    let secret = key("sk_live_", 40);
    let content = format!("STRIPE_KEY={secret}\n");
    let oid: String = sha2::Sha256::digest(content.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let store = repo.path(&format!(".git/lfs/objects/{}/{}", &oid[..2], &oid[2..4]));
    std::fs::create_dir_all(&store).unwrap();
    std::fs::write(store.join(&oid), &content).unwrap();
    let pointer = format!(
        "version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {}\n",
        content.len()
    );
    repo.write("assets/config.env", &pointer);
    repo.git(&["add", "assets/config.env"]).ok();
    repo.commit(&[])
        .code_is(1)
        .contains("assets/config.env:1:12")
        .no_leak(&secret);
    std::fs::remove_file(store.join(&oid)).unwrap();
    repo.commit(&[])
        .code_is(1)
        .contains("Git LFS")
        .contains("not present here");
}

/// A key in an env file: the advice is to keep the file untracked, not to
/// delete the key from it; and under the pre-commit framework, SKIP names the
/// one hook to skip.
#[test]
fn an_env_file_is_taken_out_of_the_commit_not_emptied() {
    let repo = Repo::new();
    let secret = key("sk_live_", 40);
    repo.write("app/.env.production", format!("STRIPE_KEY={secret}\n"));
    repo.git(&["add", "."]).ok();
    repo.commit(&[])
        .code_is(1)
        .contains("git rm --cached app/.env.production")
        .contains(".gitignore")
        .lacks("Delete the key")
        .lacks("STRIPE_SECRET_KEY")
        .no_leak(&secret);
    let run = repo.run_in(
        &repo.root,
        crate::util::KEYWARD,
        &[],
        &[("PRE_COMMIT", "1")],
    );
    run.code_is(1).contains("SKIP=keyward git commit");
}

/// Concluding a conflicted merge: the key came in from the other branch, where
/// it is already committed; the message says so rather than "not committed yet".
#[test]
fn concluding_a_merge_speaks_of_the_other_branch() {
    let repo = Repo::new();
    repo.write("a.txt", "base\n");
    repo.commit_unchecked("init");
    let secret = key("sk_live_", 40);
    repo.git(&["checkout", "-q", "-b", "feature"]).ok();
    repo.write("a.txt", format!("feature {secret}\n"));
    repo.commit_unchecked("a key, with --no-verify");
    repo.git(&["checkout", "-q", "main"]).ok();
    repo.write("a.txt", "main\n");
    repo.commit_unchecked("diverge");
    repo.git(&["merge", "-q", "feature"]); // conflicts
    repo.write("a.txt", format!("feature {secret}\n"));
    repo.git(&["add", "a.txt"]).ok();
    repo.git(&["commit", "-q", "--no-edit"])
        .code_is(1)
        .contains("already in commits on the branch being")
        .lacks("not committed yet")
        .no_leak(&secret);
}
