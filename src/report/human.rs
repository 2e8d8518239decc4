//! The report a person reads when git refuses their commit: where each secret is
//! (never the secret itself), then what to do, in order, for the state they are in.

use std::fmt::Write as _;

use super::idiom::load_from_env;
use super::text::{printable_path, shell_word};
use super::{Color, Stage};
use crate::finding::{Finding, Location};
use crate::rules::Catalogue;

const DEFAULT_ENV_VAR: &str = "API_KEY";

struct Paint(Color);

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        match self.0 {
            Color::Always => format!("\x1b[{code}m{text}\x1b[0m"),
            Color::Never => text.to_string(),
        }
    }
    fn bold_red(&self, t: &str) -> String {
        self.wrap("1;31", t)
    }
    fn yellow(&self, t: &str) -> String {
        self.wrap("33", t)
    }
    fn bold(&self, t: &str) -> String {
        self.wrap("1", t)
    }
    fn dim(&self, t: &str) -> String {
        self.wrap("2", t)
    }
}

/// Renders the report; empty when there is nothing to say.
pub fn render(findings: &[Finding], catalogue: &Catalogue, stage: Stage, color: Color) -> String {
    let paint = Paint(color);
    let mut out = String::new();
    if findings.is_empty() {
        return out;
    }
    let blocking: Vec<&Finding> = findings.iter().filter(|f| f.blocks()).collect();
    let warnings: Vec<&Finding> = findings.iter().filter(|f| !f.blocks()).collect();

    if !blocking.is_empty() {
        let n = blocking.len();
        let _ = writeln!(
            out,
            "{} {} in the staged changes",
            paint.bold_red("keyward: commit blocked:"),
            plural(n, "secret", "secrets"),
        );
        list(&mut out, &blocking, catalogue, &paint);
        remediation(&mut out, &blocking, catalogue, stage, &paint);
    }
    if !warnings.is_empty() {
        if !blocking.is_empty() {
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "{} {} worth a look (not blocking)",
            paint.yellow("keyward: warning:"),
            plural(warnings.len(), "match", "matches"),
        );
        list(&mut out, &warnings, catalogue, &paint);
    }
    out
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// One line per finding, `path:line:column` first so terminals and editors can
/// jump to it.
fn list(out: &mut String, findings: &[&Finding], catalogue: &Catalogue, paint: &Paint) {
    out.push('\n');
    for f in findings {
        let rule = &catalogue.get(f.rule).spec;
        let place = match f.location {
            Location::Text { line, column } => {
                format!("{}:{line}:{column}", printable_path(&f.path))
            }
            Location::Binary { offset } => {
                format!("{} (binary file, byte {offset})", printable_path(&f.path))
            }
        };
        let _ = writeln!(
            out,
            "  {}  {}  {} {}",
            paint.bold(&place),
            paint.yellow(&f.secret.redacted()),
            rule.description,
            paint.dim(&format!("[{}]", rule.id)),
        );
    }
}

/// Word-wraps `text` to `WIDTH` columns, every line after the first indented.
fn wrap(text: &str, first: &str, indent: &str) -> String {
    const WIDTH: usize = 88;
    let mut out = String::from(first);
    let mut col = first.chars().count();
    let mut line_empty = true;
    for word in text.split_whitespace() {
        let len = word.chars().count();
        if !line_empty && col + 1 + len > WIDTH {
            out.push('\n');
            out.push_str(indent);
            col = indent.chars().count();
            line_empty = true;
        }
        if !line_empty {
            out.push(' ');
            col += 1;
        }
        out.push_str(word);
        col += len;
        line_empty = false;
    }
    out
}

fn remediation(
    out: &mut String,
    findings: &[&Finding],
    catalogue: &Catalogue,
    stage: Stage,
    paint: &Paint,
) {
    let Stage::Staged { head_unborn } = stage;
    let mut paths: Vec<&[u8]> = findings.iter().map(|f| f.path.as_slice()).collect();
    paths.dedup();
    let words: Vec<String> = paths.iter().map(|p| shell_word(p)).collect();
    let mut rules: Vec<usize> = findings.iter().map(|f| f.rule).collect();
    rules.sort_unstable();
    rules.dedup();

    let _ = writeln!(out, "\n{}", paint.bold("What to do now"));
    let _ = writeln!(
        out,
        "  The key is staged but not committed yet: git has not recorded it, so it can still\n  be taken out cleanly."
    );
    let unstage = if head_unborn {
        format!("git rm --cached {}", words.join(" "))
    } else {
        format!("git restore --staged {}", words.join(" "))
    };
    let _ = writeln!(
        out,
        "  1. Unstage it and delete the key from the file, then stage the file again:\n       {unstage}"
    );
    let _ = writeln!(
        out,
        "  2. Load the key at run time from an environment variable or a secrets vault:"
    );
    let mut shown = Vec::new();
    for f in findings {
        let var = catalogue
            .get(f.rule)
            .spec
            .env_var
            .as_deref()
            .unwrap_or(DEFAULT_ENV_VAR);
        let path = printable_path(&f.path);
        let line = load_from_env(&path, var);
        if !shown.contains(&line) {
            let _ = writeln!(out, "       {line}");
            shown.push(line);
        }
    }
    let _ = writeln!(
        out,
        "  3. If the key has ever left this machine (pushed, pasted, shared, logged, or in a\n     build), it is exposed: roll it now. Deleting it from the file does not un-expose it."
    );
    for &index in &rules {
        let spec = &catalogue.get(index).spec;
        let first = format!("     [{}] ", spec.id);
        let _ = writeln!(out, "{}", wrap(spec.remediation.trim(), &first, "       "));
    }
    let _ = writeln!(
        out,
        "\n  Not a secret (a test fixture, a fake)? Add `keyward:allow` in a comment on its line."
    );
    let _ = writeln!(
        out,
        "  To skip every hook for one commit: git commit --no-verify. The key then enters\n  history, and once pushed it must be rolled."
    );
}
