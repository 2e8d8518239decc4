//! Input sources: each turns one place secrets can hide into blobs for the checker.
//! Staged changes (the pre-commit hook), files on disk, commits (history and
//! pre-push) and commit messages.

pub mod files;
pub mod history;
pub mod message;
pub mod staged;
