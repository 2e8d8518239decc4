//! Commits: `keyward history` and `keyward pre-push`. Each commit is compared with
//! its first parent by tree entries (`git diff-tree`), with no patch text; that yields
//! every (commit, path, blob) a commit introduced. Those are grouped by blob, so the
//! pipeline reads and scans each distinct blob once however many commits and paths
//! it appears under, and a key is reported in the commit that added it (the earlier
//! versions at that path say what was already there), not in every later commit that
//! edits the file. Each commit's message is scanned too: a push publishes it.

use std::collections::HashMap;

use crate::error::Result;
use crate::git::{ObjectId, Repo};
use crate::pipeline::{Appearance, Blob, Content, Earlier, Origin};

/// Where a key in a commit message is reported: the commit line says which.
pub const COMMIT_MESSAGE: &[u8] = b"(commit message)";

pub fn blobs(repo: &Repo, commits: &[ObjectId], progress: bool) -> Result<Vec<Blob>> {
    let started = std::time::Instant::now();
    let changes = repo.commit_changes(commits, progress.then_some("commits walked"))?;
    let read = started.elapsed();
    let per_commit = commits.iter().zip(changes).map(|(&id, (info, changes))| {
        let intros: Vec<_> = changes
            .into_iter()
            .filter_map(|change| {
                let mut previous: Vec<ObjectId> = change.old.into_iter().collect();
                previous.extend(change.other_parents);
                (!previous.contains(&change.new)).then_some((change.path, change.new, previous))
            })
            .collect();
        (id, info, intros)
    });
    let mut blobs: Vec<Blob> = Vec::new();
    let mut index: HashMap<ObjectId, usize> = HashMap::new();
    let mut order = 0;
    for (id, info, intros) in per_commit {
        let info = std::sync::Arc::new(info);
        // Messages are published with their commits.
        blobs.push(Blob {
            content: Content::Message(id),
            appearances: Vec::with_capacity(1),
        });
        let m = blobs.len() - 1;
        blobs[m].appearances.push(Appearance {
            path: COMMIT_MESSAGE.to_vec(),
            origin: Origin::Commit(info.clone()),
            earlier: Earlier::Nothing,
            order,
        });
        order += 1;
        for (path, new, previous) in intros {
            let i = *index.entry(new).or_insert_with(|| {
                // Most blobs appear once: a first push would reserve room
                // for four appearances (git.git's peak: 286 MB so, 230 MB not).
                blobs.push(Blob {
                    content: Content::Object(new),
                    appearances: Vec::with_capacity(1),
                });
                blobs.len() - 1
            });
            blobs[i].appearances.push(Appearance {
                path,
                origin: Origin::Commit(info.clone()),
                earlier: Earlier::Secrets(previous.into_iter().map(Content::Object).collect()),
                order,
            });
            order += 1;
        }
    }
    // Read in the order the packs store them, each delta after its base (see
    // `PackPositions`), commits' messages among them.
    let positions = repo.pack_positions();
    blobs.sort_by_cached_key(|b| match &b.content {
        Content::Object(id) | Content::Message(id) => {
            Some(positions.position(*id).unwrap_or((u32::MAX, 0)))
        }
        _ => None,
    });
    crate::git::trace(&format!(
        "history: {} commits, {order} introductions of {} distinct blobs in {:?} \
         ({read:?} reading commits and comparing trees)",
        commits.len(),
        blobs.len(),
        started.elapsed()
    ));
    Ok(blobs)
}
