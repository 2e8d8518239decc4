//! What `keyward history` and pre-push say about commits: progress on a terminal,
//! one finding per key however many commits added it, whether each of those
//! commits is only local, pushed or tagged, and how history differs from scan.

use crate::util::{key, Repo, KEYWARD};

/// `n` commits, each adding one small clean file, made by `git fast-import` in
/// one process: enough items that the work runs on the pool, where progress is
/// drawn.
fn many_commits(repo: &Repo, n: usize) {
    let mut stream = String::new();
    for i in 0..n {
        let data = format!("file number {i}\n");
        let message = format!("commit {i}\n");
        stream.push_str(&format!(
            "commit refs/heads/main\ncommitter T <t@example.com> {} +0000\ndata {}\n{message}",
            1_767_225_600 + i,
            message.len()
        ));
        stream.push_str(&format!(
            "M 100644 inline f{i}.txt\ndata {}\n{data}\n",
            data.len()
        ));
    }
    repo.fast_import(&stream);
    repo.git(&["reset", "-q", "--hard", "main"]).ok();
}

#[test]
fn progress_only_on_a_terminal_and_only_for_the_human_report() {
    let repo = Repo::without_hook();
    many_commits(&repo, 150);
    // Not a terminal (the test captures stderr): not a byte of progress.
    let piped = repo.keyward(&["history"]).ok();
    assert_eq!(piped.stderr(), "", "{}", piped.stderr());
    // Under a pseudo-terminal (util-linux's script): the stages, counts and rate.
    // (A terminal whose TERM is unset or `dumb` cannot redraw a line: indicatif
    // then draws nothing.)
    let command = format!("{KEYWARD} history --color never");
    let tty = repo.run_in(
        &repo.root,
        "script",
        &["-qec", &command, "/dev/null"],
        &[("TERM", "xterm")],
    );
    let tty = tty.ok();
    tty.contains_ref("commits walked");
    tty.contains_ref("/150 commits walked");
    tty.contains_ref("blobs scanned");
    tty.contains_ref("/s,");
    // JSON on a terminal: the document alone, no progress anywhere.
    let command = format!("{KEYWARD} history --format json");
    let json = repo
        .run_in(
            &repo.root,
            "script",
            &["-qec", &command, "/dev/null"],
            &[("TERM", "xterm")],
        )
        .ok();
    let json = json.lacks("commits walked").lacks("blobs scanned");
    let start = json.stdout().find('{').expect("a JSON document");
    let doc: serde_json::Value =
        serde_json::from_str(json.stdout()[start..].trim()).expect("only the document");
    assert_eq!(doc["findings"].as_array().unwrap().len(), 0);
}

fn json(run: &crate::util::Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout()).expect("a JSON document on stdout")
}

fn sarif_valid(doc: &serde_json::Value) {
    let schema = crate::formats::sarif_schema();
    let validator = jsonschema::draft4::new(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "SARIF invalid:\n{}", errors.join("\n"));
}

/// The commit ids a finding lists, in order.
fn commit_ids(finding: &serde_json::Value) -> Vec<String> {
    finding["commits"]
        .as_array()
        .expect("commits is a list")
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_cherry_picked_or_rebased_key_is_one_finding_with_every_commit() {
    let repo = Repo::without_hook();
    repo.write("README.md", "hello\n");
    repo.commit_unchecked("init");
    // Cherry-picked: the key's commit on a branch, copied onto main.
    repo.git(&["checkout", "-q", "-b", "feature"]).ok();
    let picked = key("sk_live_", 99);
    repo.write("pay.py", format!("import os\nKEY = '{picked}'\n"));
    repo.commit_unchecked("feature: a key");
    let on_branch = repo.head().unwrap();
    repo.git(&["checkout", "-q", "main"]).ok();
    repo.write("other.txt", "main moves on\n");
    repo.commit_unchecked("main moves on");
    repo.git(&["cherry-pick", &on_branch]).ok();
    let on_main = repo.head().unwrap();
    // Rebased, with the old branch kept (a backup branch, or a clone still
    // holding it): both copies are reachable.
    repo.git(&["checkout", "-q", "-b", "topic", "main~1"]).ok();
    let rebased = key("rk_live_", 24);
    repo.write("cfg/app.yml", format!("stripe: {rebased}\n"));
    repo.commit_unchecked("topic: a key");
    let before = repo.head().unwrap();
    repo.git(&["branch", "topic-backup"]).ok();
    repo.git(&["rebase", "-q", "main"]).ok();
    let after = repo.head().unwrap();
    assert_ne!(before, after, "the rebase made a new commit");

    let human = repo.keyward(&["history", "--color", "never"]).code_is(1);
    human.no_leak_ref(&picked);
    human.no_leak_ref(&rebased);
    human.contains_ref("keyward: found 2 secrets");
    human.contains_ref("added in 2 commits");
    for id in [&on_branch, &on_main, &before, &after] {
        human.contains_ref(&id[..12]);
    }
    assert_eq!(human.stderr().matches("pay.py:2:8").count(), 1);

    let doc = json(
        &repo
            .keyward(&["history", "--format", "json"])
            .code_is(1)
            .no_leak(&picked)
            .no_leak(&rebased),
    );
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 2, "{doc:#}");
    let pay = findings.iter().find(|f| f["path"] == "pay.py").unwrap();
    let mut ids = commit_ids(pay);
    ids.sort();
    let mut want = vec![on_branch.clone(), on_main.clone()];
    want.sort();
    assert_eq!(ids, want);
    // The old field is still there: the first of the list.
    assert_eq!(pay["commit"]["id"], pay["commits"][0]["id"]);
    let yml = findings
        .iter()
        .find(|f| f["path"] == "cfg/app.yml")
        .unwrap();
    let mut ids = commit_ids(yml);
    ids.sort();
    let mut want = vec![before.clone(), after.clone()];
    want.sort();
    assert_eq!(ids, want);

    let sarif = json(
        &repo
            .keyward(&["history", "--format", "sarif"])
            .code_is(1)
            .no_leak(&picked)
            .no_leak(&rebased),
    );
    sarif_valid(&sarif);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    for r in results {
        assert_eq!(r["properties"]["commits"].as_array().unwrap().len(), 2);
    }
}

#[test]
fn a_key_twice_in_one_file_stays_two_findings() {
    let repo = Repo::without_hook();
    let secret = key("sk_live_", 99);
    repo.write("a.py", format!("A = '{secret}'\nB = '{secret}'\n"));
    repo.commit_unchecked("twice");
    let doc = json(&repo.keyward(&["history", "--format", "json"]).code_is(1));
    let lines: Vec<u64> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [1, 2]);
}

/// A repository with two bare remotes, `origin` and `mirror`, both holding the
/// first commit.
fn two_remotes() -> Repo {
    let repo = Repo::without_hook();
    repo.write("README.md", "hello\n");
    repo.commit_unchecked("init");
    for name in ["origin", "mirror"] {
        let remote = repo.scratch(&format!("{name}.git"));
        repo.git_in(&remote, &["init", "-q", "--bare"]).ok();
        repo.git(&["remote", "add", name, remote.to_str().unwrap()])
            .ok();
        repo.git(&["push", "-q", name, "main"]).ok();
    }
    repo
}

#[test]
fn each_commit_says_whether_it_is_local_pushed_or_tagged() {
    let repo = two_remotes();
    let pushed = key("sk_live_", 99);
    repo.write("pushed.py", format!("KEY = '{pushed}'\n"));
    repo.commit_unchecked("pushed to origin only");
    let pushed_commit = repo.head().unwrap();
    repo.git(&["push", "-q", "origin", "main"]).ok();
    let tagged = key("whsec_", 32);
    repo.write("tagged.py", format!("SECRET = '{tagged}'\n"));
    repo.commit_unchecked("tagged");
    let tagged_commit = repo.head().unwrap();
    repo.git(&["tag", "v1.0"]).ok();
    let local = key("sk_test_", 99);
    repo.write("local.py", format!("KEY = '{local}'\n"));
    repo.commit_unchecked("only here");
    let local_commit = repo.head().unwrap();
    let secrets = [&pushed, &tagged, &local];

    let doc = json(&repo.keyward(&["history", "--format", "json"]).code_is(1));
    let by_path = |p: &str| {
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == p)
            .unwrap_or_else(|| panic!("no finding in {p}: {doc:#}"))
            .clone()
    };
    let f = by_path("pushed.py");
    assert_eq!(f["exposure"], "pushed");
    assert_eq!(f["commits"][0]["id"], pushed_commit.as_str());
    assert_eq!(f["commits"][0]["exposure"], "pushed");
    // On one of the two remotes: only that one is named. The tag holds it too.
    assert_eq!(f["commits"][0]["remotes"], serde_json::json!(["origin"]));
    assert_eq!(f["commits"][0]["tag"], "v1.0");
    let f = by_path("tagged.py");
    assert_eq!(f["exposure"], "tagged");
    assert_eq!(f["commits"][0]["id"], tagged_commit.as_str());
    assert_eq!(f["commits"][0]["remotes"], serde_json::json!([]));
    assert_eq!(f["commits"][0]["tag"], "v1.0");
    let f = by_path("local.py");
    assert_eq!(f["exposure"], "local");
    assert_eq!(f["commits"][0]["id"], local_commit.as_str());
    assert!(f["commits"][0]["tag"].is_null());

    // SARIF carries the same.
    let sarif = json(&repo.keyward(&["history", "--format", "sarif"]).code_is(1));
    sarif_valid(&sarif);
    let mut statuses: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["properties"]["exposure"].as_str().unwrap())
        .collect();
    statuses.sort_unstable();
    assert_eq!(statuses, ["local", "pushed", "tagged"]);

    // The person reads each commit's state, and rolling comes first.
    let human = repo.keyward(&["history", "--color", "never"]).code_is(1);
    for s in secrets {
        human.no_leak_ref(s);
    }
    human.contains_ref("pushed to origin, in tag v1.0: exposed");
    human.contains_ref(&format!(
        "{} on 2026-01-01: in tag v1.0: exposed",
        &tagged_commit[..12]
    ));
    human.contains_ref(&format!(
        "{} on 2026-01-01: only local as far as git knows",
        &local_commit[..12]
    ));
    human.contains_ref("Some of these keys are already published (origin, tag v1.0)");
    human.contains_ref("1. Roll the published keys now, before anything else:");
    human.contains_ref(&format!(
        "The commits nothing has published yet ({}) can still be rewritten",
        &local_commit[..12]
    ));
    let text = human.stderr();
    assert!(
        !text.contains("mirror"),
        "mirror holds none of them:\n{text}"
    );
    // Stripe: the mode and kind of each key, and where to roll it.
    human.contains_ref("Stripe live secret key");
    human.contains_ref("Stripe sandbox (test mode) secret key");
    // (Wrapped to the terminal's width: compared word by word.)
    let words = human
        .stderr()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for said in [
        "in the endpoint's mode (live or sandbox): Developers → Webhooks → the endpoint → Signing secret → Roll secret",
        "Developers → API keys → ⋯ beside the key → Roll key",
        "create a restricted key (rk_live_) with just those permissions instead",
    ] {
        assert!(words.contains(said), "expected {said:?} in:\n{}", human.stderr());
    }

    // Only the local commit: the advice is to rewrite it, and to roll only if it
    // left the machine some way git cannot see.
    let local_only = repo
        .keyward(&["history", "--color", "never", &format!("{tagged_commit}..")])
        .code_is(1)
        .no_leak(&local);
    local_only.contains_ref("only in local commits as far as git knows");
    local_only.contains_ref(&format!("git rebase -i {}^", &local_commit[..12]));
    local_only.contains_ref("a push to a URL");
    let local_only = local_only.lacks("already published");
    drop(local_only);

    // Pushing to the mirror: the pre-push hook names what origin already has.
    repo.install(&["--hook", "pre-push"]).ok();
    let push = repo.git(&["push", "-q", "mirror", "main"]).code_is(1);
    for s in secrets {
        push.no_leak_ref(s);
    }
    push.contains_ref("keyward: push blocked");
    push.contains_ref("pushed to origin, in tag v1.0: exposed");
    push.contains_ref("only local as far as git knows");
}

#[test]
fn history_says_when_scan_would_not_report_a_key() {
    let repo = Repo::without_hook();
    // Deleted since: only the commit holds it.
    let deleted = key("sk_live_", 99);
    repo.write("old.py", format!("KEY = '{deleted}'\n"));
    repo.commit_unchecked("a key");
    repo.write("old.py", "KEY = None\n");
    repo.commit_unchecked("gone");
    // Marked since: the file lets it through now; the commit that added it did not.
    let marked = key("rk_live_", 24);
    repo.write("mark.py", format!("KEY = '{marked}'\n"));
    repo.commit_unchecked("another");
    repo.write("mark.py", format!("KEY = '{marked}'  # keyward:allow\n"));
    repo.commit_unchecked("marked");
    // Still there: both report it.
    let kept = key("sk_live_", 99);
    repo.write("kept.py", format!("KEY = '{kept}'\n"));
    repo.commit_unchecked("kept");

    let scan = json(&repo.keyward(&["scan", "--format", "json"]).code_is(1));
    let paths: Vec<&str> = scan["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["kept.py"]);
    let history = repo
        .keyward(&["history", "--color", "never"])
        .code_is(1)
        .no_leak(&deleted)
        .no_leak(&marked)
        .no_leak(&kept)
        .contains("keyward: found 3 secrets")
        .contains("2 of these keys are no longer in the files as they are now");
    drop(history);
    // Nothing to explain when the files still hold every key.
    repo.keyward(&["history", "HEAD~1..HEAD"])
        .code_is(1)
        .lacks("no longer in the files");
}

#[test]
fn a_tagged_commit_names_the_earliest_tag_that_holds_it() {
    let repo = Repo::without_hook();
    let first = key("sk_live_", 99);
    repo.write("a.py", format!("A = '{first}'\n"));
    repo.commit_unchecked("first key");
    repo.run_in(
        &repo.root,
        "git",
        &["commit", "-q", "--allow-empty", "-m", "release"],
        &[("GIT_COMMITTER_DATE", "2026-02-01T00:00:00Z")],
    )
    .ok();
    repo.git(&["tag", "v1"]).ok();
    let second = key("sk_live_", 99);
    repo.write("b.py", format!("B = '{second}'\n"));
    repo.commit_unchecked("second key");
    repo.run_in(
        &repo.root,
        "git",
        &["commit", "-q", "--allow-empty", "-m", "release 2"],
        &[("GIT_COMMITTER_DATE", "2026-03-01T00:00:00Z")],
    )
    .ok();
    repo.git(&["tag", "-a", "-m", "annotated", "v2"]).ok();
    let doc = json(&repo.keyward(&["history", "--format", "json"]).code_is(1));
    let tag_of = |path: &str| {
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == path)
            .map(|f| f["commits"][0]["tag"].clone())
            .unwrap()
    };
    assert_eq!(tag_of("a.py"), "v1");
    assert_eq!(tag_of("b.py"), "v2");
}

#[test]
fn a_blocking_appearance_is_never_folded_into_a_warning_for_the_same_secret() {
    // The generic model judges a value by its name: `password = …` blocks where
    // `key = …` only warns. The same secret under both, in two commits, must stay
    // two findings, and the blocking one must block history and the push.
    let repo = Repo::new();
    repo.write("README.md", "x\n");
    repo.commit_unchecked("init");
    // A value the model judges differently under the two names (a random one may
    // block under both, which would not test the grouping); assembled here so
    // that this file holds no credential-shaped literal.
    let value = ["hR7kq2Vx", "9mPz4TbW", "8nLc"].concat();
    repo.write("f.py", format!("password = \"{value}\"\n"));
    repo.commit_unchecked("a");
    repo.write("f.py", "\n");
    repo.commit_unchecked("b");
    repo.write("f.py", format!("key = \"{value}\"\n"));
    repo.commit_unchecked("c");
    let run = repo
        .keyward(&["history", "--format", "json"])
        .code_is(1)
        .no_leak(&value);
    let doc = json(&run);
    let findings = doc["findings"].as_array().expect("findings");
    let severities: Vec<&str> = findings
        .iter()
        .filter(|f| f["path"] == "f.py")
        .map(|f| f["severity"].as_str().unwrap_or_default())
        .collect();
    // Two findings, one under each judgement: with only one, the test would no
    // longer be testing the grouping.
    assert_eq!(severities.len(), 2, "{doc:#}");
    assert!(
        severities.contains(&"block") && severities.contains(&"warn"),
        "{doc:#}"
    );
}

#[test]
fn in_a_bare_repository_history_calls_every_commit_published() {
    // A server's or a mirror's repository: what its branches hold is fetched by
    // others, and it has no work tree to compare the findings with.
    let repo = Repo::without_hook();
    let secret = key("sk_live_", 99);
    repo.write("a.py", format!("K = '{secret}'\n"));
    repo.commit_unchecked("key");
    let bare = repo.scratch("mirror.git");
    repo.git(&["clone", "-q", "--bare", ".", bare.to_str().unwrap()])
        .ok();
    let run = repo
        .run_in(&bare, KEYWARD, &["history", "--format", "json"], &[])
        .code_is(1)
        .no_leak(&secret)
        .lacks("no longer in");
    let doc = json(&run);
    let commit = &doc["findings"][0]["commits"][0];
    assert_eq!(commit["exposure"], "pushed", "{doc:#}");
    assert_eq!(commit["remotes"][0], "this bare repository", "{doc:#}");
    repo.run_in(&bare, KEYWARD, &["history"], &[])
        .code_is(1)
        .contains("this bare repository")
        .lacks("only local");
}
