//! The command line.

use clap::{Parser, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "keyward",
    version,
    about = "Stops secret API keys from being committed.",
    long_about = "Stops secret API keys from being committed.\n\n\
        With no arguments, or with --staged, keyward checks what is staged for the next \
        commit: what its pre-commit hook runs.\n\n\
        Exit status: 0 nothing found, 1 a secret was found (the commit is blocked), \
        2 keyward could not check (the commit is blocked too)."
)]
pub struct Cli {
    /// Check the changes staged for commit (the default; what the hook runs).
    #[arg(long)]
    pub staged: bool,

    /// When to colour the report.
    #[arg(long, value_enum, default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    Always,
    Never,
}
