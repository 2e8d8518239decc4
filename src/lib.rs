//! keyward: a git hook that stops secret API keys from being committed.
//!
//! Architecture: `git` reads what a commit would add through libgit2 and hands out
//! plain owned data; `rules` is the catalogue, data with its own examples; `scan`
//! finds secrets in bytes (one Aho-Corasick pass over every rule's keywords, then
//! the regex of a hit rule on that line only) and knows nothing of git; `staged`
//! joins the two for the pre-commit check; `report` renders findings, always with
//! the secret redacted. `run` returns an [`Outcome`]; `main` maps it to the exit
//! status: 0 clean, 1 blocking findings, 2 could not check.

pub mod cli;
pub mod error;
pub mod finding;
pub mod git;
pub mod report;
pub mod rules;
pub mod scan;
pub mod secret;
pub mod staged;

use std::io::{IsTerminal, Write};

use cli::{Cli, ColorWhen};
use error::Result;
use report::{Color, Stage};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing blocks (warnings may have been printed).
    Clean,
    /// At least one blocking finding.
    Blocked,
}

pub fn run(cli: &Cli) -> Result<Outcome> {
    let repo = git::Repo::open_from_env()?;
    let staged = repo.staged()?;
    if staged.changes.is_empty() {
        return Ok(Outcome::Clean);
    }
    let catalogue = rules::Catalogue::builtin()?;
    let scanner = scan::Scanner::new(&catalogue)?;
    let findings = staged::scan_staged(&repo, &staged, &scanner)?;
    let stage = Stage::Staged {
        head_unborn: staged.head_unborn,
    };
    let color = color_for(cli.color, std::io::stderr().is_terminal());
    let text = report::human::render(&findings, &catalogue, stage, color);
    if !text.is_empty() {
        // A hook's stderr is what git shows the person; a failed write must not
        // turn a block into a pass, so it is ignored, not propagated as success.
        let _ = std::io::stderr().write_all(text.as_bytes());
    }
    Ok(if findings.iter().any(|f| f.blocks()) {
        Outcome::Blocked
    } else {
        Outcome::Clean
    })
}

fn color_for(when: ColorWhen, is_terminal: bool) -> Color {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    match when {
        ColorWhen::Always => Color::Always,
        ColorWhen::Never => Color::Never,
        ColorWhen::Auto if is_terminal && !no_color => Color::Always,
        ColorWhen::Auto => Color::Never,
    }
}
