//! Files on disk: `keyward scan`. Honours .gitignore (unless told not to), reads
//! hidden files (`.env`, `.github/workflows`, `.gitlab-ci.yml` are where CI secrets
//! live), and never follows a symlink out of the tree. Walking only lists the files;
//! the pipeline reads them, over every core.

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::pipeline::{Appearance, Blob, Content, Earlier, NotScanned, Origin};

/// The files under `roots`, and the places that could not be walked.
pub fn blobs(roots: &[PathBuf], respect_ignore: bool) -> Result<(Vec<Blob>, Vec<NotScanned>)> {
    let mut blobs = Vec::new();
    let mut not_walked = Vec::new();
    for root in roots {
        let meta = std::fs::symlink_metadata(root).map_err(|source| Error::Io {
            path: root.clone(),
            source,
        })?;
        if meta.is_file() {
            push(&mut blobs, root);
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
                    not_walked.push(NotScanned {
                        path: root.as_os_str().as_bytes().to_vec(),
                        reason: format!("cannot walk: {e}"),
                    });
                    continue;
                }
            };
            // Only regular files: symlinks are not followed, so nothing outside
            // the tree is read.
            if entry.file_type().is_some_and(|k| k.is_file()) {
                push(&mut blobs, entry.path());
            }
        }
    }
    Ok((blobs, not_walked))
}

fn push(blobs: &mut Vec<Blob>, path: &Path) {
    let shown = path.strip_prefix("./").unwrap_or(path);
    let order = blobs.len();
    blobs.push(Blob {
        content: Content::File(path.to_path_buf()),
        appearances: vec![Appearance {
            path: shown.as_os_str().as_bytes().to_vec(),
            origin: Origin::File,
            earlier: Earlier::Nothing,
            order,
        }],
    });
}

/// The files at `paths` (as git names them, relative to `root`) as they are now
/// on disk, each under its repository path: what `keyward scan` would read
/// there. Paths that are no longer files are left out.
pub fn at(root: &Path, paths: &[&[u8]]) -> Vec<Blob> {
    paths
        .iter()
        .enumerate()
        .filter_map(|(order, rel)| {
            let full = root.join(std::ffi::OsStr::from_bytes(rel));
            std::fs::symlink_metadata(&full)
                .is_ok_and(|m| m.is_file())
                .then(|| Blob {
                    content: Content::File(full),
                    appearances: vec![Appearance {
                        path: rel.to_vec(),
                        origin: Origin::File,
                        earlier: Earlier::Nothing,
                        order,
                    }],
                })
        })
        .collect()
}
