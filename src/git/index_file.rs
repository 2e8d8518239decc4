//! Reads the index file directly: its entries and its cache-tree (the `TREE`
//! extension), which libgit2 does not expose.
//!
//! The cache-tree records, for each directory, the tree id the index would write
//! there, as long as nothing under it changed since. A directory whose cached id
//! equals HEAD's tree for it has nothing staged, and all its entries can be skipped
//! at once. That is how `git diff --cached` stays fast in a large repository, and
//! it lets keyward read a one-file change in an 80,000-file repository without
//! visiting 80,000 entries or reading thousands of tree objects. At pre-commit time
//! git has just written the tree it is about to commit, so the cache-tree is fully
//! valid and only the changed directories are read.
//!
//! Anything this parser does not understand (an unknown version, a sparse index,
//! truncation) yields `None`, and the caller falls back to libgit2's full diff.

const SIGNATURE: &[u8; 4] = b"DIRC";
/// Fixed part of an entry before the object id: ctime, mtime (8 bytes each), dev,
/// ino, mode, uid, gid, size (4 bytes each).
const FIXED: usize = 40;
const MODE_OFFSET: usize = 24;
const FLAG_EXTENDED: u16 = 0x4000;
const NAME_MASK: u16 = 0x0FFF;

pub struct Entry<'a> {
    pub path: std::borrow::Cow<'a, [u8]>,
    pub mode: u32,
    pub id: &'a [u8],
    pub stage: u8,
}

/// A cache-tree node: how many index entries lie under the directory, and its
/// tree id when still valid.
pub struct CachedDir<'a> {
    pub entries: usize,
    pub id: Option<&'a [u8]>,
}

pub struct IndexFile<'a> {
    /// For a split index (`link` extension), only the entries changed since the
    /// shared index: not the whole index. Its cache-tree is still the whole one.
    pub entries: Vec<Entry<'a>>,
    pub split: bool,
    /// A sparse index (`sdir`): some entries are whole directories.
    pub sparse: bool,
    pub cache: CacheTree<'a>,
}

/// The cache-tree as the file lays it out: directories by name under their
/// parent, read without building a path or a hash for each (a large repository
/// has tens of thousands of directories, and a commit looks up a handful).
#[derive(Default)]
pub struct CacheTree<'a> {
    /// In the extension's preorder; the root first.
    nodes: Vec<CacheNode<'a>>,
    /// Each node's subdirectories, as indexes into `nodes`, in git's order:
    /// by name length, then name (cache-tree.c's `subtree_name_cmp`).
    kids: Vec<u32>,
}

struct CacheNode<'a> {
    name: &'a [u8],
    dir: CachedDir<'a>,
    kids: std::ops::Range<u32>,
}

impl<'a> CacheTree<'a> {
    /// The directory at `path` (no trailing slash; `""` is the root).
    pub fn get(&self, path: &[u8]) -> Option<&CachedDir<'a>> {
        let mut node = self.nodes.first()?;
        if path.is_empty() {
            return Some(&node.dir);
        }
        for name in path.split(|&b| b == b'/') {
            let kids = &self.kids[node.kids.start as usize..node.kids.end as usize];
            let at = kids
                .binary_search_by(|&k| git_order(self.nodes[k as usize].name).cmp(&git_order(name)))
                .ok()?;
            node = &self.nodes[kids[at] as usize];
        }
        Some(&node.dir)
    }
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let out = self.data.get(self.pos..end)?;
        self.pos = end;
        Some(out)
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes(self.take(2)?.try_into().ok()?))
    }
    fn until_nul(&mut self) -> Option<&'a [u8]> {
        let rest = self.data.get(self.pos..)?;
        let len = memchr::memchr(0, rest)?;
        self.pos += len + 1;
        Some(&rest[..len])
    }
    /// The offset-encoded varint of index v4 path compression.
    fn varint(&mut self) -> Option<usize> {
        let mut b = *self.take(1)?.first()?;
        let mut value = usize::from(b & 0x7F);
        while b & 0x80 != 0 {
            b = *self.take(1)?.first()?;
            value = value.checked_add(1)?.checked_mul(128)? | usize::from(b & 0x7F);
        }
        Some(value)
    }
}

/// Parses an index of SHA-1 ids (`hash_len` 20).
pub fn parse(data: &[u8], hash_len: usize) -> Option<IndexFile<'_>> {
    let mut r = Reader { data, pos: 0 };
    if r.take(4)? != SIGNATURE {
        return None;
    }
    let version = r.u32()?;
    if !(2..=4).contains(&version) {
        return None;
    }
    let count = r.u32()? as usize;
    let mut entries = Vec::with_capacity(count.min(data.len() / 62));
    let mut previous: Vec<u8> = Vec::new();
    for _ in 0..count {
        let start = r.pos;
        let fixed = r.take(FIXED)?;
        let mode = u32::from_be_bytes(fixed[MODE_OFFSET..MODE_OFFSET + 4].try_into().ok()?);
        let id = r.take(hash_len)?;
        let flags = r.u16()?;
        if flags & FLAG_EXTENDED != 0 {
            if version < 3 {
                return None;
            }
            r.u16()?;
        }
        let stage = ((flags >> 12) & 3) as u8;
        let path = if version == 4 {
            let strip = r.varint()?;
            let suffix = r.until_nul()?;
            let keep = previous.len().checked_sub(strip)?;
            previous.truncate(keep);
            previous.extend_from_slice(suffix);
            std::borrow::Cow::Owned(previous.clone())
        } else {
            let name_len = usize::from(flags & NAME_MASK);
            let name = if name_len < usize::from(NAME_MASK) {
                r.take(name_len)?
            } else {
                let n = r.until_nul()?;
                r.pos -= 1;
                n
            };
            // Entries are NUL-padded to a multiple of 8 bytes, at least one NUL.
            let len = r.pos - start;
            r.take(((len + 8) & !7) - len)?;
            std::borrow::Cow::Borrowed(name)
        };
        entries.push(Entry {
            path,
            mode,
            id,
            stage,
        });
    }
    let mut cache = CacheTree::default();
    let mut split = false;
    let mut sparse = false;
    let end = data.len().checked_sub(hash_len)?;
    while r.pos + 8 <= end {
        let sig = r.take(4)?;
        let size = r.u32()? as usize;
        let body = r.take(size)?;
        match sig {
            b"TREE" => {
                let mut t = Reader { data: body, pos: 0 };
                cache_node(&mut t, hash_len, &mut cache, 0)?;
            }
            b"link" => split = true,
            // A sparse index holds directories as entries: the caller has git
            // expand it.
            b"sdir" => sparse = true,
            _ => {}
        }
    }
    // git keeps entries sorted by path, then stage, with no duplicates; the walk
    // relies on it to find a directory's entries by binary search. A file that
    // says otherwise is crafted or corrupt, and libgit2 decides what it means. (A
    // split index's own entries are a delta against the shared index, with empty
    // names for replaced entries; only its cache-tree is read.)
    let sorted = split
        || entries
            .windows(2)
            .all(|w| (&w[0].path[..], w[0].stage) < (&w[1].path[..], w[1].stage));
    if !sorted {
        return None;
    }
    Some(IndexFile {
        entries,
        split,
        sparse,
        cache,
    })
}

/// The key git sorts cache-tree subdirectories by.
fn git_order(name: &[u8]) -> (usize, &[u8]) {
    (name.len(), name)
}

/// Reads one cache-tree node and its subtrees, in the extension's preorder;
/// returns the node's index.
fn cache_node<'a>(
    r: &mut Reader<'a>,
    hash_len: usize,
    out: &mut CacheTree<'a>,
    depth: usize,
) -> Option<u32> {
    if depth > 4096 {
        return None;
    }
    let name = r.until_nul()?;
    let line_end = memchr::memchr(b'\n', r.data.get(r.pos..)?)?;
    let line = std::str::from_utf8(r.take(line_end + 1)?).ok()?;
    let (entries, subtrees) = line.trim_end().split_once(' ')?;
    let entries: i64 = entries.parse().ok()?;
    let subtrees: usize = subtrees.parse().ok()?;
    let id = if entries >= 0 {
        Some(r.take(hash_len)?)
    } else {
        None
    };
    let index = u32::try_from(out.nodes.len()).ok()?;
    out.nodes.push(CacheNode {
        name,
        dir: CachedDir {
            entries: entries.max(0) as usize,
            id,
        },
        kids: 0..0,
    });
    // Each count in the file is untrusted: it bounds nothing allocated here.
    let mut kids = Vec::new();
    for _ in 0..subtrees {
        kids.push(cache_node(r, hash_len, out, depth + 1)?);
    }
    // The lookup's binary search needs git's order; a file out of order is
    // crafted, and its cache-tree is not trusted.
    if !kids.windows(2).all(|w| {
        git_order(out.nodes[w[0] as usize].name) < git_order(out.nodes[w[1] as usize].name)
    }) {
        return None;
    }
    let start = u32::try_from(out.kids.len()).ok()?;
    out.kids.extend_from_slice(&kids);
    let end = u32::try_from(out.kids.len()).ok()?;
    out.nodes[index as usize].kids = start..end;
    Some(index)
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn garbage_and_truncation_are_refused() {
        assert!(parse(b"", 20).is_none());
        assert!(parse(b"DIRC\0\0\0\x02\0\0\0\x05", 20).is_none());
        assert!(parse(&[0xFF; 100], 20).is_none());
    }
}
