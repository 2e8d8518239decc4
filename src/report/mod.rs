//! Report formats: human, JSON and SARIF, each a module rendering the same
//! [`Report`] of owned findings behind the [`Render`] trait; a new format is a new
//! module and one line in [`renderer`]. Reports never call back into checking. No
//! format ever sees a secret in full: findings carry `Secret`, whose only printable
//! form is redacted.

pub mod catalogue;
pub mod human;
pub mod idiom;
pub mod json;
pub mod sarif;

/// One output format.
pub trait Render {
    fn render(&self, report: &Report) -> String;
    /// Whether the document goes to stdout (machine formats) rather than stderr,
    /// where git shows a hook's words to the person.
    fn to_stdout(&self) -> bool;
}

/// The format named on the command line.
pub fn renderer(format: crate::cli::Format, color: Color) -> Box<dyn Render> {
    use crate::cli::Format;
    match format {
        Format::Human => Box::new(human::Human(color)),
        Format::Json => Box::new(json::Json),
        Format::Sarif => Box::new(sarif::Sarif),
    }
}

use crate::pipeline::Results;
use crate::rules::Catalogue;

/// What the person was doing when keyward stopped them: the remediation differs
/// between a key that is only staged and one already in history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A pre-commit check: nothing has been committed yet.
    Staged {
        head_unborn: bool,
        how: StagedBy,
        /// Run by the pre-commit framework, whose SKIP variable is the narrow
        /// way past one hook.
        framework: bool,
        /// `keyward fix` would fix every blocking key, so the report offers it.
        fixable: bool,
    },
    /// Files on disk.
    Files,
    /// Commits already made.
    History,
    /// Commits made but not yet pushed.
    PrePush,
    /// Commits a git server has received, not yet accepted.
    PreReceive {
        /// Whether the server lets named findings through by push option.
        bypass: bool,
        /// Whether inline allow markers count on the server.
        markers: bool,
    },
    /// A commit message about to be recorded.
    CommitMsg,
    /// A merge about to be committed: the commits it brings in.
    Merge,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Staged { .. } => "staged",
            Mode::Files => "files",
            Mode::History => "history",
            Mode::PrePush => "pre-push",
            Mode::PreReceive { .. } => "pre-receive",
            Mode::CommitMsg => "commit-msg",
            Mode::Merge => "merge",
        }
    }
}

/// How the changes being committed were staged: the advice differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StagedBy {
    /// `git add`, then `git commit`: the index.
    Index,
    /// `git commit -a` or `git commit <paths>`: a temporary index git builds
    /// from the working tree, which `git restore --staged` does not touch.
    TemporaryIndex,
    /// Concluding a merge: the keys came in from the other branch's commits.
    Merge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Color {
    Always,
    Never,
}

pub struct Report<'a> {
    pub mode: Mode,
    pub results: &'a Results,
    pub catalogue: &'a Catalogue,
    pub warnings: &'a [String],
}

impl Report<'_> {
    pub fn blocked(&self) -> bool {
        self.results.findings.iter().any(|f| f.blocks())
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` for seconds since the epoch (UTC), without a date crate.
pub fn iso8601(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn iso8601_dates() {
        assert_eq!(super::iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::iso8601(1_767_225_600), "2026-01-01T00:00:00Z");
        assert_eq!(super::iso8601(951_782_400), "2000-02-29T00:00:00Z");
    }
}
