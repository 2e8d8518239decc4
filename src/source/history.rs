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
use std::io::IsTerminal;
use std::sync::Mutex;

use super::parallel;
use crate::check::{BlobScan, Checked, Checker};
use crate::error::Result;
use crate::finding::CommitInfo;
use crate::git::{ObjectId, Repo};

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
    let started = std::time::Instant::now();

    // Pass 1: what each commit introduced.
    let per_commit = parallel(
        repo,
        &location,
        commits.len(),
        show.then_some("commits"),
        |repo, i| {
            let changes = repo.commit_changes(commits[i])?;
            let mut intros = Vec::with_capacity(changes.changes.len());
            for change in changes.changes {
                let mut previous: Vec<ObjectId> = change.old.into_iter().collect();
                for &parent_tree in &changes.other_parents {
                    if let Some(blob) = repo.blob_at(parent_tree, &change.path)? {
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

    crate::git::trace(&format!(
        "history pass 1: {} commits, {} introductions in {:?}",
        commits.len(),
        intros.len(),
        started.elapsed()
    ));

    // Pass 2: every distinct blob, once.
    // In order of first introduction, newest commit first: successive versions of
    // a file sit next to each other, which is how packs chain their deltas, so
    // each worker's delta-base cache keeps hitting.
    let mut seen: std::collections::HashSet<ObjectId> = std::collections::HashSet::new();
    let blobs: Vec<(ObjectId, usize)> = intros
        .iter()
        .enumerate()
        .filter(|(_, intro)| seen.insert(intro.new))
        .map(|(n, intro)| (intro.new, n))
        .collect();
    let not_scanned = Mutex::new(Checked::default());
    let scanned = parallel(
        repo,
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

    crate::git::trace(&format!(
        "history pass 2: {} distinct blobs, {} with matches, at {:?}",
        blobs.len(),
        hits.len(),
        started.elapsed()
    ));

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
