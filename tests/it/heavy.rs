//! Huge input, at the sizes the README promises. Slow (minutes, gigabytes of
//! disk), so not in the default run: `cargo test --release -- --ignored` (CI runs
//! them).

use crate::util::{key, Repo};

#[test]
#[ignore = "heavy: run with --ignored"]
fn one_gigabyte_staged_file() {
    let repo = Repo::without_hook();
    let secret = key("sk_live_", 99);
    let line = "0123456789abcdef".repeat(4096) + "\n";
    let mut text = String::with_capacity(1 << 30);
    while text.len() < (1 << 30) {
        text.push_str(&line);
    }
    text.push_str(&format!("STRIPE={secret}\n"));
    let lines = text.matches('\n').count();
    repo.write("huge.txt", &text);
    drop(text);
    repo.git(&["add", "huge.txt"]).ok();
    repo.keyward(&[])
        .code_is(1)
        .contains(&format!("huge.txt:{lines}:8"))
        .no_leak(&secret);
}

#[test]
#[ignore = "heavy: run with --ignored"]
fn one_hundred_megabyte_line() {
    let repo = Repo::without_hook();
    let secret = key("rk_live_", 99);
    let mut text = "a=1;".repeat(25_000_000);
    text.push_str(&secret);
    repo.write("one-line.min.js", &text);
    repo.git(&["add", "."]).ok();
    repo.keyward(&[])
        .code_is(1)
        .contains(&format!("one-line.min.js:1:{}", 100_000_001))
        .no_leak(&secret);
}

#[test]
#[ignore = "heavy: run with --ignored"]
fn one_hundred_thousand_staged_files() {
    let repo = Repo::without_hook();
    let secret = key("sk_live_", 99);
    for i in 0..100_000 {
        let dir = format!("d{}/e{}", i % 100, i % 1000);
        let body = if i == 77_777 {
            format!("k={secret}\n")
        } else {
            format!("file {i}\n")
        };
        repo.write(&format!("{dir}/f{i}.txt"), body);
    }
    repo.git(&["add", "."]).ok();
    repo.keyward(&[])
        .code_is(1)
        .contains("f77777.txt:1:3")
        .no_leak(&secret);
    repo.install(&[]).ok();
    repo.commit(&[]).code_is(1);
}
