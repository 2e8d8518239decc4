//! `keyward fix`: the one command that writes to the repository. For the blocking
//! findings of the staged changes (or of files on disk), each key moves to a
//! git-ignored env file and the code reads it from the environment, in the file's
//! language; an env file found in the commit is taken out of the index and
//! ignored instead. It runs the same check as the hook, `plan`s every change by
//! reading only, shows it with every key redacted, asks, `apply`s it as one
//! transaction, and checks again. The scan engine is untouched: this module takes
//! owned findings, and reaches the index only through `git`.

mod apply;
mod lang;
mod plan;
mod rewrite;

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};

use crate::cli::Common;
use crate::error::{Error, Result};
use crate::finding::Finding;
use crate::git::Repo;
use crate::rules::Catalogue;
use crate::secret::Secret;
use crate::text::{plural, printable_path};
use crate::Outcome;
use plan::{Action, Plan, Source};

/// What `keyward fix` was asked to do.
pub struct Options<'a> {
    /// `--files`: files on disk instead of the staged changes.
    pub files: Option<&'a [PathBuf]>,
    pub yes: bool,
    pub dry_run: bool,
    pub env_file: Option<&'a Path>,
}

/// Whether `keyward fix` would fix every blocking finding here: what the block
/// message offers it on. `working`: read the files on disk (a temporary index
/// holds what the working tree holds), else the index. `env_file` is `[fix]
/// env_file` as the check read it, so the offer is made exactly when `keyward
/// fix` (without `--env-file`) would fix everything.
pub fn offer(
    repo: &Repo,
    catalogue: &Catalogue,
    findings: &[Finding],
    working: bool,
    env_file: &Path,
) -> bool {
    let blocking: Vec<&Finding> = findings.iter().filter(|f| f.blocks()).collect();
    if blocking.is_empty() {
        return false;
    }
    let source = if working {
        Source::WorkingTree
    } else {
        Source::Index
    };
    let root = repo.root().to_path_buf();
    let Ok(env) = configured_env_file(&root, env_file) else {
        return false;
    };
    plan::plan(repo, catalogue, &blocking, source, &root, &env).is_ok_and(|p| p.complete())
}

/// `path` with `.` and `..` taken out by name. The env file's place in the work
/// tree is found by its name (to check it is untracked and to ignore it), so
/// `sub/../.env` must be seen as the `.env` at the top, not as a file outside.
fn lexical(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The configured env file (`rel`, already checked to stay inside the work tree
/// by its name) as a full path. A directory on the way may still be a symbolic
/// link committed to lead out of the work tree, so the deepest one that exists
/// is resolved and must resolve inside it. (The env file itself being a link is
/// refused when it is read.)
fn configured_env_file(root: &Path, rel: &Path) -> Result<PathBuf> {
    let path = root.join(rel);
    let real_root = root.canonicalize().map_err(|source| Error::Io {
        path: root.to_path_buf(),
        source,
    })?;
    let mut dir = path.parent();
    while let Some(d) = dir {
        match d.canonicalize() {
            Ok(real) if real.starts_with(&real_root) => return Ok(path),
            Ok(real) => {
                return Err(Error::Usage(format!(
                "the env file {} set by [fix] env_file is reached through {}, which leads out of \
                     the work tree to {}; keyward fix writes keys only inside it unless told \
                     otherwise with --env-file",
                rel.display(),
                d.strip_prefix(root).unwrap_or(d).display(),
                real.display()
            )))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => dir = d.parent(),
            Err(source) => {
                return Err(Error::Io {
                    path: d.to_path_buf(),
                    source,
                })
            }
        }
    }
    Ok(path)
}

pub fn run(common: &Common, options: &Options) -> Result<Outcome> {
    let repo = Repo::open_from_env()?;
    if repo.is_bare() {
        return Err(Error::NotARepository(
            "keyward fix needs a work tree, and this repository is bare".into(),
        ));
    }
    if options.files.is_none() && !repo.uses_default_index() {
        return Err(Error::Usage(
            "keyward fix writes the index git commits from, but GIT_INDEX_FILE names another one \
             (a hook of git commit -a or git commit <path>?): run keyward fix --files <path> from \
             a shell instead"
                .into(),
        ));
    }
    let root = repo.root().to_path_buf();
    let cwd = std::env::current_dir().map_err(|source| Error::Io {
        path: PathBuf::from("."),
        source,
    })?;
    let (results, pipeline, source, base) = match options.files {
        None => {
            let (_, checked) = crate::check_staged(common, false)?;
            let Some((results, pipeline)) = checked else {
                eprintln!("keyward: nothing to fix: nothing is staged");
                return Ok(Outcome::Clean);
            };
            (results, pipeline, Source::Index, root.clone())
        }
        Some(paths) => {
            let pipeline = crate::pipeline(common, Some(&root), true)?;
            let results = crate::scan_files(&pipeline, paths, true, false)?;
            (results, pipeline, Source::WorkingTree, cwd.clone())
        }
    };
    let blocking: Vec<&Finding> = results.findings.iter().filter(|f| f.blocks()).collect();
    let what = match source {
        Source::Index => "the staged changes",
        Source::WorkingTree => "those files",
    };
    if blocking.is_empty() {
        eprintln!("keyward: nothing to fix: no key blocks in {what}");
        return Ok(Outcome::Clean);
    }
    // `--env-file` was typed by the person running this, so it may name any
    // file; `[fix] env_file` comes from a config anyone with commit access may
    // have written, so it stays inside the work tree.
    let env_file = match options.env_file {
        Some(p) => lexical(&cwd.join(p)),
        None => configured_env_file(&root, pipeline.fix_env_file())?,
    };
    let catalogue = pipeline.scanner().catalogue();
    let mut plan = plan::plan(&repo, catalogue, &blocking, source, &base, &env_file)?;
    // The plan holds the blocking keys; the rest that was found (warnings) is
    // redacted wherever it shows too.
    plan.secrets.extend(
        results
            .findings
            .iter()
            .filter(|f| !f.blocks())
            .map(|f| f.secret.clone()),
    );
    show(&plan, blocking.len(), what);
    if plan.files.is_empty() {
        eprintln!(
            "keyward: nothing here can be fixed safely by keyward: fix the keys above by hand"
        );
        return Ok(Outcome::Blocked);
    }
    if options.dry_run {
        eprintln!("keyward: dry run: nothing was written");
        return Ok(Outcome::Blocked);
    }
    if !options.yes {
        let stdin = std::io::stdin();
        if !stdin.is_terminal() {
            eprintln!(
                "keyward: nothing was written: there is no terminal to ask on; run keyward fix --yes to apply this"
            );
            return Ok(Outcome::Blocked);
        }
        eprint!("Apply these changes? [y/N] ");
        let mut answer = String::new();
        let _ = stdin.lock().read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y" | "yes" | "Yes" | "YES") {
            eprintln!("keyward: nothing was written");
            return Ok(Outcome::Blocked);
        }
    }
    let applied = apply::apply(&repo, &plan)?;
    for (path, kind, id) in &applied.originals {
        eprintln!(
            "keyward: the {kind} original of {path} is kept as blob {} (git cat-file -p {} shows it)",
            id.hex(),
            &id.hex()[..12]
        );
    }
    eprintln!("keyward: fixed; checking again:");
    let outcome = match options.files {
        None => crate::staged(common)?,
        Some(paths) => crate::files(common, paths, true)?,
    };
    if let Some(ignore) = &plan.ignore {
        eprintln!(
            "keyward: {} now ignores {}: commit that too when you are ready (git add {})",
            ignore.shown,
            plan.ignored.join(", "),
            ignore.shown
        );
    }
    if !plan.appended.is_empty() {
        eprintln!(
            "keyward: the keys themselves are unchanged: if one has ever left this machine, roll it"
        );
    }
    if outcome == Outcome::Clean {
        eprintln!(
            "keyward: {what} are clean now: {}",
            match source {
                Source::Index => "git commit again",
                Source::WorkingTree => "run the same git commit again",
            }
        );
    }
    Ok(outcome)
}

/// `line` with every key of the plan redacted, printable.
fn redact(line: &[u8], secrets: &[Secret]) -> String {
    let mut out = line.to_vec();
    for s in secrets {
        let raw = s.expose();
        if raw.is_empty() {
            continue;
        }
        let shown = s.redacted().into_bytes();
        let mut at = 0;
        while let Some(i) = memchr::memmem::find(&out[at..], raw) {
            out.splice(at + i..at + i + raw.len(), shown.iter().copied());
            at += i + shown.len();
        }
    }
    printable_path(&out)
}

/// The changed lines only: a line of context could hold a value no rule
/// flagged, and nothing unflagged is shown.
fn show_diff(old: &[u8], new: &[u8], secrets: &[Secret]) {
    match crate::git::line_diff(old, new, 0) {
        Ok(lines) => {
            for line in lines {
                match line {
                    Some((origin, text)) => {
                        eprintln!("    {origin}{}", redact(&text, secrets))
                    }
                    None => eprintln!("    …"),
                }
            }
        }
        Err(e) => eprintln!("    (cannot show the change: {e})"),
    }
}

fn show(plan: &Plan, found: usize, what: &str) {
    eprintln!(
        "keyward fix: {} blocking in {what}\n",
        plural(found, "key", "keys")
    );
    for file in &plan.files {
        let shown = printable_path(&file.path);
        match &file.action {
            Action::Untrack { in_index } => {
                eprintln!(
                    "  {shown}: an env file, which belongs on this machine only: {}it stays on disk, untracked",
                    if *in_index {
                        "taken out of the index (git rm --cached), and ignored; "
                    } else {
                        "ignored; "
                    }
                );
            }
            Action::Rewrite {
                staged,
                working,
                working_left,
            } => {
                let same = match (staged, working) {
                    (Some((_, s)), Some(w)) => s.old == w.version.old,
                    _ => false,
                };
                if let Some((entry, v)) = staged {
                    eprintln!(
                        "  {shown} (staged, blob {}{})",
                        &entry.id.hex()[..12],
                        if same {
                            "; the working file is the same"
                        } else {
                            ""
                        }
                    );
                    show_diff(&v.old, &v.new, &plan.secrets);
                }
                if let Some(w) = working.as_ref().filter(|_| !same) {
                    eprintln!(
                        "  {shown} ({})",
                        if staged.is_some() {
                            "working file, which differs from the staged version"
                        } else {
                            "working file"
                        }
                    );
                    show_diff(&w.version.old, &w.version.new, &plan.secrets);
                }
                for (name, key) in &file.keys {
                    eprintln!("    {key} is read from {name}");
                }
                if let Some(why) = working_left {
                    eprintln!("  {shown}: working file left as it is: {why}");
                }
            }
        }
    }
    if let Some(env) = &plan.env {
        eprintln!(
            "  {} ({}): {}",
            env.shown,
            if env.old.is_none() {
                "new, mode 600".to_string()
            } else {
                format!("mode {:o}", env.mode)
            },
            plan.appended
                .iter()
                .map(|(name, key)| format!("+ {name}={key}"))
                .collect::<Vec<_>>()
                .join("  ")
        );
    }
    if let Some(ignore) = &plan.ignore {
        eprintln!(
            "  {}: + {} (not ignored yet)",
            ignore.shown,
            plan.ignored
                .iter()
                .map(|p| format!("/{p}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    for note in &plan.notes {
        eprintln!("  note: {note}");
    }
    if !plan.refused.is_empty() {
        eprintln!("\n  Not fixed, left as they are (fix these by hand):");
        for r in &plan.refused {
            eprintln!("    {}  {}  {}", r.place, r.key, r.reason);
        }
    }
    eprintln!();
}
