//! The report a person reads when keyward stops them: where each secret is (never
//! the secret itself), then what to do, in order, for the state they are in.

use std::fmt::Write as _;

use super::idiom::load_from_env;
use super::{Color, Mode, Report, StagedBy};
use crate::finding::{Finding, Location};
use crate::text::{printable_path, printable_text, shell_word};

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

pub struct Human(pub Color);

impl super::Render for Human {
    fn render(&self, report: &Report) -> String {
        render(report, self.0)
    }
    fn to_stdout(&self) -> bool {
        false
    }
}

/// Renders the report; empty when there is nothing to say.
fn render(report: &Report, color: Color) -> String {
    let paint = Paint(color);
    let mut out = String::new();
    for w in report.warnings {
        let _ = writeln!(
            out,
            "{} {}",
            paint.yellow("keyward: warning:"),
            printable_path(w.as_bytes())
        );
    }
    let results = report.results;
    let blocking: Vec<&Finding> = results.findings.iter().filter(|f| f.blocks()).collect();
    let warnings: Vec<&Finding> = results.findings.iter().filter(|f| !f.blocks()).collect();

    if !blocking.is_empty() {
        let n = plural(blocking.len(), "secret", "secrets");
        let w = wording(report.mode);
        let head = format!("{} {n} {}", paint.bold_red(w.verdict), w.place);
        let _ = writeln!(out, "{head}");
        list(&mut out, &blocking, report, &paint);
        remediation(&mut out, &blocking, report, &paint);
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
        list(&mut out, &warnings, report, &paint);
    }
    if !results.not_scanned.is_empty() {
        let _ = writeln!(
            out,
            "{} {} not scanned:",
            paint.yellow("keyward: warning:"),
            plural(results.not_scanned.len(), "file", "files")
        );
        for n in &results.not_scanned {
            let _ = writeln!(out, "  {}: {}", printable_path(&n.path), n.reason);
        }
    }
    if !results.marked.is_empty() {
        let shown: Vec<String> = results
            .marked
            .iter()
            .take(10)
            .map(|p| printable_path(p.as_bytes()))
            .collect();
        let more = results.marked.len().saturating_sub(shown.len());
        let _ = writeln!(
            out,
            "{}",
            paint.dim(&format!(
                "keyward: {} let through by an inline allow marker: {}{}",
                plural(results.marked.len(), "key", "keys"),
                shown.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            ))
        );
    }
    if results.baselined > 0 && !out.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            paint.dim(&format!(
                "keyward: {} suppressed by the baseline",
                plural(results.baselined, "finding", "findings")
            ))
        );
    }
    out
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// One line per finding, `path:line:column` first so terminals and editors can
/// jump to it.
fn list(out: &mut String, findings: &[&Finding], report: &Report, paint: &Paint) {
    out.push('\n');
    for f in findings {
        let rule = &report.catalogue.get(f.rule).spec;
        let place = match f.location {
            Location::Text { line, column } => {
                format!("{}:{line}:{column}", printable_path(&f.place()))
            }
            Location::Binary { offset } => {
                format!(
                    "{} (binary file, byte {offset})",
                    printable_path(&f.place())
                )
            }
            Location::Path => format!("{} (in the file's name)", printable_path(&f.place())),
        };
        let description = match &f.encoding {
            Some(how) => format!("{how} {}", printable_text(&rule.description)),
            None => printable_text(&rule.description),
        };
        let what = if f.public_example {
            format!("{description} (a published documentation example)")
        } else {
            description
        };
        // A generic credential is named by what it is assigned to and what it
        // looks like, never by any of its characters.
        let shown = match &f.assessment {
            Some(a) => printable_text(&a.describe()),
            None => f.secret.redacted(),
        };
        let _ = writeln!(
            out,
            "  {}  {}  {} {}",
            paint.bold(&place),
            paint.yellow(&shown),
            what,
            paint.dim(&format!("[{}]", rule.id)),
        );
        let published = if f.remotes.is_empty() {
            String::new()
        } else {
            format!(
                "already on {}: exposed there",
                printable_text(&f.remotes.join(", "))
            )
        };
        let origin = match &f.commit {
            Some(c) => format!(
                "added in commit {} on {}{}{published}",
                &c.id[..c.id.len().min(12)],
                &super::iso8601(c.time)[..10],
                if published.is_empty() { "" } else { "; " }
            ),
            None => published,
        };
        // On a server, the fingerprint is what a push option names to let
        // this one finding through.
        let origin = match report.mode {
            Mode::PreReceive { .. } if origin.is_empty() => {
                format!("fingerprint {}", f.fingerprint)
            }
            Mode::PreReceive { .. } => format!("{origin}; fingerprint {}", f.fingerprint),
            _ => origin,
        };
        if !origin.is_empty() {
            let _ = writeln!(out, "      {}", paint.dim(&origin));
        }
    }
}

/// `.env`, `.env.production`, `config/.env.local`: but not the templates people
/// commit on purpose (`.env.example`, `.env.sample`, `.env.template`, `.env.dist`).
fn is_env_file(path: &[u8]) -> bool {
    let name = path.rsplit(|&b| b == b'/').next().unwrap_or(path);
    let template = [&b"example"[..], b"sample", b"template", b"dist"]
        .iter()
        .any(|t| name.ends_with(t));
    (name == b".env" || name.starts_with(b".env.")) && !template
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

fn remediation(out: &mut String, findings: &[&Finding], report: &Report, paint: &Paint) {
    let mut seen_paths = std::collections::HashSet::new();
    let paths: Vec<&[u8]> = findings
        .iter()
        .map(|f| f.path.as_slice())
        .filter(|p| seen_paths.insert(*p))
        .collect();
    let words: Vec<String> = paths.iter().map(|p| shell_word(p)).collect();

    let w = wording(report.mode);
    // Findings come newest commit first; the last is the oldest, where a rebase
    // has to start.
    // Only commits no remote has can be rewritten: published ones are rolled.
    let mut commits: Vec<&str> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut remotes: Vec<&str> = Vec::new();
    for f in findings {
        for r in &f.remotes {
            if !remotes.contains(&r.as_str()) {
                remotes.push(r);
            }
        }
        if !f.remotes.is_empty() {
            continue;
        }
        if let Some(c) = &f.commit {
            let short = &c.id[..c.id.len().min(12)];
            if seen.insert(short) {
                commits.push(short);
            }
        }
    }
    let plural = findings.len() > 1;
    let fill = |template: &str| {
        template
            .replace("{paths}", &words.join(" "))
            .replace(
                "{The key is}",
                if plural {
                    "These keys are"
                } else {
                    "The key is"
                },
            )
            .replace("{the key}", if plural { "the keys" } else { "the key" })
            .replace(
                "{the file}",
                if words.len() > 1 {
                    "the files"
                } else {
                    "the file"
                },
            )
            .replace("{commits}", &commits.join(", "))
            .replace("{oldest}", commits.last().copied().unwrap_or("<commit>"))
    };
    let _ = writeln!(out, "\n{}", paint.bold("What to do now"));
    if let Some(state) = w.state {
        let _ = writeln!(out, "{}", fill(state));
    }
    if !remotes.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            wrap(
                &format!(
                    "Some of these keys are already in commits on {}: they are exposed there, \
                     and rewriting local commits cannot take them back. Roll them first (see \
                     below). Once rolled, record those reviewed findings with `keyward baseline \
                     --history`, or let this one push through with --no-verify.",
                    printable_text(&remotes.join(", "))
                ),
                "  ",
                "  "
            )
        );
    }
    // An env file is where keys belong, untracked: the fix is to take the file
    // out of the commit, not the key out of the file.
    let env_files =
        matches!(report.mode, Mode::Staged { .. }) && paths.iter().all(|p| is_env_file(p));
    if commits.is_empty() && !remotes.is_empty() {
        let _ = writeln!(
            out,
            "  1. Roll each key now (see below): it is already published."
        );
    } else if env_files {
        let _ = writeln!(
            out,
            "{}",
            fill("  1. Keep {the file} on this machine only: take it out of the commit and ignore it:\n       git rm --cached {paths}   then add it to .gitignore\n     It stays where it is, untracked; the code reads those values from the environment.")
        );
    } else {
        let _ = writeln!(out, "{}", fill(w.first_step));
    }
    if env_files {
        // The file already is the environment, under the names the user chose.
        let _ = writeln!(
            out,
            "  2. Go on loading the values from the environment, under the names this file gives them."
        );
    } else {
        let _ = writeln!(
            out,
            "  2. Load the key at run time from an environment variable or a secrets vault:"
        );
        let mut shown = std::collections::HashSet::new();
        for f in findings {
            let var = report
                .catalogue
                .get(f.rule)
                .spec
                .env_var
                .as_deref()
                .unwrap_or(DEFAULT_ENV_VAR);
            let line = load_from_env(&printable_path(&f.path), &printable_text(var));
            if shown.insert(line.clone()) {
                let _ = writeln!(out, "       {line}");
            }
        }
    }
    let _ = writeln!(out, "{}", w.roll);
    let mut rules: Vec<usize> = findings.iter().map(|f| f.rule).collect();
    rules.sort_unstable();
    rules.dedup();
    for &index in &rules {
        let spec = &report.catalogue.get(index).spec;
        let text = if spec.remediation.trim().is_empty() {
            format!(
                "{}: revoke or rotate it with its provider.",
                spec.description
            )
        } else {
            spec.remediation.trim().to_string()
        };
        let text = printable_text(&text.split_whitespace().collect::<Vec<_>>().join(" "));
        let first = format!("     [{}] ", spec.id);
        let _ = writeln!(out, "{}", wrap(&text, &first, "       "));
    }
    // A baseline is offered only for what may not be a secret at all (a generic
    // match); a provider key or private key is a credential by its shape, and a
    // fake one is marked where it is written.
    let generic = findings
        .iter()
        .any(|f| report.catalogue.get(f.rule).spec.fallback);
    if matches!(
        report.mode,
        Mode::CommitMsg | Mode::PreReceive { markers: false, .. }
    ) {
        // A message has no comment to put a marker in: take the key out. A
        // server whose policy ignores markers says so in its skip line.
    } else {
        let _ = writeln!(
        out,
        "\n  Not a secret (a test fixture, a fake)? Add `# keyward:allow` in a comment after it\n  on its line (it covers that key only).{}",
        if generic {
            "\n  For a value that is not a credential at all: keyward baseline records it."
        } else {
            ""
        }
    );
    }
    if let Some(skip) = w.skip {
        let _ = writeln!(out, "{skip}");
    }
}

/// What the report says in each state: every state-specific word of the human
/// report is here, in one table. `{paths}`, `{unstage}`, `{commits}` and
/// `{oldest}` are filled in from the findings.
struct Wording {
    /// The heading's first words, and where the secrets are.
    verdict: &'static str,
    place: &'static str,
    /// What state the key is in, before the steps.
    state: Option<&'static str>,
    first_step: &'static str,
    roll: &'static str,
    /// How to get past the check once, and what that costs.
    skip: Option<&'static str>,
}

const ROLL_IF_IT_LEFT: &str = "  3. If the key has ever left this machine (pushed, pasted, shared, logged, or in a\n     build), it is exposed: roll it now. Deleting it from the file does not un-expose it.";

fn wording(mode: Mode) -> Wording {
    match mode {
        Mode::Staged {
            how, framework, ..
        } => Wording {
            verdict: "keyward: commit blocked:",
            place: "in the staged changes",
            state: Some(match how {
                StagedBy::Merge => "  {The key is} in what the merge brings in: already in commits on the branch being\n  merged, so taking {the key} out here does not take {the key} out of those.",
                _ => "  {The key is} staged but not committed yet: git has not recorded {the key}, which can\n  still be taken out cleanly.",
            }),
            first_step: match how {
                StagedBy::Index => "  1. Delete {the key} from {the file} and stage the fix (git add -p stages just that\n     change, and leaves your other edits as they are):  git add -p {paths}",
                StagedBy::TemporaryIndex => "  1. Delete {the key} from {the file} and run the same git commit again: commit -a and\n     commit <path> take the files as they are in your working tree:  {paths}",
                StagedBy::Merge => "  1. Delete {the key} from the merge result, git add {paths}, and conclude the merge;\n     then rewrite the other branch's commits if no remote has them yet.",
            },
            roll: ROLL_IF_IT_LEFT,
            skip: Some(if framework {
                "  To skip keyward alone for one commit: SKIP=keyward git commit …  The key then\n  enters history, and once pushed it must be rolled."
            } else {
                "  To skip every hook for one commit: git commit --no-verify. The key then enters\n  history, and once pushed it must be rolled."
            }),
        },
        Mode::CommitMsg => Wording {
            verdict: "keyward: commit blocked:",
            place: "in the commit message",
            state: None,
            first_step: "  1. Take the key out of the message and commit again (git keeps the message you\n     wrote in .git/COMMIT_EDITMSG: remove the key from there too).",
            roll: ROLL_IF_IT_LEFT,
            skip: Some("  To skip every hook for one commit: git commit --no-verify. The key then enters\n  history, and once pushed it must be rolled."),
        },
        Mode::PrePush => Wording {
            verdict: "keyward: push blocked:",
            place: "in the commits about to be pushed",
            state: Some("  The key is in local commits that are not on the remote yet. Deleting it in a new\n  commit is not enough: the push would still carry the commit that added it."),
            first_step: "  1. Rewrite those commits ({commits}) without the key, for example:\n       git rebase -i {oldest}^   (mark the commit 'edit', remove the key, git commit --amend)",
            roll: ROLL_IF_IT_LEFT,
            skip: Some("  To skip the check for one push: git push --no-verify. The key then reaches the\n  remote and must be rolled."),
        },
        Mode::PreReceive { bypass, markers } => Wording {
            verdict: "keyward: push rejected by the server:",
            place: "in the commits pushed",
            state: Some("  The server has received these commits, so {the key} already reached its\n  administrators: treat {the key} as exposed, even though the push is rejected."),
            first_step: "  1. Rewrite your local commits ({commits}) without {the key}, then push again:\n       git rebase -i {oldest}^   (mark the commit 'edit', remove the key, git commit --amend)",
            roll: "  3. Roll the key now: it has left your machine. Deleting it in a new commit does not\n     un-expose it, and the push would still carry the commit that added it.",
            skip: Some(match (bypass, markers) {
                (true, true) => "  Rolled already? Name it to the server, once, with a reason (logged with your name):\n    git push -o keyward.allow=<fingerprint> -o keyward.reason=\"why\"",
                (true, false) => "  Inline allow markers do not count on this server. Not a secret, or rolled already?\n  Name it to the server, once, with a reason (logged with your name):\n    git push -o keyward.allow=<fingerprint> -o keyward.reason=\"why\"",
                (false, true) => "  This server lets no other finding through: take the key out, or ask the server's\n  administrators.",
                (false, false) => "  This server lets no finding through (inline allow markers do not count here):\n  take the key out, or ask the server's administrators.",
            }),
        },
        Mode::Merge => Wording {
            verdict: "keyward: merge blocked:",
            place: "in the commits being merged",
            state: Some("  The merge would bring these keys into this branch from commits that no\n  remote-tracking ref has yet: they can still be rewritten."),
            first_step: "  1. Abort the merge (git merge --abort), then rewrite the commits that added the\n     keys on their branch (git rebase -i), and merge again.",
            roll: ROLL_IF_IT_LEFT,
            skip: Some("  To merge anyway: git merge --no-verify. The key then enters this branch's\n  history, and once pushed it must be rolled."),
        },
        Mode::History => Wording {
            verdict: "keyward: found",
            place: "in the repository's history",
            state: Some("  These keys are in commits: anyone who can read the repository, and every clone,\n  has them. They are exposed."),
            first_step: "  1. Roll each key now (see below), before anything else. Then remove it from the\n     code; rewrite history (git filter-repo) only if you must, and only after rolling.",
            roll: "  3. Then check the provider's logs for use of the key while it was exposed.",
            skip: None,
        },
        Mode::Files => Wording {
            verdict: "keyward: found",
            place: "in files",
            state: None,
            first_step: "  1. Delete the key from the file:  {paths}",
            roll: ROLL_IF_IT_LEFT,
            skip: None,
        },
    }
}
