//! Files on disk: `keyward scan`. Honours .gitignore (unless told not to), reads
//! hidden files (`.env`, `.github/workflows`, `.gitlab-ci.yml` are where CI secrets
//! live), and never follows a symlink out of the tree.

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::check::{Against, Checked, Checker, NotScanned};
use crate::error::{Error, Result};

pub fn scan(roots: &[PathBuf], respect_ignore: bool, checker: &Checker) -> Result<Checked> {
    let mut out = Checked::default();
    for root in roots {
        let meta = std::fs::symlink_metadata(root).map_err(|source| Error::Io {
            path: root.clone(),
            source,
        })?;
        if meta.is_file() {
            scan_file(root, meta.len(), checker, &mut out)?;
            continue;
        }
        let walker = ignore::WalkBuilder::new(root)
            .hidden(false)
            .follow_links(false)
            .git_ignore(respect_ignore)
            .git_exclude(respect_ignore)
            .git_global(respect_ignore)
            .ignore(respect_ignore)
            .parents(respect_ignore)
            .require_git(false)
            .filter_entry(|e| e.file_name() != ".git")
            .build();
        for entry in walker {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    out.not_scanned.push(NotScanned {
                        path: root.as_os_str().as_bytes().to_vec(),
                        reason: format!("cannot walk: {e}"),
                    });
                    continue;
                }
            };
            // Only regular files: symlinks are not followed, so nothing outside
            // the tree is read.
            let Some(kind) = entry.file_type() else {
                continue;
            };
            if !kind.is_file() {
                continue;
            }
            let len = entry.metadata().map(|m| m.len()).unwrap_or(0);
            scan_file(entry.path(), len, checker, &mut out)?;
        }
    }
    Ok(out)
}

fn scan_file(path: &Path, len: u64, checker: &Checker, out: &mut Checked) -> Result<()> {
    let shown = path.strip_prefix("./").unwrap_or(path);
    let label = shown.as_os_str().as_bytes();
    if !checker.wants(label, len, out) {
        return Ok(());
    }
    match std::fs::read(path) {
        Ok(content) => out.merge(checker.check(label, &content, Against::Nothing)?),
        Err(e) => out.not_scanned.push(NotScanned {
            path: label.to_vec(),
            reason: format!("cannot read: {e}"),
        }),
    }
    Ok(())
}
