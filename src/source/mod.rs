//! Input sources: each turns one place secrets can hide into [`Blob`]s with their
//! appearances, for the pipeline. Staged changes (the pre-commit hook), files on
//! disk, commits (history and pre-push), what a push brings to a server, and
//! commit messages. A source decides what
//! is new where; it never scans, allowlists or baselines anything itself.
//!
//! [`Blob`]: crate::pipeline::Blob

pub mod files;
pub mod history;
pub mod message;
pub mod push;
pub mod staged;
