//! What `git commit` is about to record: the added lines of each staged blob,
//! spread over the cores when there are many.

use std::sync::Mutex;

use super::parallel;
use crate::check::{Against, Checked, Checker};
use crate::error::Result;
use crate::git::{self, Repo, Staged};

pub fn scan(repo: &Repo, staged: &Staged, checker: &Checker) -> Result<Checked> {
    let skipped = Mutex::new(Checked::default());
    let location = repo.location();
    let results = parallel(repo, &location, staged.changes.len(), None, |repo, i| {
        let change = &staged.changes[i];
        let mut out = Checked::default();
        if !checker.wants(
            &change.path,
            repo.blob_size(change.new, &change.path)?,
            &mut out,
        ) {
            skipped
                .lock()
                .expect("no worker panics holding it")
                .merge(out);
            return Ok(None);
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
        let checked = checker.check(&change.path, &new, against)?;
        let empty =
            checked.findings.is_empty() && checked.not_scanned.is_empty() && checked.baselined == 0;
        Ok((!empty).then_some(checked))
    })?;
    let mut out = skipped.into_inner().expect("no worker panics holding it");
    for (_, c) in results {
        out.merge(c);
    }
    Ok(out)
}
