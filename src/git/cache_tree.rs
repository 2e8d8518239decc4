//! Reads the root of the index's cache-tree (the `TREE` extension) straight from the
//! index file.
//!
//! When git runs the pre-commit hook it has already written the tree it is about to
//! commit and recorded it in the index's cache-tree. Diffing HEAD's tree against that
//! tree is then a tree-to-tree diff that skips every unchanged subtree, instead of a
//! walk over every index entry: the difference between milliseconds and a tenth of a
//! second in a repository of 80,000 files. Anything unusual (an invalid cache-tree,
//! a sparse index, an unknown version, a truncated file) returns `None` and
//! the caller falls back to libgit2's full index diff, which is always right.

const SIGNATURE: &[u8; 4] = b"DIRC";
/// Fixed part of an entry before the flags: ctime, mtime, dev, ino, mode, uid, gid,
/// size (4 bytes each, times as two) and the object id.
const FIXED: usize = 40;
const FLAG_EXTENDED: u16 = 0x4000;
const NAME_MASK: u16 = 0x0FFF;

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
        let out = &rest[..len];
        self.pos += len + 1;
        Some(out)
    }
    /// The offset-encoded varint of index v4 path compression.
    fn varint(&mut self) -> Option<u64> {
        let mut b = *self.take(1)?.first()?;
        let mut value = u64::from(b & 0x7F);
        while b & 0x80 != 0 {
            b = *self.take(1)?.first()?;
            value = value.checked_add(1)?.checked_shl(7)? | u64::from(b & 0x7F);
        }
        Some(value)
    }
}

/// The root tree id recorded in a valid cache-tree, for SHA-1 repositories.
pub fn root_tree(index: &[u8], hash_len: usize) -> Option<Vec<u8>> {
    let mut r = Reader {
        data: index,
        pos: 0,
    };
    if r.take(4)? != SIGNATURE {
        return None;
    }
    let version = r.u32()?;
    if !(2..=4).contains(&version) {
        return None;
    }
    let count = r.u32()?;
    for _ in 0..count {
        let start = r.pos;
        r.take(FIXED + hash_len)?;
        let flags = r.u16()?;
        if flags & FLAG_EXTENDED != 0 {
            if version < 3 {
                return None;
            }
            r.u16()?;
        }
        if version == 4 {
            r.varint()?;
            r.until_nul()?;
        } else {
            let name_len = usize::from(flags & NAME_MASK);
            if name_len < NAME_MASK as usize {
                r.take(name_len)?;
            } else {
                r.until_nul()?;
                r.pos -= 1;
            }
            // NUL-padded to a multiple of 8, at least one NUL.
            let len = r.pos - start;
            let padded = (len + 8) & !7;
            r.take(padded - len)?;
        }
    }
    // Extensions, up to the trailing checksum.
    let end = index.len().checked_sub(hash_len)?;
    while r.pos + 8 <= end {
        let sig = r.take(4)?;
        let size = r.u32()? as usize;
        let body = r.take(size)?;
        match sig {
            // A split index still records the cache-tree of the whole index in
            // this file, so `link` needs nothing special here.
            b"TREE" => return root_of(body, hash_len),
            // A sparse index has directory entries: leave it to libgit2.
            b"sdir" => return None,
            _ => {}
        }
    }
    None
}

fn root_of(body: &[u8], hash_len: usize) -> Option<Vec<u8>> {
    let mut r = Reader { data: body, pos: 0 };
    let path = r.until_nul()?;
    if !path.is_empty() {
        return None;
    }
    let line_end = memchr::memchr(b'\n', body.get(r.pos..)?)?;
    let line = std::str::from_utf8(&body[r.pos..r.pos + line_end]).ok()?;
    r.pos += line_end + 1;
    let (entries, _subtrees) = line.split_once(' ')?;
    let entries: i64 = entries.parse().ok()?;
    if entries < 0 {
        return None;
    }
    Some(r.take(hash_len)?.to_vec())
}

#[cfg(test)]
mod tests {
    use super::root_tree;

    #[test]
    fn garbage_and_truncation_fall_back() {
        assert_eq!(root_tree(b"", 20), None);
        assert_eq!(root_tree(b"DIRC\0\0\0\x02\0\0\0\x05", 20), None);
        assert_eq!(root_tree(&[0xFF; 100], 20), None);
    }
}
