//! keyward as a hook source for the real pre-commit framework, installed from PyPI
//! into a virtualenv under target/ the first time this test runs.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{key, Repo, SRC_DIR};

/// The files a hook repository needs, copied from the source tree as it is now (so
/// uncommitted work is what gets tested), committed into a fresh repository.
fn hook_source(repo: &Repo) -> (PathBuf, String) {
    let dir = repo.scratch("keyward-src");
    for entry in [
        "Cargo.toml",
        "Cargo.lock",
        ".pre-commit-hooks.yaml",
        "install.sh",
    ] {
        std::fs::copy(Path::new(SRC_DIR).join(entry), dir.join(entry)).unwrap();
    }
    for sub in ["src", "hooks"] {
        copy_tree(&Path::new(SRC_DIR).join(sub), &dir.join(sub));
    }
    repo.git_in(&dir, &["init", "-q"]).ok();
    repo.git_in(&dir, &["add", "-A"]).ok();
    repo.git_in(&dir, &["commit", "-q", "--no-verify", "-m", "keyward"])
        .ok();
    let rev = repo
        .git_in(&dir, &["rev-parse", "HEAD"])
        .ok()
        .stdout()
        .trim()
        .to_string();
    (dir, rev)
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The pre-commit executable, installed once into target/tmp. Both framework tests
/// ask for it at once; without the lock, two `python3 -m venv` runs race on the same
/// directory and one fails with "File exists" (seen in CI).
fn pre_commit() -> PathBuf {
    static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _installing = INSTALL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let tools = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pre-commit-venv");
    let exe = tools.join("bin/pre-commit");
    if !exe.exists() {
        // --clear: a run stopped half-way leaves a venv without pre-commit in it.
        let status = Command::new("python3")
            .args(["-m", "venv", "--clear"])
            .arg(&tools)
            .status()
            .expect("python3 is needed to install the pre-commit framework");
        assert!(status.success(), "python3 -m venv failed");
        let status = Command::new(tools.join("bin/pip"))
            .args(["install", "--quiet", "pre-commit>=3.2"])
            .status()
            .expect("pip");
        assert!(status.success(), "pip install pre-commit failed");
    }
    exe
}

// Installs the pre-commit framework from PyPI: needs the network, so it runs with
// `cargo test -- --ignored` (CI does), not in the default offline run.
#[test]
#[ignore = "needs the network (installs pre-commit from PyPI)"]
fn pre_commit_framework_runs_keyward_from_a_hook_repository() {
    let pre_commit = pre_commit();
    let repo = Repo::without_hook();
    let (source, rev) = hook_source(&repo);
    repo.write(
        ".pre-commit-config.yaml",
        format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: keyward\n",
            source.display()
        ),
    );
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pre-commit-build");
    let home = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pre-commit-home");
    let env = [
        ("PRE_COMMIT_HOME", home.to_str().unwrap()),
        // Reuse one build directory across runs: the framework runs `cargo install`.
        ("CARGO_TARGET_DIR", target.to_str().unwrap()),
    ];
    repo.run_in(&repo.root, pre_commit.to_str().unwrap(), &["install"], &env)
        .ok();
    repo.git(&["add", ".pre-commit-config.yaml"]).ok();
    repo.run_in(&repo.root, "git", &["commit", "-q", "-m", "config"], &env)
        .ok();

    let secret = key("sk_live_", 99);
    repo.write(
        "pay.py",
        format!("import stripe\nstripe.api_key = '{secret}'\n"),
    );
    repo.git(&["add", "pay.py"]).ok();
    let before = repo.head();
    repo.run_in(&repo.root, "git", &["commit", "-q", "-m", "pay"], &env)
        .code_is(1)
        .contains("keyward (secret API keys)")
        .contains("pay.py:2:19")
        .contains("stripe-live-secret-key")
        .no_leak(&secret);
    assert_eq!(repo.head(), before);

    repo.write(
        "pay.py",
        "import os, stripe\nstripe.api_key = os.environ['STRIPE_SECRET_KEY']\n",
    );
    repo.git(&["add", "pay.py"]).ok();
    repo.run_in(&repo.root, "git", &["commit", "-q", "-m", "pay"], &env)
        .ok();
    assert_ne!(repo.head(), before);
}

/// `keyward-system`: the framework runs the keyward on PATH instead of building
/// one, and without keyward on PATH the commit is refused, never let through.
#[test]
#[ignore = "needs the network (installs pre-commit from PyPI)"]
fn pre_commit_framework_system_hook_uses_keyward_from_path() {
    let pre_commit = pre_commit();
    let repo = Repo::without_hook();
    let (source, rev) = hook_source(&repo);
    repo.write(
        ".pre-commit-config.yaml",
        format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: keyward-system\n",
            source.display()
        ),
    );
    let home = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pre-commit-home");
    let keyward_dir = Path::new(crate::util::KEYWARD).parent().unwrap();
    let with = format!("{}:/usr/local/bin:/usr/bin:/bin", keyward_dir.display());
    let env = [
        ("PRE_COMMIT_HOME", home.to_str().unwrap()),
        ("PATH", with.as_str()),
    ];
    repo.run_in(&repo.root, pre_commit.to_str().unwrap(), &["install"], &env)
        .ok();
    repo.git(&["add", ".pre-commit-config.yaml"]).ok();
    repo.run_in(&repo.root, "git", &["commit", "-q", "-m", "config"], &env)
        .ok();

    let secret = key("sk_live_", 99);
    repo.write("pay.py", format!("stripe.api_key = '{secret}'\n"));
    repo.git(&["add", "pay.py"]).ok();
    let before = repo.head();
    repo.run_in(&repo.root, "git", &["commit", "-q", "-m", "pay"], &env)
        .code_is(1)
        .contains("keyward (secret API keys)")
        .contains("stripe-live-secret-key")
        .no_leak(&secret);
    assert_eq!(repo.head(), before);

    // No keyward on PATH: refused, whatever is staged.
    repo.write("pay.py", "clean\n");
    repo.git(&["add", "pay.py"]).ok();
    let without = [
        ("PRE_COMMIT_HOME", home.to_str().unwrap()),
        ("PATH", "/usr/local/bin:/usr/bin:/bin"),
    ];
    repo.run_in(&repo.root, "git", &["commit", "-q", "-m", "pay"], &without)
        .code_is(1)
        .contains("Executable `keyward` not found");
    assert_eq!(repo.head(), before);
}
