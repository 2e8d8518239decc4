//! Golden files for the three report formats on one fixed scenario: keys from a
//! fixed seed, fixed commit dates, temporary paths normalised. Any change to what
//! keyward prints is then a reviewed diff of `tests/golden/`. After an intended
//! change: `KEYWARD_BLESS=1 cargo test golden` rewrites them.

use std::path::PathBuf;

use crate::util::{seeded_key, Repo, SRC_DIR};

fn scenario() -> (Repo, Vec<String>) {
    let repo = Repo::without_hook();
    let keys = vec![
        seeded_key(1, "sk_live_", 99),
        seeded_key(2, "rk_live_", 24),
        seeded_key(3, "whsec_", 32),
    ];
    repo.write("README.md", "a fixed scenario\n");
    repo.commit_unchecked("init");
    repo.write(
        "src/pay.py",
        format!("import stripe\nstripe.api_key = \"{}\"\n", keys[0]),
    );
    repo.commit_unchecked("pay");
    let mut bin = vec![0u8, 1, 2, 3];
    bin.extend_from_slice(keys[1].as_bytes());
    repo.write("assets/blob.bin", bin);
    repo.write("dir with space/ünï.txt", format!("webhook: {}\n", keys[2]));
    (repo, keys)
}

fn check(name: &str, actual: &str) {
    let path = PathBuf::from(SRC_DIR).join("tests/golden").join(name);
    if std::env::var_os("KEYWARD_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run `KEYWARD_BLESS=1 cargo test golden` to create it",
            path.display()
        )
    });
    if expected != actual {
        let first = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(expected.lines().count().min(actual.lines().count()));
        panic!(
            "{} differs from the golden file at line {}:\n  golden: {:?}\n  actual: {:?}\n\
             If the change is intended: KEYWARD_BLESS=1 cargo test golden, and review the diff.",
            path.display(),
            first + 1,
            expected.lines().nth(first).unwrap_or(""),
            actual.lines().nth(first).unwrap_or("")
        );
    }
}

fn normalise(repo: &Repo, text: &str) -> String {
    text.replace(repo.root.to_str().unwrap(), "<repo>")
        .replace(env!("CARGO_PKG_VERSION"), "<version>")
}

#[test]
fn reports_match_their_golden_files() {
    let (repo, keys) = scenario();
    // Staged: the block message a person sees.
    repo.git(&["add", "-A"]).ok();
    let staged = repo.keyward(&["--color", "never"]).code_is(1);
    for format in ["json", "sarif"] {
        let run = repo.keyward(&["--format", format]).code_is(1);
        for k in &keys {
            run.no_leak_ref(k);
        }
        check(
            &format!("staged.{format}"),
            &normalise(&repo, &run.stdout()),
        );
    }
    for k in &keys {
        staged.no_leak_ref(k);
    }
    check("staged.txt", &normalise(&repo, &staged.stderr()));
    // History: commits, dates and the history wording.
    repo.commit_unchecked("assets");
    let history = repo.keyward(&["history", "--color", "never"]).code_is(1);
    for k in &keys {
        history.no_leak_ref(k);
    }
    check("history.txt", &normalise(&repo, &history.stderr()));
    for format in ["json", "sarif"] {
        let run = repo.keyward(&["history", "--format", format]).code_is(1);
        for k in &keys {
            run.no_leak_ref(k);
        }
        check(
            &format!("history.{format}"),
            &normalise(&repo, &run.stdout()),
        );
    }
}
