//! The command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "keyward",
    version,
    about = "Stops secret API keys from being committed and pushed.",
    long_about = "Stops secret API keys from being committed and pushed.\n\n\
        With no command, or with --staged, keyward checks what is staged for the next \
        commit: what its pre-commit hook runs.\n\n\
        Exit status, in every mode: 0 nothing blocking found, 1 a secret was found \
        (the commit or push is blocked), 2 keyward could not check (blocked too)."
)]
pub struct Cli {
    /// Check the changes staged for commit (the default; what the hook runs).
    #[arg(long)]
    pub staged: bool,

    #[command(flatten)]
    pub common: Common,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Args, Clone)]
pub struct Common {
    /// Configuration file (keyward's, or a gitleaks TOML config to import).
    /// Default: .keyward.toml at the repository root, when present.
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Baseline of reviewed findings to ignore. Default: .keyward-baseline.json at
    /// the repository root, when present.
    #[arg(long, global = true, value_name = "PATH")]
    pub baseline: Option<PathBuf>,

    /// Report format: human (to stderr), json or sarif (to stdout).
    #[arg(long, global = true, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// Write the report to this file instead.
    #[arg(long, global = true, value_name = "PATH")]
    pub report: Option<PathBuf>,

    /// When to colour the human report.
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files on disk (the working tree by default), respecting .gitignore.
    Scan {
        /// Files or directories to scan.
        paths: Vec<PathBuf>,
        /// Also scan files that .gitignore and friends exclude.
        #[arg(long)]
        no_ignore: bool,
    },
    /// Scan what every commit in a range added (default: all reachable history).
    History {
        /// A revision (`main`, `HEAD~10`) or range (`v1.0..HEAD`, `a...b`).
        range: Option<String>,
    },
    /// The pre-push hook: scan the commits a push would add to the remote.
    PrePush {
        /// Remote name, as git passes it to the hook.
        remote: Option<String>,
        /// Remote URL, as git passes it to the hook.
        url: Option<String>,
    },
    /// The pre-receive hook of a git server: reads `<old> <new> <ref>` lines,
    /// checks what the push adds under the server's policy (git config
    /// keyward.config, or --config), and rejects it with a report the pusher sees.
    PreReceive,
    /// The commit-msg hook: a key pasted into the commit message blocks the commit.
    CommitMsg {
        /// The file holding the message (git passes .git/COMMIT_EDITMSG).
        file: PathBuf,
    },
    /// The pre-merge-commit hook: scan the commits a merge brings in. Keys in
    /// commits already on a remote-tracking ref are reported without blocking.
    PreMergeCommit,
    /// Write a baseline of the current findings, so later runs ignore them.
    Baseline {
        /// Where to write it. Default: .keyward-baseline.json at the top of the
        /// work tree, where later runs read it.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Baseline the findings of all history rather than of the working tree.
        #[arg(long)]
        history: bool,
        /// Record this finding too, though it is a provider key or private key
        /// (by default those are refused: roll them instead). Repeatable; the
        /// fingerprint is the one `keyward baseline` prints when it refuses.
        #[arg(long, value_name = "FINGERPRINT")]
        accept: Vec<String>,
    },
    /// Fix the blocking findings in the staged changes: each key moves to a
    /// git-ignored env file and the code reads it from the environment. Shows the
    /// change (keys redacted) and asks first. The one command that changes the
    /// working tree and the index (and writes the env file and .gitignore).
    Fix {
        /// Fix files on disk instead of the staged changes (after a blocked
        /// `git commit -a` or `git commit <path>`); with no path, the working tree.
        #[arg(long, num_args = 0.., value_name = "PATH")]
        files: Option<Vec<PathBuf>>,
        /// Apply without asking.
        #[arg(long, conflicts_with = "dry_run")]
        yes: bool,
        /// Only show what would change.
        #[arg(long)]
        dry_run: bool,
        /// The env file the keys move to. Default: `[fix] env_file` in
        /// .keyward.toml, else .env at the top of the work tree.
        #[arg(long, value_name = "PATH")]
        env_file: Option<PathBuf>,
    },
    /// Inspect the rules.
    Rules {
        #[command(subcommand)]
        action: RulesAction,
    },
    /// Print a shell completion script (install.sh installs one for each shell
    /// it finds on the machine).
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `keyward man > keyward.1`.
    #[command(hide = true)]
    Man,
}

#[derive(Debug, Subcommand)]
pub enum RulesAction {
    /// List the rules in effect (built-ins plus configuration).
    List,
    /// Run every rule's examples and negative examples; exit 1 on any failure.
    Check,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Sarif,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    Always,
    Never,
}
