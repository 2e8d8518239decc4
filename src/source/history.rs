//! Commits: `keyward history` and `keyward pre-push`. Each commit is compared with
//! its first parent by tree entries, with no patch text, over the cores; that yields
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
    let location = repo.location();
    let started = std::time::Instant::now();
    let per_commit = crate::pool::run(
        commits.len(),
        progress.then_some("commits walked"),
        || location.open(),
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
                    intros.push((change.path, change.new, previous));
                }
            }
            Ok(Some((changes.info, changes.message, intros)))
        },
    )?;
    let mut blobs: Vec<Blob> = Vec::new();
    let mut index: HashMap<ObjectId, usize> = HashMap::new();
    // Messages are published with their commits. Many repeat ("fix"), so each
    // distinct message is one blob.
    // Keyed by the text the blob holds: one copy of each message, not two.
    let mut messages: HashMap<std::sync::Arc<[u8]>, usize> = HashMap::new();
    let mut order = 0;
    for (_, (info, message, intros)) in per_commit {
        let info = std::sync::Arc::new(info);
        let text: std::sync::Arc<[u8]> = message.into();
        let m = *messages.entry(text.clone()).or_insert_with(|| {
            blobs.push(Blob {
                content: Content::Bytes(text),
                appearances: Vec::new(),
            });
            blobs.len() - 1
        });
        blobs[m].appearances.push(Appearance {
            path: COMMIT_MESSAGE.to_vec(),
            origin: Origin::Commit(info.clone()),
            earlier: Earlier::Nothing,
            order,
        });
        order += 1;
        for (path, new, previous) in intros {
            let i = *index.entry(new).or_insert_with(|| {
                blobs.push(Blob {
                    content: Content::Object(new),
                    appearances: Vec::new(),
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
    // `PackPositions`); commit messages, in memory, first.
    let positions = repo.pack_positions();
    blobs.sort_by_cached_key(|b| match &b.content {
        Content::Object(id) => Some(positions.position(*id).unwrap_or((u32::MAX, 0))),
        _ => None,
    });
    crate::git::trace(&format!(
        "history: {} commits, {order} introductions of {} distinct blobs in {:?}",
        commits.len(),
        blobs.len(),
        started.elapsed()
    ));
    Ok(blobs)
}
