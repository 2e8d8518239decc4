//! `keyward fix`: real files in a dozen languages and formats, fixed in real
//! repositories, then parsed or compiled by the language's own checker where one
//! is installed, and committed through the installed hook.

use std::os::unix::fs::PermissionsExt;

use crate::util::{key, Repo, Run};

/// Whether `program` is on PATH.
fn have(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// A repository with one commit, and `path` staged holding `content`.
fn staged(path: &str, content: &str) -> Repo {
    let repo = Repo::new();
    repo.write("README", "hello\n");
    repo.commit_unchecked("init");
    repo.write(path, content);
    repo.git(&["add", path]).ok();
    repo
}

fn text(repo: &Repo, rel: &str) -> String {
    String::from_utf8_lossy(&repo.read(rel)).into_owned()
}

fn staged_text(repo: &Repo, rel: &str) -> String {
    repo.git(&["show", &format!(":{rel}")]).ok().stdout()
}

fn chmod(path: &std::path::Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn mode(repo: &Repo, rel: &str) -> u32 {
    std::fs::metadata(repo.path(rel))
        .unwrap()
        .permissions()
        .mode()
        & 0o777
}

/// What every fix must leave: the key out of the index and the working file,
/// into the ignored, private env file under `var`; then the commit passes.
#[track_caller]
fn fixed(repo: &Repo, rel: &str, secret: &str, var: &str, expect: &str) -> Run {
    let blocked = repo.commit(&[]).code_is(1).no_leak(secret);
    blocked.contains_ref("keyward fix");
    let run = repo
        .keyward(&["fix", "--yes"])
        .ok()
        .no_leak(secret)
        .contains("clean now");
    let work = text(repo, rel);
    let index = staged_text(repo, rel);
    assert!(
        !work.contains(secret),
        "key left in the working file:\n{work}"
    );
    assert!(!index.contains(secret), "key left in the index:\n{index}");
    assert!(work.contains(expect), "expected {expect:?} in\n{work}");
    assert_eq!(work, index, "working file and index differ");
    let env = text(repo, ".env");
    assert!(
        env.lines().any(|l| l == format!("{var}={secret}")),
        "{var} not in .env"
    );
    assert_eq!(mode(repo, ".env"), 0o600);
    repo.git(&["check-ignore", "-q", ".env"]).ok();
    let head = repo.head();
    repo.commit(&[]).ok().no_leak(secret);
    assert_ne!(repo.head(), head, "the commit was not made");
    run
}

/// Runs a language's checker on the fixed file, or says it is not installed.
#[track_caller]
fn check_with(repo: &Repo, program: &str, args: &[&str]) {
    if !have(program) {
        eprintln!("skipped: {program} is not installed");
        return;
    }
    repo.run_in(&repo.root, program, args, &[]).ok();
}

#[test]
fn python_with_docstring_and_future_import() {
    let secret = key("sk_live_", 99);
    let repo = staged(
        "app/settings.py",
        &format!(
            "#!/usr/bin/env python3\n\"\"\"Settings.\"\"\"\nfrom __future__ import annotations\n\nDEBUG = False\nPAYMENTS_KEY = \"{secret}\"\n"
        ),
    );
    fixed(
        &repo,
        "app/settings.py",
        &secret,
        "PAYMENTS_KEY",
        "PAYMENTS_KEY = os.environ[\"PAYMENTS_KEY\"]",
    );
    let work = text(&repo, "app/settings.py");
    assert!(
        work.contains("from __future__ import annotations\nimport os\n"),
        "{work}"
    );
    check_with(&repo, "python3", &["-m", "py_compile", "app/settings.py"]);
}

#[test]
fn javascript_and_typescript() {
    let secret = key("sk_live_", 99);
    let repo = staged(
        "web/pay.js",
        &format!("const stripe = require(\"stripe\")('{secret}');\nmodule.exports = stripe;\n"),
    );
    fixed(
        &repo,
        "web/pay.js",
        &secret,
        "STRIPE_SECRET_KEY",
        "require(\"stripe\")(process.env.STRIPE_SECRET_KEY)",
    );
    check_with(&repo, "node", &["--check", "web/pay.js"]);

    let secret = key("rk_live_", 99);
    let repo = staged(
        "web/pay.ts",
        &format!("export const paymentsKey: string = `{secret}`;\n"),
    );
    fixed(
        &repo,
        "web/pay.ts",
        &secret,
        "PAYMENTS_KEY",
        "paymentsKey: string = process.env.PAYMENTS_KEY;",
    );
}

#[test]
fn ruby() {
    let secret = key("sk_live_", 99);
    let repo = staged(
        "config/initializers/stripe.rb",
        &format!("Stripe.api_key = \"{secret}\"\n"),
    );
    fixed(
        &repo,
        "config/initializers/stripe.rb",
        &secret,
        "STRIPE_SECRET_KEY",
        "Stripe.api_key = ENV.fetch(\"STRIPE_SECRET_KEY\")",
    );
    check_with(&repo, "ruby", &["-c", "config/initializers/stripe.rb"]);
}

#[test]
fn go_gets_os_in_its_import_block() {
    let secret = key("sk_live_", 99);
    let repo = staged(
        "main.go",
        &format!("package main\n\nimport (\n\t\"fmt\"\n\t\"strings\"\n)\n\nvar stripeKey = \"{secret}\"\n\nfunc main() {{\n\tfmt.Println(strings.ToUpper(stripeKey[:3]))\n}}\n"),
    );
    fixed(
        &repo,
        "main.go",
        &secret,
        "STRIPE_KEY",
        "var stripeKey = os.Getenv(\"STRIPE_KEY\")",
    );
    assert!(text(&repo, "main.go").contains("\t\"fmt\"\n\t\"os\"\n\t\"strings\"\n"));
    if have("gofmt") {
        let out = repo
            .run_in(&repo.root, "gofmt", &["-l", "main.go"], &[])
            .ok();
        assert_eq!(out.stdout().trim(), "", "gofmt would change main.go");
    } else {
        eprintln!("skipped: gofmt is not installed");
    }
}

#[test]
fn java_compiles_and_kotlin() {
    let secret = key("sk_live_", 99);
    let repo = staged(
        "src/Pay.java",
        &format!("public class Pay {{\n    static final String API_KEY = \"{secret}\";\n    public static void main(String[] a) {{ System.out.println(API_KEY.length()); }}\n}}\n"),
    );
    fixed(
        &repo,
        "src/Pay.java",
        &secret,
        "STRIPE_SECRET_KEY",
        "static final String API_KEY = System.getenv(\"STRIPE_SECRET_KEY\");",
    );
    let out = repo.scratch("classes");
    check_with(
        &repo,
        "javac",
        &["-d", out.to_str().unwrap(), "src/Pay.java"],
    );

    let secret = key("sk_live_", 99);
    let repo = staged("Pay.kt", &format!("val paymentsKey = \"{secret}\"\n"));
    fixed(
        &repo,
        "Pay.kt",
        &secret,
        "PAYMENTS_KEY",
        "val paymentsKey = System.getenv(\"PAYMENTS_KEY\")",
    );
}

#[test]
fn php_and_csharp() {
    let secret = key("sk_live_", 99);
    let repo = staged("config.php", &format!("<?php\n$stripeKey = '{secret}';\n"));
    fixed(
        &repo,
        "config.php",
        &secret,
        "STRIPE_KEY",
        "$stripeKey = getenv('STRIPE_KEY');",
    );
    check_with(&repo, "php", &["-l", "config.php"]);

    let secret = key("sk_live_", 99);
    let repo = staged(
        "Pay.cs",
        &format!("class Pay\n{{\n    static string Key = \"{secret}\";\n}}\n"),
    );
    // No `using System;`: the name is qualified rather than an import added.
    fixed(
        &repo,
        "Pay.cs",
        &secret,
        "STRIPE_SECRET_KEY",
        "static string Key = System.Environment.GetEnvironmentVariable(\"STRIPE_SECRET_KEY\");",
    );
}

#[test]
fn shell_script() {
    let secret = key("sk_live_", 99);
    let repo = staged(
        "deploy.sh",
        &format!("#!/bin/sh\nset -e\ncurl https://api.stripe.com/v1/charges -u {secret}:\n"),
    );
    fixed(
        &repo,
        "deploy.sh",
        &secret,
        "STRIPE_SECRET_KEY",
        "-u \"${STRIPE_SECRET_KEY}\":",
    );
    check_with(&repo, "bash", &["-n", "deploy.sh"]);
}

#[track_caller]
fn yaml_parses(repo: &Repo, rel: &str) {
    let yaml = repo.run_in(&repo.root, "python3", &["-c", "import yaml"], &[]);
    if yaml.code() != 0 {
        eprintln!("skipped: python3 with PyYAML is not installed");
        return;
    }
    repo.run_in(
        &repo.root,
        "python3",
        &[
            "-c",
            "import sys, yaml; yaml.safe_load(open(sys.argv[1]))",
            rel,
        ],
        &[],
    )
    .ok();
}

#[test]
fn github_actions_and_gitlab_ci() {
    let secret = key("sk_live_", 99);
    let rel = ".github/workflows/ci.yml";
    let repo = staged(
        rel,
        &format!("on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    env:\n      STRIPE_KEY: {secret}\n    steps:\n      - run: make test\n"),
    );
    fixed(
        &repo,
        rel,
        &secret,
        "STRIPE_KEY",
        "STRIPE_KEY: ${{ secrets.STRIPE_KEY }}",
    )
    .contains("gh secret set");
    yaml_parses(&repo, rel);

    let secret = key("sk_live_", 99);
    let repo = staged(
        ".gitlab-ci.yml",
        &format!("test:\n  variables:\n    STRIPE_KEY: \"{secret}\"\n  script:\n    - make test\n"),
    );
    fixed(
        &repo,
        ".gitlab-ci.yml",
        &secret,
        "STRIPE_KEY",
        "STRIPE_KEY: \"$STRIPE_KEY\"",
    );
    yaml_parses(&repo, ".gitlab-ci.yml");
}

#[test]
fn dockerfile_run_gets_a_build_secret_and_env_is_refused() {
    let secret = key("sk_live_", 99);
    let repo = staged(
        "Dockerfile",
        &format!("FROM alpine:3.20\nRUN apk add curl\nRUN curl -fsS https://api.stripe.com/v1/charges \\\n    -u {secret}:\n"),
    );
    fixed(
        &repo,
        "Dockerfile",
        &secret,
        "STRIPE_SECRET_KEY",
        "-u \"${STRIPE_SECRET_KEY}\":",
    )
    .contains("--secret id=");
    let work = text(&repo, "Dockerfile");
    assert!(work.starts_with("# syntax=docker/dockerfile:1\n"), "{work}");
    assert!(
        work.contains("RUN --mount=type=secret,id=stripe_secret_key,env=STRIPE_SECRET_KEY curl"),
        "{work}"
    );
    assert!(!work.contains("ARG") && !work.contains("ENV"));

    // ENV keeps the value in the image history: listed, never rewritten.
    let secret = key("sk_live_", 99);
    let content = format!("FROM alpine:3.20\nENV STRIPE_KEY={secret}\n");
    let repo = staged("Dockerfile", &content);
    let blocked = repo.commit(&[]).code_is(1).no_leak(&secret);
    assert!(
        !blocked.all().contains("keyward fix"),
        "fix offered for ENV"
    );
    repo.keyward(&["fix", "--yes"])
        .code_is(1)
        .no_leak(&secret)
        .contains("image history");
    assert_eq!(text(&repo, "Dockerfile"), content);
    assert!(!repo.path(".env").exists());
}

#[test]
fn terraform_gets_a_sensitive_variable() {
    let secret = key("sk_live_", 99);
    let repo = staged(
        "infra/main.tf",
        &format!("provider \"stripe\" {{\n  api_key = \"{secret}\"\n}}\n"),
    );
    fixed(
        &repo,
        "infra/main.tf",
        &secret,
        "TF_VAR_stripe_secret_key",
        "api_key = var.stripe_secret_key",
    );
    let work = text(&repo, "infra/main.tf");
    assert!(
        work.contains(
            "variable \"stripe_secret_key\" {\n  type      = string\n  sensitive = true\n}\n"
        ),
        "{work}"
    );
    check_with(
        &repo,
        "terraform",
        &["fmt", "-check", "-diff", "infra/main.tf"],
    );
}

#[test]
fn an_env_file_is_untracked_and_ignored_not_rewritten() {
    let secret = key("sk_live_", 99);
    let content = format!("STRIPE_SECRET_KEY={secret}\n");
    let repo = staged(".env.production", &content);
    repo.commit(&[]).code_is(1).contains("keyward fix");
    repo.keyward(&["fix", "--yes"])
        .ok()
        .no_leak(&secret)
        .contains("clean now");
    assert_eq!(
        text(&repo, ".env.production"),
        content,
        "the env file was rewritten"
    );
    let listed = repo.git(&["ls-files", "--", ".env.production"]).ok();
    assert_eq!(listed.stdout(), "", "still in the index");
    repo.git(&["check-ignore", "-q", ".env.production"]).ok();
    assert!(text(&repo, ".gitignore").contains("/.env.production\n"));
    let head = repo.head();
    repo.commit(&["--allow-empty"]).ok();
    assert_ne!(repo.head(), head);
}

#[test]
fn partial_staging_fixes_the_index_and_the_working_file_each_as_it_is() {
    let secret = key("sk_live_", 99);
    let repo = staged(
        "app.py",
        &format!("import os\nPAYMENTS_KEY = \"{secret}\"\n"),
    );
    // An unstaged edit on top of the staged version.
    repo.write(
        "app.py",
        format!("import os\nPAYMENTS_KEY = \"{secret}\"\nWORK_IN_PROGRESS = 1\n"),
    );
    let original = repo
        .git(&["rev-parse", ":app.py"])
        .ok()
        .stdout()
        .trim()
        .to_string();
    let run = repo.keyward(&["fix", "--yes"]).ok().no_leak(&secret);
    run.contains_ref(&original);
    let index = staged_text(&repo, "app.py");
    let work = text(&repo, "app.py");
    assert_eq!(
        index,
        "import os\nPAYMENTS_KEY = os.environ[\"PAYMENTS_KEY\"]\n"
    );
    assert_eq!(
        work, "import os\nPAYMENTS_KEY = os.environ[\"PAYMENTS_KEY\"]\nWORK_IN_PROGRESS = 1\n",
        "the working file lost its unstaged edit"
    );
    // The staged original stays recoverable by the id printed.
    let kept = repo.git(&["cat-file", "-p", &original]).ok();
    assert!(kept.stdout().contains(&secret));
    repo.commit(&[]).ok();
    // The unstaged edit is still unstaged.
    let diff = repo.git(&["diff", "--name-only"]).ok();
    assert_eq!(diff.stdout().trim(), "app.py");
}

#[test]
fn a_working_file_that_no_longer_holds_the_key_is_left_alone() {
    let secret = key("sk_live_", 99);
    let repo = staged(
        "app.py",
        &format!("import os\nPAYMENTS_KEY = \"{secret}\"\n"),
    );
    let mine = "import os\nPAYMENTS_KEY = load_from_vault()\n";
    repo.write("app.py", mine);
    repo.keyward(&["fix", "--yes"])
        .ok()
        .no_leak(&secret)
        .contains("no longer holds the key");
    assert_eq!(text(&repo, "app.py"), mine);
    assert!(!staged_text(&repo, "app.py").contains(&secret));
}

#[test]
fn a_read_only_file_is_listed_and_nothing_is_written() {
    let secret = key("sk_live_", 99);
    let content = format!("PAYMENTS_KEY = \"{secret}\"\n");
    let repo = staged("app.py", &content);
    std::fs::set_permissions(repo.path("app.py"), std::fs::Permissions::from_mode(0o444)).unwrap();
    let before = repo.git(&["rev-parse", ":app.py"]).ok().stdout();
    repo.keyward(&["fix", "--yes"])
        .code_is(1)
        .no_leak(&secret)
        .contains("read-only");
    assert_eq!(text(&repo, "app.py"), content);
    assert_eq!(mode(&repo, "app.py"), 0o444);
    assert_eq!(repo.git(&["rev-parse", ":app.py"]).ok().stdout(), before);
    assert!(!repo.path(".env").exists());
}

#[test]
fn a_failure_half_way_changes_nothing() {
    let secret = key("sk_live_", 99);
    let content = format!("import os\nPAYMENTS_KEY = \"{secret}\"\n");
    let repo = staged("app.py", &content);
    repo.write(".gitignore", "*.log\n");
    let before = repo.git(&["rev-parse", ":app.py"]).ok().stdout();
    // A git that crashed left its lock: the index, written last, cannot be,
    // after the env file, .gitignore and the working file were.
    std::fs::write(repo.path(".git/index.lock"), "").unwrap();
    repo.keyward(&["fix", "--yes"])
        .code_is(2)
        .no_leak(&secret)
        .contains("keyward: error: keyward fix could not apply its plan, so nothing was changed")
        .contains("index.lock");
    std::fs::remove_file(repo.path(".git/index.lock")).unwrap();
    assert_eq!(text(&repo, "app.py"), content);
    assert_eq!(text(&repo, ".gitignore"), "*.log\n");
    assert!(!repo.path(".env").exists(), "the env file was left behind");
    assert_eq!(repo.git(&["rev-parse", ":app.py"]).ok().stdout(), before);
    let leftovers: Vec<_> = std::fs::read_dir(&repo.root)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("keyward-"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn two_keys_in_one_file() {
    let secret = key("sk_live_", 99);
    let restricted = key("rk_live_", 99);
    let repo = staged(
        "billing.py",
        &format!("import os\nCHARGES_KEY = \"{secret}\"\nreports_key = '{restricted}'\n"),
    );
    let run = fixed(
        &repo,
        "billing.py",
        &secret,
        "CHARGES_KEY",
        "CHARGES_KEY = os.environ[\"CHARGES_KEY\"]",
    );
    run.no_leak_ref(&restricted);
    let work = text(&repo, "billing.py");
    assert!(
        work.contains("reports_key = os.environ[\"REPORTS_KEY\"]"),
        "{work}"
    );
    assert!(text(&repo, ".env").contains(&format!("REPORTS_KEY={restricted}\n")));
}

#[test]
fn a_key_used_twice_is_listed_not_half_fixed() {
    let secret = key("sk_live_", 99);
    let content = format!("A = \"{secret}\"\nB = \"{secret}\"\n");
    let repo = staged("twice.py", &content);
    let blocked = repo.commit(&[]).code_is(1).no_leak(&secret);
    assert!(
        !blocked.all().contains("keyward fix"),
        "fix offered for a key used twice"
    );
    repo.keyward(&["fix", "--yes"])
        .code_is(1)
        .no_leak(&secret)
        .contains("written 2 times");
    assert_eq!(text(&repo, "twice.py"), content);
    assert!(staged_text(&repo, "twice.py").contains(&secret));
    assert!(!repo.path(".env").exists());
}

#[test]
fn dry_run_shows_the_change_redacted_and_writes_nothing() {
    let secret = key("sk_live_", 99);
    let content = format!("PAYMENTS_KEY = \"{secret}\"\n");
    let repo = staged("app.py", &content);
    let redacted = format!("{}…{}", &secret[..8], &secret[secret.len() - 4..]);
    repo.keyward(&["fix", "--dry-run"])
        .code_is(1)
        .no_leak(&secret)
        .contains(&format!("-PAYMENTS_KEY = \"{redacted}\""))
        .contains("+PAYMENTS_KEY = os.environ[\"PAYMENTS_KEY\"]")
        .contains("+import os")
        .contains(".gitignore: + /.env")
        .contains("nothing was written");
    assert_eq!(text(&repo, "app.py"), content);
    assert!(!repo.path(".env").exists());
    assert!(!repo.path(".gitignore").exists());
}

#[test]
fn without_a_terminal_or_yes_nothing_is_written() {
    let secret = key("sk_live_", 99);
    let content = format!("PAYMENTS_KEY = \"{secret}\"\n");
    let repo = staged("app.py", &content);
    repo.keyward(&["fix"])
        .code_is(1)
        .no_leak(&secret)
        .contains("no terminal")
        .contains("keyward fix --yes");
    assert_eq!(text(&repo, "app.py"), content);
    assert!(!repo.path(".env").exists());
}

#[test]
fn a_name_taken_in_the_env_file_with_another_value_gets_another() {
    let secret = key("sk_live_", 99);
    let repo = staged(
        "app.py",
        &format!("import os\nPAYMENTS_KEY = \"{secret}\"\n"),
    );
    repo.write(".gitignore", ".env\n");
    repo.write(".env", "PAYMENTS_KEY=something-else\n");
    chmod(&repo.path(".env"), 0o600);
    repo.keyward(&["fix", "--yes"])
        .ok()
        .no_leak(&secret)
        .contains("this key is PAYMENTS_KEY_2");
    assert_eq!(
        text(&repo, ".env"),
        format!("PAYMENTS_KEY=something-else\nPAYMENTS_KEY_2={secret}\n")
    );
    assert!(text(&repo, "app.py").contains("os.environ[\"PAYMENTS_KEY_2\"]"));
    // Already ignored: .gitignore is left alone.
    assert_eq!(text(&repo, ".gitignore"), ".env\n");
}

#[test]
fn after_commit_a_the_fix_is_in_the_working_tree() {
    let repo = Repo::new();
    repo.write("app.py", "import os\nDEBUG = True\n");
    repo.commit_unchecked("init");
    let secret = key("sk_live_", 99);
    repo.write(
        "app.py",
        format!("import os\nDEBUG = True\nPAYMENTS_KEY = \"{secret}\"\n"),
    );
    let head = repo.head();
    repo.commit(&["-a"])
        .code_is(1)
        .no_leak(&secret)
        .contains("keyward fix --files app.py");
    assert_eq!(repo.head(), head);
    repo.keyward(&["fix", "--files", "app.py", "--yes"])
        .ok()
        .no_leak(&secret)
        .contains("the working file original of app.py is kept as blob")
        .contains("run the same git commit again");
    assert!(!text(&repo, "app.py").contains(&secret));
    repo.commit(&["-a"]).ok().no_leak(&secret);
    assert_ne!(repo.head(), head);
}

#[test]
fn the_env_file_is_configurable() {
    let secret = key("sk_live_", 99);
    let repo = staged(
        "app.py",
        &format!("import os\nPAYMENTS_KEY = \"{secret}\"\n"),
    );
    repo.write(".keyward.toml", "[fix]\nenv_file = \"config/local.env\"\n");
    // Read, like the rest of the config, as the commit holds it.
    repo.git(&["add", ".keyward.toml"]).ok();
    std::fs::create_dir_all(repo.path("config")).unwrap();
    repo.keyward(&["fix", "--yes"]).ok().no_leak(&secret);
    assert!(text(&repo, "config/local.env").contains(&format!("PAYMENTS_KEY={secret}\n")));
    assert_eq!(mode(&repo, "config/local.env"), 0o600);
    repo.git(&["check-ignore", "-q", "config/local.env"]).ok();

    let secret = key("sk_live_", 99);
    let repo = staged(
        "app.py",
        &format!("import os\nPAYMENTS_KEY = \"{secret}\"\n"),
    );
    repo.keyward(&["fix", "--yes", "--env-file", "secrets.env"])
        .ok()
        .no_leak(&secret);
    assert!(text(&repo, "secrets.env").contains(&secret));
    assert!(!repo.path(".env").exists());
}

#[test]
fn on_a_terminal_it_asks_and_only_yes_writes() {
    if !have("script") {
        eprintln!("skipped: script (util-linux) is not installed to give keyward a terminal");
        return;
    }
    let secret = key("sk_live_", 99);
    let content = format!("import os\nPAYMENTS_KEY = \"{secret}\"\n");
    let repo = staged("app.py", &content);
    let on_terminal = |answer: &str| {
        let command = format!(
            "printf '{answer}\\n' | script -qec '{} fix' /dev/null",
            crate::util::KEYWARD
        );
        repo.run_in(&repo.root, "sh", &["-c", &command], &[])
    };
    on_terminal("n")
        .code_is(1)
        .no_leak(&secret)
        .contains("Apply these changes? [y/N]")
        .contains("nothing was written");
    assert_eq!(text(&repo, "app.py"), content);
    assert!(!repo.path(".env").exists());
    on_terminal("y").ok().no_leak(&secret).contains("clean now");
    assert!(!text(&repo, "app.py").contains(&secret));
    assert!(text(&repo, ".env").contains(&secret));
}

#[test]
fn a_tracked_env_file_is_not_written_to() {
    let repo = Repo::new();
    repo.write(".env", "DEBUG=1\n");
    repo.commit_unchecked("init");
    let secret = key("sk_live_", 99);
    let content = format!("PAYMENTS_KEY = \"{secret}\"\n");
    repo.write("app.py", &content);
    repo.git(&["add", "app.py"]).ok();
    repo.keyward(&["fix", "--yes"])
        .code_is(2)
        .no_leak(&secret)
        .contains("keyward: error: the env file .env is tracked by git")
        .contains("--env-file");
    assert_eq!(text(&repo, ".env"), "DEBUG=1\n");
    assert_eq!(text(&repo, "app.py"), content);
}

#[test]
fn the_key_is_written_nowhere_but_the_env_file() {
    let secret = key("sk_live_", 99);
    let repo = staged("app.py", &format!("PAYMENTS_KEY = \"{secret}\"\n"));
    repo.keyward(&["fix", "--yes"]).ok().no_leak(&secret);
    let mut holding = Vec::new();
    for entry in walk(&repo.root) {
        let rel = entry
            .strip_prefix(&repo.root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if rel.starts_with(".git/") {
            continue;
        }
        let data = std::fs::read(&entry).unwrap();
        if memchr_find(&data, secret.as_bytes()) {
            holding.push(rel);
        }
    }
    assert_eq!(holding, [".env"]);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if e.file_type().unwrap().is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn memchr_find(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn from_a_subdirectory_paths_and_the_env_file_are_the_work_tree_s() {
    let secret = key("sk_live_", 99);
    let repo = staged(
        "svc/api/app.py",
        &format!("import os\nPAYMENTS_KEY = \"{secret}\"\n"),
    );
    let sub = repo.path("svc/api");
    repo.run_in(&sub, crate::util::KEYWARD, &["fix", "--yes"], &[])
        .ok()
        .no_leak(&secret);
    assert!(
        text(&repo, ".env").contains(&secret),
        "the env file is not at the top"
    );
    assert!(!staged_text(&repo, "svc/api/app.py").contains(&secret));

    // --files takes paths as the shell gave them, relative to where it runs.
    let secret = key("sk_live_", 99);
    repo.write(
        "svc/api/other.py",
        format!("import os\nOTHER_KEY = \"{secret}\"\n"),
    );
    repo.run_in(
        &sub,
        crate::util::KEYWARD,
        &["fix", "--files", "other.py", "--yes"],
        &[],
    )
    .ok()
    .no_leak(&secret);
    assert!(text(&repo, "svc/api/other.py").contains("os.environ[\"OTHER_KEY\"]"));
    assert!(text(&repo, ".env").contains(&format!("OTHER_KEY={secret}\n")));
}

#[test]
fn a_committed_env_file_is_taken_out_and_history_is_named() {
    let repo = Repo::new();
    repo.write(".env", "DEBUG=1\n");
    repo.commit_unchecked("init");
    let secret = key("sk_live_", 99);
    repo.write(".env", format!("DEBUG=1\nSTRIPE_SECRET_KEY={secret}\n"));
    repo.git(&["add", ".env"]).ok();
    repo.keyward(&["fix", "--yes"])
        .ok()
        .no_leak(&secret)
        .contains("in earlier commits")
        .contains("clean now");
    assert!(
        text(&repo, ".env").contains(&secret),
        "the env file lost its key"
    );
    repo.commit(&[]).ok();
    let tree = repo.git(&["ls-tree", "--name-only", "HEAD"]).ok();
    assert!(
        !tree.stdout().contains(".env"),
        "the commit still holds .env"
    );
}

/// `app.py` holding a fresh key, staged with `config` as the committed
/// `.keyward.toml`.
fn staged_with_config(config: &str) -> (Repo, String) {
    let secret = key("sk_live_", 24);
    let repo = staged(
        "app.py",
        &format!("import os\nPAYMENTS_KEY = \"{secret}\"\n"),
    );
    repo.write(".keyward.toml", config);
    repo.git(&["add", ".keyward.toml"]).ok();
    (repo, secret)
}

#[test]
fn a_configured_env_file_outside_the_work_tree_is_refused() {
    for (value, why) in [
        (None, "is an absolute path"),
        (Some("../outside/notes.txt"), "leads out of the work tree"),
        (
            Some("config/../../outside/notes.txt"),
            "leads out of the work tree",
        ),
    ] {
        let (repo, secret) = staged_with_config("");
        // Beside the work tree: the same file `..` reaches.
        let notes = repo.scratch("outside").join("notes.txt");
        std::fs::write(&notes, "meeting at 10\n").unwrap();
        chmod(&notes, 0o644);
        let value = value.map_or_else(|| notes.display().to_string(), str::to_string);
        repo.write(".keyward.toml", format!("[fix]\nenv_file = \"{value}\"\n"));
        repo.git(&["add", ".keyward.toml"]).ok();
        repo.keyward(&["fix", "--yes"])
            .code_is(2)
            .no_leak(&secret)
            .contains("keyward: error: ")
            .contains(".keyward.toml:2:")
            .contains(&format!("fix.env_file: {value:?} {why}"))
            .contains("--env-file");
        assert_eq!(std::fs::read_to_string(&notes).unwrap(), "meeting at 10\n");
        assert!(
            text(&repo, "app.py").contains(&secret),
            "app.py was rewritten"
        );
    }
}

#[test]
fn a_configured_env_file_through_a_link_out_of_the_work_tree_is_refused() {
    let (repo, secret) = staged_with_config("[fix]\nenv_file = \"out/notes.txt\"\n");
    let outside = repo.scratch("outside");
    std::os::unix::fs::symlink(&outside, repo.path("out")).unwrap();
    repo.keyward(&["fix", "--yes"])
        .code_is(2)
        .no_leak(&secret)
        .contains("keyward: error: the env file out/notes.txt set by [fix] env_file is reached through out, which leads out of the work tree");
    assert!(!outside.join("notes.txt").exists());
}

#[test]
fn an_env_file_others_can_read_is_refused_not_written() {
    let (repo, secret) = staged_with_config("");
    let outside = repo.scratch("outside");
    let notes = outside.join("notes.txt");
    std::fs::write(&notes, "meeting at 10\n").unwrap();
    for mode in [0o644, 0o640, 0o604, 0o620] {
        chmod(&notes, mode);
        repo.keyward(&["fix", "--yes", "--env-file", notes.to_str().unwrap()])
            .code_is(2)
            .no_leak(&secret)
            .contains(&format!(
                "keyward: error: refusing to move keys to {}: other users have access to it (mode {mode:o}): chmod 600 {}",
                notes.display(),
                notes.display()
            ));
        assert_eq!(std::fs::read_to_string(&notes).unwrap(), "meeting at 10\n");
    }
    // The same in the work tree.
    repo.write(".env", "DEBUG=1\n");
    chmod(&repo.path(".env"), 0o644);
    repo.keyward(&["fix", "--yes"])
        .code_is(2)
        .no_leak(&secret)
        .contains("chmod 600 .env");
    assert_eq!(text(&repo, ".env"), "DEBUG=1\n");
    // Once private, the file outside, named on the command line, is written.
    chmod(&notes, 0o600);
    repo.keyward(&["fix", "--yes", "--env-file", notes.to_str().unwrap()])
        .ok()
        .no_leak(&secret);
    assert!(std::fs::read_to_string(&notes).unwrap().contains(&secret));
    assert_eq!(
        std::fs::metadata(&notes).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn the_offer_uses_the_configured_env_file() {
    // Tracked, so keyward fix would refuse to write a key there: no offer.
    let (repo, secret) = staged_with_config("[fix]\nenv_file = \"config/local.env\"\n");
    repo.write("config/local.env", "DEBUG=1\n");
    repo.git(&["add", "config/local.env"]).ok();
    repo.commit(&[])
        .code_is(1)
        .no_leak(&secret)
        .contains("keyward: commit blocked")
        .lacks("keyward fix");
    repo.keyward(&["fix", "--yes"])
        .code_is(2)
        .contains("the env file config/local.env is tracked by git");

    // Not tracked: offered, and keyward fix then fixes it there.
    repo.git(&["rm", "--cached", "-q", "config/local.env"]).ok();
    chmod(&repo.path("config/local.env"), 0o600);
    repo.commit(&[]).code_is(1).contains("keyward fix");
    repo.keyward(&["fix", "--yes"]).ok().no_leak(&secret);
    assert!(text(&repo, "config/local.env").contains(&secret));
}

#[test]
fn an_env_file_named_through_dot_dot_is_still_ignored() {
    let secret = key("sk_live_", 24);
    let repo = staged(
        "app.py",
        &format!("import os\nPAYMENTS_KEY = \"{secret}\"\n"),
    );
    std::fs::create_dir_all(repo.path("sub")).unwrap();
    repo.keyward(&["fix", "--yes", "--env-file", "sub/../secrets.env"])
        .ok()
        .no_leak(&secret);
    assert!(text(&repo, "secrets.env").contains(&secret));
    repo.git(&["check-ignore", "-q", "secrets.env"]).ok();
    assert!(text(&repo, ".gitignore").contains("/secrets.env\n"));
}
