//! The report a person reads when keyward stops them: where each secret is (never
//! the secret itself), then what to do, in order, for the state they are in.

use std::fmt::Write as _;

use super::idiom::load_from_env;
use super::{Color, Mode, Report, StagedBy};
use crate::finding::{Exposure, Finding, Location};
use crate::text::{plural, printable_path, printable_text, shell_word};

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
        let mut lines = origin(f);
        // On a server, the fingerprint is what a push option names to let this
        // one finding through.
        if let Mode::PreReceive { .. } = report.mode {
            lines.push(format!("fingerprint {}", f.fingerprint));
        }
        for line in lines {
            let _ = writeln!(out, "      {}", paint.dim(&line));
        }
    }
}

/// Where a finding came from and how far it has gone: its commits, each with its
/// exposure, or (a merge) the remotes that already hold it.
fn origin(f: &Finding) -> Vec<String> {
    let short = |id: &str| id[..id.len().min(12)].to_string();
    let commit = |c: &crate::finding::InCommit| {
        let exposure = exposure(&c.exposure);
        format!(
            "{} on {}{}{exposure}",
            short(&c.commit.id),
            &super::iso8601(c.commit.time)[..10],
            if exposure.is_empty() { "" } else { ": " }
        )
    };
    match f.commits.as_slice() {
        [] if f.remotes.is_empty() => Vec::new(),
        [] => vec![format!(
            "already on {}: exposed there",
            printable_text(&f.remotes.join(", "))
        )],
        [one] => vec![format!("added in commit {}", commit(one))],
        many => {
            let mut lines = vec![format!(
                "added in {} commits (copies: rebased or cherry-picked, or added again):",
                many.len()
            )];
            lines.extend(many.iter().map(|c| format!("  {}", commit(c))));
            lines
        }
    }
}

/// A commit's exposure in words; empty when it was not looked up.
fn exposure(e: &Exposure) -> String {
    match e {
        Exposure::Unknown => String::new(),
        Exposure::Local => "only local as far as git knows".to_string(),
        Exposure::Published { remotes, tag } => {
            let mut places = Vec::new();
            if !remotes.is_empty() {
                places.push(format!("pushed to {}", printable_text(&remotes.join(", "))));
            }
            if let Some(tag) = tag {
                places.push(format!("in tag {}", printable_text(tag)));
            }
            format!("{}: exposed", places.join(", "))
        }
    }
}

/// `.env`, `.env.production`, `config/.env.local`: but not the templates people
/// commit on purpose (`.env.example`, `.env.sample`, `.env.template`, `.env.dist`).
pub(crate) fn is_env_file(path: &[u8]) -> bool {
    let name = path.rsplit(|&b| b == b'/').next().unwrap_or(path);
    let template = [&b"example"[..], b"sample", b"template", b"dist"]
        .iter()
        .any(|t| name.ends_with(t));
    (name == b".env" || name.starts_with(b".env.")) && !template
}

/// Whether the fix is to take env files out of the commit (see `remediation`).
fn env_files(mode: Mode, paths: &[&[u8]]) -> bool {
    matches!(mode, Mode::Staged { .. }) && paths.iter().all(|p| is_env_file(p))
}

/// Each rule's own words on rolling its keys (where, in the provider's
/// console), once per rule, under the step that says to roll.
fn how_to_roll(out: &mut String, findings: &[&Finding], report: &Report) {
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
    // has to start. Only commits nothing has published can be rewritten:
    // published ones are rolled.
    let mut commits: Vec<&str> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut places: Vec<String> = Vec::new();
    let mut tags: Vec<String> = Vec::new();
    for f in findings {
        for r in &f.remotes {
            let r = printable_text(r);
            if !places.contains(&r) {
                places.push(r);
            }
        }
        for c in &f.commits {
            if let Exposure::Published { tag: Some(tag), .. } = &c.exposure {
                let tag = format!("tag {}", printable_text(tag));
                if !tags.contains(&tag) {
                    tags.push(tag);
                }
            }
        }
        if f.published() {
            continue;
        }
        for c in &f.commits {
            let short = &c.commit.id[..c.commit.id.len().min(12)];
            if seen.insert(short) {
                commits.push(short);
            }
        }
    }
    places.extend(tags);
    let published: Vec<&Finding> = findings.iter().copied().filter(|f| f.published()).collect();
    let all_published = published.len() == findings.len();
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
            .replace("{places}", &places.join(", "))
            .replace(
                "{Published are}",
                match (all_published, plural) {
                    (true, false) => "The key is",
                    (true, true) => "These keys are",
                    (false, _) => "Some of these keys are",
                },
            )
            .replace(
                "{the published keys}",
                match (all_published, published.len() > 1) {
                    (true, false) => "the key",
                    (true, true) => "the keys",
                    (false, _) => "the published keys",
                },
            )
    };
    let _ = writeln!(out, "\n{}", paint.bold("What to do now"));
    // A key already published (pushed, tagged) is exposed whatever else is done:
    // rolling comes first, in every mode, and the how-to goes with that step.
    if !published.is_empty() {
        let _ = writeln!(out, "{}", wrap(&fill(EXPOSED_STATE), "  ", "  "));
        let _ = writeln!(out, "{}", fill(EXPOSED_FIRST));
        how_to_roll(out, &published, report);
    } else {
        if let Some(state) = w.state {
            let _ = writeln!(out, "{}", fill(state));
        }
        // An env file is where keys belong, untracked: the fix is to take the file
        // out of the commit, not the key out of the file.
        if env_files(report.mode, &paths) {
            let _ = writeln!(
                out,
                "{}",
                fill("  1. Keep {the file} on this machine only: take it out of the commit and ignore it:\n       git rm --cached {paths}   then add it to .gitignore\n     It stays where it is, untracked; the code reads those values from the environment.")
            );
        } else {
            let _ = writeln!(out, "{}", fill(w.first_step));
        }
    }
    if env_files(report.mode, &paths) {
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
    if let Some(fix) = w.fix {
        let _ = writeln!(out, "{}", fill(fix));
    }
    if !published.is_empty() {
        let _ = writeln!(out, "{}", fill(EXPOSED_THIRD));
        if !commits.is_empty() {
            let _ = writeln!(out, "{}", fill(EXPOSED_LOCAL_TOO));
            // Step 1 said how to roll the published keys; these are the others.
            let local: Vec<&Finding> = findings
                .iter()
                .copied()
                .filter(|f| !f.published())
                .collect();
            how_to_roll(out, &local, report);
        }
        // Said only when every key is published: with a local one among them,
        // getting past the check would publish it too.
        if let (Some(tail), true) = (w.published_tail, all_published) {
            let _ = writeln!(out, "{}", wrap(tail, "  ", "  "));
        }
    } else {
        let _ = writeln!(out, "{}", w.roll);
        how_to_roll(out, findings, report);
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
    /// `keyward fix`, offered when it would fix every blocking key.
    fix: Option<&'static str>,
    /// How to get past the check once, and what that costs.
    skip: Option<&'static str>,
    /// Said after the steps when a key is already published (wrapped).
    published_tail: Option<&'static str>,
}

/// When a key is already published (a remote-tracking ref or a tag reaches its
/// commit, or a remote holds it): rolling is step 1, and step 3 cleans up.
/// `EXPOSED_STATE` is wrapped; the steps are laid out by hand.
const EXPOSED_STATE: &str = "{Published are} already published ({places}): everyone who can \
     read there, and every clone, has them, and rewriting history cannot take them back. \
     Treat them as compromised.";
const EXPOSED_FIRST: &str = "  1. Roll {the published keys} now, before anything else:";
const EXPOSED_THIRD: &str = "  3. Then delete {the key} from the code, and check the provider's logs for use of\n     {the published keys} while exposed. Rewrite history (git filter-repo) only if you must,\n     after rolling.";
const EXPOSED_LOCAL_TOO: &str = "     The commits nothing has published yet ({commits}) can still be rewritten; roll\n     their keys too if those commits left this machine in a way git does not track:\n       git rebase -i {oldest}^   (mark the commit 'edit', remove the key, git commit --amend)";

const ROLL_IF_IT_LEFT: &str = "  3. If the key has ever left this machine (pushed, pasted, shared, logged, or in a\n     build), it is exposed: roll it now. Deleting it from the file does not un-expose it.";

fn wording(mode: Mode) -> Wording {
    match mode {
        Mode::Staged {
            how,
            framework,
            fixable,
            ..
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
            fix: match how {
                _ if !fixable => None,
                StagedBy::Index => Some("  Or have keyward do 1 and 2 (it shows the change, keys redacted, and asks first):\n       keyward fix"),
                StagedBy::TemporaryIndex => Some("  Or have keyward do 1 and 2 in the working tree (it shows the change and asks first):\n       keyward fix --files {paths}"),
                StagedBy::Merge => None,
            },
            published_tail: None,
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
            fix: None,
            skip: Some("  To skip every hook for one commit: git commit --no-verify. The key then enters\n  history, and once pushed it must be rolled."),
            published_tail: None,
        },
        Mode::PrePush => Wording {
            verdict: "keyward: push blocked:",
            place: "in the commits about to be pushed",
            state: Some("  The key is in local commits that are not on the remote yet. Deleting it in a new\n  commit is not enough: the push would still carry the commit that added it."),
            first_step: "  1. Rewrite those commits ({commits}) without the key, for example:\n       git rebase -i {oldest}^   (mark the commit 'edit', remove the key, git commit --amend)",
            roll: ROLL_IF_IT_LEFT,
            fix: None,
            skip: Some("  To skip the check for one push: git push --no-verify. The key then reaches the\n  remote and must be rolled."),
            published_tail: Some("Once rolled, record those reviewed findings with `keyward baseline --history --accept <fingerprint>` (`keyward history --format json` lists each finding's fingerprint), so later pushes pass them."),
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
            fix: None,
            published_tail: None,
        },
        Mode::Merge => Wording {
            verdict: "keyward: merge blocked:",
            place: "in the commits being merged",
            state: Some("  The merge would bring these keys into this branch from commits that no\n  remote-tracking ref has yet: they can still be rewritten."),
            first_step: "  1. Abort the merge (git merge --abort), then rewrite the commits that added the\n     keys on their branch (git rebase -i), and merge again.",
            roll: ROLL_IF_IT_LEFT,
            fix: None,
            skip: Some("  To merge anyway: git merge --no-verify. The key then enters this branch's\n  history, and once pushed it must be rolled."),
            published_tail: None,
        },
        Mode::History => Wording {
            verdict: "keyward: found",
            place: "in the repository's history",
            state: Some("  {The key is} only in local commits as far as git knows (no remote-tracking ref and\n  no tag reaches them), so those commits can still be rewritten."),
            first_step: "  1. Rewrite those commits ({commits}) without {the key}, for example:\n       git rebase -i {oldest}^   (mark the commit 'edit', remove the key, git commit --amend)",
            roll: "  3. If the commits left this machine in a way git does not track (a push to a URL\n     rather than a named remote, a patch, a bundle, a copy), or the key was pasted, shared\n     or logged, it is exposed: roll it now.",
            fix: None,
            skip: None,
            published_tail: None,
        },
        Mode::Files => Wording {
            verdict: "keyward: found",
            place: "in files",
            state: None,
            first_step: "  1. Delete the key from the file:  {paths}",
            roll: ROLL_IF_IT_LEFT,
            fix: None,
            skip: None,
            published_tail: None,
        },
    }
}
