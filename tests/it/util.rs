//! Test harness: isolated real git repositories, the installed hook, and fake keys in
//! real formats generated at run time (random, never real, never literals here).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU64, Ordering};

pub const KEYWARD: &str = env!("CARGO_BIN_EXE_keyward");
pub const SRC_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// A random base62 string: a key body in Stripe's alphabet.
pub fn base62(len: usize) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut state =
        nanos ^ (COUNTER.fetch_add(1, Ordering::Relaxed) << 32) ^ u64::from(std::process::id());
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    (0..len)
        .map(|_| {
            // xorshift64*: plenty for test data, no dependency.
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            let r = state.wrapping_mul(0x2545_F491_4F6C_DD1D);
            ALPHABET[(r >> 58) as usize % ALPHABET.len()] as char
        })
        .collect()
}

/// A fake key in a real format, e.g. `key("sk_live_", 99)`.
pub fn key(prefix: &str, body: usize) -> String {
    format!("{prefix}{}", base62(body))
}

/// An isolated repository: its own HOME and config, no system config, fixed identity.
pub struct Repo {
    _tmp: tempfile::TempDir,
    pub root: PathBuf,
    home: PathBuf,
}

/// What a command printed, with the command for failure messages.
pub struct Run {
    pub cmd: String,
    pub out: Output,
}

impl Run {
    pub fn code(&self) -> i32 {
        self.out.status.code().unwrap_or(-1)
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout(), self.stderr())
    }
    fn describe(&self) -> String {
        format!(
            "command: {}\nstatus: {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.cmd,
            self.out.status,
            self.stdout(),
            self.stderr()
        )
    }
    #[track_caller]
    pub fn ok(self) -> Run {
        assert!(
            self.out.status.success(),
            "expected success\n{}",
            self.describe()
        );
        self
    }
    #[track_caller]
    pub fn code_is(self, code: i32) -> Run {
        assert_eq!(self.code(), code, "unexpected status\n{}", self.describe());
        self
    }
    /// The full secret must appear nowhere in what was printed.
    #[track_caller]
    pub fn no_leak(self, secret: &str) -> Run {
        self.no_leak_ref(secret);
        self
    }

    #[track_caller]
    pub fn no_leak_ref(&self, secret: &str) {
        let body = &secret[secret.len() - 12..];
        assert!(
            !self.all().contains(body),
            "output contains (part of) the secret\n{}",
            self.describe()
        );
    }
    #[track_caller]
    pub fn contains(self, text: &str) -> Run {
        assert!(
            self.all().contains(text),
            "expected {text:?} in output\n{}",
            self.describe()
        );
        self
    }
    #[track_caller]
    pub fn contains_ref(&self, text: &str) {
        assert!(
            self.all().contains(text),
            "expected {text:?} in output\n{}",
            self.describe()
        );
    }
    #[track_caller]
    pub fn lacks(self, text: &str) -> Run {
        assert!(
            !self.all().contains(text),
            "did not expect {text:?} in output\n{}",
            self.describe()
        );
        self
    }
}

impl Repo {
    /// A new repository with keyward's hook installed through install.sh.
    pub fn new() -> Repo {
        let repo = Repo::bare_init(&[]);
        repo.install(&[]).ok();
        repo
    }

    /// A new repository without the hook.
    pub fn without_hook() -> Repo {
        Repo::bare_init(&[])
    }

    fn bare_init(args: &[&str]) -> Repo {
        let tmp = tempfile::tempdir().expect("temp dir");
        let home = tmp.path().join("home");
        let root = tmp.path().join("repo");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(&root).unwrap();
        let repo = Repo {
            _tmp: tmp,
            root,
            home,
        };
        let mut init = vec!["init", "-q"];
        init.extend_from_slice(args);
        repo.git(&init).ok();
        repo
    }

    /// The repository's own HOME, where install.sh puts completions and the man
    /// page by default.
    pub fn home(&self) -> &Path {
        &self.home
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// A scratch directory beside the repository.
    pub fn scratch(&self, name: &str) -> PathBuf {
        let p = self.root.parent().unwrap().join(name);
        std::fs::create_dir_all(&p).unwrap();
        p
    }

    fn command(&self, program: &str, dir: &Path) -> Command {
        let mut c = Command::new(program);
        c.current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", self.home.join(".gitconfig"))
            .env("GIT_AUTHOR_NAME", "Test Author")
            .env("GIT_AUTHOR_EMAIL", "author@example.com")
            .env("GIT_COMMITTER_NAME", "Test Author")
            .env("GIT_COMMITTER_EMAIL", "author@example.com")
            .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
            .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
            .env("LANG", "C")
            .env("GIT_CONFIG_COUNT", "3")
            .env("GIT_CONFIG_KEY_0", "init.defaultBranch")
            .env("GIT_CONFIG_VALUE_0", "main")
            .env("GIT_CONFIG_KEY_1", "commit.gpgsign")
            .env("GIT_CONFIG_VALUE_1", "false")
            .env("GIT_CONFIG_KEY_2", "core.autocrlf")
            .env("GIT_CONFIG_VALUE_2", "false");
        if let Some(v) = std::env::var_os("CARGO_HOME") {
            c.env("CARGO_HOME", v);
        }
        if let Some(v) = std::env::var_os("RUSTUP_HOME") {
            c.env("RUSTUP_HOME", v);
        }
        c
    }

    /// A command in this repository's isolated environment, not yet run: for
    /// servers a test starts and stops itself.
    pub fn command_in(&self, dir: &Path, program: &str) -> Command {
        self.command(program, dir)
    }

    pub fn run_in(&self, dir: &Path, program: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut c = self.command(program, dir);
        c.args(args);
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c
            .output()
            .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
        Run {
            cmd: format!("(in {}) {program} {}", dir.display(), args.join(" ")),
            out,
        }
    }

    pub fn git(&self, args: &[&str]) -> Run {
        self.run_in(&self.root, "git", args, &[])
    }

    pub fn git_in(&self, dir: &Path, args: &[&str]) -> Run {
        self.run_in(dir, "git", args, &[])
    }

    /// keyward run by hand, as a person would.
    pub fn keyward(&self, args: &[&str]) -> Run {
        self.run_in(&self.root, KEYWARD, args, &[])
    }

    pub fn install(&self, args: &[&str]) -> Run {
        let script = format!("{SRC_DIR}/install.sh");
        let mut full = vec![script.as_str(), "--bin", KEYWARD];
        full.extend_from_slice(args);
        self.run_in(&self.root, "sh", &full, &[])
    }

    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) {
        let p = self.path(rel);
        if let Some(dir) = p.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(p, content).unwrap();
    }

    pub fn read(&self, rel: &str) -> Vec<u8> {
        std::fs::read(self.path(rel)).unwrap()
    }

    /// `git commit -m msg` plus `extra` arguments, through the installed hook.
    pub fn commit(&self, extra: &[&str]) -> Run {
        let mut args = vec!["commit", "-q", "-m", "change"];
        args.extend_from_slice(extra);
        self.git(&args)
    }

    /// Commits bypassing the hook: how history gets content the tests start from.
    pub fn commit_unchecked(&self, msg: &str) {
        self.git(&["add", "-A"]).ok();
        self.git(&["commit", "-q", "--no-verify", "-m", msg]).ok();
    }

    /// Feeds `stream` to `git fast-import` here: many commits, or shapes a
    /// worktree cannot hold, in one process.
    pub fn fast_import(&self, stream: &str) {
        use std::io::Write;
        let mut child = self
            .command("git", &self.root)
            .args(["fast-import", "--quiet"])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .expect("git fast-import runs");
        child
            .stdin
            .take()
            .expect("stdin is piped")
            .write_all(stream.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success(), "fast-import failed");
    }

    pub fn head(&self) -> Option<String> {
        let r = self.git(&["rev-parse", "-q", "--verify", "HEAD"]);
        r.out
            .status
            .success()
            .then(|| r.stdout().trim().to_string())
    }
}

/// A fake key from a fixed seed: the same on every run, for golden files. Only its
/// redacted form (kind prefix, last four) ever reaches a golden file.
pub fn seeded_key(seed: u64, prefix: &str, body: usize) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut state = seed ^ 0x9E37_79B9_7F4A_7C15;
    let mut out = String::from(prefix);
    for _ in 0..body {
        // splitmix64
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        out.push(ALPHABET[(z % ALPHABET.len() as u64) as usize] as char);
    }
    out
}
