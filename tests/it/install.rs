//! install.sh: where the hook goes, what it keeps, and how it comes out again.

use crate::util::{key, Repo};

fn hook_text(repo: &Repo, rel: &str) -> String {
    String::from_utf8(repo.read(rel)).unwrap()
}

#[test]
fn install_is_idempotent() {
    let repo = Repo::new();
    let first = hook_text(&repo, ".git/hooks/pre-commit");
    repo.install(&[]).ok();
    assert_eq!(hook_text(&repo, ".git/hooks/pre-commit"), first);
    assert!(!repo.path(".git/hooks/pre-commit.keyward-chained").exists());
}

#[test]
fn an_existing_hook_is_chained_and_restored_on_uninstall() {
    let repo = Repo::without_hook();
    let marker = repo.scratch("m").join("ran");
    let original = format!("#!/bin/sh\necho ran >> '{}'\nexit 0\n", marker.display());
    repo.write(".git/hooks/pre-commit", &original);
    std::process::Command::new("chmod")
        .args(["+x", repo.path(".git/hooks/pre-commit").to_str().unwrap()])
        .status()
        .unwrap();
    repo.install(&[])
        .ok()
        .contains("kept the existing pre-commit hook");
    repo.install(&[]).ok();
    assert_eq!(
        hook_text(&repo, ".git/hooks/pre-commit.keyward-chained"),
        original
    );

    // Both run: the old hook, then keyward, which blocks.
    let secret = key("sk_live_", 99);
    repo.write("a.txt", format!("{secret}\n"));
    repo.git(&["add", "."]).ok();
    repo.commit(&[])
        .code_is(1)
        .contains("keyward: commit blocked")
        .no_leak(&secret);
    assert_eq!(std::fs::read_to_string(&marker).unwrap(), "ran\n");

    // A failing old hook still blocks, before keyward runs.
    let failing = "#!/bin/sh\necho old hook says no >&2\nexit 3\n";
    repo.write(".git/hooks/pre-commit.keyward-chained", failing);
    repo.write("a.txt", "clean\n");
    repo.git(&["add", "."]).ok();
    repo.commit(&[])
        .code_is(1)
        .contains("old hook says no")
        .lacks("keyward");

    repo.write(".git/hooks/pre-commit.keyward-chained", &original);
    repo.install(&["--uninstall"]).ok();
    assert_eq!(hook_text(&repo, ".git/hooks/pre-commit"), original);
    assert!(!repo.path(".git/hooks/pre-commit.keyward-chained").exists());
    repo.install(&["--uninstall"])
        .ok()
        .contains("no keyward hook is installed");
    assert_eq!(hook_text(&repo, ".git/hooks/pre-commit"), original);
}

#[test]
fn uninstall_without_a_previous_hook_removes_it() {
    let repo = Repo::new();
    repo.install(&["--uninstall"]).ok();
    assert!(!repo.path(".git/hooks/pre-commit").exists());
    let secret = key("sk_live_", 99);
    repo.write("a.txt", format!("{secret}\n"));
    repo.git(&["add", "."]).ok();
    repo.commit(&[]).ok();
}

#[test]
fn core_hooks_path_is_honoured() {
    let repo = Repo::without_hook();
    repo.git(&["config", "core.hooksPath", "githooks"]).ok();
    repo.install(&[]).ok().contains("githooks");
    assert!(repo.path("githooks/pre-commit").exists());
    assert!(!repo.path(".git/hooks/pre-commit").exists());
    let secret = key("rk_live_", 99);
    repo.write("a.txt", format!("{secret}\n"));
    repo.git(&["add", "a.txt"]).ok();
    repo.commit(&[]).code_is(1).no_leak(&secret);
}

#[test]
fn install_outside_a_repository_fails() {
    let repo = Repo::without_hook();
    let elsewhere = repo.scratch("plain");
    let script = format!("{}/install.sh", crate::util::SRC_DIR);
    repo.run_in(
        &elsewhere,
        "sh",
        &[&script, "--bin", crate::util::KEYWARD],
        &[(
            "GIT_CEILING_DIRECTORIES",
            elsewhere.parent().unwrap().to_str().unwrap(),
        )],
    )
    .code_is(2)
    .contains("run this inside the git repository");
}
