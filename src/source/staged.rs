//! What `git commit` is about to record: each staged blob, compared by line with
//! the version it replaces.

use std::collections::HashMap;

use crate::git::{ObjectId, Staged};
use crate::pipeline::{Appearance, Blob, Content, Earlier, Origin};

pub fn blobs(staged: &Staged) -> Vec<Blob> {
    let mut blobs: Vec<Blob> = Vec::new();
    let mut index: HashMap<ObjectId, usize> = HashMap::new();
    for (order, change) in staged.changes.iter().enumerate() {
        let appearance = Appearance {
            path: change.path.clone(),
            origin: Origin::Staged,
            earlier: match change.old {
                Some(old) => Earlier::Lines(Content::Object(old)),
                None => Earlier::Nothing,
            },
            order,
        };
        // The same content staged at several paths is read and scanned once.
        let i = *index.entry(change.new).or_insert_with(|| {
            blobs.push(Blob {
                content: Content::Object(change.new),
                appearances: Vec::new(),
            });
            blobs.len() - 1
        });
        blobs[i].appearances.push(appearance);
    }
    blobs
}
