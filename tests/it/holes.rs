//! No silent holes: every way a key can enter history or leave the machine is
//! checked, through real git with the hooks install.sh installs by default and a
//! local bare remote.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::util::{key, Repo, KEYWARD};

const HOOKS: [&str; 5] = [
    "pre-commit",
    "pre-merge-commit",
    "pre-applypatch",
    "pre-push",
    "commit-msg",
];

/// A repository with every hook installed by default, and a bare `origin`.
fn protected() -> (Repo, std::path::PathBuf) {
    let repo = Repo::without_hook();
    let run = repo.install(&[]).ok();
    for hook in HOOKS {
        run.contains_ref(&format!("keyward {hook} hook installed"));
    }
    let remote = repo.scratch("origin.git");
    repo.git_in(&remote, &["init", "-q", "--bare"]).ok();
    repo.git(&["remote", "add", "origin", remote.to_str().unwrap()])
        .ok();
    repo.write("README.md", "hello\n");
    repo.commit_unchecked("init");
    repo.git(&["push", "-q", "-u", "origin", "main"]).ok();
    (repo, remote)
}

#[test]
fn install_covers_every_hook_and_uninstall_removes_them_all() {
    let (repo, _) = protected();
    for hook in HOOKS {
        let text = std::fs::read_to_string(repo.path(&format!(".git/hooks/{hook}"))).unwrap();
        assert!(text.contains("# keyward-hook"), "{hook} not installed");
    }
    let run = repo.install(&["--uninstall"]).ok();
    for hook in HOOKS {
        run.contains_ref(&format!("removed keyward's {hook} hook"));
        assert!(!repo.path(&format!(".git/hooks/{hook}")).exists());
    }
}

#[test]
fn a_clean_merge_of_local_commits_is_blocked_and_upstream_work_only_warns() {
    let (repo, _) = protected();
    let secret = key("sk_live_", 99);
    repo.git(&["checkout", "-q", "-b", "feature"]).ok();
    repo.write("feature.py", format!("KEY = '{secret}'\n"));
    repo.commit_unchecked("a key, with --no-verify");
    repo.git(&["checkout", "-q", "main"]).ok();
    repo.write("other.txt", "diverge\n");
    repo.commit_unchecked("diverge so the merge is a real one");
    repo.git(&["merge", "-q", "--no-edit", "feature"])
        .code_is(1)
        .contains("keyward: merge blocked")
        .contains("feature.py:1:8")
        .no_leak(&secret);
    // The same commits once they are on a remote-tracking ref: someone's published
    // work. Merging it is not blocked; the key is named as exposed.
    repo.git(&["merge", "--abort"]).ok();
    repo.git(&["push", "-q", "origin", "feature", "--no-verify"])
        .ok();
    repo.git(&["fetch", "-q", "origin"]).ok();
    repo.git(&["merge", "-q", "--no-edit", "feature"])
        .code_is(0)
        .contains("already on origin")
        .no_leak(&secret);
}

#[test]
fn an_untracked_config_does_not_decide_a_merge() {
    // As for a commit, the settings the merge result holds decide: a
    // `.keyward.toml` beside it, never added, lets nothing through.
    let (repo, _) = protected();
    let secret = key("sk_live_", 99);
    repo.git(&["checkout", "-q", "-b", "feature"]).ok();
    repo.write("feature.py", format!("KEY = '{secret}'\n"));
    repo.commit_unchecked("a key, with --no-verify");
    repo.git(&["checkout", "-q", "main"]).ok();
    repo.write("other.txt", "diverge\n");
    repo.commit_unchecked("diverge so the merge is a real one");
    repo.write(".keyward.toml", "[allowlist]\npaths = [\"**\"]\n");
    repo.git(&["merge", "-q", "--no-edit", "feature"])
        .code_is(1)
        .contains("keyward: merge blocked")
        .contains(".keyward.toml is not in the commit (untracked), so it is ignored")
        .no_leak(&secret);
}

#[test]
fn git_am_runs_the_check_before_the_patch_is_committed() {
    let (repo, _) = protected();
    let secret = key("rk_live_", 40);
    repo.git(&["checkout", "-q", "-b", "patch"]).ok();
    repo.write("conf.env", format!("KEY={secret}\n"));
    repo.commit_unchecked("a key");
    let patch = repo.scratch("patches");
    repo.git(&["format-patch", "-q", "-1", "-o", patch.to_str().unwrap()])
        .ok();
    repo.git(&["checkout", "-q", "main"]).ok();
    let file = std::fs::read_dir(&patch)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    repo.git(&["am", "-q", file.to_str().unwrap()])
        .code_is(1)
        .contains("conf.env:1:5")
        .no_leak(&secret);
}

#[test]
fn a_push_publishes_messages_and_tags_and_they_are_checked() {
    let (repo, remote) = protected();
    let secret = key("sk_live_", 99);
    repo.write("a.txt", "a\n");
    repo.git(&["add", "."]).ok();
    repo.git(&[
        "commit",
        "-q",
        "--no-verify",
        "-m",
        &format!("debug\n\nused {secret}"),
    ])
    .ok();
    repo.git(&["push", "-q", "origin", "main"])
        .code_is(1)
        .contains("(commit message):3:6")
        .no_leak(&secret);
    repo.git(&["reset", "-q", "--hard", "HEAD~1"]).ok();
    let tag_secret = key("rk_live_", 40);
    repo.git(&["tag", "-a", "v1", "-m", &format!("release\n{tag_secret}")])
        .ok();
    repo.git(&["push", "-q", "origin", "v1"])
        .code_is(1)
        .contains("(tag v1 message):2:1")
        .no_leak(&tag_secret);
    let tags = repo.git_in(&remote, &["tag"]).stdout();
    assert!(tags.trim().is_empty(), "the tag reached the remote: {tags}");
}

/// Commits fetched from one remote are new to another: pushing them to a URL
/// that matches no remote publishes them, and the key in them is named as
/// already exposed on the first, with no advice to rewrite published commits.
#[test]
fn commits_on_another_remote_are_still_new_to_this_destination() {
    let (repo, _) = protected();
    let secret = key("sk_live_", 99);
    repo.write("pay.py", format!("KEY = '{secret}'\n"));
    repo.commit_unchecked("a key, with --no-verify");
    repo.git(&["push", "-q", "--no-verify", "origin", "main"])
        .ok();
    let public = repo.scratch("public.git");
    repo.git_in(&public, &["init", "-q", "--bare"]).ok();
    repo.git(&["push", "-q", public.to_str().unwrap(), "main"])
        .code_is(1)
        .contains("pay.py:1:8")
        .contains("pushed to origin: exposed")
        .contains("already published (origin)")
        .contains("keyward baseline --history")
        .lacks("git rebase -i")
        .no_leak(&secret);
}

/// The pre-commit framework's all-files push mode (a new branch holding its root
/// commit): no range in the environment, only the branch and remote names.
#[test]
fn the_frameworks_push_without_a_range_is_worked_out_or_refused() {
    let repo = Repo::without_hook();
    let secret = key("sk_live_", 99);
    repo.write("pay.py", format!("KEY = '{secret}'\n"));
    repo.commit_unchecked("root commit with a key");
    let run = |branch: &str| {
        let mut child = Command::new(KEYWARD)
            .arg("pre-push")
            .current_dir(&repo.root)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("PRE_COMMIT_REMOTE_NAME", "origin")
            .env("PRE_COMMIT_REMOTE_URL", "/nowhere.git")
            .env("PRE_COMMIT_LOCAL_BRANCH", branch)
            .env("PRE_COMMIT_REMOTE_BRANCH", "refs/heads/main")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(b"").unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stderr) = run("refs/heads/main");
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("pay.py:1:8"), "{stderr}");
    assert!(!stderr.contains(&secret[8..]));
    let (code, stderr) = run("refs/heads/no-such-branch");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("cannot check"), "{stderr}");
}
