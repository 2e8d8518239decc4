//! keyward's other modes against real repositories: pre-push (through the
//! installed hook and a local bare remote), history, files on disk, commit-msg.

use crate::util::{key, Repo};

/// A repository with a bare remote `origin` and an initial pushed commit.
fn with_remote(hooks: &[&str]) -> (Repo, std::path::PathBuf) {
    let repo = Repo::without_hook();
    let mut args = Vec::new();
    for h in hooks {
        args.extend(["--hook", *h]);
    }
    repo.install(&args).ok();
    let remote = repo.scratch("remote.git");
    repo.git_in(&remote, &["init", "-q", "--bare"]).ok();
    repo.git(&["remote", "add", "origin", remote.to_str().unwrap()])
        .ok();
    repo.write("README.md", "hello\n");
    repo.commit_unchecked("init");
    repo.git(&["push", "-q", "-u", "origin", "main"]).ok();
    (repo, remote)
}

fn remote_head(repo: &Repo, remote: &std::path::Path, branch: &str) -> Option<String> {
    let r = repo.git_in(
        remote,
        &[
            "rev-parse",
            "-q",
            "--verify",
            &format!("refs/heads/{branch}"),
        ],
    );
    r.out
        .status
        .success()
        .then(|| r.stdout().trim().to_string())
}

#[test]
fn push_of_a_key_added_then_removed_is_blocked() {
    let (repo, remote) = with_remote(&["pre-push"]);
    let before = remote_head(&repo, &remote, "main");
    let secret = key("sk_live_", 99);
    repo.write("a.py", "x = 1\n");
    repo.commit_unchecked("one");
    repo.write("a.py", format!("x = 1\nKEY = '{secret}'\n"));
    repo.commit_unchecked("two: the key, with --no-verify");
    let with_key = repo.head().unwrap();
    repo.write("a.py", "x = 1\nKEY = os.environ['K']\n");
    repo.commit_unchecked("three: key removed");
    let run = repo.git(&["push", "-q", "origin", "main"]);
    run.code_is(1)
        .contains("keyward: push blocked")
        .contains("a.py:2:8")
        .contains(&with_key[..12])
        .contains("git rebase -i")
        .no_leak(&secret);
    assert_eq!(
        remote_head(&repo, &remote, "main"),
        before,
        "the push went through"
    );
}

#[test]
fn clean_push_and_new_branch_and_deletion() {
    let (repo, remote) = with_remote(&["pre-push"]);
    repo.write("b.txt", "fine\n");
    repo.commit_unchecked("clean");
    repo.git(&["push", "-q", "origin", "main"])
        .ok()
        .lacks("keyward");
    assert_eq!(remote_head(&repo, &remote, "main"), repo.head());

    // A new branch: only the commits the remote does not have are checked, and
    // one of them has a key.
    repo.git(&["checkout", "-q", "-b", "feature"]).ok();
    let secret = key("rk_live_", 24);
    repo.write("c.txt", format!("{secret}\n"));
    repo.commit_unchecked("key on a branch");
    repo.git(&["push", "-q", "origin", "feature"])
        .code_is(1)
        .contains("c.txt:1:1")
        .no_leak(&secret);
    assert_eq!(remote_head(&repo, &remote, "feature"), None);

    // A new branch without keys goes through, though main's history (already on
    // the remote) is not rescanned.
    repo.git(&["checkout", "-q", "main"]).ok();
    repo.git(&["checkout", "-q", "-b", "other"]).ok();
    repo.write("d.txt", "ok\n");
    repo.commit_unchecked("ok");
    repo.git(&["push", "-q", "origin", "other"]).ok();
    // Deleting a branch pushes no commits.
    repo.git(&["push", "-q", "origin", "--delete", "other"])
        .ok();
    assert_eq!(remote_head(&repo, &remote, "other"), None);
}

#[test]
fn force_push_checks_the_rewritten_commits() {
    let (repo, remote) = with_remote(&["pre-push"]);
    repo.write("e.txt", "v1\n");
    repo.commit_unchecked("v1");
    repo.git(&["push", "-q", "origin", "main"]).ok();
    let secret = key("sk_live_", 99);
    repo.write("e.txt", format!("v2 {secret}\n"));
    repo.git(&["add", "."]).ok();
    repo.git(&["commit", "-q", "--amend", "--no-verify", "-m", "v2"])
        .ok();
    let before = remote_head(&repo, &remote, "main");
    repo.git(&["push", "-q", "--force", "origin", "main"])
        .code_is(1)
        .contains("e.txt:1:4")
        .no_leak(&secret);
    assert_eq!(remote_head(&repo, &remote, "main"), before);
    // Rewritten without the key: the force push goes through.
    repo.write("e.txt", "v2\n");
    repo.git(&["add", "."]).ok();
    repo.git(&["commit", "-q", "--amend", "--no-verify", "-m", "v2"])
        .ok();
    repo.git(&["push", "-q", "--force", "origin", "main"]).ok();
    assert_eq!(remote_head(&repo, &remote, "main"), repo.head());
}

#[test]
fn history_finds_a_key_three_commits_back() {
    let repo = Repo::without_hook();
    repo.write("app.js", "let a = 1;\n");
    repo.commit_unchecked("one");
    let secret = key("sk_live_", 99);
    repo.write("app.js", format!("let a = 1;\nconst k = '{secret}';\n"));
    repo.commit_unchecked("two");
    let added = repo.head().unwrap();
    repo.write("app.js", "let a = 1;\nconst k = process.env.K;\n");
    repo.commit_unchecked("three");
    repo.write("other.js", "x\n");
    repo.commit_unchecked("four");
    let run = repo.keyward(&["history"]).code_is(1);
    run.contains("app.js:2:12")
        .contains(&format!("added in commit {}", &added[..12]))
        .contains("2026-01-01: only local as far as git knows")
        .contains(&format!("git rebase -i {}^", &added[..12]))
        .no_leak(&secret);
    // A range that excludes the commit finds nothing.
    repo.keyward(&["history", &format!("{added}..HEAD")])
        .code_is(0);
    repo.keyward(&["history", &format!("{added}~1..{added}")])
        .code_is(1);
    repo.keyward(&["history", "no-such-rev"]).code_is(2);
}

#[test]
fn history_does_not_report_a_key_again_for_every_later_edit() {
    let repo = Repo::without_hook();
    let secret = key("sk_live_", 99);
    repo.write("cfg.py", format!("K = '{secret}'\nv = 0\n"));
    repo.commit_unchecked("key");
    for i in 1..4 {
        repo.write("cfg.py", format!("K = '{secret}'\nv = {i}\n"));
        repo.commit_unchecked("edit");
    }
    let json = repo
        .keyward(&["history", "--format", "json"])
        .code_is(1)
        .stdout();
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(doc["findings"].as_array().unwrap().len(), 1, "{json}");
}

#[test]
fn scan_files_respects_gitignore_and_reads_ci_files() {
    let repo = Repo::without_hook();
    let (a, b, c) = (
        key("sk_live_", 99),
        key("sk_live_", 24),
        key("rk_live_", 99),
    );
    repo.write(
        ".github/workflows/ci.yml",
        format!("env:\n  STRIPE_KEY: {a}\n"),
    );
    repo.write(".env.production", format!("STRIPE_SECRET_KEY={b}\n"));
    repo.write("build/out.txt", format!("{c}\n"));
    repo.write(".gitignore", "build/\n");
    let run = repo.keyward(&["scan"]).code_is(1);
    let run = run
        .contains(".github/workflows/ci.yml:2:15")
        .contains(".env.production:1:19")
        .contains("${{ secrets.STRIPE_SECRET_KEY }}")
        .lacks("build/out.txt")
        .no_leak(&a)
        .no_leak(&b);
    drop(run);
    repo.keyward(&["scan", "--no-ignore"])
        .code_is(1)
        .contains("build/out.txt");
    repo.keyward(&["scan", "build/out.txt"])
        .code_is(1)
        .no_leak(&c);
    repo.keyward(&["scan", "no/such/path"]).code_is(2);
}

#[test]
fn scan_does_not_follow_symlinks_out_of_the_tree() {
    let repo = Repo::without_hook();
    let outside = repo.scratch("outside");
    let secret = key("sk_live_", 99);
    std::fs::write(outside.join("secret.txt"), format!("{secret}\n")).unwrap();
    std::os::unix::fs::symlink(&outside, repo.path("link")).unwrap();
    std::os::unix::fs::symlink(outside.join("secret.txt"), repo.path("file-link")).unwrap();
    repo.write("ok.txt", "fine\n");
    repo.keyward(&["scan"]).code_is(0);
}

#[test]
fn commit_msg_hook_blocks_a_key_in_the_message() {
    let repo = Repo::without_hook();
    repo.install(&["--hook", "commit-msg", "--hook", "pre-commit"])
        .ok();
    repo.write("a.txt", "a\n");
    repo.git(&["add", "."]).ok();
    let secret = key("sk_live_", 99);
    let run = repo.git(&[
        "commit",
        "-q",
        "-m",
        &format!("fix billing\n\nused {secret} to test"),
    ]);
    run.code_is(1)
        .contains("keyward: commit blocked: 1 secret in the commit message")
        .contains("commit message:3:6")
        .no_leak(&secret);
    assert!(repo.head().is_none());
    repo.git(&["commit", "-q", "-m", "fix billing"]).ok();
    // Only `commit -v`'s diff below the scissors is not the message.
    let msg = repo.scratch("m").join("msg");
    std::fs::write(
        &msg,
        format!("subject\n# ------------------------ >8 ------------------------\n# Do not modify or remove the line above.\ndiff --git a/x b/x\n+{secret}\n"),
    )
    .unwrap();
    repo.keyward(&["commit-msg", msg.to_str().unwrap()])
        .code_is(0);
    // A comment line may be recorded (`commit -m` keeps `#` lines; so does
    // --cleanup=verbatim), and so may text after a scissors line with no diff.
    for text in [
        format!("subject\n# {secret}\n"),
        format!("subject\n# ------------------------ >8 ------------------------\n{secret}\n"),
    ] {
        std::fs::write(&msg, text).unwrap();
        repo.keyward(&["commit-msg", msg.to_str().unwrap()])
            .code_is(1)
            .no_leak(&secret);
    }
    // Through git: `commit -m` with a '#' line keeps it in the commit.
    repo.write("b.txt", "b\n");
    repo.git(&["add", "."]).ok();
    repo.git(&["commit", "-q", "-m", &format!("subject\n\n# {secret}")])
        .code_is(1)
        .no_leak(&secret);
}

/// `keyward history --format json`, expected to block, parsed.
fn history_json(repo: &Repo) -> serde_json::Value {
    let out = repo
        .keyward(&["history", "--format", "json"])
        .code_is(1)
        .stdout();
    serde_json::from_str(&out).expect("JSON report")
}

#[test]
fn history_attributes_keys_in_merges_to_the_commit_that_added_them() {
    let repo = Repo::without_hook();
    repo.write("base.txt", "base\n");
    repo.commit_unchecked("base");
    repo.git(&["checkout", "-q", "-b", "branch"]).ok();
    let on_branch = key("sk_live_", 99);
    repo.write("branch.txt", format!("{on_branch}\n"));
    repo.commit_unchecked("branch adds a key");
    let branch_commit = repo.head().unwrap();
    repo.git(&["checkout", "-q", "main"]).ok();
    repo.write("main.txt", "main\n");
    repo.commit_unchecked("main moves on");
    repo.git(&["merge", "-q", "--no-ff", "--no-edit", "branch"])
        .ok();
    let doc = history_json(&repo);
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{doc:#}");
    assert_eq!(findings[0]["commit"]["id"], branch_commit.as_str());

    // An "evil" merge that adds a key of its own is reported at the merge.
    repo.git(&["checkout", "-q", "-b", "b2", "HEAD~1"]).ok();
    repo.write("b2.txt", "b2\n");
    repo.commit_unchecked("b2");
    repo.git(&["checkout", "-q", "main"]).ok();
    repo.git(&["merge", "-q", "--no-ff", "--no-commit", "b2"])
        .ok();
    let evil = key("rk_live_", 99);
    repo.write("main.txt", format!("main\n{evil}\n"));
    repo.git(&["add", "."]).ok();
    repo.git(&["commit", "-q", "--no-verify", "--no-edit"]).ok();
    let merge = repo.head().unwrap();
    let doc = history_json(&repo);
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 2, "{doc:#}");
    assert!(findings
        .iter()
        .any(|f| f["commit"]["id"] == merge.as_str() && f["path"] == "main.txt"));
}

#[test]
fn pre_push_under_the_pre_commit_framework_reads_the_range_from_the_environment() {
    let (repo, _remote) = with_remote(&[]);
    let pushed = repo.head().unwrap();
    let secret = key("sk_live_", 99);
    repo.write("k.txt", format!("{secret}\n"));
    repo.commit_unchecked("key");
    repo.write("k.txt", "gone\n");
    repo.commit_unchecked("gone");
    let tip = repo.head().unwrap();
    let run = repo.run_in(
        &repo.root,
        crate::util::KEYWARD,
        &["pre-push", "origin"],
        &[
            ("PRE_COMMIT_FROM_REF", &pushed),
            ("PRE_COMMIT_TO_REF", &tip),
            ("PRE_COMMIT_REMOTE_NAME", "origin"),
        ],
    );
    run.code_is(1).contains("k.txt:1:1").no_leak(&secret);
    repo.run_in(
        &repo.root,
        crate::util::KEYWARD,
        &["pre-push", "origin"],
        &[("PRE_COMMIT_FROM_REF", &tip), ("PRE_COMMIT_TO_REF", &tip)],
    )
    .code_is(0);
}
