//! Report formats. Each format renders the same findings; none of them ever sees a
//! secret in full (findings carry `Secret`, whose only printable form is redacted).

pub mod human;
mod idiom;
mod text;

/// What the person was doing when keyward stopped them: the remediation differs
/// between a key that is only staged and one already in history.
#[derive(Debug, Clone, Copy)]
pub enum Stage {
    /// A pre-commit check: nothing has been committed yet.
    Staged { head_unborn: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Color {
    Always,
    Never,
}
