//! Loose objects, read straight from their files: what `git add` writes, so
//! every blob a commit's check reads. libgit2 checked that the file exists,
//! opened it to inflate the header for the size, then opened it again to
//! inflate the whole: three path walks and two opens per staged file, a tenth
//! of checking a 312 MB first commit. Here it is one read, and one inflate
//! that learns the size from the header before going on. Anything else (a
//! packed object, one in an alternate this does not know, a file that does not
//! parse) is left to libgit2, which reads it or says why not.

use std::io;
use std::path::{Path, PathBuf};

use flate2::{Decompress, FlushDecompress, Status};

use super::ObjectId;

/// A loose blob as read.
pub enum Loose {
    Bytes(Vec<u8>),
    /// Its size, over the limit it was read with: nothing more was inflated.
    TooLarge(u64),
}

/// The blob `id` if it is loose in one of `dirs` (object directories), read
/// whole when its size is at most `max`. `None`: not a loose blob here.
pub fn read_blob(dirs: &[PathBuf], id: ObjectId, max: u64) -> Option<Loose> {
    let hex = id.hex();
    let (fan, rest) = hex.split_at(2);
    dirs.iter().find_map(|dir| {
        let file = std::fs::read(dir.join(fan).join(rest)).ok()?;
        parse(&file, max).ok()
    })
}

/// Longest header read before its NUL: `blob ` and a 20-digit size.
const HEADER_MAX: usize = 32;

fn parse(file: &[u8], max: u64) -> io::Result<Loose> {
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
    let mut z = Decompress::new(true);
    let mut head = [0u8; HEADER_MAX];
    let status = z
        .decompress(file, &mut head, FlushDecompress::None)
        .map_err(|e| bad(&e.to_string()))?;
    let got = z.total_out() as usize;
    let nul = head[..got]
        .iter()
        .position(|&b| b == 0)
        .ok_or_else(|| bad("no header"))?;
    let size: u64 = std::str::from_utf8(&head[..nul])
        .ok()
        .and_then(|h| h.strip_prefix("blob "))
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| bad("not a blob"))?;
    if size > max {
        return Ok(Loose::TooLarge(size));
    }
    let size = usize::try_from(size).map_err(|_| bad("too large"))?;
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(&head[nul + 1..got]);
    if out.len() > size {
        return Err(bad("longer than its header says"));
    }
    let mut status = status;
    while status != Status::StreamEnd {
        let before = (z.total_in(), z.total_out());
        let input = &file[z.total_in() as usize..];
        status = z
            .decompress_vec(input, &mut out, FlushDecompress::Finish)
            .map_err(|e| bad(&e.to_string()))?;
        if out.len() == out.capacity() && status != Status::StreamEnd {
            // Full at the size the header gave, and still more to come.
            let mut probe = [0u8; 1];
            let more = z
                .decompress(
                    &file[z.total_in() as usize..],
                    &mut probe,
                    FlushDecompress::Finish,
                )
                .map_err(|e| bad(&e.to_string()))?;
            if z.total_out() as usize > size + nul + 1 || more != Status::StreamEnd {
                return Err(bad("longer than its header says"));
            }
            status = more;
        }
        if (z.total_in(), z.total_out()) == before && status != Status::StreamEnd {
            return Err(bad("truncated"));
        }
    }
    if out.len() != size {
        return Err(bad("shorter than its header says"));
    }
    Ok(Loose::Bytes(out))
}

/// Where loose objects of a repository may be: its own object directory and
/// any git names for a hook.
pub fn dirs(common_dir: &Path, extra: &[PathBuf]) -> Vec<PathBuf> {
    let mut dirs = vec![common_dir.join("objects")];
    for d in extra {
        if !dirs.contains(d) {
            dirs.push(d.clone());
        }
    }
    dirs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zlib(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    fn blob(content: &[u8]) -> Vec<u8> {
        let mut raw = format!("blob {}\0", content.len()).into_bytes();
        raw.extend_from_slice(content);
        zlib(&raw)
    }

    #[test]
    fn a_loose_blob_reads_whole_at_every_size() {
        for len in [0usize, 1, 10, 31, 32, 33, 1000, 100_000] {
            let content: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
            match parse(&blob(&content), u64::MAX).unwrap() {
                Loose::Bytes(b) => assert_eq!(b, content, "{len}"),
                Loose::TooLarge(_) => panic!("{len}"),
            }
        }
    }

    #[test]
    fn the_size_limit_is_known_before_the_content_is_inflated() {
        match parse(&blob(&[b'x'; 5000]), 4999).unwrap() {
            Loose::TooLarge(size) => assert_eq!(size, 5000),
            Loose::Bytes(_) => panic!("read past the limit"),
        }
    }

    #[test]
    fn anything_that_does_not_add_up_is_left_to_libgit2() {
        let wrong_size = zlib(b"blob 5\0abcdefgh");
        let short = zlib(b"blob 9\0abc");
        let tree = zlib(b"tree 3\0abc");
        let mut truncated = blob(&[b'y'; 10_000]);
        truncated.truncate(truncated.len() / 2);
        for bad in [wrong_size, short, tree, truncated, b"not zlib".to_vec()] {
            assert!(parse(&bad, u64::MAX).is_err());
        }
    }

    /// What git writes, read the same as libgit2 reads it.
    #[test]
    fn reads_what_git_add_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| crate::git::test_git(dir.path(), args);
        git(&["init", "-q"]);
        let content = "line\n".repeat(3000);
        std::fs::write(dir.path().join("f"), &content).unwrap();
        git(&["add", "f"]);
        let id = git(&["rev-parse", ":f"]);
        let id = ObjectId(git2::Oid::from_str(id.trim()).unwrap());
        let dirs = dirs(&dir.path().join(".git"), &[]);
        match read_blob(&dirs, id, u64::MAX) {
            Some(Loose::Bytes(b)) => assert_eq!(b, content.as_bytes()),
            _ => panic!("not read"),
        }
        git(&["commit", "-qm", "c"]);
        git(&["repack", "-adq"]);
        assert!(read_blob(&dirs, id, u64::MAX).is_none(), "packed now");
    }
}
