//! Commits: `keyward history` and `keyward pre-push`. Each commit is compared with
//! its first parent by tree entries (no patch text), and each changed blob is
//! scanned whole with the secrets its previous version held set aside. The commits
//! are spread over the cores, each worker with its own repository handle.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::check::{Against, Checked, Checker};
use crate::error::Result;
use crate::git::{ObjectId, Repo};

pub fn scan(
    repo: &Repo,
    commits: &[ObjectId],
    checker: &Checker,
    progress: bool,
) -> Result<Checked> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(commits.len())
        .max(1);
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let results: Mutex<Vec<(usize, Checked)>> = Mutex::new(Vec::new());
    let first_error: Mutex<Option<crate::error::Error>> = Mutex::new(None);
    let location = repo.location();
    let show = progress && std::io::stderr().is_terminal() && commits.len() > 1;

    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                let run = || -> Result<()> {
                    let repo = location.open()?;
                    loop {
                        if stop.load(Ordering::Relaxed) {
                            return Ok(());
                        }
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&id) = commits.get(i) else {
                            return Ok(());
                        };
                        let checked = scan_commit(&repo, id, checker)?;
                        if !checked.findings.is_empty()
                            || !checked.not_scanned.is_empty()
                            || checked.baselined > 0
                        {
                            results
                                .lock()
                                .expect("no worker panics holding it")
                                .push((i, checked));
                        }
                        done.fetch_add(1, Ordering::Relaxed);
                    }
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
        if show {
            s.spawn(|| {
                let mut err = std::io::stderr();
                while done.load(Ordering::Relaxed) < commits.len() && !stop.load(Ordering::Relaxed)
                {
                    let _ = write!(
                        err,
                        "\rkeyward: {}/{} commits",
                        done.load(Ordering::Relaxed),
                        commits.len()
                    );
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
    let mut out = Checked::default();
    for (_, c) in results {
        out.merge(c);
    }
    Ok(out)
}

fn scan_commit(repo: &Repo, id: ObjectId, checker: &Checker) -> Result<Checked> {
    let commit = repo.commit_changes(id)?;
    let mut out = Checked::default();
    for change in &commit.changes {
        // In a merge, a blob taken whole from another parent was that parent's
        // commits' to add, and is checked there.
        let mut other_blobs = Vec::new();
        for &parent in &commit.other_parents {
            if let Some(blob) = repo.blob_at(parent, &change.path)? {
                other_blobs.push(blob);
            }
        }
        if other_blobs.contains(&change.new) {
            continue;
        }
        if !checker.wants(
            &change.path,
            repo.blob_size(change.new, &change.path)?,
            &mut out,
        ) {
            continue;
        }
        let new = repo.read_blob(change.new, &change.path)?;
        let old = match change.old {
            Some(old) => Some(repo.read_blob(old, &change.path)?),
            None => None,
        };
        let against = match &old {
            Some(old) => Against::Secrets(old),
            None => Against::Nothing,
        };
        let mut checked = checker.check(&change.path, &new, against)?;
        if !other_blobs.is_empty() && !checked.findings.is_empty() {
            let others: Vec<crate::git::BlobData> = other_blobs
                .iter()
                .map(|b| repo.read_blob(*b, &change.path))
                .collect::<Result<_>>()?;
            checked.findings.retain(|f| {
                !others
                    .iter()
                    .any(|o| memchr::memmem::find(o, f.secret.expose()).is_some())
            });
        }
        for f in &mut checked.findings {
            f.commit = Some(commit.info.clone());
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
