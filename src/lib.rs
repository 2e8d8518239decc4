//! keyward: a git hook that stops secret API keys from being committed and pushed.
//!
//! Architecture: one pipeline, data flowing one way. A `source` (staged changes,
//! files on disk, history, a push, a commit message) yields blobs, each with the
//! appearances where it occurs: a path, an origin, and what came before it there.
//! The `pipeline` reads each blob once (size first), `decode`s it once, has `scan`
//! find secrets in it once, then places the matches at every appearance in one
//! function: rule path filters, newness, allowlists, fingerprint, baseline. It
//! hands owned findings to a `report` format (human, JSON or SARIF, behind one
//! trait), which renders them, always with the secret redacted. `git` reads
//! repositories through libgit2 and hands out plain owned data (no git2 type leaves
//! it, and it knows no rule); `scan` takes bytes and knows nothing of git; `rules` is
//! the catalogue, data with its own examples, extended by `config` from
//! `.keyward.toml` (or a gitleaks config); `pool` runs work over the cores;
//! `server` is `keyward pre-receive`, the server's policy around the same
//! pipeline (its bypass, audit log and time limit). `run`
//! returns an [`Outcome`]; `main` maps it to the exit status: 0 clean, 1 blocking
//! findings, 2 could not check. The checks only read. Three commands write:
//! `fix`, from the same owned findings, plans, then writes the working
//! tree, the index (through `git`), new blobs, an env file and `.gitignore` as one
//! transaction; `baseline` writes the baseline file; `pre-receive` appends to the
//! audit log the server's policy names. `completions` and `man` print to stdout
//! only, and `--report PATH` writes the report there.

pub mod baseline;
pub mod cli;
pub mod config;
pub mod decode;
pub mod error;
pub mod finding;
pub mod fix;
pub mod git;
pub mod interrupt;
pub mod pipeline;
pub mod pool;
pub mod progress;
pub mod report;
pub mod rules;
pub mod scan;
pub mod secret;
mod server;
pub mod source;
pub mod text;

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use baseline::Baseline;
use cli::{Cli, ColorWhen, Command, Common, RulesAction};
use config::Config;
use error::{Error, Result};
use pipeline::{Pipeline, Results};
use report::{Color, Mode, Report};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing blocks (warnings may have been printed).
    Clean,
    /// At least one blocking finding.
    Blocked,
    /// Nothing blocking was found, but some content could not be checked (too
    /// large, not fully decoded): exit 2, since a pass must mean no key.
    Unchecked,
}

pub fn run(cli: &Cli) -> Result<Outcome> {
    let common = &cli.common;
    match &cli.command {
        None => staged(common),
        Some(Command::Scan { paths, no_ignore }) => files(common, paths, !no_ignore),
        Some(Command::History { range }) => history(common, range.as_deref()),
        Some(Command::PrePush { remote, .. }) => pre_push(common, remote.as_deref()),
        Some(Command::PreReceive) => server::pre_receive(common),
        Some(Command::CommitMsg { file }) => commit_msg(common, file),
        Some(Command::PreMergeCommit) => pre_merge_commit(common),
        Some(Command::Baseline {
            output,
            history,
            accept,
        }) => write_baseline(common, output.as_deref(), *history, accept),
        Some(Command::Rules { action }) => rules(common, action),
        Some(Command::Completions { shell }) => completions(*shell),
        Some(Command::Man) => man(),
        Some(Command::Fix {
            files,
            yes,
            dry_run,
            env_file,
        }) => fix::run(
            common,
            &fix::Options {
                files: files.as_deref(),
                yes: *yes,
                dry_run: *dry_run,
                env_file: env_file.as_deref(),
            },
        ),
    }
}

/// `keyward completions <shell>`: generated from the clap definition, so the
/// completions offer exactly the commands and options `--help` lists.
fn completions(shell: clap_complete::Shell) -> Result<Outcome> {
    use clap::CommandFactory;
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "keyward", &mut out);
    write_stdout(&out)
}

/// `keyward man`: the man page (roff), from the same definition.
fn man() -> Result<Outcome> {
    use clap::CommandFactory;
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut out)
        .expect("writing to memory cannot fail");
    write_stdout(&out)
}

/// A generated file on stdout: a failed write (a full disk under
/// `> keyward.bash`) is an error, not a silently truncated file.
fn write_stdout(bytes: &[u8]) -> Result<Outcome> {
    std::io::stdout()
        .lock()
        .write_all(bytes)
        .map_err(|source| Error::Io {
            path: PathBuf::from("<stdout>"),
            source,
        })?;
    Ok(Outcome::Clean)
}

pub(crate) fn pipeline(
    common: &Common,
    root: Option<&Path>,
    use_baseline: bool,
) -> Result<Pipeline> {
    pipeline_from(common, root, use_baseline, &config::read_if_file)
}

/// The pipeline, with the root's `.keyward.toml`, baseline and `.gitleaksignore`
/// read through `read`.
fn pipeline_from(
    common: &Common,
    root: Option<&Path>,
    use_baseline: bool,
    read: &dyn Fn(&Path) -> Result<Option<String>>,
) -> Result<Pipeline> {
    let config = Config::load_from(root, common.config.as_deref(), read)?;
    let baseline = if use_baseline {
        Baseline::load_from(root, common.baseline.as_deref(), read)?
    } else {
        Baseline::default()
    };
    Pipeline::new(config, baseline)
}

/// Whether the git running this hook is `git commit --amend`. git gives a
/// pre-commit hook no sign of an amend, but its command line says so; it is found
/// up the process ancestry (the pre-commit framework may sit in between). Where
/// that cannot be read, the amend is checked as a plain commit, and pre-push
/// still sees the commit it makes.
fn amending() -> bool {
    let mut pid = std::os::unix::process::parent_id();
    for _ in 0..4 {
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            return false;
        };
        let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
        let git = args.first().is_some_and(|a| a.ends_with(b"git"));
        if git && args.contains(&&b"commit"[..]) {
            return args.contains(&&b"--amend"[..]);
        }
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            return false;
        };
        // `pid (name) state ppid ...`: the name may hold spaces, so after the `)`.
        pid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        if pid <= 1 {
            return false;
        }
    }
    false
}

/// The pipeline for a commit or merge about to be made, with the settings its
/// result holds (`staged_reader`); an untracked settings file is named.
fn staged_pipeline(common: &Common, repo: &git::Repo, staged: &git::Staged) -> Result<Pipeline> {
    let ignored = std::cell::RefCell::new(Vec::new());
    let mut pipeline = pipeline_from(
        common,
        Some(repo.root()),
        true,
        &staged_reader(repo, staged, &ignored),
    )?;
    pipeline.warnings.extend(ignored.into_inner());
    Ok(pipeline)
}

/// Reads the root's settings files as the commit will hold them: the staged
/// version, or HEAD's where the commit leaves the file alone. A file only in the
/// working tree (untracked, or its change not staged) does not decide what this
/// commit lets through; an untracked one is named.
fn staged_reader<'a>(
    repo: &'a git::Repo,
    staged: &'a git::Staged,
    ignored: &'a std::cell::RefCell<Vec<String>>,
) -> impl Fn(&Path) -> Result<Option<String>> + 'a {
    move |path: &Path| {
        use std::os::unix::ffi::OsStrExt;
        let Ok(rel) = path.strip_prefix(repo.root()) else {
            return config::read_if_file(path);
        };
        let rel = rel.as_os_str().as_bytes();
        let blob = staged
            .changes
            .iter()
            .find(|c| c.path == rel)
            .map(|c| c.new)
            .or_else(|| repo.head_file(rel));
        match blob {
            Some(id) => {
                let data = repo.read_blob(id, rel)?;
                Ok(Some(String::from_utf8_lossy(&data).into_owned()))
            }
            None => {
                if path.is_file() {
                    ignored.borrow_mut().push(format!(
                        "{} is not in the commit (untracked), so it is ignored: git add it for it to count",
                        text::printable_path(rel)
                    ));
                }
                Ok(None)
            }
        }
    }
}

pub(crate) fn staged(common: &Common) -> Result<Outcome> {
    let (mode, checked) = check_staged(common, true)?;
    emit(common, mode, checked.as_ref().map(|(r, p)| (r, p)))
}

/// The pre-commit check: the mode its report is in, and what it found (nothing
/// when nothing is staged). `offer_fix`: plan `keyward fix` to say whether the
/// report may offer it (`keyward fix` itself plans once, for real).
pub(crate) fn check_staged(
    common: &Common,
    offer_fix: bool,
) -> Result<(Mode, Option<(Results, Pipeline)>)> {
    let repo = git::Repo::open_from_env()?;
    need_work_tree(&repo, "checking staged changes")?;
    let staged = repo.staged(amending())?;
    let temporary = std::env::var_os("GIT_INDEX_FILE")
        .and_then(|p| Path::new(&p).file_name().map(|n| n != "index"))
        .unwrap_or(false);
    let how = if repo.merge_in_progress() {
        report::StagedBy::Merge
    } else if temporary {
        report::StagedBy::TemporaryIndex
    } else {
        report::StagedBy::Index
    };
    let mut mode = Mode::Staged {
        head_unborn: staged.head_unborn,
        how,
        framework: std::env::var_os("PRE_COMMIT").is_some(),
        fixable: false,
    };
    // A commit that changes nothing scannable costs no config read, no rule and
    // no automaton.
    if staged.changes.is_empty() {
        return Ok((mode, None));
    }
    let mut pipeline = staged_pipeline(common, &repo, &staged)?;
    // What decides what keyward lets through, changed in the very commit it
    // checks: said, so the change is reviewed as one.
    for change in &staged.changes {
        let path = change.path.as_slice();
        if [
            config::FILE_NAME,
            baseline::FILE_NAME,
            baseline::GITLEAKS_IGNORE,
        ]
        .iter()
        .any(|name| path == name.as_bytes())
        {
            pipeline.warnings.push(format!(
                "this commit changes {}, which decides what keyward lets through: review that change like code",
                text::printable_path(path)
            ));
        }
    }
    let blobs = source::staged::blobs(&staged);
    let results = pipeline.run(&blobs, Some(&repo.location()), None)?;
    // A blocked commit is offered `keyward fix` when it would fix every key
    // (planned by reading only; a merge's keys are in other commits).
    if offer_fix && how != report::StagedBy::Merge && results.findings.iter().any(|f| f.blocks()) {
        let working = how == report::StagedBy::TemporaryIndex;
        let offered = fix::offer(
            &repo,
            pipeline.scanner().catalogue(),
            &results.findings,
            working,
            pipeline.fix_env_file(),
        );
        if let Mode::Staged { fixable, .. } = &mut mode {
            *fixable = offered;
        }
    }
    Ok((mode, Some((results, pipeline))))
}

/// Staged checks read the index of a work tree; a bare repository (a server's, a
/// mirror) has none. What does work there is said, since the usual advice (set
/// GIT_DIR) would not help.
fn need_work_tree(repo: &git::Repo, what: &str) -> Result<()> {
    if repo.is_bare() {
        return Err(Error::NeedsWorkTree(format!(
            "{} is a bare repository, and {what} needs a work tree: run it in a clone \
             (in a bare repository, `keyward history` checks what the commits added)",
            repo.root().display()
        )));
    }
    Ok(())
}

pub(crate) fn files(common: &Common, paths: &[PathBuf], respect_ignore: bool) -> Result<Outcome> {
    let pipeline = pipeline(common, work_root().as_deref(), true)?;
    let results = scan_files(&pipeline, paths, respect_ignore, progress(common))?;
    emit(common, Mode::Files, Some((&results, &pipeline)))
}

/// Whether this run shows its progress (see [`progress::wanted`]).
fn progress(common: &Common) -> bool {
    progress::wanted(common.format, std::io::stderr().is_terminal())
}

/// The repository's top, or the current directory outside one: where
/// `.keyward.toml` and the baseline are looked for by commands that need no
/// repository.
fn work_root() -> Option<PathBuf> {
    git::Repo::open_from_env()
        .ok()
        .map(|r| r.root().to_path_buf())
        .or_else(|| std::env::current_dir().ok())
}

pub(crate) fn scan_files(
    pipeline: &Pipeline,
    paths: &[PathBuf],
    respect_ignore: bool,
    progress: bool,
) -> Result<Results> {
    let roots = if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths.to_vec()
    };
    let (blobs, not_walked) = source::files::blobs(&roots, respect_ignore)?;
    let mut results = pipeline.run(&blobs, None, progress.then_some("files scanned"))?;
    results.not_scanned.extend(not_walked);
    Ok(results)
}

fn scan_commits(
    pipeline: &Pipeline,
    repo: &git::Repo,
    commits: &[git::ObjectId],
    progress: bool,
) -> Result<Results> {
    let blobs = source::history::blobs(repo, commits, progress)?;
    pipeline.run(
        &blobs,
        Some(&repo.location()),
        progress.then_some("blobs scanned"),
    )
}

fn history(common: &Common, range: Option<&str>) -> Result<Outcome> {
    let repo = git::Repo::open_from_env()?;
    let range = match range {
        Some(r) => git::Range::Spec(r.to_string()),
        None => git::Range::All,
    };
    let commits = repo.commits(&range)?;
    let pipeline = pipeline(common, Some(repo.root()), true)?;
    let mut results = scan_commits(&pipeline, &repo, &commits, progress(common))?;
    mark_exposure(&repo, &mut results)?;
    let mut pipeline = pipeline;
    // A bare repository has no files as they are now to compare with.
    if !repo.is_bare() {
        if let Some(note) = gone_from_files(&pipeline, &repo, &results)? {
            pipeline.warnings.push(note);
        }
    }
    emit(common, Mode::History, Some((&results, &pipeline)))
}

/// `history` and `scan` differ by design: history names each key in the commit
/// and at the path that added it, and a commit keeps it; scan reads the files as
/// they are now. When some of history's keys are no longer in those files
/// (deleted, moved, or let through by an inline marker since), one line says so,
/// so the two reports can be told apart. Found by putting the findings' files,
/// as they are now, through the same pipeline: only those files are read.
fn gone_from_files(
    pipeline: &Pipeline,
    repo: &git::Repo,
    results: &Results,
) -> Result<Option<String>> {
    let mut seen = std::collections::HashSet::new();
    let paths: Vec<&[u8]> = results
        .findings
        .iter()
        .map(|f| f.path.as_slice())
        .filter(|p| *p != source::history::COMMIT_MESSAGE && seen.insert(*p))
        .collect();
    if paths.is_empty() {
        return Ok(None);
    }
    let started = std::time::Instant::now();
    let blobs = source::files::at(repo.root(), &paths);
    let now = pipeline.run(&blobs, None, None)?;
    git::trace(&format!(
        "history against the files as they are now: {} files in {:?}",
        blobs.len(),
        started.elapsed()
    ));
    let present: std::collections::HashSet<&str> = now
        .findings
        .iter()
        .map(|f| f.fingerprint.as_str())
        .collect();
    let gone = results
        .findings
        .iter()
        .filter(|f| f.path != source::history::COMMIT_MESSAGE)
        .filter(|f| !present.contains(f.fingerprint.as_str()))
        .count();
    Ok((gone > 0).then(|| {
        format!(
            "{gone} of these keys {} no longer in the files as they are now (deleted, moved, or let \
             through by a keyward:allow marker since): `keyward scan` does not report {}, but \
             the commits that added {} still hold {}",
            if gone == 1 { "is" } else { "are" },
            if gone == 1 { "it" } else { "them" },
            if gone == 1 { "it" } else { "them" },
            if gone == 1 { "it" } else { "them" },
        )
    }))
}

fn pre_push(common: &Common, remote: Option<&str>) -> Result<Outcome> {
    let repo = git::Repo::open_from_env()?;
    let updates = push_updates(&repo)?;
    let remote = remote
        .map(str::to_string)
        .or_else(|| std::env::var("PRE_COMMIT_REMOTE_NAME").ok());
    let commits = repo.pushed_commits(&updates, remote.as_deref())?;
    let tags = repo.pushed_tag_messages(&updates);
    if commits.is_empty() && tags.is_empty() {
        return emit(common, Mode::PrePush, None);
    }
    let pipeline = pipeline(common, Some(repo.root()), true)?;
    let mut blobs = source::history::blobs(&repo, &commits, false)?;
    blobs.extend(source::message::tag_blobs(&tags, blobs.len()));
    let mut results = pipeline.run(&blobs, Some(&repo.location()), None)?;
    mark_exposure(&repo, &mut results)?;
    emit(common, Mode::PrePush, Some((&results, &pipeline)))
}

/// The merge hook: what the merge adds to this branch (HEAD against the index,
/// which holds the merge's result). A key that a remote-tracking ref already holds
/// at that path is someone else's published work: it is reported (it is exposed,
/// and should be rolled) but does not block merging upstream. Keys from local-only
/// commits block.
fn pre_merge_commit(common: &Common) -> Result<Outcome> {
    let repo = git::Repo::open_from_env()?;
    need_work_tree(&repo, "checking a merge")?;
    let staged = repo.staged(false)?;
    if staged.changes.is_empty() {
        return emit(common, Mode::Merge, None);
    }
    // As for a commit: the settings the merge result holds decide, not an
    // untracked file beside it.
    let pipeline = staged_pipeline(common, &repo, &staged)?;
    let blobs = source::staged::blobs(&staged);
    let mut results = pipeline.run(&blobs, Some(&repo.location()), None)?;
    for f in &mut results.findings {
        if f.member.is_none() {
            f.remotes = repo.remotes_holding(&f.path, f.secret.expose());
        }
        if !f.remotes.is_empty() {
            f.severity = rules::Severity::Warn;
        }
    }
    emit(common, Mode::Merge, Some((&results, &pipeline)))
}

/// How a bare repository is named where a remote would be.
const BARE_REPOSITORY: &str = "this bare repository";

/// Notes, for every commit of every finding, how far it has gone: the remotes
/// whose tracking refs reach it, the earliest tag holding it, or neither (only
/// local, as far as git knows). A finding's `remotes` are then every remote where
/// it is exposed, whatever this run decides. Only the findings' commits are looked
/// up, so a clean run costs nothing here.
fn mark_exposure(repo: &git::Repo, results: &mut Results) -> Result<()> {
    let commits: Vec<String> = results
        .findings
        .iter()
        .flat_map(|f| f.commits.iter().map(|c| c.commit.id.clone()))
        .collect::<std::collections::HashSet<_>>()
        .into_iter()
        .collect();
    if commits.is_empty() {
        return Ok(());
    }
    let started = std::time::Instant::now();
    // Two walks of the whole history on a large repository: one per core.
    let location = repo.location();
    let (reached, tagged) = std::thread::scope(|s| {
        let tagged = s.spawn(|| location.open()?.tags_reaching(&commits));
        let reached = repo.remotes_reaching(&commits);
        let tagged = tagged.join().expect("the tag walk does not panic");
        Ok::<_, Error>((reached?, tagged?))
    })?;
    let mut reached = reached;
    // A bare repository (a server's, a mirror) is where others fetch from: its
    // commits are published there, though no remote-tracking ref says so.
    if repo.is_bare() {
        for c in &commits {
            reached
                .entry(c.clone())
                .or_default()
                .push(BARE_REPOSITORY.to_string());
        }
    }
    git::trace(&format!(
        "exposure: {} commits of findings looked up in {:?}",
        commits.len(),
        started.elapsed()
    ));
    for f in &mut results.findings {
        for c in &mut f.commits {
            let remotes = reached.get(&c.commit.id).cloned().unwrap_or_default();
            let tag = tagged.get(&c.commit.id).cloned();
            for r in &remotes {
                if !f.remotes.contains(r) {
                    f.remotes.push(r.clone());
                }
            }
            c.exposure = if remotes.is_empty() && tag.is_none() {
                finding::Exposure::Local
            } else {
                finding::Exposure::Published { remotes, tag }
            };
        }
    }
    Ok(())
}

/// git gives a pre-push hook its ref updates on standard input; the pre-commit
/// framework reads that itself and passes the range in the environment instead.
/// For the first push of a branch that holds its root commit, the framework runs
/// hooks in all-files mode with no range at all: then what is pushed is the local
/// branch's commits that no tracking ref of the remote has, and when even the
/// branch is unknown keyward cannot tell, so it refuses (exit 2) rather than pass.
/// The framework hands a hook only the first ref of a multi-ref push; keyward's
/// own pre-push hook reads them all.
fn push_updates(repo: &git::Repo) -> Result<Vec<git::RefUpdate>> {
    let from = std::env::var("PRE_COMMIT_FROM_REF")
        .ok()
        .filter(|s| !s.is_empty());
    let to = std::env::var("PRE_COMMIT_TO_REF")
        .ok()
        .filter(|s| !s.is_empty());
    if let Some(to) = to {
        return Ok(vec![git::RefUpdate {
            local_ref: std::env::var("PRE_COMMIT_LOCAL_BRANCH").unwrap_or_default(),
            local_sha: to,
            remote_ref: std::env::var("PRE_COMMIT_REMOTE_BRANCH").unwrap_or_default(),
            remote_sha: from.unwrap_or_else(|| "0".repeat(40)),
        }]);
    }
    let framework = [
        "PRE_COMMIT_REMOTE_NAME",
        "PRE_COMMIT_LOCAL_BRANCH",
        "PRE_COMMIT_REMOTE_URL",
    ]
    .iter()
    .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()));
    if framework {
        let branch = std::env::var("PRE_COMMIT_LOCAL_BRANCH").unwrap_or_default();
        let Some(local_sha) = (!branch.is_empty())
            .then(|| repo.resolve_commit(&branch))
            .flatten()
        else {
            return Err(Error::Usage(format!(
                "pre-push under the pre-commit framework was not told what is pushed \
                 (no PRE_COMMIT_TO_REF, and the local branch {branch:?} names no commit), \
                 so it cannot check; install keyward's own pre-push hook (install.sh --hook pre-push)"
            )));
        };
        return Ok(vec![git::RefUpdate {
            local_ref: branch,
            local_sha,
            remote_ref: std::env::var("PRE_COMMIT_REMOTE_BRANCH").unwrap_or_default(),
            remote_sha: "0".repeat(40),
        }]);
    }
    git::parse_ref_updates(&hook_input(
        "pre-push reads git's '<local ref> <local sha> <remote ref> <remote sha>' lines on standard input",
    )?)
}

/// What git gives a push hook on standard input; `usage` says what is expected
/// when keyward is run by hand at a terminal instead.
pub(crate) fn hook_input(usage: &str) -> Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Err(Error::Usage(usage.into()));
    }
    let mut text = String::new();
    stdin
        .lock()
        .read_to_string(&mut text)
        .map_err(|source| Error::Io {
            path: PathBuf::from("<stdin>"),
            source,
        })?;
    Ok(text)
}

fn commit_msg(common: &Common, file: &Path) -> Result<Outcome> {
    let raw = std::fs::read(file).map_err(|source| Error::Read {
        what: "the commit message file",
        path: file.to_path_buf(),
        source,
    })?;
    let repo = git::Repo::open_from_env().ok();
    let root = repo.as_ref().map(|r| r.root().to_path_buf());
    let pipeline = pipeline(common, root.as_deref(), true)?;
    let blobs = source::message::blobs(b"commit message", &raw);
    let results = pipeline.run(&blobs, None, None)?;
    emit(common, Mode::CommitMsg, Some((&results, &pipeline)))
}

fn write_baseline(
    common: &Common,
    output: Option<&Path>,
    history: bool,
    accept: &[String],
) -> Result<Outcome> {
    // A baseline is committed beside the code it covers, and read from the top
    // of the work tree: written anywhere else it would hide nothing, while
    // saying it had.
    const WHY: &str = "a baseline is committed with the code it covers, so run keyward baseline \
                       in the repository's work tree";
    let repo = git::Repo::open_from_env().map_err(|e| match e {
        Error::NotARepository(_) => Error::NeedsWorkTree(format!(
            "not inside a git repository: {WHY} (cd into it first)"
        )),
        other => other,
    })?;
    if repo.is_bare() {
        return Err(Error::NeedsWorkTree(format!(
            "{} is a bare repository: {WHY} (a clone)",
            repo.root().display()
        )));
    }
    // The whole work tree, named from its top as every other check names paths
    // (fingerprints hash the path): run from a subdirectory, a scan of `.` would
    // record that part only, under paths no later check computes.
    let root = repo.root().to_path_buf();
    // Every path on the command line was typed relative to where the person
    // stands, so each is made whole before moving to the top.
    let cwd = std::env::current_dir().map_err(|source| Error::Io {
        path: PathBuf::from("."),
        source,
    })?;
    let output = match output {
        Some(path) => cwd.join(path),
        None => root.join(baseline::FILE_NAME),
    };
    let mut common = common.clone();
    for path in [&mut common.config, &mut common.baseline, &mut common.report]
        .into_iter()
        .flatten()
    {
        *path = cwd.join(&*path);
    }
    let common = &common;
    std::env::set_current_dir(&root).map_err(|source| Error::Io {
        path: root.clone(),
        source,
    })?;
    let pipeline = pipeline(common, Some(&root), false)?;
    let results = if history {
        let commits = repo.commits(&git::Range::All)?;
        scan_commits(&pipeline, &repo, &commits, progress(common))?
    } else {
        scan_files(&pipeline, &[], true, progress(common))?
    };
    // A provider key or a private key is a credential wherever it sits: a
    // baseline takes one only when told so by its fingerprint, after it has been
    // rolled or shown to be a fake.
    let refused: Vec<&finding::Finding> = results
        .findings
        .iter()
        .filter(|f| pipeline.high_confidence(f) && !accept.contains(&f.fingerprint))
        .collect();
    if !refused.is_empty() {
        for f in &refused {
            eprintln!(
                "keyward: not recorded: {}{}  {}  {} (fingerprint {})",
                text::printable_path(&f.place()),
                f.line().map(|l| format!(":{l}")).unwrap_or_default(),
                f.secret.redacted(),
                f.rule_id,
                f.fingerprint
            );
        }
        return Err(Error::Usage(format!(
            "refusing to baseline {}: a baseline hides a key from every later check, and these \
             are real credentials by their shape. Roll them; then, or if they are fakes, name \
             each one: keyward baseline --accept <fingerprint>",
            text::plural(
                refused.len(),
                "live key or private key",
                "live keys or private keys"
            )
        )));
    }
    let entries: Vec<(&finding::Finding, bool)> = results
        .findings
        .iter()
        .map(|f| (f, pipeline.guessable(f.rule, f.secret.len())))
        .collect();
    for (f, _) in &entries {
        eprintln!(
            "keyward: recording {}{}  {}  {}",
            text::printable_path(&f.place()),
            f.line().map(|l| format!(":{l}")).unwrap_or_default(),
            f.secret.redacted(),
            f.rule_id
        );
    }
    let count = Baseline::write(&output, &entries)?;
    eprintln!(
        "keyward: wrote {} to {}; later runs ignore those findings",
        text::plural(count, "fingerprint", "fingerprints"),
        output.display()
    );
    Ok(Outcome::Clean)
}

fn rules(common: &Common, action: &RulesAction) -> Result<Outcome> {
    let config = Config::load(work_root().as_deref(), common.config.as_deref())?;
    // A machine format keeps stderr empty: its warnings go into the document.
    if common.format == cli::Format::Human {
        for w in &config.warnings {
            eprintln!("keyward: warning: {}", text::printable_text(w));
        }
    }
    let warnings: Vec<String> = config
        .warnings
        .iter()
        .map(|w| text::printable_text(w))
        .collect();
    let scanner = scan::Scanner::new(config.catalogue)?;
    let catalogue = scanner.catalogue();
    let (document, outcome) = match action {
        RulesAction::List => (
            report::catalogue::list(catalogue, common.format, &warnings)?,
            Outcome::Clean,
        ),
        RulesAction::Check => {
            let failures = scan::check_examples(&scanner, false);
            let outcome = if failures.is_empty() {
                Outcome::Clean
            } else {
                Outcome::Blocked
            };
            let document = report::catalogue::check(catalogue, failures, common.format, &warnings)?;
            (document, outcome)
        }
    };
    // The listing is what was asked for, in every format: stdout, as before.
    write_out(common, &document, true)?;
    Ok(outcome)
}

/// Writes a rendered document to `--report`'s file, or to stdout or stderr.
fn write_out(common: &Common, text: &str, to_stdout: bool) -> Result<()> {
    match &common.report {
        Some(path) => std::fs::write(path, text).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?,
        None if to_stdout => {
            let _ = std::io::stdout().write_all(text.as_bytes());
        }
        None => {
            // A hook's stderr is what git shows the person. A failed write must
            // not turn a block into a pass, so it is ignored here; the exit status
            // still carries the verdict.
            let _ = std::io::stderr().write_all(text.as_bytes());
        }
    }
    Ok(())
}

/// Renders and writes the report in the chosen format, and decides the outcome.
fn emit(common: &Common, mode: Mode, result: Option<(&Results, &Pipeline)>) -> Result<Outcome> {
    let empty = Results::default();
    let empty_catalogue = rules::Catalogue::default();
    let (results, catalogue, warnings): (&Results, &rules::Catalogue, &[String]) = match result {
        Some((r, p)) => (r, p.scanner().catalogue(), &p.warnings),
        None => (&empty, &empty_catalogue, &[]),
    };
    let unscanned_blocks = result.is_some_and(|(_, p)| p.unscanned_blocks);
    let report = Report {
        mode,
        results,
        catalogue,
        warnings,
    };
    let to_file = common.report.is_some();
    let tty = !to_file && std::io::stderr().is_terminal();
    let renderer = report::renderer(common.format, color_for(common.color, tty));
    let text = renderer.render(&report);
    write_out(common, &text, renderer.to_stdout())?;
    Ok(if report.blocked() {
        Outcome::Blocked
    } else if !results.not_scanned.is_empty() && unscanned_blocks {
        Outcome::Unchecked
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
