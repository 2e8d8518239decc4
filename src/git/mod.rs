//! Repository access through libgit2. Everything leaving this module is plain owned
//! data (paths as bytes, blob contents, line ranges, commit ids as hex); no git2
//! type crosses the seam, and nothing here knows what a secret looks like.
//! Every check only reads; `write` holds the few writes `keyward fix` makes (new
//! blobs, index entries through git's own lock), and no ref is ever written.

mod diff_tree;
mod index_file;
mod loose;
mod mapped;
mod packs;
mod receive;
mod walk;
mod write;

pub use loose::Loose;
pub use packs::PackPositions;
pub use write::{IndexEdit, IndexEntry};

pub use receive::{parse_received, Incoming, ReceivedRef};

use std::path::{Path, PathBuf};

use git2::{Delta, DiffFindOptions, DiffOptions, Index, Oid, Repository, Sort};

use crate::error::{Error, Result};
use crate::finding::LineRange;

/// An object id, opaque outside this module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ObjectId(Oid);

impl ObjectId {
    pub fn hex(&self) -> String {
        self.0.to_string()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Modified,
    Renamed,
    /// A path whose type changed (a symlink became a file, say): compared as new.
    TypeChanged,
}

/// One path whose content differs between two trees (or a tree and the index).
#[derive(Debug, Clone)]
pub struct Change {
    pub path: Vec<u8>,
    pub old_path: Option<Vec<u8>>,
    pub kind: ChangeKind,
    pub new: ObjectId,
    /// The blob this one is compared against, when lines can be compared at all.
    pub old: Option<ObjectId>,
    /// In a merge, what the other parents held at this path: the content is
    /// new only if it is none of them.
    pub other_parents: Vec<ObjectId>,
}

#[derive(Debug)]
pub struct Staged {
    /// No commit yet on this branch: the commit being made is the first.
    pub head_unborn: bool,
    pub changes: Vec<Change>,
}

/// An annotated tag a push publishes.
#[derive(Debug)]
pub struct TagMessage {
    pub name: String,
    pub message: Vec<u8>,
}

/// One line of what git gives a pre-push hook on standard input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefUpdate {
    pub local_ref: String,
    pub local_sha: String,
    pub remote_ref: String,
    pub remote_sha: String,
}

/// Which commits a history scan covers.
#[derive(Debug, Clone)]
pub enum Range {
    /// Everything reachable from any ref and HEAD.
    All,
    /// A revision (`HEAD~3`: it and its ancestors) or a range (`a..b`, `a...b`).
    Spec(String),
}

pub struct Repo {
    repo: Repository,
    index_path: PathBuf,
    /// Object directories beyond the repository's own: a push's quarantine and
    /// the alternates git names for a hook (see `quarantine_dirs`).
    object_dirs: Vec<PathBuf>,
    /// Where loose objects are looked for (see `loose`).
    loose_dirs: Vec<PathBuf>,
}

/// The bytes of a blob, borrowed from the repository that read it.
pub struct BlobData<'r>(git2::Blob<'r>);

impl std::ops::Deref for BlobData<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.0.content()
    }
}

/// A repository's address, which can cross threads where a handle cannot.
#[derive(Debug, Clone)]
pub struct RepoLocation {
    git_dir: PathBuf,
    index_path: PathBuf,
    object_dirs: Vec<PathBuf>,
}

impl RepoLocation {
    /// Opens the repository again, with the same object directories: libgit2
    /// reads `GIT_OBJECT_DIRECTORY` only when opening from the environment, so
    /// a worker opening by path would not see a push's quarantined objects.
    pub fn open(&self) -> Result<Repo> {
        let repo =
            Repository::open(&self.git_dir).map_err(|e| fail("cannot reopen the repository", e))?;
        add_object_dirs(&repo, &self.object_dirs)?;
        Ok(Repo::new(
            repo,
            self.index_path.clone(),
            self.object_dirs.clone(),
        ))
    }
}

/// libgit2's process-wide settings, made once before the first repository is
/// opened.
fn settings() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // keyward only reads, and git itself does not re-hash objects it reads:
        // checking every object's SHA-1 on the way in was a third of the cost of
        // reading a staged change.
        git2::opts::strict_hash_verification(false);
        // Memory stays small whatever the repository: by default libgit2 keeps
        // up to 256 MiB of parsed objects, and maps packs in 1 GiB windows up to
        // 8 GiB, every page read staying resident; a history scan of git.git
        // peaked at 920 MB. A scan reads each blob once, and its trees in order,
        // so a small cache and a few windows lose little.
        // SAFETY: these only set libgit2's global limits, before any repository
        // is opened (the Once), as its documentation requires.
        unsafe {
            let _ = git2::opts::set_cache_max_size(CACHE_BYTES as libc::ssize_t);
            let _ = git2::opts::set_mwindow_size(PACK_WINDOW_BYTES);
            let _ = git2::opts::set_mwindow_mapped_limit(PACK_MAPPED_BYTES);
        }
    });
}

/// libgit2's parsed-object cache, for all threads together.
const CACHE_BYTES: usize = 16 << 20;
/// How much of a pack one mapping covers, and how much may be mapped at once.
const PACK_WINDOW_BYTES: usize = 16 << 20;
const PACK_MAPPED_BYTES: usize = 64 << 20;

/// Makes `dirs` readable as alternates of `repo`'s object database, in memory
/// only: nothing is written to `objects/info/alternates`.
fn add_object_dirs(repo: &Repository, dirs: &[PathBuf]) -> Result<()> {
    if dirs.is_empty() {
        return Ok(());
    }
    let odb = repo
        .odb()
        .map_err(|e| fail("cannot open the object database", e))?;
    for dir in dirs {
        let path = dir.to_str().ok_or_else(|| {
            Error::Usage(format!(
                "the object directory {} is not UTF-8, which libgit2 cannot open",
                dir.display()
            ))
        })?;
        odb.add_disk_alternate(path)
            .map_err(|e| fail(format!("cannot read objects in {}", dir.display()), e))?;
    }
    Ok(())
}

/// The object directories git names for a hook beyond the repository's own:
/// during `git receive-pack`, `GIT_OBJECT_DIRECTORY` is the push's quarantine
/// (the pushed objects, not yet in the repository) and
/// `GIT_ALTERNATE_OBJECT_DIRECTORIES` the repository's real objects. libgit2
/// honours both when it opens from the environment; they are kept so that every
/// later open (one per worker thread) sees the same objects.
fn quarantine_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(dir) = std::env::var_os("GIT_OBJECT_DIRECTORY").filter(|d| !d.is_empty()) {
        dirs.push(absolute(Path::new(&dir)));
    }
    if let Some(list) = std::env::var_os("GIT_ALTERNATE_OBJECT_DIRECTORIES") {
        dirs.extend(
            std::env::split_paths(&list)
                .filter(|d| !d.as_os_str().is_empty())
                .map(|d| absolute(&d)),
        );
    }
    dirs
}

fn is_zero(sha: &str) -> bool {
    !sha.is_empty() && sha.bytes().all(|b| b == b'0')
}

impl Repo {
    /// Opens the repository as git does for a hook: `GIT_DIR`, `GIT_WORK_TREE` and
    /// `GIT_CEILING_DIRECTORIES` are honoured, the current directory may be any
    /// subdirectory or a linked worktree, and `GIT_INDEX_FILE` names the index (git
    /// points it at a temporary index for `commit -a` and `commit <paths>`).
    pub fn open_from_env() -> Result<Repo> {
        settings();
        let repo = Repository::open_from_env().map_err(|e| {
            if e.message().contains("sha256") {
                Error::Unsupported(
                    "this repository names objects with SHA-256, which keyward cannot read yet \
                     (its libgit2 reads SHA-1 repositories only), so nothing was checked"
                        .into(),
                )
            } else {
                Error::NotARepository(e.message().to_string())
            }
        })?;
        let index_path = match std::env::var_os("GIT_INDEX_FILE") {
            Some(p) if !p.is_empty() => absolute(Path::new(&p)),
            _ => repo.path().join("index"),
        };
        Ok(Repo::new(repo, index_path, quarantine_dirs()))
    }

    /// Opens the repository at `path` (its work tree or git directory).
    pub fn open(path: &Path) -> Result<Repo> {
        settings();
        let repo =
            Repository::open(path).map_err(|e| Error::NotARepository(e.message().to_string()))?;
        let index_path = repo.path().join("index");
        Ok(Repo::new(repo, index_path, Vec::new()))
    }

    fn new(repo: Repository, index_path: PathBuf, object_dirs: Vec<PathBuf>) -> Repo {
        let loose_dirs = loose::dirs(repo.commondir(), &object_dirs);
        Repo {
            repo,
            index_path,
            object_dirs,
            loose_dirs,
        }
    }

    /// HEAD's tree, if HEAD is born.
    fn head_tree(&self) -> Option<git2::Tree<'_>> {
        self.repo.head().ok()?.peel_to_tree().ok()
    }

    /// The staged changes as the index-file walk sees them (`None`: it defers to
    /// libgit2), for holding the walk to libgit2's full diff in tests.
    pub fn staged_by_walk(&self) -> Result<Option<Vec<Change>>> {
        self.staged_from_index_file(self.head_tree().as_ref())
    }

    /// The staged changes as libgit2's full index diff sees them, for the same.
    pub fn staged_by_libgit2(&self) -> Result<Staged> {
        let head = self.head_tree();
        let unborn = head.is_none();
        self.staged_full_diff(head.as_ref(), unborn)
    }

    /// Where to open this repository again from another thread (libgit2
    /// repositories are not shared between threads).
    pub fn location(&self) -> RepoLocation {
        RepoLocation {
            git_dir: self.repo.path().to_path_buf(),
            index_path: self.index_path.clone(),
            object_dirs: self.object_dirs.clone(),
        }
    }

    /// The top of the work tree, where `.keyward.toml` lives (the git directory
    /// for a bare repository).
    /// Where this repository's objects sit in its packs (see `PackPositions`).
    pub fn pack_positions(&self) -> PackPositions {
        let mut dirs = vec![self.repo.commondir().join("objects")];
        dirs.extend(self.object_dirs.iter().cloned());
        PackPositions::read(&dirs)
    }

    pub fn root(&self) -> &Path {
        self.repo.workdir().unwrap_or_else(|| self.repo.path())
    }

    /// The blob at `path` in HEAD's tree, if HEAD is born and has one.
    pub fn head_file(&self, path: &[u8]) -> Option<ObjectId> {
        use std::os::unix::ffi::OsStrExt;
        let tree = self.head_tree()?;
        let entry = tree
            .get_path(Path::new(std::ffi::OsStr::from_bytes(path)))
            .ok()?;
        (entry.kind() == Some(git2::ObjectType::Blob)).then(|| ObjectId(entry.id()))
    }

    /// Where Git LFS keeps the object with this sha256, if it is present here
    /// (LFS stores objects once per repository, beside the common git directory).
    pub fn lfs_object(&self, oid: &str) -> Option<PathBuf> {
        let path = self
            .repo
            .commondir()
            .join("lfs/objects")
            .join(&oid[..2])
            .join(&oid[2..4])
            .join(oid);
        path.is_file().then_some(path)
    }

    /// A merge is being concluded (`git commit` after resolving conflicts).
    pub fn merge_in_progress(&self) -> bool {
        self.repo.path().join("MERGE_HEAD").exists()
    }

    pub fn is_bare(&self) -> bool {
        self.repo.is_bare()
    }

    /// What the commit would add: HEAD's tree (the empty tree on an unborn branch)
    /// against the index, with renames paired so a moved file is compared with its
    /// old self rather than scanned whole. When `amend`ing, the commit replaces
    /// HEAD, so what it adds is measured from HEAD's first parent: a key HEAD
    /// brought in (with --no-verify) and the amend keeps is added again.
    pub fn staged(&self, amend: bool) -> Result<Staged> {
        if self.repo.is_bare() {
            return Err(Error::NotARepository(format!(
                "{} is a bare repository, which has no staged changes",
                self.repo.path().display()
            )));
        }
        let (head_tree, head_unborn) = match self.repo.head() {
            Ok(head) if amend => {
                let commit = head
                    .peel_to_commit()
                    .map_err(|e| fail("cannot read HEAD", e))?;
                let parent = match commit.parent(0) {
                    Ok(p) => Some(
                        p.tree()
                            .map_err(|e| fail("cannot read the tree of HEAD's parent", e))?,
                    ),
                    Err(_) => None,
                };
                let unborn = parent.is_none();
                (parent, unborn)
            }
            Ok(head) => {
                let tree = head
                    .peel_to_tree()
                    .map_err(|e| fail("cannot read HEAD's tree", e))?;
                (Some(tree), false)
            }
            Err(e)
                if e.code() == git2::ErrorCode::UnbornBranch
                    || e.code() == git2::ErrorCode::NotFound =>
            {
                (None, true)
            }
            Err(e) => return Err(fail("cannot resolve HEAD", e)),
        };
        if let Some(changes) = self.staged_from_index_file(head_tree.as_ref())? {
            return Ok(Staged {
                head_unborn,
                changes,
            });
        }
        self.staged_full_diff(head_tree.as_ref(), head_unborn)
    }

    /// The staged changes as libgit2's full index diff sees them, with rename
    /// detection by similarity.
    fn staged_full_diff(
        &self,
        head_tree: Option<&git2::Tree>,
        head_unborn: bool,
    ) -> Result<Staged> {
        trace("staged changes from a full index diff");
        let index = self.index()?;
        let mut opts = diff_options();
        let mut diff = self
            .repo
            .diff_tree_to_index(head_tree, Some(&index), Some(&mut opts))
            .map_err(|e| fail("cannot diff HEAD against the index", e))?;
        let mut find = DiffFindOptions::new();
        find.renames(true).copies(false).break_rewrites(false);
        diff.find_similar(Some(&mut find))
            .map_err(|e| fail("cannot pair renamed files", e))?;
        Ok(Staged {
            head_unborn,
            changes: changes(&diff),
        })
    }

    /// The staged changes from the index file and its cache-tree (see
    /// `index_file`), or `None` where libgit2's full diff must decide: an index it
    /// cannot parse, conflicts, or files both added and deleted that are not exact
    /// renames (rename detection by similarity is libgit2's).
    fn staged_from_index_file(&self, head: Option<&git2::Tree>) -> Result<Option<Vec<Change>>> {
        let Ok(bytes) = mapped::Mapped::open(&self.index_path) else {
            return Ok(None);
        };
        let Some(index) = index_file::parse(&bytes, 20) else {
            return Ok(None);
        };
        if index.entries.iter().any(|e| e.stage != 0) {
            return Ok(None);
        }
        if index.sparse {
            // Neither this walk nor libgit2 reads directory entries; git expands
            // them.
            return self.staged_from_git_ls_files(head).map(Some);
        }
        if index.split {
            // The entries here are only part of the index, but a valid root in the
            // cache-tree (as at pre-commit time) is the whole staged tree.
            let root = index.cache.get(&b""[..]).and_then(|c| c.id);
            let Some(Ok(tree)) =
                root.map(|r| Oid::from_bytes(r).and_then(|id| self.repo.find_tree(id)))
            else {
                return self.staged_from_git_ls_files(head).map(Some);
            };
            trace("staged changes from the split index's cache-tree");
            let walked = walk::tree_against_tree(&self.repo, head, &tree)?;
            return walked.into_changes(&self.repo);
        }
        let walked = walk::index_against_tree(&self.repo, &index, head)?;
        let skipped = walked.skipped_entries;
        let Some(changes) = walked.into_changes(&self.repo)? else {
            return Ok(None);
        };
        trace(&format!(
            "staged changes from the index file: {skipped} of {} entries skipped by the cache-tree",
            index.entries.len()
        ));
        Ok(Some(changes))
    }

    /// The staged changes of a split index whose cache-tree does not cover it
    /// (`git commit <paths>` builds one), or of a sparse index: libgit2 reads
    /// neither, so git itself lists the whole index, shared part included and
    /// sparse directories expanded. Renames are
    /// paired only when exact; an edited rename is scanned whole, which reports
    /// more, never less.
    fn staged_from_git_ls_files(&self, head: Option<&git2::Tree>) -> Result<Vec<Change>> {
        trace("staged changes from git ls-files (a split index)");
        let out = std::process::Command::new("git")
            .args(["ls-files", "--stage", "-z"])
            .env("GIT_DIR", self.repo.path())
            .env("GIT_INDEX_FILE", &self.index_path)
            .current_dir(self.root())
            .output()
            .map_err(|e| {
                Error::Usage(format!(
                    "cannot run git ls-files to read a split index: {e}"
                ))
            })?;
        if !out.status.success() {
            return Err(Error::Usage(format!(
                "git ls-files could not read the split index: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        // `<mode> <object> <stage>\t<path>\0`
        let mut listed: Vec<(u32, [u8; 20], Vec<u8>)> = Vec::new();
        for record in out.stdout.split(|&b| b == 0).filter(|r| !r.is_empty()) {
            let bad = || Error::Usage("git ls-files printed an entry keyward cannot read".into());
            let tab = memchr::memchr(b'\t', record).ok_or_else(bad)?;
            let fields: Vec<&[u8]> = record[..tab].split(|&b| b == b' ').collect();
            let [mode, id, stage] = fields[..] else {
                return Err(bad());
            };
            if stage != b"0" {
                continue;
            }
            let mode = u32::from_str_radix(std::str::from_utf8(mode).map_err(|_| bad())?, 8)
                .map_err(|_| bad())?;
            let oid =
                Oid::from_str(std::str::from_utf8(id).map_err(|_| bad())?).map_err(|_| bad())?;
            let mut raw = [0u8; 20];
            raw.copy_from_slice(oid.as_bytes());
            listed.push((mode, raw, record[tab + 1..].to_vec()));
        }
        let index = index_file::IndexFile {
            entries: listed
                .iter()
                .map(|(mode, id, path)| index_file::Entry {
                    path: std::borrow::Cow::Borrowed(path),
                    mode: *mode,
                    id,
                    stage: 0,
                })
                .collect(),
            split: false,
            sparse: false,
            cache: index_file::CacheTree::default(),
        };
        walk::index_against_tree(&self.repo, &index, head)?.into_changes_lenient(&self.repo)
    }

    fn index(&self) -> Result<Index> {
        if !self.index_path.exists() {
            // A repository with nothing ever staged has no index file; git treats
            // that as an empty index.
            return Index::new().map_err(|e| fail("cannot create an empty index", e));
        }
        Index::open(&self.index_path).map_err(|e| {
            fail(
                format!("cannot read the index {}", self.index_path.display()),
                e,
            )
        })
    }

    /// Whether the object is in this repository at all: a partial clone leaves
    /// some out, and keyward never fetches.
    pub fn has_object(&self, id: ObjectId) -> bool {
        self.repo.odb().is_ok_and(|odb| odb.exists(id.0))
    }

    /// Size of a blob from its header, without inflating it.
    pub fn blob_size(&self, id: ObjectId, path: &[u8]) -> Result<u64> {
        let odb = self
            .repo
            .odb()
            .map_err(|e| fail("cannot open the object database", e))?;
        let (size, _) = odb.read_header(id.0).map_err(|e| unreadable(id, path, e))?;
        Ok(size as u64)
    }

    /// A loose blob read in one pass that learns its size first (see
    /// `loose`); `None` when it is not loose here, for `blob_size` and
    /// `read_blob`.
    pub fn read_loose_blob(&self, id: ObjectId, max: u64) -> Option<Loose> {
        loose::read_blob(&self.loose_dirs, id, max)
    }

    /// A blob's content, held where libgit2 inflated it (no copy: a blob's size
    /// is the memory a check of it needs).
    pub fn read_blob(&self, id: ObjectId, path: &[u8]) -> Result<BlobData<'_>> {
        let blob = self
            .repo
            .find_blob(id.0)
            .map_err(|e| unreadable(id, path, e))?;
        Ok(BlobData(blob))
    }

    /// The commits of a range, newest first.
    pub fn commits(&self, range: &Range) -> Result<Vec<ObjectId>> {
        let mut walk = self
            .repo
            .revwalk()
            .map_err(|e| fail("cannot walk history", e))?;
        walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)
            .map_err(|e| fail("cannot walk history", e))?;
        match range {
            Range::All => {
                let refs = self
                    .repo
                    .references()
                    .map_err(|e| fail("cannot list references", e))?;
                for r in refs.flatten() {
                    if let Ok(commit) = r.peel_to_commit() {
                        walk.push(commit.id())
                            .map_err(|e| fail("cannot walk history", e))?;
                    }
                }
                if let Ok(head) = self.repo.head() {
                    if let Ok(commit) = head.peel_to_commit() {
                        let _ = walk.push(commit.id());
                    }
                }
            }
            Range::Spec(spec) => {
                let rs = self.repo.revparse(spec).map_err(|e| {
                    Error::Usage(format!("not a revision or range: {spec}: {}", e.message()))
                })?;
                let peel = |o: Option<&git2::Object>| -> Result<Option<Oid>> {
                    match o {
                        None => Ok(None),
                        Some(o) => o
                            .peel_to_commit()
                            .map(|c| Some(c.id()))
                            .map_err(|e| fail(format!("{spec} is not a commit"), e)),
                    }
                };
                let from = peel(rs.from())?;
                let to = peel(rs.to())?;
                if rs.mode().contains(git2::RevparseMode::MERGE_BASE) {
                    // a...b: what either side has that the other does not.
                    let (Some(a), Some(b)) = (from, to) else {
                        return Err(Error::Usage(format!("{spec}: a...b needs both sides")));
                    };
                    let base = self
                        .repo
                        .merge_base(a, b)
                        .map_err(|e| fail("cannot find a merge base", e))?;
                    walk.push(a)
                        .and_then(|_| walk.push(b))
                        .and_then(|_| walk.hide(base))
                        .map_err(|e| fail("cannot walk history", e))?;
                } else if rs.mode().contains(git2::RevparseMode::RANGE) {
                    if let Some(to) = to {
                        walk.push(to).map_err(|e| fail("cannot walk history", e))?;
                    }
                    if let Some(from) = from {
                        walk.hide(from)
                            .map_err(|e| fail("cannot walk history", e))?;
                    }
                } else if let Some(single) = from.or(to) {
                    walk.push(single)
                        .map_err(|e| fail("cannot walk history", e))?;
                }
            }
        }
        walk.map(|r| r.map(ObjectId).map_err(|e| fail("cannot walk history", e)))
            .collect()
    }

    /// The commits a push would add to the remote, newest first. A deleted
    /// branch adds none; an update or force push adds what the remote's old tip
    /// (when this repository has it) does not reach; and nothing the destination
    /// is not known to have is taken as already there. What is known: the remote
    /// hashes git gives the hook, and the destination's own tracking refs
    /// (`refs/remotes/<name>/*`) when it is a configured remote, named or by URL.
    /// Another remote's refs say nothing about this one: commits fetched from an
    /// internal remote are new to a public one.
    pub fn pushed_commits(
        &self,
        updates: &[RefUpdate],
        destination: Option<&str>,
    ) -> Result<Vec<ObjectId>> {
        let remote = destination.and_then(|d| self.remote_name(d));
        let mut out: Vec<ObjectId> = Vec::new();
        let mut seen: std::collections::HashSet<ObjectId> = std::collections::HashSet::new();
        for u in updates {
            if is_zero(&u.local_sha) {
                continue;
            }
            let local = Oid::from_str(&u.local_sha).map_err(|e| {
                Error::Usage(format!(
                    "pre-push: bad object id '{}': {}",
                    u.local_sha,
                    e.message()
                ))
            })?;
            // A tag publishes the commit it points at; a tag of a tree or blob
            // publishes no commit (its message is scanned on its own).
            let object = self
                .repo
                .find_object(local, None)
                .map_err(|e| fail(format!("cannot read pushed object {local}"), e))?;
            let Ok(local) = object.peel_to_commit().map(|c| c.id()) else {
                continue;
            };
            let mut walk = self
                .repo
                .revwalk()
                .map_err(|e| fail("cannot walk history", e))?;
            walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)
                .map_err(|e| fail("cannot walk history", e))?;
            walk.push(local)
                .map_err(|e| fail(format!("cannot read pushed commit {local}"), e))?;
            let remote_tip = (!is_zero(&u.remote_sha))
                .then(|| Oid::from_str(&u.remote_sha).ok())
                .flatten()
                .and_then(|oid| self.repo.find_object(oid, None).ok())
                .and_then(|o| o.peel_to_commit().ok())
                .map(|c| c.id());
            if let Some(tip) = remote_tip {
                walk.hide(tip).map_err(|e| fail("cannot walk history", e))?;
            }
            if let Some(name) = &remote {
                walk.hide_glob(&format!("refs/remotes/{name}/*"))
                    .map_err(|e| fail("cannot walk history", e))?;
            }
            for id in walk {
                let id = ObjectId(id.map_err(|e| fail("cannot walk history", e))?);
                if seen.insert(id) {
                    out.push(id);
                }
            }
        }
        Ok(out)
    }

    /// The configured remote a hook's destination names: by name, or by URL.
    fn remote_name(&self, destination: &str) -> Option<String> {
        let remotes = self.repo.remotes().ok()?;
        let names: Vec<String> = remotes
            .iter()
            .flatten()
            .flatten()
            .map(str::to_string)
            .collect();
        if names.iter().any(|n| n == destination) {
            return Some(destination.to_string());
        }
        names.into_iter().find(|n| {
            self.repo.find_remote(n).ok().is_some_and(|r| {
                r.url().ok() == Some(destination) || r.pushurl().ok().flatten() == Some(destination)
            })
        })
    }

    /// The commit a revision names, as hex, if it names one.
    pub fn resolve_commit(&self, spec: &str) -> Option<String> {
        let object = self.repo.revparse_single(spec).ok()?;
        Some(object.peel_to_commit().ok()?.id().to_string())
    }

    /// Annotated tags among a push's updates, with their messages.
    pub fn pushed_tag_messages(&self, updates: &[RefUpdate]) -> Vec<TagMessage> {
        updates
            .iter()
            .filter(|u| !is_zero(&u.local_sha))
            .filter_map(|u| {
                let tag = self.repo.find_tag(Oid::from_str(&u.local_sha).ok()?).ok()?;
                Some(TagMessage {
                    name: tag.name().unwrap_or(&u.local_ref).to_string(),
                    message: tag.message_bytes().unwrap_or_default().to_vec(),
                })
            })
            .collect()
    }

    /// The remotes with a tracking ref whose tree holds `needle` in the file at
    /// `path`: content that is already published there. (At pre-merge-commit time
    /// git has written neither MERGE_HEAD nor anything naming what is merged; the
    /// index holds the result, and the tracking refs say what upstream has.)
    pub fn remotes_holding(&self, path: &[u8], needle: &[u8]) -> Vec<String> {
        use std::os::unix::ffi::OsStrExt;
        let mut out: Vec<String> = Vec::new();
        let Ok(refs) = self.repo.references_glob("refs/remotes/*") else {
            return out;
        };
        for r in refs.flatten() {
            let Some(name) = r.name().ok().and_then(|n| n.strip_prefix("refs/remotes/")) else {
                continue;
            };
            let remote = name.split('/').next().unwrap_or(name).to_string();
            if out.contains(&remote) {
                continue;
            }
            let held = r
                .peel_to_tree()
                .ok()
                .and_then(|t| {
                    t.get_path(Path::new(std::ffi::OsStr::from_bytes(path)))
                        .ok()
                })
                .and_then(|e| self.repo.find_blob(e.id()).ok())
                .is_some_and(|b| memchr::memmem::find(b.content(), needle).is_some());
            if held {
                out.push(remote);
            }
        }
        out
    }

    /// For each of `commits`, the remotes whose tracking refs reach it: as far as
    /// git knows, where it has been published. One walk per remote, only over
    /// what that remote's refs reach.
    pub fn remotes_reaching(
        &self,
        commits: &[String],
    ) -> Result<std::collections::HashMap<String, Vec<String>>> {
        let mut out: std::collections::HashMap<String, Vec<String>> = Default::default();
        if commits.is_empty() {
            return Ok(out);
        }
        let wanted: std::collections::HashSet<Oid> = commits
            .iter()
            .filter_map(|c| Oid::from_str(c).ok())
            .collect();
        let remotes = self
            .repo
            .remotes()
            .map_err(|e| fail("cannot list remotes", e))?;
        for name in remotes.iter().flatten().flatten() {
            let mut walk = self
                .repo
                .revwalk()
                .map_err(|e| fail("cannot walk history", e))?;
            // An error here would make a published commit look local: it fails
            // the run instead.
            walk.push_glob(&format!("refs/remotes/{name}/*"))
                .map_err(|e| fail(format!("cannot walk remote {name}'s refs"), e))?;
            for id in walk {
                let id = id.map_err(|e| fail(format!("cannot walk remote {name}'s refs"), e))?;
                if wanted.contains(&id) {
                    out.entry(id.to_string())
                        .or_default()
                        .push(name.to_string());
                }
            }
        }
        Ok(out)
    }

    /// For each of `commits` that a tag reaches, the earliest such tag (by the
    /// date of the commit it tags, then by name): tags are published with
    /// releases. One topological walk from every tag, children before parents,
    /// each commit handing its best tag down to its parents; it stops once every
    /// wanted commit has been seen. Only run for findings, never on a clean run.
    pub fn tags_reaching(
        &self,
        commits: &[String],
    ) -> Result<std::collections::HashMap<String, String>> {
        let mut out = std::collections::HashMap::new();
        let wanted: std::collections::HashSet<Oid> = commits
            .iter()
            .filter_map(|c| Oid::from_str(c).ok())
            .collect();
        if wanted.is_empty() {
            return Ok(out);
        }
        let mut tags: Vec<(i64, String, Oid)> = Vec::new();
        let refs = self
            .repo
            .references_glob("refs/tags/*")
            .map_err(|e| fail("cannot list tags", e))?;
        for r in refs.flatten() {
            let Some(name) = r.name().ok().and_then(|n| n.strip_prefix("refs/tags/")) else {
                continue;
            };
            // A tag of a tree or a blob holds no commit.
            let Ok(commit) = r.peel_to_commit() else {
                continue;
            };
            tags.push((commit.time().seconds(), name.to_string(), commit.id()));
        }
        if tags.is_empty() {
            return Ok(out);
        }
        // Best first: a smaller index is an earlier tag.
        tags.sort();
        let mut walk = self
            .repo
            .revwalk()
            .map_err(|e| fail("cannot walk history", e))?;
        walk.set_sorting(git2::Sort::TOPOLOGICAL)
            .map_err(|e| fail("cannot walk history", e))?;
        let mut label: std::collections::HashMap<Oid, usize> = Default::default();
        for (i, (_, _, id)) in tags.iter().enumerate() {
            walk.push(*id).map_err(|e| fail("cannot walk history", e))?;
            let best = label.entry(*id).or_insert(i);
            *best = (*best).min(i);
        }
        for id in walk {
            let id = id.map_err(|e| fail("cannot walk history", e))?;
            let Some(best) = label.remove(&id) else {
                continue;
            };
            if wanted.contains(&id) {
                out.insert(id.to_string(), tags[best].1.clone());
                if out.len() == wanted.len() {
                    break;
                }
            }
            let commit = self
                .repo
                .find_commit(id)
                .map_err(|e| fail(format!("cannot read commit {id}"), e))?;
            for parent in commit.parent_ids() {
                let l = label.entry(parent).or_insert(best);
                *l = (*l).min(best);
            }
        }
        Ok(out)
    }

    /// A commit's message as recorded: it is published with the commit.
    pub fn commit_message(&self, id: ObjectId) -> Result<Vec<u8>> {
        Ok(self.find_commit(id)?.message_raw_bytes().to_vec())
    }

    fn find_commit(&self, id: ObjectId) -> Result<git2::Commit<'_>> {
        self.repo
            .find_commit(id.0)
            .map_err(|e| fail(format!("cannot read commit {}", id.0), e))
    }
}

fn diff_options() -> DiffOptions {
    let mut opts = DiffOptions::new();
    opts.include_typechange(true)
        .ignore_submodules(true)
        .skip_binary_check(true)
        .context_lines(0);
    opts
}

fn changes(diff: &git2::Diff) -> Vec<Change> {
    let mut out = Vec::new();
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
        if new_file.mode() == git2::FileMode::Commit {
            continue;
        }
        let old_file = delta.old_file();
        let comparable = matches!(kind, ChangeKind::Modified | ChangeKind::Renamed)
            && old_file.mode() != git2::FileMode::Commit;
        out.push(Change {
            old_path: (kind == ChangeKind::Renamed)
                .then(|| old_file.path_bytes().unwrap_or_default().to_vec()),
            path: new_file.path_bytes().unwrap_or_default().to_vec(),
            kind,
            new: ObjectId(new_file.id()),
            old: comparable.then_some(ObjectId(old_file.id())),
            other_parents: Vec::new(),
        });
    }
    out
}

/// The lines of `new` that are not in `old`, as git's own line diff sees them.
pub fn added_lines(old: &[u8], new: &[u8]) -> Result<Vec<LineRange>> {
    let mut opts = DiffOptions::new();
    opts.context_lines(0).interhunk_lines(0).force_text(true);
    let patch = git2::Patch::from_buffers(old, None, new, None, Some(&mut opts))
        .map_err(|e| fail("cannot diff a staged file against HEAD", e))?;
    let mut ranges = Vec::with_capacity(patch.num_hunks());
    for i in 0..patch.num_hunks() {
        let (hunk, _) = patch
            .hunk(i)
            .map_err(|e| fail("cannot read a diff hunk", e))?;
        if hunk.new_lines() > 0 {
            ranges.push(LineRange {
                start: hunk.new_start() as usize,
                count: hunk.new_lines() as usize,
            });
        }
    }
    Ok(ranges)
}

/// The sha256 of the object a Git LFS pointer names, if `bytes` is one: a commit
/// holds only the pointer, and the content it stands for is what leaks.
pub fn lfs_pointer(bytes: &[u8]) -> Option<String> {
    if bytes.len() > 1024 || !bytes.starts_with(b"version https://git-lfs.github.com/spec/") {
        return None;
    }
    let text = std::str::from_utf8(bytes).ok()?;
    let oid = text
        .lines()
        .find_map(|l| l.strip_prefix("oid sha256:"))?
        .trim();
    (oid.len() == 64 && oid.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| oid.to_ascii_lowercase())
}

/// A libgit2 failure as keyward's error: git2 types stay in this module.
pub(crate) fn fail(what: impl Into<String>, e: git2::Error) -> Error {
    Error::Git {
        what: what.into(),
        cause: e.message().to_string(),
    }
}

fn unreadable(id: ObjectId, path: &[u8], e: git2::Error) -> Error {
    fail(
        format!(
            "cannot read object {} for {}",
            id.0,
            crate::text::printable_path(path)
        ),
        e,
    )
}

/// Runs git in `dir` for a unit test, isolated from the machine's settings and
/// with a committer of its own; its standard output.
#[cfg(test)]
pub(crate) fn test_git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@t")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@t")
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// `KEYWARD_TRACE=1` says which way the staged diff was read: for tests and for
/// anyone wondering why a commit is slow.
pub fn trace(what: &str) {
    if std::env::var_os("KEYWARD_TRACE").is_some() {
        eprintln!("keyward: trace: {what}");
    }
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

/// Parses a pre-push hook's standard input.
pub fn parse_ref_updates(text: &str) -> Result<Vec<RefUpdate>> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let parts: Vec<&str> = line.split_whitespace().collect();
            match parts.as_slice() {
                [lr, ls, rr, rs] => Ok(RefUpdate {
                    local_ref: lr.to_string(),
                    local_sha: ls.to_string(),
                    remote_ref: rr.to_string(),
                    remote_sha: rs.to_string(),
                }),
                _ => Err(Error::Usage(format!(
                    "pre-push: expected '<local ref> <local sha> <remote ref> <remote sha>' on standard input, got {:?}",
                    crate::text::printable_path(line.as_bytes())
                ))),
            }
        })
        .collect()
}

/// One line of a diff for display: `' '`, `'-'` or `'+'`, and the line without
/// its newline; `None` between hunks.
pub type DiffLine = Option<(char, Vec<u8>)>;

/// The change from `old` to `new` as hunks with `context` lines around each, for
/// showing a planned edit.
pub fn line_diff(old: &[u8], new: &[u8], context: u32) -> Result<Vec<DiffLine>> {
    let mut opts = DiffOptions::new();
    opts.context_lines(context).force_text(true);
    let patch = git2::Patch::from_buffers(old, None, new, None, Some(&mut opts))
        .map_err(|e| fail("cannot diff a planned fix", e))?;
    let mut out = Vec::new();
    for h in 0..patch.num_hunks() {
        if h > 0 {
            out.push(None);
        }
        let lines = patch
            .num_lines_in_hunk(h)
            .map_err(|e| fail("cannot read a diff hunk", e))?;
        for l in 0..lines {
            let line = patch
                .line_in_hunk(h, l)
                .map_err(|e| fail("cannot read a diff line", e))?;
            let origin = line.origin();
            if !matches!(origin, ' ' | '-' | '+') {
                continue;
            }
            let text = line.content();
            let text = text.strip_suffix(b"\n").unwrap_or(text);
            out.push(Some((origin, text.to_vec())));
        }
    }
    Ok(out)
}
