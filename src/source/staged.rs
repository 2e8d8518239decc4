//! What `git commit` is about to record: the added lines of each staged blob.

use crate::check::{Against, Checked, Checker};
use crate::error::Result;
use crate::git::{self, Repo, Staged};

pub fn scan(repo: &Repo, staged: &Staged, checker: &Checker) -> Result<Checked> {
    let mut out = Checked::default();
    for change in &staged.changes {
        if !checker.wants(
            &change.path,
            repo.blob_size(change.new, &change.path)?,
            &mut out,
        ) {
            continue;
        }
        let new = repo.read_blob(change.new, &change.path)?;
        let old = match change.old {
            Some(id) => Some(repo.read_blob(id, change.old_path.as_ref().unwrap_or(&change.path))?),
            None => None,
        };
        let against = match &old {
            Some(old) => Against::Lines(old, &git::added_lines),
            None => Against::Nothing,
        };
        out.merge(checker.check(&change.path, &new, against)?);
    }
    Ok(out)
}
