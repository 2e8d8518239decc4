//! `keyward pre-receive` on a real bare repository, pushed to by real git with the
//! hook install.sh --server installs. Each case takes the URL to push to, so the
//! same cases run over `file://` here and over git daemon and smart HTTP in
//! `server_heavy`.

use std::path::{Path, PathBuf};

use crate::util::{key, Repo, Run, KEYWARD, SRC_DIR};

pub fn redacted(secret: &str) -> String {
    format!("{}…{}", &secret[..8], &secret[secret.len() - 4..])
}

/// A client repository and the bare repository it pushes to, with keyward's
/// pre-receive hook installed and the policy file named by `keyward.config`.
pub struct Server {
    pub client: Repo,
    pub bare: PathBuf,
    policy: PathBuf,
}

impl Server {
    pub fn new() -> Server {
        let client = Repo::without_hook();
        client.write("README", "hello\n");
        client.commit_unchecked("init");
        let bare = client.scratch("srv.git");
        client.git_in(&bare, &["init", "-q", "--bare"]).ok();
        let policy = client.scratch("admin").join("keyward.toml");
        std::fs::write(&policy, "").unwrap();
        let server = Server {
            client,
            bare,
            policy,
        };
        server.server_git(&["config", "receive.advertisePushOptions", "true"]);
        server.server_git(&["config", "http.receivepack", "true"]);
        server.server_git(&["config", "keyward.config", server.policy.to_str().unwrap()]);
        server
            .client
            .git(&["push", "-q", &server.url(), "main"])
            .ok();
        server.install().ok();
        server
    }

    pub fn install(&self) -> Run {
        let script = format!("{SRC_DIR}/install.sh");
        self.client.run_in(
            &self.client.root,
            "sh",
            &[
                &script,
                "--bin",
                KEYWARD,
                "--server",
                self.bare.to_str().unwrap(),
            ],
            &[],
        )
    }

    pub fn url(&self) -> String {
        format!("file://{}", self.bare.display())
    }

    pub fn server_git(&self, args: &[&str]) -> Run {
        let mut full = vec!["--git-dir", self.bare.to_str().unwrap()];
        full.extend_from_slice(args);
        self.client.git(&full)
    }

    pub fn set_policy(&self, toml: &str) {
        std::fs::write(&self.policy, toml).unwrap();
    }

    /// Where a policy's relative `audit_log` lands.
    pub fn admin_dir(&self) -> PathBuf {
        self.policy.parent().unwrap().to_path_buf()
    }

    pub fn push(&self, url: &str, args: &[&str]) -> Run {
        self.push_env(url, args, &[])
    }

    pub fn push_env(&self, url: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut full = vec!["push", url];
        full.extend_from_slice(args);
        self.client.run_in(&self.client.root, "git", &full, env)
    }

    pub fn has_object(&self, id: &str) -> bool {
        self.server_git(&["cat-file", "-e", id])
            .out
            .status
            .success()
    }

    pub fn server_ref(&self, name: &str) -> Option<String> {
        let r = self.server_git(&["rev-parse", "-q", "--verify", name]);
        r.out
            .status
            .success()
            .then(|| r.stdout().trim().to_string())
    }

    /// A new client branch from main.
    pub fn branch(&self, name: &str) {
        self.client
            .git(&["checkout", "-q", "-B", name, "main"])
            .ok();
    }

    pub fn commit_file(&self, path: &str, text: &str, message: &str) -> String {
        self.client.write(path, text);
        self.client.commit_unchecked(message);
        self.client.head().unwrap()
    }
}

/// The push was rejected by keyward, through git's `remote:` lines, naming the
/// place and the redacted key, never the key.
#[track_caller]
pub fn rejected(run: Run, secret: &str, place: &str) -> Run {
    assert_ne!(run.code(), 0, "the push went through:\n{}", run.all());
    run.contains("remote: keyward: push rejected by the server")
        .contains("pre-receive hook declined")
        .contains(place)
        .contains(&redacted(secret))
        .no_leak(secret)
}

pub type Case = fn(&Server, &str);

/// Every case the issue names, for each transport.
pub const CASES: &[(&str, Case)] = &[
    ("key in a new branch", key_in_a_new_branch),
    ("key in a force push", key_in_a_force_push),
    ("key in a commit message", key_in_a_commit_message),
    ("key in an annotated tag", key_in_an_annotated_tag),
    ("clean push", clean_push_passes),
    ("pushed config", pushed_config_cannot_weaken_the_policy),
    ("bypass", push_option_bypass_is_audited),
    ("deadline", deadline_overrun_is_rejected),
];

pub fn key_in_a_new_branch(s: &Server, url: &str) {
    s.set_policy("");
    s.branch("feature-a");
    let secret = key("sk_live_", 99);
    let commit = s.commit_file(
        "app/settings.py",
        &format!("DEBUG = False\nSTRIPE = \"{secret}\"\n"),
        "settings",
    );
    let run = rejected(s.push(url, &["feature-a"]), &secret, "app/settings.py:2:11");
    run.contains(&format!("added in commit {}", &commit[..12]))
        .contains("fingerprint ")
        .contains("Roll the key now")
        .contains("git rebase -i");
    assert_eq!(s.server_ref("refs/heads/feature-a"), None);
    assert!(
        !s.has_object(&commit),
        "the rejected commit is in the repository"
    );
}

pub fn key_in_a_force_push(s: &Server, url: &str) {
    s.set_policy("");
    s.branch("feature-f");
    s.commit_file("notes.txt", "first\n", "first");
    s.push(url, &["-q", "feature-f"]).ok();
    // Rewritten: the new commit adds a key on top of what the server has.
    s.client.git(&["reset", "-q", "--hard", "HEAD~1"]).ok();
    let secret = key("rk_live_", 99);
    s.commit_file("notes.txt", &format!("second {secret}\n"), "second");
    rejected(
        s.push(url, &["--force", "feature-f"]),
        &secret,
        "notes.txt:1:8",
    );
    // A clean rewrite goes through: what the server already has is not the push's.
    s.client.git(&["reset", "-q", "--hard", "HEAD~1"]).ok();
    let clean = s.commit_file("notes.txt", "third\n", "third");
    s.push(url, &["-q", "--force", "feature-f"]).ok();
    assert_eq!(s.server_ref("refs/heads/feature-f"), Some(clean));
}

pub fn key_in_a_commit_message(s: &Server, url: &str) {
    s.set_policy("");
    s.branch("feature-m");
    let secret = key("sk_live_", 99);
    s.commit_file("m.txt", "m\n", &format!("use {secret} for now"));
    rejected(s.push(url, &["feature-m"]), &secret, "(commit message)");
    assert_eq!(s.server_ref("refs/heads/feature-m"), None);
}

pub fn key_in_an_annotated_tag(s: &Server, url: &str) {
    s.set_policy("");
    let secret = key("sk_live_", 99);
    let name = format!("v-{}", crate::util::base62(6));
    s.client
        .git(&[
            "tag",
            "-a",
            &name,
            "-m",
            &format!("release, key {secret}"),
            "main",
        ])
        .ok();
    rejected(
        s.push(url, &[&format!("refs/tags/{name}")]),
        &secret,
        &format!("(tag {name} message)"),
    );
    assert_eq!(s.server_ref(&format!("refs/tags/{name}")), None);
}

pub fn clean_push_passes(s: &Server, url: &str) {
    s.set_policy("");
    s.branch("feature-c");
    let commit = s.commit_file("c.txt", "nothing secret\n", "clean");
    s.push(url, &["feature-c"]).ok().lacks("keyward");
    assert_eq!(s.server_ref("refs/heads/feature-c"), Some(commit));
}

pub fn pushed_config_cannot_weaken_the_policy(s: &Server, url: &str) {
    s.set_policy("");
    s.branch("feature-w");
    let secret = key("sk_live_", 99);
    s.client.write(
        ".keyward.toml",
        "use_default_rules = false\n[allowlist]\npaths = [\"**\"]\nstopwords = [\"a\", \"e\", \"0\", \"1\"]\n[server]\nallow_bypass = true\naudit_log = \"/dev/null\"\ninline_markers = true\n",
    );
    s.client.write(
        ".gitleaksignore",
        "keys.py:stripe-live-secret-key:1\nkeys.py:generic-api-key:1\n",
    );
    s.commit_file(
        "keys.py",
        &format!("k = '{secret}'  # keyward:allow\n"),
        "weaken",
    );
    rejected(s.push(url, &["feature-w"]), &secret, "keys.py:1:");
    assert_eq!(s.server_ref("refs/heads/feature-w"), None);
}

pub fn push_option_bypass_is_audited(s: &Server, url: &str) {
    s.set_policy("[server]\nallow_bypass = true\naudit_log = \"audit.log\"\n");
    let log = s.admin_dir().join("audit.log");
    let _ = std::fs::remove_file(&log);
    s.branch("feature-b");
    let secret = key("sk_live_", 99);
    let other = key("rk_live_", 99);
    let commit = s.commit_file("b.env", &format!("A={secret}\nB={other}\n"), "two keys");
    let first = rejected(s.push(url, &["feature-b"]), &secret, "b.env:1:3");
    let fingerprints: Vec<String> = first
        .stderr()
        .split("fingerprint ")
        .skip(1)
        .map(|rest| rest.chars().take_while(char::is_ascii_hexdigit).collect())
        .collect();
    assert_eq!(fingerprints.len(), 2, "{}", first.stderr());
    // Naming one of two: still rejected, nothing recorded.
    let allow_one = format!("keyward.allow={}", fingerprints[0]);
    let run = s.push_env(
        url,
        &["-o", &allow_one, "-o", "keyward.reason=rolled", "feature-b"],
        &[("GL_USERNAME", "alice")],
    );
    rejected(run, &other, "b.env:2:3");
    assert!(!log.exists() || std::fs::read_to_string(&log).unwrap().is_empty());
    // Without a reason, nothing is let through.
    let allow_both = format!("keyward.allow={},{}", fingerprints[0], fingerprints[1]);
    rejected(
        s.push(url, &["-o", &allow_both, "feature-b"]),
        &secret,
        "b.env:1:3",
    )
    .contains("needs a reason");
    // Both named, with a reason: through, and recorded without the secret.
    s.push_env(
        url,
        &[
            "-o",
            &allow_both,
            "-o",
            "keyward.reason=test fixtures, rolled",
            "feature-b",
        ],
        &[("GL_USERNAME", "alice")],
    )
    .ok()
    .contains("let through by push option keyward.allow")
    .no_leak(&secret)
    .no_leak(&other);
    assert_eq!(s.server_ref("refs/heads/feature-b"), Some(commit.clone()));
    let audit = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<serde_json::Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{audit}");
    for (line, fp) in lines.iter().zip(&fingerprints) {
        assert_eq!(line["event"], "bypass");
        // The identity the transport gives the hook: over file:// the pusher's
        // own environment reaches it; a web server sets REMOTE_USER; git daemon
        // authenticates nobody, so the account it runs as is named.
        match url.split(':').next() {
            Some("file") => {
                assert_eq!(line["user"], "alice");
                assert_eq!(line["identity"], "GL_USERNAME");
            }
            Some("http") => {
                assert_eq!(line["user"], crate::server_heavy::HTTP_USER);
                assert_eq!(line["identity"], "REMOTE_USER");
            }
            _ => {
                assert_eq!(line["identity"], "os-user");
                assert!(!line["user"].as_str().unwrap().is_empty());
            }
        }
        assert_eq!(line["ref"], "refs/heads/feature-b");
        assert_eq!(line["commit"], commit.as_str());
        assert_eq!(line["path"], "b.env");
        assert_eq!(line["reason"], "test fixtures, rolled");
        assert_eq!(line["fingerprint"], fp.as_str());
        assert!(line["rule"].as_str().unwrap().contains("live"));
        assert!(line["time"].as_str().unwrap().ends_with('Z'));
    }
    assert!(!audit.contains(&secret[8..]) && !audit.contains(&other[8..]));
    assert!(
        !audit.contains("Test Author"),
        "the commit author is not the pusher"
    );
}

pub fn deadline_overrun_is_rejected(s: &Server, url: &str) {
    s.set_policy("[server]\ntime_limit = 0.000001\n");
    s.branch("feature-d");
    let commit = s.commit_file("d.txt", "clean, but not checked in time\n", "d");
    let run = s.push(url, &["feature-d"]);
    assert_ne!(run.code(), 0, "{}", run.all());
    run.contains("remote: keyward: error: the check of this push did not finish within")
        .contains("server.time_limit");
    assert_eq!(s.server_ref("refs/heads/feature-d"), None);
    assert!(!s.has_object(&commit));
    s.set_policy("");
    s.push(url, &["-q", "feature-d"]).ok();
}

macro_rules! over_file_url {
    ($($name:ident),* $(,)?) => {$(
        #[test]
        fn $name() {
            let s = Server::new();
            super::$name(&s, &s.url());
        }
    )*};
}

mod file_url {
    use super::Server;
    over_file_url!(
        key_in_a_new_branch,
        key_in_a_force_push,
        key_in_a_commit_message,
        key_in_an_annotated_tag,
        clean_push_passes,
        pushed_config_cannot_weaken_the_policy,
        push_option_bypass_is_audited,
        deadline_overrun_is_rejected,
    );
}

#[test]
fn deleted_refs_and_refs_to_existing_commits_add_nothing() {
    let s = Server::new();
    s.branch("old");
    let secret = key("sk_live_", 99);
    let commit = s.commit_file("k.txt", &format!("{secret}\n"), "before the hook");
    // Pushed before keyward guarded the server.
    std::fs::rename(s.bare.join("hooks/pre-receive"), s.bare.join("hooks/off")).unwrap();
    s.push(&s.url(), &["-q", "old"]).ok();
    std::fs::rename(s.bare.join("hooks/off"), s.bare.join("hooks/pre-receive")).unwrap();
    // A new ref at a commit the server has adds no commit; a deletion adds none.
    s.push(&s.url(), &[&format!("{commit}:refs/heads/copy")])
        .ok()
        .lacks("keyward");
    s.push(&s.url(), &[":refs/heads/old", ":refs/heads/copy"])
        .ok()
        .lacks("keyward");
    assert_eq!(s.server_ref("refs/heads/old"), None);
}

#[test]
fn a_key_in_git_notes_is_rejected() {
    let s = Server::new();
    let secret = key("sk_live_", 99);
    s.client
        .git(&[
            "notes",
            "add",
            "-m",
            &format!("deploy key {secret}"),
            "main",
        ])
        .ok();
    let run = rejected(
        s.push(&s.url(), &["refs/notes/commits"]),
        &secret,
        "keyward: push rejected",
    );
    // Notes sit at a path named by the annotated commit.
    let main = s.client.git(&["rev-parse", "main"]).stdout();
    run.contains(main.trim());
    assert_eq!(s.server_ref("refs/notes/commits"), None);
}

#[test]
fn a_key_in_a_blob_a_tag_names_directly_is_rejected() {
    let s = Server::new();
    let secret = key("sk_live_", 99);
    let blob_file = s.client.scratch("b").join("blob");
    std::fs::write(&blob_file, format!("{secret}\n")).unwrap();
    let blob = s
        .client
        .git(&["hash-object", "-w", blob_file.to_str().unwrap()])
        .ok()
        .stdout();
    s.client.git(&["tag", "raw", blob.trim()]).ok();
    rejected(
        s.push(&s.url(), &["refs/tags/raw"]),
        &secret,
        "(refs/tags/raw names a blob)",
    );
}

#[test]
fn inline_markers_count_only_where_the_policy_says() {
    let s = Server::new();
    s.branch("marked");
    let secret = key("sk_live_", 99);
    s.commit_file(
        "fixture.py",
        &format!("k = '{secret}'  # keyward:allow\n"),
        "fixture",
    );
    rejected(s.push(&s.url(), &["marked"]), &secret, "fixture.py:1:")
        .contains("inline allow markers do not count here");
    s.set_policy("[server]\ninline_markers = true\n");
    s.push(&s.url(), &["marked"])
        .ok()
        .contains("let through by an inline allow marker")
        .no_leak(&secret);
}

#[test]
fn no_bypass_unless_the_policy_allows_one() {
    let s = Server::new();
    s.branch("nobypass");
    let secret = key("sk_live_", 99);
    s.commit_file("n.txt", &format!("{secret}\n"), "n");
    let first = rejected(s.push(&s.url(), &["nobypass"]), &secret, "n.txt:1:1");
    let fp: String = first
        .stderr()
        .split("fingerprint ")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    rejected(
        s.push(
            &s.url(),
            &[
                "-o",
                &format!("keyward.allow={fp}"),
                "-o",
                "keyward.reason=please",
                "nobypass",
            ],
        ),
        &secret,
        "n.txt:1:1",
    )
    .contains("this server's policy allows no bypass");
    // A policy that allows bypasses must name where they are recorded.
    s.set_policy("[server]\nallow_bypass = true\n");
    let run = s.push(&s.url(), &["nobypass"]);
    assert_ne!(run.code(), 0);
    run.contains("need audit_log").no_leak(&secret);
}

#[test]
fn an_overrun_the_policy_accepts_is_audited() {
    let s = Server::new();
    s.set_policy(
        "[server]\ntime_limit = 0.000001\non_timeout = \"accept\"\naudit_log = \"audit.log\"\n",
    );
    s.branch("late");
    let commit = s.commit_file("late.txt", "late\n", "late");
    s.push_env(&s.url(), &["late"], &[("REMOTE_USER", "bob")])
        .ok()
        .contains("let through UNCHECKED");
    assert_eq!(s.server_ref("refs/heads/late"), Some(commit));
    let audit = std::fs::read_to_string(s.admin_dir().join("audit.log")).unwrap();
    let line: serde_json::Value = serde_json::from_str(audit.trim()).unwrap();
    assert_eq!(line["event"], "timeout-accepted");
    assert_eq!(line["user"], "bob");
    assert_eq!(line["ref"], "refs/heads/late");
}

#[test]
fn a_missing_policy_file_rejects_the_push() {
    let s = Server::new();
    s.server_git(&["config", "keyward.config", "/nonexistent/keyward.toml"]);
    s.branch("nopolicy");
    s.commit_file("x.txt", "x\n", "x");
    let run = s.push(&s.url(), &["nopolicy"]);
    assert_ne!(run.code(), 0);
    run.contains("remote: keyward: error: /nonexistent/keyward.toml")
        .contains("the push is rejected")
        .lacks("--no-verify");
    assert_eq!(s.server_ref("refs/heads/nopolicy"), None);
}

#[test]
fn an_existing_pre_receive_hook_is_chained_with_the_same_input() {
    let s = Server::new();
    // Reinstall over a hook that was there first.
    s.install_text_hook();
    s.install()
        .ok()
        .contains("kept the existing pre-receive hook");
    s.install().ok();
    s.branch("chained");
    let secret = key("sk_live_", 99);
    let commit = s.commit_file("c.txt", &format!("{secret}\n"), "c");
    rejected(s.push(&s.url(), &["chained"]), &secret, "c.txt:1:1");
    let seen = std::fs::read_to_string(s.admin_dir().join("seen")).unwrap();
    assert!(
        seen.contains(&format!("{commit} refs/heads/chained")),
        "{seen}"
    );
    // Uninstalling restores it.
    let script = format!("{SRC_DIR}/install.sh");
    s.client
        .run_in(
            &s.client.root,
            "sh",
            &[&script, "--server", s.bare.to_str().unwrap(), "--uninstall"],
            &[],
        )
        .ok()
        .contains("restored");
    let hook = std::fs::read_to_string(s.bare.join("hooks/pre-receive")).unwrap();
    assert!(hook.contains("seen") && !hook.contains("keyward-hook"));
}

impl Server {
    fn install_text_hook(&self) {
        let hooks = self.bare.join("hooks/pre-receive");
        let ours = std::fs::read_to_string(&hooks).unwrap();
        assert!(ours.contains("# keyward-hook"));
        std::fs::remove_file(&hooks).unwrap();
        write_executable(
            &hooks,
            &format!(
                "#!/bin/sh\ncat >> '{}'\nexit 0\n",
                self.admin_dir().join("seen").display()
            ),
        );
    }
}

pub fn write_executable(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_bad_server_table_is_named_with_its_line() {
    let s = Server::new();
    s.set_policy("[server]\ntime_limit = -1\n");
    s.branch("badpolicy");
    s.commit_file("x.txt", "x\n", "x");
    let run = s.push(&s.url(), &["badpolicy"]);
    assert_ne!(run.code(), 0);
    run.contains("keyward.toml:2:")
        .contains("server.time_limit");
    s.set_policy("[server]\nallow_everything = true\n");
    let run = s.push(&s.url(), &["badpolicy"]);
    assert_ne!(run.code(), 0);
    run.contains("unknown field");
    assert_eq!(s.server_ref("refs/heads/badpolicy"), None);
}

/// Every file under `dir`, with its size and modification time.
fn listing(dir: &Path) -> Vec<(PathBuf, u64, std::time::SystemTime)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let entry = entry.unwrap();
            let meta = entry.metadata().unwrap();
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                out.push((entry.path(), meta.len(), meta.modified().unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_rejected_push_leaves_the_repository_as_it_was() {
    let s = Server::new();
    s.set_policy("[server]\nallow_bypass = true\naudit_log = \"audit.log\"\n");
    s.branch("untouched");
    let secret = key("sk_live_", 99);
    s.commit_file("u.txt", &format!("{secret}\n"), "u");
    let before = listing(&s.bare);
    rejected(s.push(&s.url(), &["untouched"]), &secret, "u.txt:1:1");
    rejected(
        s.push(
            &s.url(),
            &[
                "-o",
                "keyward.allow=0123456789abcdef",
                "-o",
                "keyward.reason=x",
                "untouched",
            ],
        ),
        &secret,
        "u.txt:1:1",
    );
    assert_eq!(listing(&s.bare), before);
    assert!(!s.admin_dir().join("audit.log").exists());
}

#[test]
fn a_pre_receive_d_directory_as_gitea_and_gitlab_run_it() {
    let s = Server::new();
    // Their dispatcher: every executable in pre-receive.d, each given the ref
    // lines on standard input.
    std::fs::remove_file(s.bare.join("hooks/pre-receive")).unwrap();
    write_executable(
        &s.bare.join("hooks/pre-receive"),
        "#!/bin/sh\ndata=$(cat)\nfor h in \"$(dirname \"$0\")\"/pre-receive.d/*; do\n    [ -x \"$h\" ] || continue\n    printf '%s\\n' \"$data\" | \"$h\" || exit $?\ndone\n",
    );
    let dir = s.bare.join("hooks/pre-receive.d");
    std::fs::create_dir(&dir).unwrap();
    let script = format!("{SRC_DIR}/install.sh");
    s.client
        .run_in(
            &s.client.root,
            "sh",
            &[&script, "--bin", KEYWARD, "--server", dir.to_str().unwrap()],
            &[],
        )
        .ok()
        .contains("pre-receive.d/keyward");
    s.branch("dispatched");
    let secret = key("sk_live_", 99);
    s.commit_file("d.txt", &format!("{secret}\n"), "d");
    rejected(
        s.push_env(&s.url(), &["dispatched"], &[("GITEA_PUSHER_NAME", "carol")]),
        &secret,
        "d.txt:1:1",
    );
    assert_eq!(s.server_ref("refs/heads/dispatched"), None);
}

#[test]
fn a_bypassed_key_added_twice_is_audited_for_each_commit() {
    // A key added, deleted and added again is one finding with two commits:
    // both reach the repository, so both are in the audit log.
    let s = Server::new();
    s.set_policy("[server]\nallow_bypass = true\naudit_log = \"audit.log\"\n");
    s.branch("again");
    let secret = key("sk_live_", 99);
    let first = s.commit_file("k.env", &format!("K={secret}\n"), "add");
    s.commit_file("k.env", "K=\n", "remove");
    let last = s.commit_file("k.env", &format!("K={secret}\n"), "add again");
    let run = rejected(s.push(&s.url(), &["again"]), &secret, "k.env:1:3");
    let fingerprint: String = run
        .stderr()
        .split("fingerprint ")
        .nth(1)
        .map(|rest| rest.chars().take_while(char::is_ascii_hexdigit).collect())
        .unwrap_or_default();
    assert!(!fingerprint.is_empty(), "{}", run.stderr());
    let allow = format!("keyward.allow={fingerprint}");
    s.push(
        &s.url(),
        &["-o", &allow, "-o", "keyward.reason=rolled", "again"],
    )
    .ok()
    .no_leak(&secret);
    let audit = std::fs::read_to_string(s.admin_dir().join("audit.log")).unwrap();
    let commits: Vec<String> = audit
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["commit"].to_string())
        .collect();
    assert_eq!(commits.len(), 2, "{audit}");
    assert!(audit.contains(&first) && audit.contains(&last), "{audit}");
    assert!(audit.contains("refs/heads/again"), "{audit}");
    assert!(!audit.contains(&secret[8..]));
}

#[test]
fn a_tree_a_ref_names_is_not_checked_and_the_pusher_is_sent_to_the_admins() {
    // keyward does not walk a tree a ref names: it is named as not checked, the
    // push is rejected (exit 2), and the advice is the server's, not a setting
    // the pusher could change (the server reads no pushed config).
    let s = Server::new();
    let tree = s.client.git(&["rev-parse", "HEAD^{tree}"]).ok().stdout();
    s.client.git(&["tag", "rawtree", tree.trim()]).ok();
    let run = s.push(&s.url(), &["refs/tags/rawtree"]);
    assert_ne!(run.code(), 0, "{}", run.all());
    run.contains("ask its administrators")
        .lacks(".keyward.toml");
    assert_eq!(s.server_ref("refs/tags/rawtree"), None);
}

#[test]
fn a_push_option_in_any_script_is_named_not_a_crash() {
    // The pusher writes push options: a multi-byte character where the warning
    // cuts the name short must not split it (a panic is rejected too, but says
    // nothing useful).
    let s = Server::new();
    s.set_policy("[server]\nallow_bypass = true\naudit_log = \"audit.log\"\n");
    s.branch("odd");
    let secret = key("sk_live_", 99);
    s.commit_file("o.env", &format!("K={secret}\n"), "key");
    let run = s.push(
        &s.url(),
        &[
            "-o",
            "keyward.allow=aééééééééé",
            "-o",
            "keyward.reason=x",
            "odd",
        ],
    );
    rejected(run, &secret, "o.env:1:3")
        .contains("which is no blocking finding of this push")
        .lacks("internal error");
}
