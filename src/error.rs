//! Everything that stops keyward from checking. Each variant names the object at
//! fault; the caller prints it once and exits 2, so a hook that cannot check fails
//! closed.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not inside a git repository ({0})")]
    NotARepository(String),

    #[error("{what}: {source}")]
    Git {
        what: String,
        #[source]
        source: git2::Error,
    },

    #[error("built-in rule catalogue is invalid: {0}")]
    Catalogue(String),

    #[error("rule '{id}': {message}")]
    Rule { id: String, message: String },

    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub fn git(what: impl Into<String>, source: git2::Error) -> Error {
        Error::Git {
            what: what.into(),
            source,
        }
    }

    /// The second line of the error report: what the person at the keyboard can do.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Error::NotARepository(_) => Some("run keyward from inside a git work tree, or set GIT_DIR"),
            Error::Git { .. } => Some(
                "the commit is blocked because keyward could not check it; run `git fsck` and retry",
            ),
            Error::Catalogue(_) | Error::Rule { .. } => {
                Some("this is a bug in keyward's built-in rules; please report it")
            }
            Error::Io { .. } => None,
        }
    }
}
