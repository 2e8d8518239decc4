//! Input sources: each turns one place secrets can hide into blobs for the checker.
//! Staged changes (the pre-commit hook), files on disk, commits (history and
//! pre-push) and commit messages.

pub mod files;
pub mod history;
pub mod message;
pub mod staged;

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::error::{Error, Result};
use crate::git::{Repo, RepoLocation};

/// Items a worker takes at a time.
const CHUNK: usize = 64;

/// Runs `work` for 0..count over the cores, each worker with its own repository
/// handle, and returns the `Some` results in index order. The first error stops
/// every worker and is returned.
pub(crate) fn parallel<T: Send>(
    repo: &Repo,
    location: &RepoLocation,
    count: usize,
    label: Option<&str>,
    work: impl Fn(&Repo, usize) -> Result<Option<T>> + Sync,
) -> Result<Vec<(usize, T)>> {
    if count <= CHUNK {
        // Too little to be worth a thread and a second repository handle (a
        // typical commit): run here.
        let mut out = Vec::new();
        for i in 0..count {
            if let Some(v) = work(repo, i)? {
                out.push((i, v));
            }
        }
        return Ok(out);
    }
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
                    // Contiguous chunks keep neighbouring items (versions of one
                    // file) on one worker and its caches.
                    'work: loop {
                        let start = next.fetch_add(CHUNK, Ordering::Relaxed);
                        for i in start..count.min(start.saturating_add(CHUNK)) {
                            if stop.load(Ordering::Relaxed) {
                                break 'work;
                            }
                            if let Some(v) = work(&repo, i)? {
                                local.push((i, v));
                            }
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                        if start >= count {
                            break;
                        }
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
