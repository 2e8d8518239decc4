//! Repository access through libgit2. Everything leaving this module is plain owned
//! data (paths as bytes, blob contents, line ranges); no git2 type crosses the seam,
//! and nothing here knows what a secret looks like.

use std::path::{Path, PathBuf};

use git2::{Delta, DiffFindOptions, DiffOptions, Index, Oid, Repository};

use crate::error::{Error, Result};

/// A blob in the object database, opaque outside this module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobId(Oid);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Modified,
    Renamed,
    /// A path whose type changed (a symlink became a file, say): compared as new.
    TypeChanged,
}

/// One staged path whose content differs from HEAD.
#[derive(Debug, Clone)]
pub struct StagedChange {
    pub path: Vec<u8>,
    pub old_path: Option<Vec<u8>>,
    pub kind: ChangeKind,
    pub new: BlobId,
    /// The blob this one is compared against, when lines can be compared at all.
    pub old: Option<BlobId>,
}

#[derive(Debug)]
pub struct Staged {
    /// No commit yet on this branch: the commit being made is the first.
    pub head_unborn: bool,
    pub changes: Vec<StagedChange>,
}

/// A range of 1-based lines in the new blob: `start..start + count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineRange {
    pub start: usize,
    pub count: usize,
}

pub struct Repo {
    repo: Repository,
    index_path: PathBuf,
}

impl Repo {
    /// Opens the repository as git does for a hook: `GIT_DIR`, `GIT_WORK_TREE` and
    /// `GIT_CEILING_DIRECTORIES` are honoured, the current directory may be any
    /// subdirectory or a linked worktree, and `GIT_INDEX_FILE` names the index (git
    /// points it at a temporary index for `commit -a` and `commit <paths>`).
    pub fn open_from_env() -> Result<Repo> {
        let repo = Repository::open_from_env()
            .map_err(|e| Error::NotARepository(e.message().to_string()))?;
        if repo.is_bare() {
            return Err(Error::NotARepository(format!(
                "{} is a bare repository, which has no staged changes",
                repo.path().display()
            )));
        }
        let index_path = match std::env::var_os("GIT_INDEX_FILE") {
            Some(p) if !p.is_empty() => absolute(Path::new(&p)),
            _ => repo.path().join("index"),
        };
        Ok(Repo { repo, index_path })
    }

    /// What the commit would add: HEAD's tree (the empty tree on an unborn branch)
    /// against the index, with renames paired so a moved file is compared with its
    /// old self rather than scanned whole.
    pub fn staged(&self) -> Result<Staged> {
        let (head_tree, head_unborn) = match self.repo.head() {
            Ok(head) => {
                let tree = head
                    .peel_to_tree()
                    .map_err(|e| Error::git("cannot read HEAD's tree", e))?;
                (Some(tree), false)
            }
            Err(e)
                if e.code() == git2::ErrorCode::UnbornBranch
                    || e.code() == git2::ErrorCode::NotFound =>
            {
                (None, true)
            }
            Err(e) => return Err(Error::git("cannot resolve HEAD", e)),
        };
        let index = self.index()?;
        let mut opts = DiffOptions::new();
        opts.include_typechange(true)
            .ignore_submodules(true)
            .skip_binary_check(true)
            .context_lines(0);
        let mut diff = self
            .repo
            .diff_tree_to_index(head_tree.as_ref(), Some(&index), Some(&mut opts))
            .map_err(|e| Error::git("cannot diff HEAD against the index", e))?;
        let mut find = DiffFindOptions::new();
        find.renames(true).copies(false).break_rewrites(false);
        diff.find_similar(Some(&mut find))
            .map_err(|e| Error::git("cannot pair renamed files", e))?;

        let mut changes = Vec::new();
        for delta in diff.deltas() {
            let kind = match delta.status() {
                Delta::Added => ChangeKind::Added,
                Delta::Modified => ChangeKind::Modified,
                Delta::Renamed => ChangeKind::Renamed,
                Delta::Typechange => ChangeKind::TypeChanged,
                // Copies are not detected, so a copy arrives as Added. Deletions add
                // nothing; submodules are other repositories; a conflicted index
                // cannot be committed, so git never runs the hook on one.
                _ => continue,
            };
            let new_file = delta.new_file();
            if is_gitlink(new_file.mode()) {
                continue;
            }
            let path = new_file.path_bytes().unwrap_or_default().to_vec();
            let old_file = delta.old_file();
            let comparable = matches!(kind, ChangeKind::Modified | ChangeKind::Renamed);
            changes.push(StagedChange {
                old_path: (kind == ChangeKind::Renamed)
                    .then(|| old_file.path_bytes().unwrap_or_default().to_vec()),
                path,
                kind,
                new: BlobId(new_file.id()),
                old: comparable.then_some(BlobId(old_file.id())),
            });
        }
        Ok(Staged {
            head_unborn,
            changes,
        })
    }

    fn index(&self) -> Result<Index> {
        if !self.index_path.exists() {
            // A repository with nothing ever staged has no index file; git treats
            // that as an empty index.
            return Index::new().map_err(|e| Error::git("cannot create an empty index", e));
        }
        Index::open(&self.index_path).map_err(|e| {
            Error::git(
                format!("cannot read the index {}", self.index_path.display()),
                e,
            )
        })
    }

    pub fn read_blob(&self, id: BlobId, path: &[u8]) -> Result<Vec<u8>> {
        let blob = self.repo.find_blob(id.0).map_err(|e| {
            Error::git(
                format!(
                    "cannot read object {} for {}",
                    id.0,
                    String::from_utf8_lossy(path)
                ),
                e,
            )
        })?;
        Ok(blob.content().to_vec())
    }
}

/// The lines of `new` that are not in `old`, as git's own line diff sees them.
pub fn added_lines(old: &[u8], new: &[u8]) -> Result<Vec<LineRange>> {
    let mut opts = DiffOptions::new();
    opts.context_lines(0).interhunk_lines(0).force_text(true);
    let patch = git2::Patch::from_buffers(old, None, new, None, Some(&mut opts))
        .map_err(|e| Error::git("cannot diff a staged file against HEAD", e))?;
    let mut ranges = Vec::with_capacity(patch.num_hunks());
    for i in 0..patch.num_hunks() {
        let (hunk, _) = patch
            .hunk(i)
            .map_err(|e| Error::git("cannot read a diff hunk", e))?;
        if hunk.new_lines() > 0 {
            ranges.push(LineRange {
                start: hunk.new_start() as usize,
                count: hunk.new_lines() as usize,
            });
        }
    }
    Ok(ranges)
}

fn is_gitlink(mode: git2::FileMode) -> bool {
    mode == git2::FileMode::Commit
}

/// git resolves a relative `GIT_INDEX_FILE` against the directory it runs the hook
/// in, the top of the work tree; so does this.
fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        return path.to_path_buf();
    }
    match std::env::current_dir() {
        Ok(cwd) => cwd.join(path),
        Err(_) => path.to_path_buf(),
    }
}
