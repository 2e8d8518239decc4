//! What `keyward history` and pre-push say about commits: progress on a terminal,
//! one finding per key however many commits added it, whether each of those
//! commits is only local, pushed or tagged, and how history differs from scan.

use crate::util::{Repo, KEYWARD};

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
    let mut child = std::process::Command::new("git")
        .args(["fast-import", "--quiet"])
        .current_dir(&repo.root)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("git fast-import runs");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stream.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success(), "fast-import failed");
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
