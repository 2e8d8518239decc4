//! The worker pool: runs independent items over the cores, each worker with state
//! of its own (a repository handle, say: libgit2 handles are not shared between
//! threads). It knows nothing of what the items are.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::error::{Error, Result};

/// Items a worker takes at a time: contiguous chunks keep neighbouring items
/// (versions of one file, in history) on one worker and its caches.
const CHUNK: usize = 64;

/// Runs `work` for 0..count and returns the `Some` results in index order. Each
/// worker calls `init` once for its state. The first error stops every worker and
/// is returned. With `label` (the caller decides that someone is watching), a
/// count of finished items and the rate are shown on stderr as they go.
pub fn run<S, T: Send>(
    count: usize,
    label: Option<&str>,
    init: impl Fn() -> Result<S> + Sync,
    work: impl Fn(&mut S, usize) -> Result<Option<T>> + Sync,
) -> Result<Vec<(usize, T)>> {
    if count <= CHUNK {
        // Too little to be worth a thread (a typical commit): run here.
        let mut state = init()?;
        let mut out = Vec::new();
        for i in 0..count {
            if let Some(v) = work(&mut state, i)? {
                out.push((i, v));
            }
        }
        return Ok(out);
    }
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(count.div_ceil(CHUNK))
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
                    let mut state = init()?;
                    let mut local = Vec::new();
                    'work: loop {
                        let start = next.fetch_add(CHUNK, Ordering::Relaxed);
                        if start >= count {
                            break;
                        }
                        for i in start..count.min(start.saturating_add(CHUNK)) {
                            if stop.load(Ordering::Relaxed) {
                                break 'work;
                            }
                            if let Some(v) = work(&mut state, i)? {
                                local.push((i, v));
                            }
                            done.fetch_add(1, Ordering::Relaxed);
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
        if let Some(label) = label {
            s.spawn(move || {
                let bar = crate::progress::Bar::start(label, count);
                loop {
                    let n = done.load(Ordering::Relaxed);
                    bar.set(n);
                    if n >= count || stop.load(Ordering::Relaxed) {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                bar.finish();
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
    results.sort_unstable_by_key(|(i, _)| *i);
    Ok(results)
}
