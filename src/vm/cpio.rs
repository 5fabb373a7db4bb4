//! The cpio "newc" format (the one the Linux kernel unpacks as an
//! initramfs, and `busybox cpio -o -H newc` writes): a writer for the
//! guest's initramfs and a reader for the archive of files the guest sends
//! back. Pure: bytes in, bytes out.
//!
//! Each entry is a 110-byte ASCII header (`070701` and thirteen 8-digit hex
//! fields), the name with a NUL, padding to a multiple of 4, the data,
//! padding to a multiple of 4; the archive ends with an entry named
//! `TRAILER!!!`. Facts from the kernel's
//! `Documentation/driver-api/early-userspace/buffer-format.rst`.

use std::fmt;

const MAGIC: &[u8; 6] = b"070701";
const HEADER: usize = 110;
const TRAILER: &str = "TRAILER!!!";

/// File type bits of `mode`.
pub const S_IFMT: u32 = 0o170000;
pub const S_IFDIR: u32 = 0o040000;
pub const S_IFREG: u32 = 0o100000;
pub const S_IFLNK: u32 = 0o120000;
pub const S_IFCHR: u32 = 0o020000;

/// One archive entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Path inside the archive, without a leading `/` (`bin/busybox`).
    pub name: String,
    /// Type and permission bits (`S_IFREG | 0o755`).
    pub mode: u32,
    pub mtime: u32,
    /// For a character device: major and minor.
    pub rdev: (u32, u32),
    /// File contents, or a symlink's target.
    pub data: Vec<u8>,
}

impl Entry {
    /// A regular file.
    pub fn file(name: &str, perm: u32, data: Vec<u8>) -> Entry {
        Entry { name: name.into(), mode: S_IFREG | perm, mtime: 0, rdev: (0, 0), data }
    }

    /// A directory.
    pub fn dir(name: &str) -> Entry {
        Entry { name: name.into(), mode: S_IFDIR | 0o755, mtime: 0, rdev: (0, 0), data: Vec::new() }
    }

    /// A character device node.
    pub fn char_dev(name: &str, perm: u32, major: u32, minor: u32) -> Entry {
        Entry { name: name.into(), mode: S_IFCHR | perm, mtime: 0, rdev: (major, minor), data: Vec::new() }
    }

    pub fn is_dir(&self) -> bool {
        self.mode & S_IFMT == S_IFDIR
    }

    pub fn is_file(&self) -> bool {
        self.mode & S_IFMT == S_IFREG
    }
}

/// Writes `entries` as a newc archive, with the trailer. Inode numbers are
/// the entries' positions (from 1), each with one link.
pub fn write(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        put(&mut out, i as u32 + 1, e);
    }
    put(&mut out, 0, &Entry { name: TRAILER.into(), mode: 0, mtime: 0, rdev: (0, 0), data: Vec::new() });
    out
}

fn put(out: &mut Vec<u8>, ino: u32, e: &Entry) {
    let nlink = if e.is_dir() { 2 } else { 1 };
    let fields = [
        ino,
        e.mode,
        0, // uid
        0, // gid
        nlink,
        e.mtime,
        e.data.len() as u32,
        0, // devmajor
        0, // devminor
        e.rdev.0,
        e.rdev.1,
        e.name.len() as u32 + 1,
        0, // check
    ];
    out.extend_from_slice(MAGIC);
    for f in fields {
        out.extend_from_slice(format!("{f:08x}").as_bytes());
    }
    out.extend_from_slice(e.name.as_bytes());
    out.push(0);
    pad4(out);
    out.extend_from_slice(&e.data);
    pad4(out);
}

fn pad4(out: &mut Vec<u8>) {
    while out.len() % 4 != 0 {
        out.push(0);
    }
}

/// What is wrong with an archive, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CpioError {
    pub offset: usize,
    pub what: String,
}

impl fmt::Display for CpioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cpio archive, byte {}: {}", self.offset, self.what)
    }
}

/// Reads a newc archive up to its trailer. A leading `./` or `/` is taken
/// off the names; the entry `.` is left out.
pub fn read(bytes: &[u8]) -> Result<Vec<Entry>, CpioError> {
    let mut at = 0;
    let mut out = Vec::new();
    loop {
        let err = |what: &str| CpioError { offset: at, what: what.into() };
        let head = bytes.get(at..at + HEADER).ok_or_else(|| err("ends inside a header (no trailer)"))?;
        if &head[..6] != MAGIC {
            return Err(err("not a newc header (magic 070701)"));
        }
        let mut f = [0u32; 13];
        for (i, v) in f.iter_mut().enumerate() {
            let hex = std::str::from_utf8(&head[6 + 8 * i..14 + 8 * i]).map_err(|_| err("header field is not text"))?;
            *v = u32::from_str_radix(hex, 16).map_err(|_| err("header field is not hex"))?;
        }
        let (mode, mtime, size, rdev, namesize) = (f[1], f[5], f[6] as usize, (f[9], f[10]), f[11] as usize);
        if namesize == 0 {
            return Err(err("entry without a name"));
        }
        let name_at = at + HEADER;
        let raw = bytes.get(name_at..name_at + namesize).ok_or_else(|| err("ends inside a name"))?;
        let name = std::str::from_utf8(&raw[..namesize - 1]).map_err(|_| err("name is not UTF-8"))?.to_string();
        let data_at = align4(name_at + namesize);
        let data = bytes.get(data_at..data_at + size).ok_or_else(|| err("ends inside the data of an entry"))?;
        at = align4(data_at + size);
        if name == TRAILER {
            return Ok(out);
        }
        let name = name.trim_start_matches("./").trim_start_matches('/').to_string();
        if name.is_empty() || name == "." {
            continue;
        }
        out.push(Entry { name, mode, mtime, rdev, data: data.to_vec() });
    }
}

fn align4(n: usize) -> usize {
    n.div_ceil(4) * 4
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_archive_reads_back_the_same() {
        let entries = vec![
            Entry::dir("bin"),
            Entry::file("bin/a", 0o755, b"hello".to_vec()),
            Entry::file("empty", 0o644, Vec::new()),
            Entry::char_dev("dev/console", 0o600, 5, 1),
            Entry { name: "bin/sh".into(), mode: S_IFLNK | 0o777, mtime: 7, rdev: (0, 0), data: b"busybox".to_vec() },
        ];
        let bytes = write(&entries);
        assert_eq!(bytes.len() % 4, 0);
        assert_eq!(read(&bytes).unwrap(), entries);
    }

    #[test]
    fn the_header_is_the_newc_layout() {
        let bytes = write(&[Entry::file("ab", 0o644, b"xyz".to_vec())]);
        let head = std::str::from_utf8(&bytes[..HEADER]).unwrap();
        // magic, ino 1, mode 0100644, uid, gid, nlink 1, mtime, size 3, 4 x dev, namesize 3, check.
        let want = [
            "070701", "00000001", "000081a4", "00000000", "00000000", "00000001", "00000000", "00000003", "00000000",
            "00000000", "00000000", "00000000", "00000003", "00000000",
        ];
        assert_eq!(head, want.concat());
        // Name, NUL, padding to 116 (a multiple of 4), then the data and its padding.
        assert_eq!(&bytes[110..116], b"ab\0\0\0\0");
        assert_eq!(&bytes[116..120], b"xyz\0");
        assert_eq!(&bytes[120..126], b"070701");
        let trailer_name = &bytes[120 + HEADER..120 + HEADER + 11];
        assert_eq!(trailer_name, b"TRAILER!!!\0");
    }

    #[test]
    fn names_lose_a_leading_dot_slash_and_the_dot_entry_is_left_out() {
        let bytes =
            write(&[Entry::dir("."), Entry::dir("./reports"), Entry::file("./reports/x", 0o644, b"1".to_vec())]);
        let names: Vec<String> = read(&bytes).unwrap().into_iter().map(|e| e.name).collect();
        assert_eq!(names, ["reports", "reports/x"]);
    }

    #[test]
    fn a_cut_archive_is_an_error_not_a_shorter_list() {
        let bytes = write(&[Entry::file("a", 0o644, vec![b'x'; 100])]);
        for cut in [0, 50, 110, 150, bytes.len() - 4] {
            assert!(read(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut bad = bytes.clone();
        bad[0] = b'1';
        assert_eq!(read(&bad).unwrap_err().what, "not a newc header (magic 070701)");
    }
}
