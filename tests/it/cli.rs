//! The command line keeps its promises: `rules` in every format, one-line errors
//! that name the fix (bare repositories, baselines with nowhere to go, a missing
//! message file), counts in the right number, and completions and a man page that
//! the shells and man parse.

use std::path::Path;

use crate::util::{key, Repo, Run, KEYWARD};

/// keyward run in `dir` with no repository above it.
fn outside(repo: &Repo, dir: &Path, args: &[&str]) -> Run {
    repo.run_in(
        dir,
        KEYWARD,
        args,
        &[(
            "GIT_CEILING_DIRECTORIES",
            dir.parent().unwrap().to_str().unwrap(),
        )],
    )
}

fn parse(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout())
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{}", run.stdout()))
}

/// One line, `keyward: error: ...`, and nothing on stdout.
#[track_caller]
fn one_error_line(run: Run) -> String {
    let run = run.code_is(2);
    let err = run.stderr();
    assert_eq!(err.lines().count(), 1, "expected one line:\n{err}");
    assert!(err.starts_with("keyward: error: "), "{err}");
    assert!(run.stdout().is_empty(), "{}", run.stdout());
    err
}

#[test]
fn rules_list_as_json_outside_any_repository() {
    let repo = Repo::without_hook();
    let dir = repo.scratch("plain");
    let run = outside(&repo, &dir, &["rules", "list", "--format", "json"]).ok();
    assert!(run.stderr().is_empty(), "stderr: {}", run.stderr());
    let doc = parse(&run);
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["tool"]["name"], "keyward");
    let rules = doc["rules"].as_array().unwrap();
    let human = outside(&repo, &dir, &["rules", "list"]).ok().stdout();
    assert_eq!(rules.len(), human.lines().count(), "one entry per rule");
    let stripe = rules
        .iter()
        .find(|r| r["id"] == "stripe-live-secret-key")
        .expect("the Stripe live key rule is listed");
    assert_eq!(stripe["provider"], "stripe");
    assert_eq!(stripe["severity"], "block");
    assert_eq!(stripe["keywords"][0], "sk_live_");
    assert_eq!(stripe["description"], "Stripe live secret key");
    assert_eq!(stripe["origin"], "built-in rules");
    assert!(stripe["examples"].as_u64().unwrap() > 0);
    // Renamed providers and kinds of secret without one.
    let by_id = |id: &str| rules.iter().find(|r| r["id"] == id).unwrap().clone();
    assert_eq!(by_id("gcp-service-account-key")["provider"], "google");
    assert!(by_id("private-key-rsa")["provider"].is_null());
    assert!(by_id("generic-secret-assignment")["provider"].is_null());
    assert_eq!(by_id("generic-secret-assignment")["confirm"], "assignment");
    for r in rules {
        for field in ["id", "description", "severity", "keywords", "origin"] {
            assert!(!r[field].is_null(), "{field} missing in {r}");
        }
    }
}

#[test]
fn rules_json_carries_configured_rules_and_their_failures() {
    let repo = Repo::without_hook();
    repo.write(
        ".keyward.toml",
        "use_default_rules = false\n[[rules]]\nid = \"acme-token\"\ndescription = \"ACME token\"\nkeywords = [\"acme_\"]\nregex = '(acme_[0-9]{8})'\nseverity = \"warn\"\nexamples = [{ input = 'acme_abcdefgh', secret = 'acme_abcdefgh' }]\nnegative_examples = ['acme_']\n",
    );
    let list = repo.keyward(&["rules", "list", "--format", "json"]).ok();
    let doc = parse(&list);
    let rules = doc["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0]["id"], "acme-token");
    assert_eq!(rules[0]["provider"], "acme");
    assert_eq!(rules[0]["severity"], "warn");
    assert!(rules[0]["origin"]
        .as_str()
        .unwrap()
        .ends_with(".keyward.toml"));

    let check = repo
        .keyward(&["rules", "check", "--format", "json"])
        .code_is(1);
    assert!(check.stderr().is_empty(), "stderr: {}", check.stderr());
    let doc = parse(&check);
    assert_eq!(doc["rules"], 1);
    assert_eq!(doc["passed"], false);
    let failures = doc["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{doc}");
    assert!(failures[0].as_str().unwrap().starts_with("acme-token:"));

    // The human form counts in the right number.
    repo.keyward(&["rules", "check"])
        .code_is(1)
        .contains("1 rule checked, 1 failure\n");
}

#[test]
fn rules_report_goes_to_the_file() {
    let repo = Repo::without_hook();
    let report = repo.scratch("out").join("rules.json");
    let run = repo
        .keyward(&[
            "rules",
            "check",
            "--format",
            "json",
            "--report",
            report.to_str().unwrap(),
        ])
        .ok();
    assert!(
        run.stdout().is_empty() && run.stderr().is_empty(),
        "{}",
        run.all()
    );
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(doc["passed"], true);
    assert!(doc["rules"].as_u64().unwrap() > 100);

    let listing = repo.scratch("out").join("rules.txt");
    repo.keyward(&["rules", "list", "--report", listing.to_str().unwrap()])
        .ok();
    let text = std::fs::read_to_string(&listing).unwrap();
    assert!(text.contains("stripe-live-secret-key"), "{text}");
}

#[test]
fn rules_as_sarif_is_refused_in_one_line_naming_json() {
    let repo = Repo::without_hook();
    let run = repo
        .keyward(&["rules", "list", "--format", "sarif"])
        .code_is(2)
        .contains("use --format json");
    assert!(run.stdout().is_empty(), "{}", run.stdout());
}

#[test]
fn a_bare_repository_says_what_works_there() {
    let repo = Repo::without_hook();
    let secret = key("sk_live_", 40);
    repo.write("a.txt", format!("{secret}\n"));
    repo.commit_unchecked("add");
    let bare = repo.scratch("bare.git");
    repo.git(&["clone", "-q", "--bare", ".", bare.to_str().unwrap()])
        .ok();

    for args in [&[][..], &["--staged"], &["pre-merge-commit"]] {
        let err = one_error_line(repo.run_in(&bare, KEYWARD, args, &[]));
        assert!(err.contains("is a bare repository"), "{err}");
        assert!(err.contains("needs a work tree"), "{err}");
        assert!(err.contains("keyward history"), "{err}");
        assert!(!err.contains("GIT_DIR"), "{err}");
    }
    // What the message offers does work there.
    repo.run_in(&bare, KEYWARD, &["history"], &[])
        .code_is(1)
        .contains("a.txt")
        .no_leak(&secret);

    let err = one_error_line(repo.run_in(&bare, KEYWARD, &["baseline"], &[]));
    assert!(err.contains("is a bare repository"), "{err}");
    assert!(err.contains("work tree"), "{err}");
    assert!(!bare.join(".keyward-baseline.json").exists());
}

#[test]
fn a_baseline_outside_any_repository_is_refused() {
    let repo = Repo::without_hook();
    let dir = repo.scratch("plain");
    let err = one_error_line(outside(&repo, &dir, &["baseline"]));
    assert!(err.contains("not inside a git repository"), "{err}");
    assert!(
        err.contains("run keyward baseline in the repository"),
        "{err}"
    );
    assert!(!dir.join(".keyward-baseline.json").exists());
}

#[test]
fn a_missing_message_file_is_named_as_one() {
    let repo = Repo::without_hook();
    let err = one_error_line(repo.keyward(&["commit-msg", "/nonexistent/COMMIT_EDITMSG"]));
    assert!(
        err.contains("reading the commit message file /nonexistent/COMMIT_EDITMSG"),
        "{err}"
    );
}

#[test]
fn baseline_counts_in_the_right_number() {
    let repo = Repo::without_hook();
    repo.write("config.env", "DB_PASSWORD=h7$Kq2p!xZ9w\n");
    repo.keyward(&["baseline"])
        .ok()
        .contains("wrote 1 fingerprint to");
}

#[test]
fn a_baseline_made_in_a_subdirectory_covers_the_work_tree_and_lands_at_its_top() {
    let repo = Repo::without_hook();
    repo.write("config.env", "DB_PASSWORD=h7$Kq2p!xZ9w\n");
    repo.write("app/settings.env", "API_TOKEN=Zr8#pQ4m!vT2\n");
    repo.run_in(&repo.path("app"), KEYWARD, &["baseline"], &[])
        .ok()
        .contains("wrote 2 fingerprints to");
    assert!(repo.path(".keyward-baseline.json").exists());
    assert!(!repo.path("app/.keyward-baseline.json").exists());
    // The fingerprints are the ones a scan from the top computes.
    let run = repo.keyward(&["scan", "--format", "json"]).ok();
    let doc = parse(&run);
    assert_eq!(doc["baselined"], 2, "{doc}");
    assert_eq!(doc["findings"].as_array().unwrap().len(), 0, "{doc}");
    // An explicit --output is relative to where it was run.
    repo.run_in(
        &repo.path("app"),
        KEYWARD,
        &["baseline", "-o", "here.json"],
        &[],
    )
    .ok();
    assert!(repo.path("app/here.json").exists());
}

/// Runs `shell -n` (parse only) on a generated script, if that shell is here.
fn shell_parses(repo: &Repo, shell: &str, script: &Path) -> bool {
    let probe = std::process::Command::new(shell)
        .arg("-c")
        .arg("exit 0")
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!("{shell} is not installed here; its completions are not parsed");
        return false;
    }
    let flag = if shell == "fish" {
        "--no-execute"
    } else {
        "-n"
    };
    repo.run_in(
        script.parent().unwrap(),
        shell,
        &[flag, script.to_str().unwrap()],
        &[],
    )
    .ok();
    true
}

#[test]
fn completions_parse_in_their_shells() {
    let repo = Repo::without_hook();
    let dir = repo.scratch("completions");
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let run = repo.keyward(&["completions", shell]).ok();
        let script = run.stdout();
        // Every subcommand is offered.
        for command in ["history", "pre-push", "baseline", "rules"] {
            assert!(script.contains(command), "{shell} lacks {command}");
        }
        let path = dir.join(format!("keyward.{shell}"));
        std::fs::write(&path, &script).unwrap();
        if matches!(shell, "bash" | "zsh" | "fish") {
            let parsed = shell_parses(&repo, shell, &path);
            assert!(parsed || shell != "bash", "bash is needed to run the tests");
        }
    }
    repo.keyward(&["completions", "tcsh"])
        .code_is(2)
        .contains("invalid value");
}

#[test]
fn the_man_page_is_roff_that_man_reads() {
    let repo = Repo::without_hook();
    let run = repo.keyward(&["man"]).ok();
    let roff = run.stdout();
    assert!(roff.contains(".TH keyward 1"), "{roff}");
    assert!(roff.contains(".SH SYNOPSIS"), "{roff}");
    assert!(roff.contains("history"), "subcommands are listed");
    let page = repo.scratch("man").join("keyward.1");
    std::fs::write(&page, &roff).unwrap();
    // groff renders it; its warnings (-ww) on stderr would mean broken roff.
    let groff = std::process::Command::new("groff").arg("-v").output();
    if groff.is_ok_and(|o| o.status.success()) {
        let rendered = repo
            .run_in(
                page.parent().unwrap(),
                "groff",
                &["-man", "-Tutf8", "-ww", "-P-cbou", page.to_str().unwrap()],
                &[],
            )
            .ok();
        assert!(rendered.stderr().is_empty(), "{}", rendered.stderr());
        assert!(rendered.stdout().contains("SYNOPSIS"));
    } else {
        eprintln!("groff is not installed here; the man page is checked as text only");
    }
}

#[test]
fn a_config_error_is_one_line_placing_the_mistake() {
    let repo = Repo::without_hook();
    repo.write(
        ".keyward.toml",
        "disabled_rules = []\nunknown_setting = 1\n",
    );
    // At commit time the config counts as staged.
    repo.git(&["add", ".keyward.toml"]).ok();
    for args in [&["scan"][..], &["rules", "list"], &["--staged"]] {
        let err = one_error_line(repo.keyward(args));
        assert!(
            err.contains(".keyward.toml:2:1: unknown field `unknown_setting`"),
            "{err}"
        );
    }
}

#[test]
fn baseline_from_a_subdirectory_reads_the_config_where_typed() {
    let repo = Repo::new();
    repo.write("my.toml", "");
    repo.write("sub/my.toml", "use_default_rules = \"not a bool\"\n");
    let sub = repo.path("sub");
    repo.run_in(&sub, KEYWARD, &["baseline", "--config", "my.toml"], &[])
        .code_is(2)
        .contains("keyward: error: ")
        .contains("sub/my.toml:1:");
    // From the top the same words name the valid file.
    repo.keyward(&["baseline", "--config", "my.toml"]).ok();
}
