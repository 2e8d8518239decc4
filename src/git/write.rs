//! The only writes keyward makes to a repository, for `keyward fix`: new blobs in
//! the object database (which change nothing a ref reaches, so they need no undo),
//! and index entries replaced or removed through `git update-index`, which takes
//! git's own `index.lock`, reads every index format git writes (split, sparse,
//! extensions) and swaps the new index in with one rename. Paths and ids go in and
//! out as plain data.

use std::collections::HashMap;
use std::io::Write as _;
use std::os::unix::ffi::OsStrExt;
use std::process::{Command, Stdio};

use super::{fail, ObjectId, Repo};
use crate::error::{Error, Result};

/// One index entry at stage 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexEntry {
    /// `0o100644`, `0o100755`, `0o120000`...
    pub mode: u32,
    pub id: ObjectId,
}

/// What to do to one path in the index.
#[derive(Debug, Clone)]
pub enum IndexEdit {
    /// Point the path at this blob, keeping the mode.
    Set(Vec<u8>, IndexEntry),
    /// Take the path out of the index (`git rm --cached`).
    Remove(Vec<u8>),
}

impl Repo {
    fn git_command(&self) -> Command {
        let mut c = Command::new("git");
        c.env("GIT_DIR", self.repo.path())
            .env("GIT_INDEX_FILE", &self.index_path)
            .current_dir(self.root());
        if let Some(w) = self.repo.workdir() {
            c.env("GIT_WORK_TREE", w);
        }
        c
    }

    /// Whether this repository's index is the one git keeps (`.git/index`), not a
    /// temporary one `git commit -a` or `git commit <paths>` made.
    pub fn uses_default_index(&self) -> bool {
        self.index_path == self.repo.path().join("index")
    }

    /// Stores `data` as a blob and returns its id: how the staged original stays
    /// recoverable, and how the fixed version gets into the index.
    pub fn write_blob(&self, data: &[u8]) -> Result<ObjectId> {
        self.repo
            .blob(data)
            .map(ObjectId)
            .map_err(|e| fail("cannot write a blob to the object database", e))
    }

    /// The stage-0 index entries at `paths`, as git reads the index: one `git
    /// ls-files` for them all (the whole index when there are many, rather than a
    /// command line past the system's limit).
    pub fn index_entries(&self, paths: &[&[u8]]) -> Result<HashMap<Vec<u8>, IndexEntry>> {
        let mut out = HashMap::new();
        if paths.is_empty() {
            return Ok(out);
        }
        // A plain index is read here, by binary search: git would read the whole
        // file as well, after a process start (20 ms in an 80,000-file repository,
        // paid by every blocked commit, where the fix is only offered).
        if let Some(found) = self.index_entries_from_file(paths) {
            return Ok(found);
        }
        let mut command = self.git_command();
        command.args(["--literal-pathspecs", "ls-files", "--stage", "-z", "--"]);
        if paths.len() <= 1_000 {
            command.args(paths.iter().map(|p| std::ffi::OsStr::from_bytes(p)));
        }
        let listed = command
            .output()
            .map_err(|e| Error::Usage(format!("cannot run git ls-files: {e}")))?;
        if !listed.status.success() {
            return Err(Error::Git {
                what: "cannot read the index".into(),
                cause: String::from_utf8_lossy(&listed.stderr).trim().to_string(),
            });
        }
        let wanted: std::collections::HashSet<&[u8]> = paths.iter().copied().collect();
        // `<mode> <object> <stage>\t<path>\0`
        for record in listed.stdout.split(|&b| b == 0).filter(|r| !r.is_empty()) {
            let Some(tab) = memchr::memchr(b'\t', record) else {
                continue;
            };
            let path = &record[tab + 1..];
            if !wanted.contains(path) {
                continue;
            }
            let fields: Vec<&str> = std::str::from_utf8(&record[..tab])
                .unwrap_or_default()
                .split(' ')
                .collect();
            let [mode, id, "0"] = fields[..] else {
                continue;
            };
            let (Ok(mode), Ok(id)) = (u32::from_str_radix(mode, 8), git2::Oid::from_str(id)) else {
                continue;
            };
            out.insert(
                path.to_vec(),
                IndexEntry {
                    mode,
                    id: ObjectId(id),
                },
            );
        }
        Ok(out)
    }

    /// `index_entries` from the index file itself, when it is one this crate's
    /// parser reads whole (not split, not sparse).
    fn index_entries_from_file(&self, paths: &[&[u8]]) -> Option<HashMap<Vec<u8>, IndexEntry>> {
        let bytes = super::mapped::Mapped::open(&self.index_path).ok()?;
        let index = super::index_file::parse(&bytes, 20)?;
        if index.split || index.sparse {
            return None;
        }
        let mut out = HashMap::new();
        for &path in paths {
            // Entries are sorted by path, then stage: stage 0 comes first.
            let at = index
                .entries
                .partition_point(|e| (&e.path[..], e.stage) < (path, 0));
            let Some(e) = index.entries.get(at) else {
                continue;
            };
            if &e.path[..] != path || e.stage != 0 {
                continue;
            }
            out.insert(
                path.to_vec(),
                IndexEntry {
                    mode: e.mode,
                    id: ObjectId(git2::Oid::from_bytes(e.id).ok()?),
                },
            );
        }
        Some(out)
    }

    /// Applies every edit in one `git update-index --index-info`: git locks the
    /// index, and either all of them land or none does.
    pub fn update_index(&self, edits: &[IndexEdit]) -> Result<()> {
        let mut input = Vec::new();
        for edit in edits {
            match edit {
                IndexEdit::Set(path, e) => {
                    input.extend_from_slice(format!("{:o} {}\t", e.mode, e.id.hex()).as_bytes());
                    input.extend_from_slice(path);
                }
                IndexEdit::Remove(path) => {
                    // Mode 0 removes the path.
                    input.extend_from_slice(format!("0 {}\t", "0".repeat(40)).as_bytes());
                    input.extend_from_slice(path);
                }
            }
            input.push(0);
        }
        let mut child = self
            .git_command()
            .args(["update-index", "-z", "--index-info"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error::Usage(format!("cannot run git update-index: {e}")))?;
        let written = child
            .stdin
            .take()
            .expect("stdin was piped")
            .write_all(&input);
        let out = child
            .wait_with_output()
            .map_err(|e| Error::Usage(format!("cannot run git update-index: {e}")))?;
        if !out.status.success() || written.is_err() {
            return Err(Error::Git {
                what: "cannot update the index".into(),
                cause: String::from_utf8_lossy(&out.stderr)
                    .trim()
                    .trim_start_matches("fatal: ")
                    .to_string(),
            });
        }
        Ok(())
    }

    /// Whether git ignores `path` (relative to the top of the work tree), by
    /// `git check-ignore`: every ignore source git reads counts.
    pub fn is_ignored(&self, path: &[u8]) -> Result<bool> {
        let out = self
            .git_command()
            .args(["check-ignore", "-q", "--no-index", "--"])
            .arg(std::ffi::OsStr::from_bytes(path))
            .output()
            .map_err(|e| Error::Usage(format!("cannot run git check-ignore: {e}")))?;
        match out.status.code() {
            Some(0) => Ok(true),
            Some(1) => Ok(false),
            _ => Err(Error::Git {
                what: format!(
                    "cannot tell whether {} is ignored",
                    crate::text::printable_path(path)
                ),
                cause: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            }),
        }
    }
}
