//! What commits changed against their first parents, from `git diff-tree
//! --stdin`: git's own tree comparison, the reference for what a commit
//! changed. On git.git's 81,968 commits, libgit2 (parsing every tree object
//! into entries, under a cache lock the workers share) spent 10.7 s comparing
//! trees on two cores; git takes 8.2 s in one process with merges' combined
//! diffs, and 4.6 s as one process per core, each taking runs of commits in
//! turn (a contiguous run keeps its delta-base cache serving).
//!
//! git is always there when it runs a hook, and sees the same objects: a push's
//! quarantine is named in the environment the child inherits.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use git2::Oid;

use super::walk::Walked;
use super::{Change, ObjectId, Repo};
use crate::error::{Error, Result};
use crate::finding::CommitInfo;

/// Commits per process below which a second process is not worth starting.
const PER_PROCESS: usize = 2_000;
const RUNS_PER_PROCESS: usize = 4;

/// One run's commits: each one's time and what it changed.
type Run = Vec<(i64, Walked)>;

impl Repo {
    /// For each commit, the files it added or changed against its first parent
    /// (a file that only moved left out, as `Walked::into_changes_lenient`
    /// says), in the order given. A merge lists only the files that differ from
    /// every parent (git's combined diff), each with what the other parents held
    /// there: content taken whole from one parent was that parent's to add.
    /// Each commit's id and time come with it: nothing else is read of it.
    /// With `progress`, a count of commits compared is shown as they go.
    pub fn commit_changes(
        &self,
        commits: &[ObjectId],
        progress: Option<&str>,
    ) -> Result<Vec<(CommitInfo, Vec<Change>)>> {
        let processes = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(commits.len().div_ceil(PER_PROCESS))
            .max(1);
        // A few runs per process, taken in turn: newer commits have larger
        // trees, so halves by count leave one process working alone at the end.
        let per = commits.len().div_ceil(processes * RUNS_PER_PROCESS).max(1);
        let runs: Vec<&[ObjectId]> = commits.chunks(per).collect();
        let git_dir = self.repo.path();
        let done = AtomicUsize::new(0);
        let next = AtomicUsize::new(0);
        let results: Vec<std::sync::Mutex<Option<Result<Run>>>> =
            runs.iter().map(|_| Default::default()).collect();
        std::thread::scope(|s| {
            let (done, next, runs, results) = (&done, &next, &runs, &results);
            let running: Vec<_> = (0..processes)
                .map(|_| {
                    s.spawn(move || loop {
                        let r = next.fetch_add(1, Ordering::Relaxed);
                        let Some(run) = runs.get(r) else { break };
                        let outcome = diff_tree(git_dir, run, done);
                        let failed = outcome.is_err();
                        *results[r].lock().expect("no reader panics holding it") = Some(outcome);
                        if failed {
                            // The run fails as a whole: stop taking more.
                            next.store(runs.len(), Ordering::Relaxed);
                        }
                    })
                })
                .collect();
            if let Some(label) = progress {
                let bar = crate::progress::Bar::start(label, commits.len());
                while !running.iter().all(|h| h.is_finished()) {
                    bar.set(done.load(Ordering::Relaxed));
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                bar.finish();
            }
        });
        let mut parts = Vec::with_capacity(runs.len());
        for r in results {
            match r.into_inner().expect("no reader panics holding it") {
                Some(part) => parts.push(part?),
                None => break,
            }
        }
        let mut out = Vec::with_capacity(commits.len());
        if parts.len() != runs.len() {
            // Only when a run failed, and its error was returned above.
            return Err(Error::Usage("git diff-tree stopped early".into()));
        }
        for part in parts {
            for (time, walked) in part {
                let id = commits[out.len()].hex();
                out.push((
                    CommitInfo { id, time },
                    walked.into_changes_lenient(&self.repo)?,
                ));
            }
        }
        Ok(out)
    }
}

fn diff_tree(git_dir: &Path, commits: &[ObjectId], done: &AtomicUsize) -> Result<Run> {
    let cannot = |e: &dyn std::fmt::Display| {
        Error::Usage(format!(
            "cannot run git diff-tree to compare commits with their parents: {e}"
        ))
    };
    let mut child = Command::new("git")
        // Pack windows and delta-base cache as small as libgit2's here (see
        // `settings`): with git's defaults one process held 280 MB of git.git's
        // pack (86 MB so), for about 15% less time.
        .args([
            "-c",
            "core.packedGitWindowSize=16m",
            "-c",
            "core.packedGitLimit=64m",
            "-c",
            "core.deltaBaseCacheLimit=16m",
            // git 2.44+ refuses trees nested deeper than 2048 levels (a guard
            // for its recursion); such a tree is committed like any other and
            // must be read. Should git still fail, so does the check (exit 2).
            "-c",
            "core.maxTreeDepth=1000000",
            "diff-tree",
            "--stdin",
            "-r",
            "--raw",
            "-z",
            "--no-renames",
            "--root",
            "-c",
            // Every commit, changed or not, headed by its id and committer time.
            "--always",
            "--format=%H %ct",
        ])
        .env("GIT_DIR", git_dir)
        .current_dir(git_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| cannot(&e))?;
    let mut stdin = child.stdin.take().expect("piped");
    let stdout = child.stdout.take().expect("piped");
    let parsed = std::thread::scope(|s| {
        // Written while the output is read: git answers as it reads, and a
        // full pipe either way would stall both.
        let writer = s.spawn(move || -> std::io::Result<()> {
            let mut input = Vec::with_capacity(commits.len() * 82);
            // A commit is compared with its parent, with the empty tree for a
            // root (`--root`), with every parent for a merge (`-c`).
            for commit in commits {
                input.extend_from_slice(commit.hex().as_bytes());
                input.push(b'\n');
            }
            stdin.write_all(&input)
        });
        let parsed = parse(BufReader::with_capacity(1 << 16, stdout), commits, done);
        let written = writer.join().expect("writer does not panic");
        parsed.and_then(|p| written.map(|()| p).map_err(|e| e.to_string()))
    });
    let output = child.wait_with_output().map_err(|e| cannot(&e))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(cannot(&stderr.lines().next().unwrap_or("it failed")));
    }
    parsed.map_err(|e| cannot(&e))
}

/// Reads `-z` raw output: each commit's `<id> <time>`, then per changed file
/// `:<old mode> <new mode> <old id> <new id> <status>` and the path. Empty
/// fields and the newline git puts between a header and its first change are
/// separators.
fn parse(
    mut out: impl BufRead,
    commits: &[ObjectId],
    done: &AtomicUsize,
) -> std::result::Result<Run, String> {
    let mut walked: Vec<(i64, Walked)> = Vec::with_capacity(commits.len());
    let mut field = Vec::new();
    let mut path = Vec::new();
    let unexpected = |f: &[u8]| format!("unexpected output {:?}", String::from_utf8_lossy(f));
    loop {
        field.clear();
        if out.read_until(0, &mut field).map_err(|e| e.to_string())? == 0 {
            break;
        }
        if field.last() == Some(&0) {
            field.pop();
        }
        let start = field.iter().take_while(|&&b| b == b'\n').count();
        let field = &field[start..];
        if field.is_empty() {
            continue;
        }
        if field[0] != b':' {
            let (id, time) = std::str::from_utf8(field)
                .ok()
                .and_then(|s| s.split_once(' '))
                .and_then(|(id, t)| Some((Oid::from_str(id).ok()?, t.trim().parse().ok()?)))
                .ok_or_else(|| unexpected(field))?;
            let want = commits
                .get(walked.len())
                .ok_or_else(|| format!("commit {id} not asked for"))?;
            if want.0 != id {
                return Err(format!("commit {id} where {} was expected", want.0));
            }
            walked.push((time, Walked::default()));
            done.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        path.clear();
        out.read_until(0, &mut path).map_err(|e| e.to_string())?;
        if path.last() == Some(&0) {
            path.pop();
        }
        let entry = Entry::parse(field).ok_or_else(|| unexpected(field))?;
        let (result, parents) = entry.sides.split_last().expect("two sides at least");
        let (_, current) = walked.last_mut().ok_or("a change before any commit")?;
        current.add_raw(
            std::mem::take(&mut path),
            parents[0],
            *result,
            &parents[1..],
        );
    }
    if walked.len() != commits.len() {
        return Err(format!(
            "{} of {} commits compared",
            walked.len(),
            commits.len()
        ));
    }
    Ok(walked)
}

/// One changed path's header: each parent's mode and id, then the commit's.
struct Entry {
    sides: Vec<(u32, Oid)>,
}

impl Entry {
    /// `:<mode> <mode> <id> <id> <status>`, or with `-c` for a merge of n
    /// parents, n colons, n + 1 modes and ids, and n status letters.
    fn parse(header: &[u8]) -> Option<Entry> {
        let parents = header.iter().take_while(|&&b| b == b':').count();
        let text = std::str::from_utf8(&header[parents..]).ok()?;
        let fields: Vec<&str> = text.split(' ').collect();
        if parents == 0 || fields.len() != 2 * (parents + 1) + 1 {
            return None;
        }
        let (modes, ids) = fields[..2 * (parents + 1)].split_at(parents + 1);
        let sides = modes
            .iter()
            .zip(ids)
            .map(|(m, id)| Some((u32::from_str_radix(m, 8).ok()?, Oid::from_str(id).ok()?)))
            .collect::<Option<Vec<_>>>()?;
        Some(Entry { sides })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_headers_of_any_number_of_parents() {
        let a = "a".repeat(40);
        let b = "b".repeat(40);
        let c = "c".repeat(40);
        let z = "0".repeat(40);
        let one = format!(":100644 100755 {a} {b} M");
        let e = Entry::parse(one.as_bytes()).unwrap();
        assert_eq!(e.sides.len(), 2);
        assert_eq!(e.sides[0].0, 0o100644);
        assert_eq!(e.sides[1], (0o100755, Oid::from_str(&b).unwrap()));
        let added = format!(":000000 120000 {z} {a} A");
        assert_eq!(Entry::parse(added.as_bytes()).unwrap().sides[0].0, 0);
        let octopus = format!(":::100644 000000 160000 100644 {a} {z} {b} {c} MAM");
        let e = Entry::parse(octopus.as_bytes()).unwrap();
        let modes: Vec<u32> = e.sides.iter().map(|s| s.0).collect();
        assert_eq!(modes, [0o100644, 0, 0o160000, 0o100644]);
        assert_eq!(e.sides[3].1, Oid::from_str(&c).unwrap());
        // A header that does not add up is refused, not misread.
        for bad in [
            format!("100644 100644 {a} {b} M"),
            format!("::100644 100644 {a} {b} M"),
            format!(":100644 100644 {a} nothex M"),
        ] {
            assert!(Entry::parse(bad.as_bytes()).is_none(), "{bad}");
        }
    }
}
