//! Tree comparisons that skip what has not changed: the index against HEAD's tree
//! guided by the cache-tree, and one tree against another by subtree ids. Only
//! the directories on the way to a change are read.

use std::collections::HashSet;

use git2::{ObjectType, Oid, Repository, Tree};

use super::index_file::IndexFile;
use super::{fail, Change, ChangeKind, ObjectId};
use crate::error::Result;

const GITLINK: u32 = 0o160000;
const SYMLINK: u32 = 0o120000;
const TYPE_MASK: u32 = 0o170000;

#[derive(Default)]
pub struct Walked {
    pub changes: Vec<Change>,
    /// Blobs and trees the new side no longer has, for pairing exact renames.
    deleted_blobs: Vec<Oid>,
    deleted_trees: Vec<Oid>,
    /// Index entries passed over because their directory's cache-tree id matched.
    pub skipped_entries: usize,
}

impl Walked {
    /// The changes, with a file that only moved (an added blob identical to a
    /// deleted one) left out: it adds nothing. `None` when files were both added
    /// and deleted otherwise: a rename with edits, for similarity detection.
    pub fn into_changes(self, repo: &Repository) -> Result<Option<Vec<Change>>> {
        let (changes, unmatched_deletions) = self.pair_renames(repo)?;
        let unmatched_additions = changes.iter().any(|c| c.kind == ChangeKind::Added);
        Ok((!(unmatched_additions && unmatched_deletions)).then_some(changes))
    }

    /// One line of `git diff-tree --raw`: a path's mode and id before and after,
    /// mode 0 where there was nothing (git lists files only, with `-r`). In a
    /// merge, `others` are the other parents' entries.
    pub fn add_raw(
        &mut self,
        path: Vec<u8>,
        (old_mode, old): (u32, Oid),
        (new_mode, new): (u32, Oid),
        others: &[(u32, Oid)],
    ) {
        if blob_like(new_mode) {
            let before = (old_mode != 0).then_some((old, old_mode));
            if let Some(mut change) = classify(path, new, new_mode, before) {
                change.other_parents = others
                    .iter()
                    .filter(|(mode, _)| blob_like(*mode))
                    .map(|&(_, id)| ObjectId(id))
                    .collect();
                self.changes.push(change);
            }
        } else if blob_like(old_mode) {
            self.deleted_blobs.push(old);
        }
    }

    /// For history: exact renames left out, anything else kept as it is.
    pub fn into_changes_lenient(self, repo: &Repository) -> Result<Vec<Change>> {
        Ok(self.pair_renames(repo)?.0)
    }

    fn pair_renames(mut self, repo: &Repository) -> Result<(Vec<Change>, bool)> {
        // The walks keep directories on a stack, which visits them out of order;
        // reports list paths in order.
        self.changes.sort_unstable_by(|a, b| a.path.cmp(&b.path));
        let has_additions = self.changes.iter().any(|c| c.kind == ChangeKind::Added);
        if !has_additions || (self.deleted_blobs.is_empty() && self.deleted_trees.is_empty()) {
            let deleted = !self.deleted_blobs.is_empty() || !self.deleted_trees.is_empty();
            return Ok((self.changes, deleted));
        }
        let mut deleted: HashSet<Oid> = self.deleted_blobs.iter().copied().collect();
        let mut stack = std::mem::take(&mut self.deleted_trees);
        while let Some(id) = stack.pop() {
            let tree = find_tree(repo, id)?;
            for e in tree.iter() {
                match e.kind() {
                    Some(ObjectType::Tree) => stack.push(e.id()),
                    Some(ObjectType::Blob) => {
                        deleted.insert(e.id());
                    }
                    _ => {}
                }
            }
        }
        let mut used = HashSet::new();
        self.changes.retain(|c| {
            let moved = c.kind == ChangeKind::Added && deleted.contains(&c.new.0);
            if moved {
                used.insert(c.new.0);
            }
            !moved
        });
        let unmatched = deleted.iter().any(|d| !used.contains(d));
        Ok((self.changes, unmatched))
    }
}

fn find_tree(repo: &Repository, id: Oid) -> Result<Tree<'_>> {
    repo.find_tree(id)
        .map_err(|e| fail(format!("cannot read tree {id}"), e))
}

fn join(prefix: &[u8], name: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(prefix.len() + name.len());
    p.extend_from_slice(prefix);
    p.extend_from_slice(name);
    p
}

/// A regular file or a symlink: content a commit stores.
fn blob_like(mode: u32) -> bool {
    mode & TYPE_MASK == 0o100000 || mode & TYPE_MASK == SYMLINK
}

/// How a new blob at a path relates to what the old side had there.
fn classify(path: Vec<u8>, new: Oid, new_mode: u32, old: Option<(Oid, u32)>) -> Option<Change> {
    let (kind, old) = match old {
        Some((id, mode)) if id == new && mode == new_mode => return None,
        Some((id, mode)) if blob_like(mode) && (mode & TYPE_MASK) == (new_mode & TYPE_MASK) => {
            (ChangeKind::Modified, Some(ObjectId(id)))
        }
        Some((_, mode)) if blob_like(mode) => (ChangeKind::TypeChanged, None),
        _ => (ChangeKind::Added, None),
    };
    Some(Change {
        path,
        old_path: None,
        kind,
        new: ObjectId(new),
        old,
        other_parents: Vec::new(),
    })
}

/// The index against HEAD's tree (`None`: an unborn branch). Directories wait on
/// an explicit stack, not the call stack: a tree nested thousands of levels deep
/// is input like any other.
pub fn index_against_tree(
    repo: &Repository,
    index: &IndexFile,
    head: Option<&Tree>,
) -> Result<Walked> {
    let mut out = Walked::default();
    let mut stack = vec![(Vec::new(), head.map(Tree::id), 0, index.entries.len())];
    while let Some((prefix, head, lo, hi)) = stack.pop() {
        index_dir(repo, index, &prefix, head, lo, hi, &mut out, &mut stack)?;
    }
    Ok(out)
}

/// A directory still to walk: its prefix, HEAD's tree there (by id: a directory
/// the cache-tree vouches for is never read), and its index entries.
type DirFrame = (Vec<u8>, Option<Oid>, usize, usize);

/// One directory of the index, entries `lo..hi`, all under `prefix`. Its
/// subdirectories are pushed onto `stack`.
#[allow(clippy::too_many_arguments)]
fn index_dir(
    repo: &Repository,
    index: &IndexFile,
    prefix: &[u8],
    head: Option<Oid>,
    lo: usize,
    hi: usize,
    out: &mut Walked,
    stack: &mut Vec<DirFrame>,
) -> Result<()> {
    let key = prefix.strip_suffix(b"/").unwrap_or(prefix);
    if let (Some(cached), Some(head)) = (index.cache.get(key), head) {
        if cached.id == Some(head.as_bytes()) && cached.entries == hi - lo {
            out.skipped_entries += hi - lo;
            return Ok(());
        }
    }
    let head = head.map(|id| find_tree(repo, id)).transpose()?;
    let mut seen: HashSet<Vec<u8>> = HashSet::new();
    let mut k = lo;
    while k < hi {
        let entry = &index.entries[k];
        // The parser checked that entries are sorted, so every entry in lo..hi
        // lies under the prefix.
        let rest = &entry.path[prefix.len()..];
        match memchr::memchr(b'/', rest) {
            None => {
                k += 1;
                if head.is_some() {
                    seen.insert(rest.to_vec());
                }
                if entry.mode & TYPE_MASK == GITLINK {
                    continue;
                }
                let id =
                    Oid::from_bytes(entry.id).map_err(|e| fail("bad object id in the index", e))?;
                let old = head
                    .as_ref()
                    .and_then(|h| h.get_name_bytes(rest))
                    .filter(|e| e.kind() != Some(ObjectType::Tree))
                    .map(|e| (e.id(), e.filemode() as u32));
                if let Some(change) = classify(entry.path.to_vec(), id, entry.mode, old) {
                    out.changes.push(change);
                }
            }
            Some(slash) => {
                let name = &rest[..slash];
                let sub = join(prefix, &rest[..=slash]);
                let end = k + index.entries[k..hi].partition_point(|e| e.path.starts_with(&sub));
                if head.is_some() {
                    seen.insert(name.to_vec());
                }
                let sub_head = match head.as_ref().and_then(|h| h.get_name_bytes(name)) {
                    Some(e) if e.kind() == Some(ObjectType::Tree) => Some(e.id()),
                    _ => None,
                };
                // `partition_point` found at least the entry at k, which starts
                // with `sub`: the walk always moves on.
                stack.push((sub, sub_head, k, end.max(k + 1)));
                k = end.max(k + 1);
            }
        }
    }
    if let Some(head) = head {
        for e in head.iter() {
            if !seen.contains(e.name_bytes()) {
                record_deletion(&e, out);
            }
        }
    }
    Ok(())
}

fn record_deletion(e: &git2::TreeEntry, out: &mut Walked) {
    match e.kind() {
        Some(ObjectType::Blob) => out.deleted_blobs.push(e.id()),
        Some(ObjectType::Tree) => out.deleted_trees.push(e.id()),
        _ => {}
    }
}

/// One tree against another (`None`: the empty tree), skipping equal subtrees.
/// Directories wait on an explicit stack, so depth costs memory, never the stack.
pub fn tree_against_tree(repo: &Repository, old: Option<&Tree>, new: &Tree) -> Result<Walked> {
    let mut out = Walked::default();
    let mut stack = vec![(Vec::new(), old.cloned(), new.clone())];
    while let Some((prefix, old, new)) = stack.pop() {
        tree_dir(repo, &prefix, old, new, &mut out, &mut stack)?;
    }
    Ok(out)
}

type TreeFrame<'r> = (Vec<u8>, Option<Tree<'r>>, Tree<'r>);

/// git's tree order: names compared bytewise, a directory as if it ended in '/'.
fn git_order(a: &[u8], a_tree: bool, b: &[u8], b_tree: bool) -> std::cmp::Ordering {
    let common = a.len().min(b.len());
    match a[..common].cmp(&b[..common]) {
        std::cmp::Ordering::Equal => {}
        other => return other,
    }
    let end = |name: &[u8], tree: bool| -> u8 {
        match name.get(common) {
            Some(&c) => c,
            None if tree => b'/',
            None => 0,
        }
    };
    end(a, a_tree).cmp(&end(b, b_tree))
}

/// Both trees' entries walked together in git's order (each tree is sorted so),
/// which costs one pass instead of a name lookup per entry.
fn tree_dir<'r>(
    repo: &'r Repository,
    prefix: &[u8],
    old: Option<Tree<'r>>,
    new: Tree<'r>,
    out: &mut Walked,
    stack: &mut Vec<TreeFrame<'r>>,
) -> Result<()> {
    if old.as_ref().is_some_and(|o| o.id() == new.id()) {
        return Ok(());
    }
    let new_entries: Vec<git2::TreeEntry> = new.iter().collect();
    let old_entries: Vec<git2::TreeEntry> =
        old.as_ref().map(|o| o.iter().collect()).unwrap_or_default();
    let is_tree = |e: &git2::TreeEntry| e.kind() == Some(ObjectType::Tree);
    let (mut i, mut j) = (0, 0);
    while i < new_entries.len() || j < old_entries.len() {
        let order = match (new_entries.get(i), old_entries.get(j)) {
            (Some(n), Some(o)) => git_order(n.name_bytes(), is_tree(n), o.name_bytes(), is_tree(o)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, _) => std::cmp::Ordering::Greater,
        };
        match order {
            std::cmp::Ordering::Greater => {
                record_deletion(&old_entries[j], out);
                j += 1;
            }
            std::cmp::Ordering::Less => {
                entry_changed(repo, prefix, &new_entries[i], None, out, stack)?;
                i += 1;
            }
            std::cmp::Ordering::Equal => {
                let (n, o) = (&new_entries[i], &old_entries[j]);
                if n.id() != o.id() || n.filemode() != o.filemode() {
                    entry_changed(repo, prefix, n, Some(o), out, stack)?;
                }
                i += 1;
                j += 1;
            }
        }
    }
    Ok(())
}

/// A new-side entry that differs from the old side's entry of the same name.
fn entry_changed<'r>(
    repo: &'r Repository,
    prefix: &[u8],
    new: &git2::TreeEntry,
    old: Option<&git2::TreeEntry>,
    out: &mut Walked,
    stack: &mut Vec<TreeFrame<'r>>,
) -> Result<()> {
    let name = new.name_bytes();
    match new.kind() {
        Some(ObjectType::Tree) => {
            let sub_old = match old {
                Some(o) if o.kind() == Some(ObjectType::Tree) => Some(find_tree(repo, o.id())?),
                Some(o) => {
                    // A file became a directory: the file is gone.
                    record_deletion(o, out);
                    None
                }
                None => None,
            };
            let mut sub = join(prefix, name);
            sub.push(b'/');
            stack.push((sub, sub_old, find_tree(repo, new.id())?));
            Ok(())
        }
        Some(ObjectType::Blob) => {
            let before = match old {
                Some(o) if o.kind() == Some(ObjectType::Tree) => {
                    record_deletion(o, out);
                    None
                }
                Some(o) => Some((o.id(), o.filemode() as u32)),
                None => None,
            };
            if let Some(change) =
                classify(join(prefix, name), new.id(), new.filemode() as u32, before)
            {
                out.changes.push(change);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}
