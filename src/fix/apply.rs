//! Applying a plan as one transaction. The key's value is saved first (the env
//! file), then `.gitignore`, then the working files, each written to a temporary
//! file beside it and renamed over it with its mode kept; the index is last, in
//! one `git update-index` under git's lock, and is the commit point. If any step
//! fails, every file already written is put back as it was, so nothing changes;
//! new blobs are left in the object database, where nothing refers to them.

use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::plan::{Action, Plan};
use crate::error::{Error, Result};
use crate::git::{IndexEdit, IndexEntry, ObjectId, Repo};
use crate::text::printable_path;

/// What was done, for the report.
pub struct Applied {
    /// (path, where the original is kept: the staged blob, or the working file
    /// stored as a blob)
    pub originals: Vec<(String, &'static str, ObjectId)>,
}

/// Writes `data` to `path` through a temporary file in the same directory and a
/// rename, so a reader sees the old content or the new, never part of either.
pub fn write_atomic(path: &Path, data: &[u8], mode: u32) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.keyward-{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)?;
        f.write_all(data)?;
        // The umask may have narrowed the mode at creation.
        f.set_permissions(std::fs::Permissions::from_mode(mode))?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// A whole file to write: where, what it held when planned, what it gets, mode.
type Write<'p> = (&'p Path, Option<&'p Vec<u8>>, &'p Vec<u8>, u32);

/// A file written so far, and how to put it back.
struct Undo {
    path: PathBuf,
    old: Option<Vec<u8>>,
    mode: u32,
}

fn undo(done: Vec<Undo>) -> Vec<String> {
    let mut failed = Vec::new();
    for u in done.into_iter().rev() {
        let result = match &u.old {
            Some(old) => write_atomic(&u.path, old, u.mode),
            None => std::fs::remove_file(&u.path),
        };
        if let Err(e) = result {
            failed.push(format!("{}: {e}", u.path.display()));
        }
    }
    failed
}

pub fn apply(repo: &Repo, plan: &Plan) -> Result<Applied> {
    let mut applied = Applied {
        originals: Vec::new(),
    };
    // Objects first: they change nothing until the index names them.
    let mut edits = Vec::new();
    let mut expected: Vec<(Vec<u8>, IndexEntry)> = Vec::new();
    for file in &plan.files {
        let shown = printable_path(&file.path);
        match &file.action {
            Action::Rewrite {
                staged, working, ..
            } => {
                if let Some((entry, version)) = staged {
                    let id = repo.write_blob(&version.new)?;
                    edits.push(IndexEdit::Set(
                        file.path.clone(),
                        IndexEntry {
                            mode: entry.mode,
                            id,
                        },
                    ));
                    expected.push((file.path.clone(), *entry));
                    applied.originals.push((shown.clone(), "staged", entry.id));
                } else if let Some(w) = working {
                    let id = repo.write_blob(&w.version.old)?;
                    applied.originals.push((shown.clone(), "working file", id));
                }
            }
            Action::Untrack { in_index: true } => edits.push(IndexEdit::Remove(file.path.clone())),
            Action::Untrack { in_index: false } => {}
        }
    }
    let mut writes: Vec<Write> = Vec::new();
    if let Some(env) = &plan.env {
        writes.push((&env.path, env.old.as_ref(), &env.new, env.mode));
    }
    if let Some(ignore) = &plan.ignore {
        writes.push((&ignore.path, ignore.old.as_ref(), &ignore.new, ignore.mode));
    }
    for file in &plan.files {
        if let Action::Rewrite {
            working: Some(w), ..
        } = &file.action
        {
            writes.push((&w.path, Some(&w.version.old), &w.version.new, w.mode));
        }
    }
    let mut done: Vec<Undo> = Vec::new();
    let mut failure: Option<Error> = None;
    for (path, old, new, mode) in writes {
        // A file changed since it was planned is not written over.
        let now = match std::fs::read(path) {
            Ok(now) => Some(now),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                failure = Some(Error::Io {
                    path: path.to_path_buf(),
                    source,
                });
                break;
            }
        };
        if now.as_ref() != old {
            failure = Some(Error::Usage(format!(
                "{} changed while keyward fix was running",
                path.display()
            )));
            break;
        }
        if let Err(source) = write_atomic(path, new, mode) {
            failure = Some(Error::Io {
                path: path.to_path_buf(),
                source,
            });
            break;
        }
        done.push(Undo {
            path: path.to_path_buf(),
            old: old.cloned(),
            mode,
        });
    }
    if failure.is_none() && !edits.is_empty() {
        // An entry staged anew since the plan (a `git add` meanwhile) is not
        // overwritten: that would unstage someone's change.
        let planned: Vec<&[u8]> = expected.iter().map(|(p, _)| p.as_slice()).collect();
        failure = match repo.index_entries(&planned) {
            Ok(now) => expected
                .iter()
                .find(|(p, e)| now.get(p) != Some(e))
                .map(|(p, _)| {
                    Error::Usage(format!(
                        "{} was staged again while keyward fix was running",
                        printable_path(p)
                    ))
                }),
            Err(e) => Some(e),
        };
        if failure.is_none() {
            failure = repo.update_index(&edits).err();
        }
    }
    if let Some(e) = failure {
        let not_restored = undo(done);
        let what = if not_restored.is_empty() {
            "keyward fix could not apply its plan, so nothing was changed (what it had written is put back)".to_string()
        } else {
            format!(
                "keyward fix could not apply its plan, and could NOT put back {}",
                not_restored.join("; ")
            )
        };
        return Err(Error::Fix {
            what,
            cause: e.to_string(),
        });
    }
    Ok(applied)
}
