//! What a push brings to a server: `keyward pre-receive`. The commits no existing
//! ref reaches go through the history source (trees and messages, each blob
//! once); annotated tags' messages and blobs a ref names directly are blobs of
//! their own. Each appearance keeps the ref update that brought it, so a report or
//! an audit line can name the ref.

use std::collections::HashMap;

use crate::error::Result;
use crate::git::{Incoming, Repo};
use crate::pipeline::{Appearance, Blob, Content, Earlier, Origin};

/// The blobs, and for each commit (by hex id) the index of its ref update.
pub struct Pushed {
    pub blobs: Vec<Blob>,
    pub commit_refs: HashMap<String, usize>,
    /// For appearances that are no commit's (tag messages, tagged blobs), by
    /// path as reported: the index of the ref update.
    pub other_refs: HashMap<Vec<u8>, usize>,
}

pub fn blobs(repo: &Repo, incoming: &Incoming, names: &[String]) -> Result<Pushed> {
    let commits: Vec<_> = incoming.commits.iter().map(|&(id, _)| id).collect();
    let commit_refs = incoming
        .commits
        .iter()
        .map(|&(id, i)| (id.hex(), i))
        .collect();
    let mut blobs = crate::source::history::blobs(repo, &commits, false)?;
    let mut other_refs = HashMap::new();
    let tags: Vec<_> = incoming.tags.iter().map(|(t, _)| t).collect();
    for (blob, (_, i)) in super::message::tag_blobs_of(&tags, blobs.len())
        .into_iter()
        .zip(&incoming.tags)
    {
        for a in &blob.appearances {
            other_refs.insert(a.path.clone(), *i);
        }
        blobs.push(blob);
    }
    for &(id, i) in &incoming.blobs {
        let path = format!("({} names a blob)", names[i]).into_bytes();
        other_refs.insert(path.clone(), i);
        let order = blobs.len();
        blobs.push(Blob {
            content: Content::Object(id),
            appearances: vec![Appearance {
                path,
                origin: Origin::Message,
                earlier: Earlier::Nothing,
                order,
            }],
        });
    }
    Ok(Pushed {
        blobs,
        commit_refs,
        other_refs,
    })
}
