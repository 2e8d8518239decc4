//! A finding: a confirmed secret placed in a file. The common currency between the
//! input sources (staged changes, later files and history) and the report formats.

use crate::rules::Severity;
use crate::secret::Secret;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// 1-based line and character column in a text file.
    Text { line: usize, column: usize },
    /// Byte offset in a binary file, where lines mean nothing.
    Binary { offset: usize },
}

#[derive(Debug, Clone)]
pub struct Finding {
    /// Index of the rule in the catalogue.
    pub rule: usize,
    pub severity: Severity,
    /// Path as git stores it: bytes, not necessarily UTF-8.
    pub path: Vec<u8>,
    pub location: Location,
    pub secret: Secret,
}

impl Finding {
    pub fn blocks(&self) -> bool {
        self.severity == Severity::Block
    }
}
