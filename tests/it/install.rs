//! install.sh: where the hook goes, what it keeps, and how it comes out again.

use std::path::Path;

use crate::util::{key, Repo, Run, KEYWARD, SRC_DIR};

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
    // An ignored hooks directory is this machine's alone: keyward's own hook,
    // with the binary's path, as in .git/hooks.
    repo.write(".gitignore", "githooks/\n");
    repo.install(&[]).ok().contains("githooks");
    assert!(hook_text(&repo, "githooks/pre-commit").contains("# keyward-hook"));
    assert!(!repo.path(".git/hooks/pre-commit").exists());
    let secret = key("rk_live_", 99);
    repo.write("a.txt", format!("{secret}\n"));
    repo.git(&["add", "a.txt"]).ok();
    repo.commit(&[])
        .code_is(1)
        .contains("keyward: commit blocked")
        .no_leak(&secret);
}

/// PATH with keyward's directory on it, or without it: a teammate who never
/// installed keyward.
fn path_with_keyward() -> String {
    let dir = Path::new(KEYWARD).parent().unwrap().to_str().unwrap();
    format!("{dir}:{BASE_PATH}")
}
const BASE_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

fn install_with(repo: &Repo, args: &[&str], env: &[(&str, &str)]) -> Run {
    let script = format!("{SRC_DIR}/install.sh");
    let mut full = vec![script.as_str(), "--bin", KEYWARD];
    full.extend_from_slice(args);
    repo.run_in(&repo.root, "sh", &full, env)
}

/// No file under `dir` names this machine's binary or the directory it is in.
#[track_caller]
fn holds_no_machine_path(dir: &Path) {
    let bin_dir = Path::new(KEYWARD).parent().unwrap().to_str().unwrap();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(
                !text.contains(bin_dir),
                "{} holds this machine's path to keyward:\n{text}",
                path.display()
            );
        }
    }
}

#[test]
fn install_says_what_went_where_and_how_to_put_keyward_on_path() {
    let repo = Repo::without_hook();
    let root = repo.root.canonicalize().unwrap();
    let home = repo.home().to_str().unwrap().to_string();
    let bin_dir = Path::new(KEYWARD).parent().unwrap().to_str().unwrap();
    let run = install_with(&repo, &[], &[("PATH", BASE_PATH), ("SHELL", "/bin/bash")]).ok();
    let out = run.stdout();
    assert!(out.contains(&format!("binary: {KEYWARD}")), "{out}");
    // .git/hooks is this machine's: keyward's own script, nothing to commit.
    assert!(!out.contains("about to be committed"), "{out}");
    assert!(hook_text(&repo, ".git/hooks/pre-commit").contains("# keyward-hook"));
    for hook in [
        "pre-commit",
        "pre-merge-commit",
        "pre-applypatch",
        "pre-push",
        "commit-msg",
    ] {
        let path = root.join(".git/hooks").join(hook);
        assert!(
            out.contains(&format!(
                "keyward {hook} hook installed: {}",
                path.display()
            )),
            "{out}"
        );
    }
    let completion = format!("{home}/.local/share/bash-completion/completions/keyward");
    assert!(
        out.contains(&format!("bash completions: {completion}")),
        "{out}"
    );
    repo.run_in(&repo.root, "bash", &["-n", &completion], &[])
        .ok();
    if std::process::Command::new("sh")
        .args(["-c", "command -v man"])
        .output()
        .is_ok_and(|o| o.status.success())
    {
        let page = format!("{home}/.local/share/man/man1/keyward.1");
        assert!(out.contains(&format!("man page: {page}")), "{out}");
        assert!(std::fs::read_to_string(&page)
            .unwrap()
            .contains(".TH keyward 1"));
    }
    assert!(
        out.contains(&format!("{bin_dir} is not on your PATH")),
        "{out}"
    );
    assert!(out.contains("Add this line to ~/.bashrc"), "{out}");
    assert!(
        out.contains(&format!("    export PATH=\"{bin_dir}:$PATH\"\n")),
        "{out}"
    );

    // The profile follows the shell.
    let zsh = install_with(
        &repo,
        &[],
        &[("PATH", BASE_PATH), ("SHELL", "/usr/bin/zsh")],
    )
    .ok();
    zsh.contains("Add this line to ~/.zshrc");
    let fish = install_with(
        &repo,
        &[],
        &[("PATH", BASE_PATH), ("SHELL", "/usr/bin/fish")],
    )
    .ok();
    fish.contains(&format!("    fish_add_path {bin_dir}\n"));
    let other = install_with(&repo, &[], &[("PATH", BASE_PATH), ("SHELL", "/bin/dash")]).ok();
    other.contains("Add this line to ~/.profile");

    // On PATH: nothing to add.
    install_with(
        &repo,
        &[],
        &[("PATH", &path_with_keyward()), ("SHELL", "/bin/bash")],
    )
    .ok()
    .contains("keyward is installed:")
    .lacks("not on your PATH");
}

#[test]
fn a_directory_under_home_is_shown_as_home_in_the_path_line() {
    let repo = Repo::without_hook();
    let bin_dir = repo.home().join(".local/bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    std::os::unix::fs::symlink(KEYWARD, bin_dir.join("keyward")).unwrap();
    let script = format!("{SRC_DIR}/install.sh");
    repo.run_in(
        &repo.root,
        "sh",
        &[&script, "--bin", bin_dir.join("keyward").to_str().unwrap()],
        &[("PATH", BASE_PATH), ("SHELL", "/bin/bash")],
    )
    .ok()
    .contains("    export PATH=\"$HOME/.local/bin:$PATH\"\n");
}

/// The layout husky v9 generates: core.hooksPath = .husky/_, ignored, whose
/// scripts run the user's .husky/<hook> with `sh -e` (husky's `h`, as its
/// documentation describes it; written here, not copied).
fn husky_repo() -> Repo {
    let repo = Repo::without_hook();
    repo.write(".husky/_/.gitignore", "*\n");
    repo.write(
        ".husky/_/h",
        "#!/usr/bin/env sh\nn=$(basename \"$0\")\ns=$(dirname \"$(dirname \"$0\")\")/$n\n[ ! -f \"$s\" ] && exit 0\nsh -e \"$s\" \"$@\"\nc=$?\n[ $c != 0 ] && echo \"husky - $n script failed (code $c)\"\nexit $c\n",
    );
    for hook in [
        "pre-commit",
        "pre-merge-commit",
        "pre-applypatch",
        "pre-push",
        "commit-msg",
    ] {
        let rel = format!(".husky/_/{hook}");
        repo.write(&rel, "#!/usr/bin/env sh\n. \"$(dirname \"$0\")/h\"\n");
        std::fs::set_permissions(
            repo.path(&rel),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
    }
    repo.git(&["config", "core.hooksPath", ".husky/_"]).ok();
    repo
}

#[test]
fn husky_gets_keyward_in_its_editable_script_calling_it_from_path() {
    let repo = husky_repo();
    let marker = repo.scratch("m").join("lint-ran");
    let user = format!("echo lint >> '{}'\n", marker.display());
    repo.write(".husky/pre-commit", &user);
    let generated = hook_text(&repo, ".husky/_/pre-commit");

    let run = install_with(&repo, &[], &[("PATH", BASE_PATH)]).ok();
    run.contains_ref("about to be committed");
    run.contains_ref(
        "git add .husky/pre-commit .husky/pre-merge-commit .husky/pre-applypatch .husky/pre-push .husky/commit-msg",
    );
    // The user's script keeps its command, keyward comes after it; husky's
    // generated directory is untouched, and nothing names this machine's binary.
    let text = hook_text(&repo, ".husky/pre-commit");
    assert!(text.starts_with(&user), "{text}");
    assert!(text.contains("keyward --staged"), "{text}");
    assert_eq!(hook_text(&repo, ".husky/_/pre-commit"), generated);
    assert!(!repo.path(".husky/_/pre-commit.keyward-chained").exists());
    holds_no_machine_path(&repo.path(".husky"));
    holds_no_machine_path(&repo.path(".husky/_"));
    // Running it again changes nothing.
    install_with(&repo, &[], &[("PATH", BASE_PATH)]).ok();
    assert_eq!(hook_text(&repo, ".husky/pre-commit"), text);

    // With keyward on PATH: the user's command runs, then keyward blocks.
    let secret = key("sk_live_", 40);
    repo.write("a.txt", format!("{secret}\n"));
    repo.git(&["add", "a.txt"]).ok();
    repo.run_in(
        &repo.root,
        "git",
        &["commit", "-q", "-m", "x"],
        &[("PATH", &path_with_keyward())],
    )
    .code_is(1)
    .contains("keyward: commit blocked")
    .no_leak(&secret);
    assert_eq!(std::fs::read_to_string(&marker).unwrap(), "lint\n");

    // A teammate without keyward: the hook exits 2 with the line saying how to
    // install it, and the commit is refused.
    repo.run_in(&repo.root, ".husky/_/pre-commit", &[], &[("PATH", BASE_PATH)])
        .code_is(2)
        .contains("keyward: error: keyward is not installed (not on PATH), so this pre-commit check cannot run and is blocked; install it from a keyward checkout with ./install.sh");
    repo.run_in(
        &repo.root,
        "git",
        &["commit", "-q", "-m", "x"],
        &[("PATH", BASE_PATH)],
    )
    .code_is(1)
    .contains("keyward is not installed");
    assert!(repo.head().is_none());

    // The other hooks reach keyward with git's arguments.
    let message = repo.scratch("msg").join("COMMIT_EDITMSG");
    std::fs::write(&message, format!("used {secret}\n")).unwrap();
    repo.run_in(
        &repo.root,
        ".husky/_/commit-msg",
        &[message.to_str().unwrap()],
        &[("PATH", &path_with_keyward())],
    )
    .code_is(1)
    .contains("commit message")
    .no_leak(&secret);

    // Uninstall: the user's script is as it was; the ones keyward made are gone.
    install_with(&repo, &["--uninstall"], &[("PATH", BASE_PATH)])
        .ok()
        .contains("commit the change");
    assert_eq!(hook_text(&repo, ".husky/pre-commit"), user);
    assert!(!repo.path(".husky/pre-push").exists());
}

#[test]
fn a_tracked_hooks_directory_calls_keyward_from_path() {
    let repo = Repo::without_hook();
    repo.git(&["config", "core.hooksPath", "githooks"]).ok();
    repo.install(&["--hook", "pre-commit"])
        .ok()
        .contains("git add githooks/pre-commit");
    let text = hook_text(&repo, "githooks/pre-commit");
    assert!(text.starts_with("#!/bin/sh\n"), "{text}");
    assert!(!text.contains("# keyward-hook"), "{text}");
    holds_no_machine_path(&repo.path("githooks"));
    let secret = key("rk_live_", 40);
    repo.write("a.txt", format!("{secret}\n"));
    repo.git(&["add", "a.txt"]).ok();
    repo.run_in(
        &repo.root,
        "git",
        &["commit", "-q", "-m", "x"],
        &[("PATH", &path_with_keyward())],
    )
    .code_is(1)
    .contains("keyward: commit blocked")
    .no_leak(&secret);
    repo.run_in(
        &repo.root,
        "githooks/pre-commit",
        &[],
        &[("PATH", BASE_PATH)],
    )
    .code_is(2)
    .contains("keyward is not installed (not on PATH)");
    repo.install(&["--uninstall"]).ok();
    assert!(!repo.path("githooks/pre-commit").exists());
}

/// The `run:` line of keyward's command in a lefthook section, as the shell
/// command lefthook runs (YAML single quotes undone).
fn lefthook_run(yaml: &str, section: &str) -> String {
    let start = yaml
        .find(&format!("\n{section}:\n"))
        .map(|i| i + 1)
        .or_else(|| yaml.starts_with(&format!("{section}:\n")).then_some(0))
        .unwrap_or_else(|| panic!("no {section} section:\n{yaml}"));
    let rest = &yaml[start..];
    let at = rest.find("    keyward:\n").expect("keyward command");
    let line = rest[at..].lines().nth(1).unwrap().trim();
    let quoted = line
        .strip_prefix("run: '")
        .unwrap()
        .strip_suffix('\'')
        .unwrap();
    quoted.replace("''", "'")
}

#[test]
fn lefthook_gets_a_keyward_command_calling_it_from_path() {
    let repo = Repo::without_hook();
    let original = "pre-commit:\n  commands:\n    lint:\n      run: echo lint\n\npre-push:\n  jobs:\n    - run: echo test\n";
    repo.write("lefthook.yml", original);
    let run = install_with(&repo, &[], &[("PATH", BASE_PATH)]).ok();
    run.contains_ref("git add lefthook.yml");
    run.contains_ref("lefthook install");
    // A section of another shape is left to the person, with the snippet.
    run.contains_ref("already has these sections; add keyward's command to each by hand");
    run.contains_ref("keyward pre-push {1} {2}");
    let yaml = hook_text(&repo, "lefthook.yml");
    assert!(
        yaml.starts_with("pre-commit:\n  commands:\n    lint:\n      run: echo lint\n"),
        "{yaml}"
    );
    assert!(
        yaml.contains("pre-push:\n  jobs:\n    - run: echo test\n"),
        "{yaml}"
    );
    assert!(
        yaml.contains("\ncommit-msg:\n  commands:\n    keyward:\n"),
        "{yaml}"
    );
    assert!(!yaml.contains(Path::new(KEYWARD).parent().unwrap().to_str().unwrap()));
    assert!(
        !repo.path(".git/hooks/pre-commit").exists(),
        "lefthook owns git's hooks"
    );
    install_with(&repo, &[], &[("PATH", BASE_PATH)]).ok();
    assert_eq!(
        hook_text(&repo, "lefthook.yml"),
        yaml,
        "a second run changes nothing"
    );

    // What lefthook runs: blocks a key with keyward on PATH, exits 2 without.
    let command = lefthook_run(&yaml, "pre-commit");
    assert!(command.ends_with("keyward --staged"), "{command}");
    let secret = key("sk_live_", 40);
    repo.write("a.txt", format!("{secret}\n"));
    repo.git(&["add", "a.txt"]).ok();
    repo.run_in(
        &repo.root,
        "sh",
        &["-c", &command],
        &[("PATH", &path_with_keyward())],
    )
    .code_is(1)
    .contains("keyward: commit blocked")
    .no_leak(&secret);
    repo.run_in(&repo.root, "sh", &["-c", &command], &[("PATH", BASE_PATH)])
        .code_is(2)
        .contains("keyward: error: keyward is not installed (not on PATH), so this pre-commit check cannot run");

    // One hook at a time leaves the others' commands alone.
    install_with(&repo, &["--hook", "pre-commit"], &[("PATH", BASE_PATH)]).ok();
    assert_eq!(hook_text(&repo, "lefthook.yml"), yaml);
    install_with(
        &repo,
        &["--uninstall", "--hook", "commit-msg"],
        &[("PATH", BASE_PATH)],
    )
    .ok()
    .contains("removed keyward's commit-msg command");
    let partial = hook_text(&repo, "lefthook.yml");
    assert!(!partial.contains("\ncommit-msg:"), "{partial}");
    assert!(partial.contains("keyward --staged"), "{partial}");
    assert!(partial.contains("keyward pre-merge-commit"), "{partial}");

    install_with(&repo, &["--uninstall"], &[("PATH", BASE_PATH)]).ok();
    assert_eq!(hook_text(&repo, "lefthook.yml"), original);
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

/// husky and lefthook themselves, from the npm registry, installed once under
/// target/ (pinned: the layouts install.sh relies on are theirs at these
/// versions).
fn hook_managers() -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hook-managers");
    if !dir.join("node_modules/.bin/lefthook").exists() {
        std::fs::create_dir_all(&dir).unwrap();
        // --ignore-scripts and a cwd outside any repository: lefthook's install
        // script otherwise installs its hooks into the repository npm runs in
        // (this one).
        let status = std::process::Command::new("npm")
            .current_dir(&dir)
            .env("LEFTHOOK", "0")
            .args([
                "install",
                "--ignore-scripts",
                "--no-audit",
                "--no-fund",
                "--prefix",
            ])
            .arg(&dir)
            .args(["husky@9.1.7", "lefthook@2.2.2"])
            .status()
            .expect("npm is needed to install husky and lefthook");
        assert!(status.success(), "npm install husky lefthook failed");
    }
    dir.join("node_modules/.bin")
}

// Installs husky and lefthook from the npm registry: needs the network, so it
// runs with `cargo test -- --ignored`.
#[test]
#[ignore = "needs the network (installs husky and lefthook from npm)"]
fn real_husky_and_lefthook_run_keyward_from_path() {
    let tools = hook_managers();
    let with = format!("{}:{}", tools.display(), path_with_keyward());
    let without = format!("{}:{BASE_PATH}", tools.display());

    // husky: `husky` sets core.hooksPath and generates .husky/_.
    let repo = Repo::without_hook();
    repo.run_in(&repo.root, "husky", &[], &[("PATH", &with)])
        .ok();
    repo.write(".husky/pre-commit", "echo lint ran\n");
    install_with(&repo, &[], &[("PATH", BASE_PATH)])
        .ok()
        .contains("git add .husky/pre-commit");
    holds_no_machine_path(&repo.path(".husky"));
    let secret = key("sk_live_", 40);
    repo.write("a.txt", format!("{secret}\n"));
    repo.git(&["add", "a.txt"]).ok();
    repo.run_in(
        &repo.root,
        "git",
        &["commit", "-q", "-m", "x"],
        &[("PATH", &with)],
    )
    .code_is(1)
    .contains("lint ran")
    .contains("keyward: commit blocked")
    .no_leak(&secret);
    repo.run_in(
        &repo.root,
        "git",
        &["commit", "-q", "-m", "x"],
        &[("PATH", &without)],
    )
    .code_is(1)
    .contains("keyward: error: keyward is not installed (not on PATH)")
    .contains("husky - pre-commit script failed (code 2)");
    assert!(repo.head().is_none());

    // lefthook: keyward joins lefthook.yml; `lefthook install` writes git's hooks.
    let repo = Repo::without_hook();
    repo.write(
        "lefthook.yml",
        "pre-commit:\n  commands:\n    lint:\n      run: echo lint ran\n",
    );
    install_with(&repo, &[], &[("PATH", BASE_PATH)])
        .ok()
        .contains("git add lefthook.yml");
    repo.run_in(&repo.root, "lefthook", &["validate"], &[("PATH", &with)])
        .ok();
    repo.run_in(&repo.root, "lefthook", &["install"], &[("PATH", &with)])
        .ok();
    repo.write("a.txt", format!("{secret}\n"));
    repo.git(&["add", "a.txt"]).ok();
    repo.run_in(
        &repo.root,
        "git",
        &["commit", "-q", "-m", "x"],
        &[("PATH", &with)],
    )
    .code_is(1)
    .contains("lint ran")
    .contains("keyward: commit blocked")
    .no_leak(&secret);
    repo.run_in(
        &repo.root,
        "git",
        &["commit", "-q", "-m", "x"],
        &[("PATH", &without)],
    )
    .code_is(1)
    .contains("keyward: error: keyward is not installed (not on PATH)");
    assert!(repo.head().is_none());
    // A message with a key, through lefthook's commit-msg section.
    repo.write("a.txt", "clean\n");
    repo.git(&["add", "a.txt"]).ok();
    repo.run_in(
        &repo.root,
        "git",
        &["commit", "-q", "-m", &format!("used {secret}")],
        &[("PATH", &with)],
    )
    .code_is(1)
    .contains("commit message")
    .no_leak(&secret);
    assert!(repo.head().is_none());
}

#[test]
fn a_foreign_keyward_file_in_pre_receive_d_is_refused_not_moved() {
    let repo = Repo::new();
    let dir = repo.scratch("srv/hooks/pre-receive.d");
    let foreign = "#!/bin/sh\necho someone else's hook\n";
    std::fs::write(dir.join("keyward"), foreign).unwrap();
    repo.install(&["--server", dir.to_str().unwrap()])
        .code_is(2)
        .contains("install.sh: error:")
        .contains("is not keyward's hook")
        .contains("rename or remove it first");
    // Left exactly as it was: nothing moved to a name the dispatcher would run.
    assert_eq!(
        std::fs::read_to_string(dir.join("keyward")).unwrap(),
        foreign
    );
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["keyward"]);

    // keyward's own file there is still replaced in place, and removed by --uninstall.
    std::fs::remove_file(dir.join("keyward")).unwrap();
    repo.install(&["--server", dir.to_str().unwrap()]).ok();
    repo.install(&["--server", dir.to_str().unwrap()]).ok();
    repo.install(&["--server", dir.to_str().unwrap(), "--uninstall"])
        .ok();
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
}
