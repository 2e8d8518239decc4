//! Everything that stops keyward from checking. Each variant names the object at
//! fault; the caller prints it once and exits 2, so a hook that cannot check fails
//! closed.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not inside a git repository ({0})")]
    NotARepository(String),

    /// A command that needs a work tree, run in a bare repository or outside any
    /// repository. The message itself says what works instead, so no hint: the
    /// generic "set GIT_DIR" would not help.
    #[error("{0}")]
    NeedsWorkTree(String),

    /// A repository operation failed; built in `git`, which owns libgit2's errors.
    #[error("{what}: {cause}")]
    Git { what: String, cause: String },

    #[error("built-in rule catalogue is invalid: {0}")]
    Catalogue(String),

    #[error("{origin}:{line}:{column}: rule '{id}': {message}")]
    Rule {
        origin: String,
        /// The rule is one of keyward's own: a bug, not the user's to fix.
        builtin: bool,
        line: usize,
        column: usize,
        id: String,
        message: String,
    },

    #[error("{}:{line}:{column}: {message}", path.display())]
    Config {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },

    #[error("{0}")]
    Usage(String),

    /// A repository keyward cannot read: it blocks rather than pass unchecked.
    #[error("{0}")]
    Unsupported(String),

    /// A file the command was given to read: the message says which role it
    /// plays, so a missing one is recognisable.
    #[error("reading {what} {}: {source}", path.display())]
    Read {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// `keyward fix` could not apply its plan; `what` says what was left.
    #[error("{what}: {cause}")]
    Fix { what: String, cause: String },

    /// The server refuses a push it could not decide on (its check overran,
    /// its audit log cannot be written).
    #[error("{0}")]
    Rejected(String),

    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// The second line of the error report: what the person at the keyboard can
    /// do, only where the first line does not already say it (README, "Exit
    /// status").
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Error::NotARepository(_) => Some("run keyward from inside a git work tree, or set GIT_DIR"),
            Error::Git { .. } => Some(
                "keyward could not check, so this is blocked; fix the cause above (or skip all hooks once with --no-verify)",
            ),
            Error::Catalogue(_) => {
                Some("this is a bug in keyward's built-in rules; please report it")
            }
            Error::Rule { builtin: true, .. } => {
                Some("this is a bug in keyward's built-in rules; please report it")
            }
            // The first line already places the mistake at its file, line and
            // column: fixing it there is the fix, so nothing more is said.
            Error::Rule { .. } | Error::Config { .. } => None,
            Error::Usage(_) => Some("see `keyward --help`"),
            Error::Unsupported(_) => Some(
                "this is blocked; until keyward reads it, skip the hook once with --no-verify and check the change by hand",
            ),
            Error::Fix { .. } => Some("fix the cause above and run keyward fix again"),
            Error::NeedsWorkTree(_) | Error::Read { .. } | Error::Rejected(_) | Error::Io { .. } => {
                None
            }
        }
    }
}
