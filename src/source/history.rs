//! Commits: `keyward history` and `keyward pre-push`.
//!
//! Three passes. (1) Each commit is compared with its first parent by tree entries,
//! with no patch text; this yields every (commit, path, blob) a commit introduced.
//! (2) Each distinct blob among those is read and scanned once, however many
//! commits and paths it appears under. (3) Only for blobs with matches: the
//! previous version at that path is read and the secrets it already held are set
//! aside, so a key is reported in the commit that added it, not in every later
//! commit that edits the file. Passes 1 and 2 are spread over the cores, each
//! worker with its own repository handle.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::check::{BlobScan, Checked, Checker};
use crate::error::{Error, Result};
use crate::finding::CommitInfo;
use crate::git::{ObjectId, Repo, RepoLocation};

/// One blob a commit introduced at a path.
struct Intro {
    commit: usize,
    path: Vec<u8>,
    new: ObjectId,
    /// The blob at this path in the first parent, and in a merge's other parents.
    previous: Vec<ObjectId>,
}

pub fn scan(
    repo: &Repo,
    commits: &[ObjectId],
    checker: &Checker,
    progress: bool,
) -> Result<Checked> {
    let location = repo.location();
    let show = progress && std::io::stderr().is_terminal();

    // Pass 1: what each commit introduced.
    let per_commit = parallel(
        &location,
        commits.len(),
        show.then_some("commits"),
        |repo, i| {
            let changes = repo.commit_changes(commits[i])?;
            let mut intros = Vec::with_capacity(changes.changes.len());
            for change in changes.changes {
                let mut previous: Vec<ObjectId> = change.old.into_iter().collect();
                for &parent in &changes.other_parents {
                    if let Some(blob) = repo.blob_at(parent, &change.path)? {
                        previous.push(blob);
                    }
                }
                // In a merge, a blob taken whole from another parent was that
                // parent's commits' to add, and is checked there.
                if changes.other_parents.is_empty() || !previous.contains(&change.new) {
                    intros.push(Intro {
                        commit: i,
                        path: change.path,
                        new: change.new,
                        previous,
                    });
                }
            }
            Ok(Some((changes.info, intros)))
        },
    )?;
    let mut infos: Vec<Option<CommitInfo>> = vec![None; commits.len()];
    let mut intros: Vec<Intro> = Vec::new();
    for (i, (info, list)) in per_commit {
        infos[i] = Some(info);
        intros.extend(list);
    }

    // Pass 2: every distinct blob, once.
    let mut first_path: HashMap<ObjectId, usize> = HashMap::new();
    for (n, intro) in intros.iter().enumerate() {
        first_path.entry(intro.new).or_insert(n);
    }
    let blobs: Vec<(ObjectId, usize)> = first_path.into_iter().collect();
    let not_scanned = Mutex::new(Checked::default());
    let scanned = parallel(
        &location,
        blobs.len(),
        show.then_some("blobs"),
        |repo, i| {
            let (id, intro) = blobs[i];
            let path = &intros[intro].path;
            let content = repo.read_blob(id, path)?;
            let mut skipped = Checked::default();
            if !checker.wants(path, content.len() as u64, &mut skipped) {
                not_scanned
                    .lock()
                    .expect("no worker panics holding it")
                    .merge(skipped);
                return Ok(None);
            }
            let scan = checker.scan_blob(&content)?;
            Ok((!scan.matches.is_empty()).then_some((id, scan)))
        },
    )?;
    let hits: HashMap<ObjectId, BlobScan> = scanned.into_iter().map(|(_, v)| v).collect();

    // Pass 3: place the matches where each blob was introduced.
    let mut out = not_scanned
        .into_inner()
        .expect("no worker panics holding it");
    for intro in intros.iter().filter(|i| hits.contains_key(&i.new)) {
        let previous = intro
            .previous
            .iter()
            .map(|&id| repo.read_blob(id, &intro.path))
            .collect::<Result<Vec<_>>>()?;
        let previous: Vec<&[u8]> = previous.iter().map(|b| &b[..]).collect();
        let mut checked = checker.place_blob(&intro.path, &hits[&intro.new], &previous);
        for f in &mut checked.findings {
            f.commit = infos[intro.commit].clone();
        }
        // .gitleaksignore entries can name a commit: apply them now it is known.
        let before = checked.findings.len();
        checked
            .findings
            .retain(|f| !checker.baseline().suppresses(f));
        checked.baselined += before - checked.findings.len();
        out.merge(checked);
    }
    Ok(out)
}

/// Runs `work` for 0..count over the cores, each worker with its own repository
/// handle, and returns the `Some` results in index order. The first error stops
/// every worker and is returned.
fn parallel<T: Send>(
    location: &RepoLocation,
    count: usize,
    label: Option<&str>,
    work: impl Fn(&Repo, usize) -> Result<Option<T>> + Sync,
) -> Result<Vec<(usize, T)>> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(count)
        .max(1);
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let results: Mutex<Vec<(usize, T)>> = Mutex::new(Vec::new());
    let first_error: Mutex<Option<Error>> = Mutex::new(None);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                let run = || -> Result<()> {
                    let repo = location.open()?;
                    let mut local = Vec::new();
                    loop {
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= count {
                            break;
                        }
                        if let Some(v) = work(&repo, i)? {
                            local.push((i, v));
                        }
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    results
                        .lock()
                        .expect("no worker panics holding it")
                        .extend(local);
                    Ok(())
                };
                if let Err(e) = run() {
                    stop.store(true, Ordering::Relaxed);
                    first_error
                        .lock()
                        .expect("no worker panics holding it")
                        .get_or_insert(e);
                }
            });
        }
        let (done, stop) = (&done, &stop);
        if let (Some(label), true) = (label, count > 1) {
            s.spawn(move || {
                let mut err = std::io::stderr();
                loop {
                    let n = done.load(Ordering::Relaxed);
                    if n >= count || stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let _ = write!(err, "\rkeyward: {n}/{count} {label}");
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                let _ = write!(err, "\r\x1b[2K");
            });
        }
    });
    if let Some(e) = first_error
        .into_inner()
        .expect("no worker panics holding it")
    {
        return Err(e);
    }
    let mut results = results.into_inner().expect("no worker panics holding it");
    results.sort_by_key(|(i, _)| *i);
    Ok(results)
}
