//! A file mapped into memory, read-only: how the index is read, as git reads it.
//! An 80,000-file repository's index is 11 MB; reading it into a fresh buffer
//! costs the kernel a copy and a page fault per page (7–10 ms), more than
//! everything else a small commit's check does.
//!
//! git replaces the index by renaming a new file over it, never by writing into
//! it, so a mapping stays the file it was when mapped.

use std::fs::File;
use std::os::unix::io::AsRawFd;
use std::path::Path;

pub struct Mapped {
    ptr: *mut libc::c_void,
    len: usize,
}

impl Mapped {
    pub fn open(path: &Path) -> std::io::Result<Mapped> {
        let file = File::open(path)?;
        let len = usize::try_from(file.metadata()?.len())
            .map_err(|_| std::io::Error::other("file too large to map"))?;
        if len == 0 {
            return Ok(Mapped {
                ptr: std::ptr::null_mut(),
                len: 0,
            });
        }
        // SAFETY: a fresh read-only private mapping of an open file, of its
        // length; nothing else refers to the memory it returns.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Mapped { ptr, len })
    }
}

impl std::ops::Deref for Mapped {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: `ptr` maps `len` readable bytes until `drop`, and nothing
        // writes through the mapping (read-only, private).
        unsafe { std::slice::from_raw_parts(self.ptr.cast::<u8>(), self.len) }
    }
}

impl Drop for Mapped {
    fn drop(&mut self) {
        if self.len > 0 {
            // SAFETY: unmaps exactly the mapping `open` made, once.
            unsafe {
                libc::munmap(self.ptr, self.len);
            }
        }
    }
}
