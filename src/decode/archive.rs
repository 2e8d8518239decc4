//! Archive members: a key committed inside a `.zip` (and so a `.jar`, `.apk`,
//! `.aar`, `.whl`), a `.tar`, a `.tar.gz`/`.tgz` or a lone `.gz` is a key anyone
//! who unpacks the archive can read. The container is recognised by its magic
//! bytes, since a decoder sees bytes and no name; each regular-file member
//! becomes one [`Fragment`] named by its path inside the archive (as bytes,
//! never touching the filesystem). An archive inside an archive comes out as a
//! member's bytes: the pipeline runs the decoders again on it, to its depth limit.
//!
//! Untrusted input: sizes declared in headers are never believed. Every byte the
//! archive expands to passes through one [`Metered`] reader that stops at the
//! blob's remaining [`Budget`], so a zip bomb costs at most the budget in memory
//! and time; every member is charged to the member budget. For a zip the bytes
//! charged are the members' contents; for a tar (plain or in a gzip) the whole
//! expanded stream, headers included, since a tar of a million empty headers
//! costs time too. Whatever stops the reading before the end (a limit, a corrupt
//! or truncated archive, an encrypted member, an unsupported compression method,
//! a sparse tar member) is named in the returned [`Exhausted`], with the members
//! found until then kept: an archive is never passed as clean unless it was read
//! whole. A blob that is no archive costs a few byte comparisons.

use std::cell::Cell;
use std::io::{self, Cursor, Read};

use flate2::read::MultiGzDecoder;
use zip::ZipArchive;

use super::{Budget, Decoder, Exhausted, Fragment};

/// How the report names a finding's disguise.
const ENCODING: &str = "in archive member";

/// Member name of a lone gzip whose header names no file.
const UNNAMED_GZIP: &[u8] = b"<decompressed>";

/// Problems named in one report line; the rest are counted.
const MAX_NOTES: usize = 3;

/// Longest member name quoted in a note, in characters.
const MAX_SHOWN_NAME: usize = 120;

/// Members of zip, tar and gzip containers, in [`super::DECODERS`].
pub struct Archives;

impl Decoder for Archives {
    fn reads_binary(&self) -> bool {
        true
    }

    fn fragments(
        &self,
        text: &[u8],
        budget: &mut Budget,
        out: &mut Vec<Fragment>,
    ) -> Result<(), Exhausted> {
        let Some(kind) = sniff(text) else {
            return Ok(());
        };
        let meter = Meter {
            left: Cell::new(budget.bytes),
            over: Cell::new(false),
        };
        let mut run = Run {
            kind: kind.name(),
            span: text.len(),
            meter: &meter,
            start: budget.bytes,
            members: budget.members,
            found: 0,
            notes: Vec::new(),
            more_notes: 0,
            out,
        };
        // A `Stop` has already been written down as a note.
        let _ = match kind {
            Kind::Zip => zip_members(text, &mut run),
            Kind::Tar => tar_members(text, &mut run),
            Kind::Gzip => gzip_members(text, &mut run),
        };
        budget.bytes = meter.left.get();
        budget.members = run.members;
        run.finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Zip,
    Tar,
    Gzip,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Zip => "zip",
            Kind::Tar => "tar",
            Kind::Gzip => "gzip",
        }
    }
}

/// The container by its magic bytes: a zip's first local header (or, for an
/// empty zip, its end-of-central-directory record), gzip's `1f 8b` with the only
/// defined method (deflate, 8), or ustar's magic at offset 257.
fn sniff(text: &[u8]) -> Option<Kind> {
    match text {
        [b'P', b'K', 3, 4, ..] | [b'P', b'K', 5, 6, ..] => Some(Kind::Zip),
        [0x1f, 0x8b, 8, ..] => Some(Kind::Gzip),
        _ if is_ustar(text) => Some(Kind::Tar),
        _ => None,
    }
}

/// POSIX ustar (`ustar\0`) and GNU tar (`ustar  `) both start with `ustar`.
fn is_ustar(bytes: &[u8]) -> bool {
    bytes.get(257..262) == Some(b"ustar")
}

/// The bytes left to expand into, shared by every reader of one archive.
struct Meter {
    left: Cell<usize>,
    /// Set when a reader had more to give after `left` reached zero.
    over: Cell<bool>,
}

/// A reader that ends at the meter's budget, whatever the headers declared.
struct Metered<'m, R> {
    inner: R,
    meter: &'m Meter,
}

impl<R: Read> Read for Metered<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.meter.left.get();
        if buf.is_empty() {
            return Ok(0);
        }
        if left == 0 {
            // One byte more tells "ended exactly at the budget" from "cut short".
            if self.inner.read(&mut [0u8])? > 0 {
                self.meter.over.set(true);
            }
            return Ok(0);
        }
        let n = buf.len().min(left);
        let read = self.inner.read(&mut buf[..n])?;
        self.meter.left.set(left - read);
        Ok(read)
    }
}

/// Written down already: stop reading this archive.
struct Stop;

/// One archive being read: what it found and why it stopped.
struct Run<'a, 'm> {
    /// As the notes name it: `zip`, `tar`, `gzip`, `tar.gz`.
    kind: &'static str,
    span: usize,
    meter: &'m Meter,
    /// Budget bytes when this archive started.
    start: usize,
    /// Members left in the budget.
    members: usize,
    /// Members yielded by this archive.
    found: usize,
    notes: Vec<String>,
    more_notes: usize,
    out: &'a mut Vec<Fragment>,
}

impl<'m> Run<'_, 'm> {
    fn metered<R: Read>(&self, inner: R) -> Metered<'m, R> {
        Metered {
            inner,
            meter: self.meter,
        }
    }

    /// Charges one member, or stops when none are left.
    fn member(&mut self) -> Result<(), Stop> {
        if self.members == 0 {
            return Err(self.limit("member limit"));
        }
        self.members -= 1;
        Ok(())
    }

    fn push(&mut self, name: Vec<u8>, bytes: Vec<u8>) {
        self.found += 1;
        self.out.push(Fragment {
            span: 0..self.span,
            bytes,
            encoding: ENCODING,
            member: Some(name),
        });
    }

    /// Stops if a reader was cut short by the byte budget.
    fn check(&mut self) -> Result<(), Stop> {
        if self.meter.over.get() {
            return Err(self.limit("byte limit"));
        }
        Ok(())
    }

    fn limit(&mut self, which: &str) -> Stop {
        let charged = self.start - self.meter.left.get();
        self.note(format!(
            "{}: {which} reached after {} / {}",
            self.kind,
            crate::text::plural(self.found, "member", "members"),
            crate::text::plural(charged, "byte", "bytes")
        ));
        Stop
    }

    /// A read failed: the byte budget if it cut the stream short, else the error.
    fn unreadable(&mut self, what: &str, error: &dyn std::fmt::Display) -> Stop {
        if self.meter.over.get() {
            return self.limit("byte limit");
        }
        self.note(format!("{}: unreadable: {what}{error}", self.kind));
        Stop
    }

    fn note(&mut self, note: String) {
        if self.notes.len() < MAX_NOTES {
            self.notes.push(note);
        } else {
            self.more_notes += 1;
        }
    }

    fn finish(self) -> Result<(), Exhausted> {
        if self.notes.is_empty() {
            return Ok(());
        }
        let mut text = self.notes.join("; ");
        if self.more_notes > 0 {
            text.push_str(&format!(" (and {} more)", self.more_notes));
        }
        Err(Exhausted(text))
    }
}

/// A member path for a note: untrusted bytes, so escaped and cut short.
fn shown(name: &[u8]) -> String {
    let lossy = String::from_utf8_lossy(name);
    let mut shown: String = lossy.chars().take(MAX_SHOWN_NAME).collect();
    if lossy.chars().nth(MAX_SHOWN_NAME).is_some() {
        shown.push('…');
    }
    shown.escape_debug().to_string()
}

/// A zip by its central directory, as jar, apk and wheel readers do. One that
/// has none readable (truncated, corrupt) is walked by its local headers from the
/// start, for the members before the damage.
fn zip_members(text: &[u8], run: &mut Run) -> Result<(), Stop> {
    let mut archive = match ZipArchive::new(Cursor::new(text)) {
        Ok(archive) => archive,
        Err(error) => {
            run.note(format!("zip: unreadable: {error}"));
            return zip_stream_members(text, run);
        }
    };
    for index in 0..archive.len() {
        let (name, encrypted) = match archive.by_index_raw(index) {
            Ok(file) if file.is_dir() && file.compressed_size() == 0 => continue,
            Ok(file) => (file.name_raw().to_vec(), file.encrypted()),
            Err(error) => {
                run.note(format!("zip: unreadable: member {index}: {error}"));
                continue;
            }
        };
        run.member()?;
        if encrypted {
            run.note(format!("zip: encrypted member {} not read", shown(&name)));
            continue;
        }
        let file = match archive.by_index(index) {
            Ok(file) => file,
            Err(error) => {
                run.note(format!("zip: unreadable: {}: {error}", shown(&name)));
                continue;
            }
        };
        let mut bytes = Vec::new();
        let read = run.metered(file).read_to_end(&mut bytes);
        let failed = read
            .err()
            .map(|error| format!("zip: unreadable: {}: {error}", shown(&name)));
        run.push(name, bytes);
        run.check()?;
        if let Some(failed) = failed {
            run.note(failed);
        }
    }
    Ok(())
}

/// The members a damaged zip's local headers still give, up to the first that
/// cannot be read this way (damaged, encrypted, or sized by a data descriptor).
/// The central directory's failure is already noted.
fn zip_stream_members(text: &[u8], run: &mut Run) -> Result<(), Stop> {
    let mut reader = text;
    while let Ok(Some(file)) = zip::read::read_zipfile_from_stream(&mut reader) {
        if file.is_dir() {
            continue;
        }
        let name = file.name_raw().to_vec();
        run.member()?;
        let mut bytes = Vec::new();
        let read = run.metered(file).read_to_end(&mut bytes);
        run.push(name, bytes);
        run.check()?;
        if read.is_err() {
            break;
        }
    }
    Ok(())
}

/// A tar's members from its (expanded) stream, which is metered as a whole.
fn tar_members<R: Read>(stream: R, run: &mut Run) -> Result<(), Stop> {
    let meter = run.meter;
    let mut archive = tar::Archive::new(Metered {
        inner: stream,
        meter,
    });
    let entries = archive
        .entries()
        .map_err(|error| run.unreadable("", &error))?;
    for entry in entries {
        let mut entry = entry.map_err(|error| run.unreadable("", &error))?;
        let kind = entry.header().entry_type();
        // These carry no content of their own (a link's target is in the header).
        if kind.is_dir()
            || kind.is_symlink()
            || kind.is_hard_link()
            || kind.is_character_special()
            || kind.is_block_special()
            || kind.is_fifo()
            || kind.is_pax_global_extensions()
        {
            continue;
        }
        let name = entry.path_bytes().into_owned();
        if kind.is_gnu_sparse() {
            // Holes would expand without passing through the meter.
            run.note(format!(
                "{}: sparse member {} not read",
                run.kind,
                shown(&name)
            ));
            continue;
        }
        run.member()?;
        let mut bytes = Vec::new();
        let read = entry.read_to_end(&mut bytes);
        let failed = read.err().map(|error| (shown(&name), error));
        run.push(name, bytes);
        run.check()?;
        if let Some((name, error)) = failed {
            return Err(run.unreadable(&format!("{name}: "), &error));
        }
    }
    run.check()
}

/// A gzip holding a tar yields the tar's members; any other gzip is one member,
/// named by the header's file name when it has one.
fn gzip_members(text: &[u8], run: &mut Run) -> Result<(), Stop> {
    let mut gzip = MultiGzDecoder::new(text);
    let mut head = Vec::new();
    let read = run.metered(&mut gzip).take(512).read_to_end(&mut head);
    if read.is_ok() && is_ustar(&head) {
        run.kind = "tar.gz";
        let meter = run.meter;
        let rest = Metered { inner: gzip, meter };
        return tar_members(Cursor::new(head).chain(rest), run);
    }
    let name = gzip
        .header()
        .and_then(|header| header.filename())
        .unwrap_or(UNNAMED_GZIP)
        .to_vec();
    run.member()?;
    let mut bytes = head;
    let read = read.and_then(|_| run.metered(&mut gzip).read_to_end(&mut bytes));
    run.push(name, bytes);
    run.check()?;
    read.map_err(|error| run.unreadable("", &error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::write::GzEncoder;
    use flate2::{Compression, GzBuilder};
    use zip::write::SimpleFileOptions;
    use zip::{CompressionMethod, ZipWriter};

    use super::*;

    const MARKER: &[u8] = b"token = MARKER-1234\n";

    fn roomy() -> Budget {
        Budget {
            bytes: 1 << 20,
            members: 100,
        }
    }

    fn run(text: &[u8], budget: &mut Budget) -> (Vec<Fragment>, Result<(), Exhausted>) {
        let mut out = Vec::new();
        let result = Archives.fragments(text, budget, &mut out);
        (out, result)
    }

    fn members(fragments: &[Fragment]) -> Vec<(&[u8], &[u8])> {
        fragments
            .iter()
            .map(|f| (f.member.as_deref().expect("archive member"), &f.bytes[..]))
            .collect()
    }

    fn zip(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
        let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
        for (name, bytes) in files {
            if name.ends_with('/') {
                writer.add_directory(*name, options).unwrap();
            } else {
                writer.start_file(*name, options).unwrap();
                writer.write_all(bytes).unwrap();
            }
        }
        writer.finish().unwrap().into_inner()
    }

    fn tar(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (name, bytes) in files {
            let mut header = tar::Header::new_ustar();
            header.set_size(bytes.len() as u64);
            header.set_mode(0o644);
            header.set_entry_type(tar::EntryType::Regular);
            builder.append_data(&mut header, name, *bytes).unwrap();
        }
        builder.into_inner().unwrap()
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn zip_member_is_a_fragment() {
        let archive = zip(&[("config/app.env", MARKER)]);
        let mut budget = roomy();
        let (out, result) = run(&archive, &mut budget);
        assert_eq!(result, Ok(()));
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].span, 0..archive.len());
        assert_eq!(out[0].encoding, "in archive member");
        assert_eq!(members(&out), [(&b"config/app.env"[..], MARKER)]);
        assert_eq!(budget.members, 99);
        assert_eq!(budget.bytes, (1 << 20) - MARKER.len());
    }

    #[test]
    fn jar_paths_are_kept_and_directories_skipped() {
        let archive = zip(&[
            ("META-INF/", b""),
            ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
            ("com/example/app/config.properties", MARKER),
        ]);
        let (out, result) = run(&archive, &mut roomy());
        assert_eq!(result, Ok(()));
        assert_eq!(
            members(&out),
            [
                (
                    &b"META-INF/MANIFEST.MF"[..],
                    &b"Manifest-Version: 1.0\n"[..]
                ),
                (&b"com/example/app/config.properties"[..], MARKER),
            ]
        );
    }

    #[test]
    fn tar_gz_yields_the_tar_members() {
        let archive = gzip(&tar(&[("a/one.txt", b"first\n"), ("a/two.env", MARKER)]));
        let (out, result) = run(&archive, &mut roomy());
        assert_eq!(result, Ok(()));
        assert_eq!(
            members(&out),
            [
                (&b"a/one.txt"[..], &b"first\n"[..]),
                (&b"a/two.env"[..], MARKER)
            ]
        );
    }

    #[test]
    fn plain_tar_yields_its_members() {
        let archive = tar(&[("x.env", MARKER)]);
        let (out, result) = run(&archive, &mut roomy());
        assert_eq!(result, Ok(()));
        assert_eq!(members(&out), [(&b"x.env"[..], MARKER)]);
    }

    #[test]
    fn lone_gzip_is_one_member_named_by_its_header() {
        let mut named = GzBuilder::new()
            .filename("settings.env")
            .write(Vec::new(), Compression::default());
        named.write_all(MARKER).unwrap();
        let named = named.finish().unwrap();
        let (out, result) = run(&named, &mut roomy());
        assert_eq!(result, Ok(()));
        assert_eq!(members(&out), [(&b"settings.env"[..], MARKER)]);

        let (out, result) = run(&gzip(MARKER), &mut roomy());
        assert_eq!(result, Ok(()));
        assert_eq!(members(&out), [(&b"<decompressed>"[..], MARKER)]);
    }

    #[test]
    fn nested_zip_is_returned_whole_for_the_next_depth() {
        let inner = zip(&[("inner.txt", MARKER)]);
        let outer = zip(&[("lib/inner.jar", &inner)]);
        let (out, result) = run(&outer, &mut roomy());
        assert_eq!(result, Ok(()));
        assert_eq!(members(&out), [(&b"lib/inner.jar"[..], &inner[..])]);
        assert!(out[0].bytes.starts_with(b"PK\x03\x04"));
    }

    #[test]
    fn empty_zip_has_no_members() {
        let archive = zip(&[]);
        assert!(archive.starts_with(b"PK\x05\x06"));
        let (out, result) = run(&archive, &mut roomy());
        assert_eq!(result, Ok(()));
        assert!(out.is_empty());
    }

    #[test]
    fn non_archives_are_left_alone() {
        for text in [
            &b""[..],
            b"PK",
            b"plain text, not an archive\n",
            b"\x1f\x8b",
            &[0u8; 600],
        ] {
            let mut budget = roomy();
            let (out, result) = run(text, &mut budget);
            assert_eq!(result, Ok(()));
            assert!(out.is_empty());
            assert_eq!((budget.bytes, budget.members), (1 << 20, 100));
        }
    }

    #[test]
    fn truncated_zip_keeps_what_was_read_and_says_so() {
        let archive = zip(&[("first.env", MARKER), ("second.txt", &[b'x'; 4000])]);
        let second = archive
            .windows(10)
            .position(|w| w == b"second.txt")
            .unwrap();
        let cut = &archive[..second + 40];
        let (out, result) = run(cut, &mut roomy());
        let Err(Exhausted(why)) = result else {
            panic!("a truncated zip must not pass as read")
        };
        assert!(why.starts_with("zip: unreadable: "), "{why}");
        assert_eq!(members(&out)[0], (&b"first.env"[..], MARKER));
    }

    #[test]
    fn truncated_tar_says_so() {
        let archive = tar(&[("one.env", MARKER), ("two.txt", &[b'y'; 3000])]);
        // Into the second member's data: its header at 1024, its data from 1536.
        let (out, result) = run(&archive[..1536 + 700], &mut roomy());
        let Err(Exhausted(why)) = result else {
            panic!("a truncated tar must not pass as read")
        };
        assert!(why.starts_with("tar: unreadable: "), "{why}");
        assert_eq!(members(&out)[0], (&b"one.env"[..], MARKER));
    }

    #[test]
    fn corrupt_gzip_says_so() {
        let mut archive = gzip(&[b'a'; 1000]);
        archive.truncate(archive.len() / 2);
        let (_, result) = run(&archive, &mut roomy());
        let Err(Exhausted(why)) = result else {
            panic!("a truncated gzip must not pass as read")
        };
        assert!(why.starts_with("gzip: unreadable: "), "{why}");
    }

    #[test]
    fn encrypted_member_is_named_and_the_others_read() {
        let mut archive = zip(&[("secret.env", b"hidden"), ("open.env", MARKER)]);
        // Set the encryption flag (bit 0 of the flags) in the local and central
        // headers of the first member: the writer here cannot encrypt.
        archive[6] |= 1;
        let central = archive.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
        archive[central + 8] |= 1;
        let (out, result) = run(&archive, &mut roomy());
        assert_eq!(
            result,
            Err(Exhausted(
                "zip: encrypted member secret.env not read".into()
            ))
        );
        assert_eq!(members(&out), [(&b"open.env"[..], MARKER)]);
    }

    #[test]
    fn bomb_stops_at_the_byte_budget() {
        let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
        let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
        writer.start_file("zeros.bin", options).unwrap();
        let zeros = vec![0u8; 1 << 16];
        for _ in 0..(50 << 20) / zeros.len() {
            writer.write_all(&zeros).unwrap();
        }
        let archive = writer.finish().unwrap().into_inner();
        assert!(archive.len() < 1 << 20);

        let mut budget = Budget {
            bytes: 4096,
            members: 10,
        };
        let (out, result) = run(&archive, &mut budget);
        assert_eq!(
            result,
            Err(Exhausted(
                "zip: byte limit reached after 1 member / 4096 bytes".into()
            ))
        );
        assert_eq!(out[0].bytes.len(), 4096);
        assert_eq!(budget.bytes, 0);
    }

    #[test]
    fn gzip_bomb_stops_at_the_byte_budget() {
        let archive = gzip(&vec![0u8; 8 << 20]);
        let mut budget = Budget {
            bytes: 1000,
            members: 10,
        };
        let (out, result) = run(&archive, &mut budget);
        assert_eq!(
            result,
            Err(Exhausted(
                "gzip: byte limit reached after 1 member / 1000 bytes".into()
            ))
        );
        assert_eq!(out[0].bytes.len(), 1000);
    }

    #[test]
    fn exact_budget_is_not_exhausted() {
        let archive = gzip(MARKER);
        let mut budget = Budget {
            bytes: MARKER.len(),
            members: 1,
        };
        let (out, result) = run(&archive, &mut budget);
        assert_eq!(result, Ok(()));
        assert_eq!(out.len(), 1);
        assert_eq!((budget.bytes, budget.members), (0, 0));
    }

    #[test]
    fn member_count_over_budget() {
        let files: Vec<(String, &[u8])> = (0..5).map(|i| (format!("m{i}.txt"), MARKER)).collect();
        let files: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (n.as_str(), *b)).collect();
        let mut budget = Budget {
            bytes: 1 << 20,
            members: 3,
        };
        let (out, result) = run(&zip(&files), &mut budget);
        assert_eq!(
            result,
            Err(Exhausted(format!(
                "zip: member limit reached after 3 members / {} bytes",
                3 * MARKER.len()
            )))
        );
        assert_eq!(out.len(), 3);
        assert_eq!(budget.members, 0);

        let mut budget = Budget {
            bytes: 1 << 20,
            members: 1,
        };
        let (out, result) = run(&gzip(&tar(&files)), &mut budget);
        let Err(Exhausted(why)) = result else {
            panic!("over the member budget must not pass")
        };
        assert!(
            why.starts_with("tar.gz: member limit reached after 1 member / "),
            "{why}"
        );
        assert_eq!(out.len(), 1);
    }
}
