//! Secure extraction of one OCI/Docker image layer (an uncompressed tar
//! stream) into an empty directory that later serves as an overlayfs lower
//! directory.
//!
//! Every byte of the archive is treated as hostile. The defence is structural:
//! we hold an fd of the layer root, resolve every parent directory with
//! `openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)` (so `..`, absolute
//! names and symlinks are clamped to the root by the kernel), and touch the
//! final component only through `*at` syscalls that never follow it. No
//! path-based `std::fs` call ever sees a name taken from the archive.

use std::cell::Cell;
use std::ffi::{CString, OsStr, OsString};
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags, Timespec, Timestamps, XattrFlags};
use rustix::io::{Errno, Result as SysResult};
use tar::EntryType;

#[path = "extract_fs.rs"]
mod fs_ops;
use fs_ops::{apply_at_meta, apply_fd_meta, clear_slot, init_implicit_dir, make_dir, open_in_root};

/// Cap on bytes the tar parser may buffer for one entry's metadata (PAX
/// records, GNU long names, sparse maps), which it holds in memory.
const HEADER_BUDGET: u64 = 4 << 20;
/// Symlinks followed while creating missing parents, like the kernel's limit.
const MAX_SYMLINK_HOPS: u32 = 40;
const WHITEOUT_PREFIX: &[u8] = b".wh.";
const WHITEOUT_META_PREFIX: &[u8] = b".wh..wh.";
const WHITEOUT_OPAQUE: &[u8] = b".wh..wh..opq";
const OPAQUE_XATTR: &str = "trusted.overlay.opaque";

/// Budgets against decompression bombs and pathological archives.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Maximum uncompressed tar bytes consumed (headers, metadata and data).
    pub max_bytes: u64,
    /// Maximum number of archive entries (after PAX/GNU headers are merged).
    pub max_entries: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_bytes: 32 << 30, max_entries: 2_000_000 }
    }
}

/// What one extraction did: entries processed and regular-file bytes written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExtractStats {
    pub entries: u64,
    pub bytes: u64,
}

/// Why an extraction stopped; every variant names the offending entry.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("layer root {path:?} unusable: {reason}")]
    BadRoot { path: PathBuf, reason: String },
    #[error("{path:?}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("malformed archive at or after {path:?}: {source}")]
    Malformed {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path:?}: unsafe path: {reason}")]
    UnsafePath { path: PathBuf, reason: &'static str },
    #[error("{path:?}: {what} budget of {limit} exceeded")]
    Budget { path: PathBuf, what: &'static str, limit: u64 },
    #[error("{path:?}: unsupported entry type {kind}")]
    UnsupportedEntry { path: PathBuf, kind: String },
    #[error("{path:?}: hard link to {target:?} refused: {reason}")]
    HardlinkOutside { path: PathBuf, target: PathBuf, reason: &'static str },
    #[error("{path:?}: invalid header: {reason}")]
    InvalidHeader { path: PathBuf, reason: String },
}

type Result<T> = std::result::Result<T, ExtractError>;

/// Extracts `archive` (an uncompressed tar stream) into `root`, which must be an existing empty directory.
pub fn extract<R: Read>(
    archive: R,
    root: &Path,
    limits: &Limits,
) -> std::result::Result<ExtractStats, ExtractError> {
    let meter = MeterState::new(limits.max_bytes);
    let mut ex = Extractor::new(root, *limits, &meter)?;
    let mut archive = tar::Archive::new(Meter { inner: archive, state: &meter });
    archive.set_ignore_zeros(false);
    let mut entries = archive.entries().map_err(|e| ex.stream_error(Path::new(""), e))?;
    let mut last = PathBuf::new();
    loop {
        meter.header_from.set(Some(meter.total.get()));
        let next = entries.next();
        meter.header_from.set(None);
        let Some(next) = next else { break };
        let mut entry = next.map_err(|e| ex.stream_error(&last, e))?;
        last = shown(&entry.path_bytes());
        ex.entry(&mut entry, &last)?;
        // Drain what the handler did not read, so the next header phase only
        // counts header bytes against HEADER_BUDGET.
        io::copy(&mut entry, &mut io::sink()).map_err(|e| ex.stream_error(&last, e))?;
    }
    ex.finish()
}

/// Counts every byte the tar parser pulls, so budgets also cover data the
/// parser buffers itself. Never reads ahead: the caller keeps the stream.
struct Meter<'a, R> {
    inner: R,
    state: &'a MeterState,
}

struct MeterState {
    max: u64,
    total: Cell<u64>,
    header_from: Cell<Option<u64>>,
    tripped: Cell<Option<(&'static str, u64)>>,
}

impl MeterState {
    fn new(max: u64) -> Self {
        MeterState { max, total: Cell::new(0), header_from: Cell::new(None), tripped: Cell::new(None) }
    }

    fn trip(&self, what: &'static str, limit: u64) -> io::Error {
        self.tripped.set(Some((what, limit)));
        io::Error::other(format!("{what} budget of {limit} exceeded"))
    }
}

impl<R: Read> Read for Meter<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let s = self.state;
        let total = s.total.get().saturating_add(n as u64);
        s.total.set(total);
        if total > s.max {
            return Err(s.trip("byte", s.max));
        }
        if s.header_from.get().is_some_and(|from| total - from > HEADER_BUDGET) {
            return Err(s.trip("header", HEADER_BUDGET));
        }
        Ok(n)
    }
}

/// Per-entry metadata, decoded once before anything is written.
struct Meta {
    mode: u32,
    uid: rfs::Uid,
    gid: rfs::Gid,
    mtime: Timespec,
    xattrs: Vec<(CString, Vec<u8>)>,
}

impl Meta {
    fn times(&self) -> Timestamps {
        Timestamps { last_access: self.mtime, last_modification: self.mtime }
    }
}

struct Extractor<'a> {
    root: OwnedFd,
    limits: Limits,
    meter: &'a MeterState,
    stats: ExtractStats,
    /// Directory mtimes, applied last because creating children bumps them.
    dir_times: Vec<(PathBuf, Timestamps)>,
}

impl<'a> Extractor<'a> {
    fn new(root: &Path, limits: Limits, meter: &'a MeterState) -> Result<Self> {
        let bad = |reason: String| ExtractError::BadRoot { path: root.to_path_buf(), reason };
        // `root` comes from the engine, not the archive, so a path open is fine.
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let fd = rfs::open(root, flags, Mode::empty()).map_err(|e| bad(e.to_string()))?;
        let dir = rfs::Dir::read_from(&fd).map_err(|e| bad(e.to_string()))?;
        for ent in dir {
            let name = ent.map_err(|e| bad(e.to_string()))?.file_name().to_bytes().to_vec();
            if name != b"." && name != b".." {
                return Err(bad("directory is not empty".into()));
            }
        }
        Ok(Extractor { root: fd, limits, meter, stats: ExtractStats::default(), dir_times: Vec::new() })
    }

    /// Maps a read failure to a budget error if the meter tripped, else to a
    /// malformed-archive error.
    fn stream_error(&self, path: &Path, source: io::Error) -> ExtractError {
        match self.meter.tripped.get() {
            Some((what, limit)) => ExtractError::Budget { path: path.to_path_buf(), what, limit },
            None => ExtractError::Malformed { path: path.to_path_buf(), source },
        }
    }

    fn entry<R: Read>(&mut self, entry: &mut tar::Entry<R>, path: &Path) -> Result<()> {
        self.stats.entries += 1;
        if self.stats.entries > self.limits.max_entries {
            return Err(budget(path, "entry", self.limits.max_entries));
        }
        let kind = entry.header().entry_type();
        if !is_materialized(kind) && !matches!(kind, EntryType::Directory | EntryType::GNUSparse) {
            return Ok(()); // Unknown or global-metadata entries: nothing to write.
        }
        let raw = entry.path_bytes().into_owned();
        let comps = normalize(&raw).map_err(|reason| unsafe_path(path, reason))?;
        if let Some(last) = comps.last().filter(|c| c.as_bytes().starts_with(WHITEOUT_PREFIX)) {
            return self.whiteout(path, &comps[..comps.len() - 1], last.as_bytes());
        }
        let is_dir = kind == EntryType::Directory
            || (matches!(kind, EntryType::Regular | EntryType::Continuous) && raw.ends_with(b"/"));
        if comps.is_empty() && !is_dir {
            return Err(unsafe_path(path, "non-directory entry names the layer root"));
        }
        match kind {
            _ if is_dir => {
                let meta = read_meta(entry, path)?;
                self.directory(path, comps, &meta)
            }
            EntryType::Regular | EntryType::Continuous => {
                let meta = read_meta(entry, path)?;
                self.file(path, &comps, entry, &meta)
            }
            EntryType::Symlink => {
                let meta = read_meta(entry, path)?;
                let target = link_target(entry, path)?;
                self.symlink(path, &comps, &target, &meta)
            }
            EntryType::Link => {
                let target = link_target(entry, path)?;
                self.hardlink(path, &comps, &target)
            }
            EntryType::Char | EntryType::Block | EntryType::Fifo => {
                let meta = read_meta(entry, path)?;
                // FIFOs carry no device number; writers often leave it blank.
                let dev = match kind {
                    EntryType::Fifo => rfs::makedev(0, 0),
                    _ => device(entry.header(), path)?,
                };
                self.special(path, &comps, kind, dev, &meta)
            }
            EntryType::GNUSparse => Err(ExtractError::UnsupportedEntry {
                path: path.to_path_buf(),
                kind: "GNU sparse file".into(),
            }),
            _ => Ok(()),
        }
    }

    fn directory(&mut self, path: &Path, comps: Vec<OsString>, meta: &Meta) -> Result<()> {
        let (parent, name) = self.parent(path, &comps)?;
        make_dir(parent.as_fd(), name).map_err(|e| io_error(path, e))?;
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rfs::openat(&parent, name, flags, Mode::empty()).map_err(|e| io_error(path, e))?;
        apply_fd_meta(fd.as_fd(), meta, false).map_err(|e| io_error(path, e))?;
        self.dir_times.push((join(&comps), meta.times()));
        Ok(())
    }

    fn file<R: Read>(
        &mut self,
        path: &Path,
        comps: &[OsString],
        entry: &mut tar::Entry<R>,
        meta: &Meta,
    ) -> Result<()> {
        // PAX `size` is already folded into the entry's size by the parser.
        let size = entry.size();
        if self.meter.total.get().saturating_add(size) > self.limits.max_bytes {
            return Err(budget(path, "byte", self.limits.max_bytes));
        }
        let (parent, name) = self.slot(path, comps)?;
        let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW;
        let fd = rfs::openat(&parent, name, flags | OFlags::CLOEXEC, Mode::from_raw_mode(0o600))
            .map_err(|e| io_error(path, e))?;
        let mut file = File::from(fd);
        let written =
            io::copy(&mut entry.take(size), &mut file).map_err(|e| match self.meter.tripped.get() {
                Some(_) => self.stream_error(path, e),
                None => io_error(path, e),
            })?;
        if written != size {
            let short = io::Error::new(io::ErrorKind::UnexpectedEof, "truncated file data");
            return Err(self.stream_error(path, short));
        }
        self.stats.bytes += written;
        apply_fd_meta(file.as_fd(), meta, true).map_err(|e| io_error(path, e))
    }

    fn symlink(&mut self, path: &Path, comps: &[OsString], target: &[u8], meta: &Meta) -> Result<()> {
        let (parent, name) = self.slot(path, comps)?;
        // The target is stored verbatim: it is only ever resolved in root later.
        rfs::symlinkat(OsStr::from_bytes(target), &parent, name).map_err(|e| io_error(path, e))?;
        apply_at_meta(parent.as_fd(), name, meta, false).map_err(|e| io_error(path, e))
    }

    fn hardlink(&mut self, path: &Path, comps: &[OsString], target: &[u8]) -> Result<()> {
        let refuse = |reason| ExtractError::HardlinkOutside {
            path: path.to_path_buf(),
            target: shown(target),
            reason,
        };
        let tcomps = normalize(target).map_err(refuse)?;
        if tcomps == comps {
            return Ok(()); // A self-link is a no-op; unlinking first would lose the file.
        }
        let (tname, tdir) = tcomps.split_last().ok_or(refuse("target is the layer root"))?;
        let tparent = self.open_dir(&join(tdir)).map_err(|_| refuse("target not in this layer"))?;
        match rfs::statat(&tparent, tname, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::Directory => {
                return Err(refuse("target is a directory"));
            }
            Ok(_) => {}
            Err(_) => return Err(refuse("target not in this layer")),
        }
        let (parent, name) = self.slot(path, comps)?;
        // No AT_SYMLINK_FOLLOW: a symlink target is linked itself, never followed.
        rfs::linkat(&tparent, tname, &parent, name, AtFlags::empty()).map_err(|e| io_error(path, e))
    }

    fn special(
        &mut self,
        path: &Path,
        comps: &[OsString],
        kind: EntryType,
        dev: rfs::Dev,
        meta: &Meta,
    ) -> Result<()> {
        let file_type = match kind {
            EntryType::Char => FileType::CharacterDevice,
            EntryType::Block => FileType::BlockDevice,
            _ => FileType::Fifo,
        };
        let (parent, name) = self.slot(path, comps)?;
        rfs::mknodat(&parent, name, file_type, Mode::from_raw_mode(0o600), dev)
            .map_err(|e| io_error(path, e))?;
        apply_at_meta(parent.as_fd(), name, meta, true).map_err(|e| io_error(path, e))
    }

    /// Applies OCI whiteouts as overlayfs expects them: a 0:0 character device
    /// for a deleted name, `trusted.overlay.opaque=y` for an opaque directory.
    fn whiteout(&mut self, path: &Path, dir: &[OsString], name: &[u8]) -> Result<()> {
        if name == WHITEOUT_OPAQUE {
            let fd = self.ensure_dir(dir, MAX_SYMLINK_HOPS).map_err(|e| io_error(path, e))?;
            let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
            let fd = rfs::openat(&fd, ".", flags, Mode::empty()).map_err(|e| io_error(path, e))?;
            return rfs::fsetxattr(&fd, OPAQUE_XATTR, b"y", XattrFlags::empty())
                .map_err(|e| io_error(path, e));
        }
        if name.starts_with(WHITEOUT_META_PREFIX) {
            return Ok(()); // Other AUFS bookkeeping names carry no meaning here.
        }
        let hidden = &name[WHITEOUT_PREFIX.len()..];
        if hidden.is_empty() || hidden == b"." || hidden == b".." || hidden.contains(&b'/') {
            return Err(unsafe_path(path, "whiteout names no valid entry"));
        }
        let hidden = OsStr::from_bytes(hidden);
        let parent = self.ensure_dir(dir, MAX_SYMLINK_HOPS).map_err(|e| io_error(path, e))?;
        clear_slot(parent.as_fd(), hidden).map_err(|e| io_error(path, e))?;
        let dev = rfs::makedev(0, 0);
        rfs::mknodat(&parent, hidden, FileType::CharacterDevice, Mode::empty(), dev)
            .map_err(|e| io_error(path, e))
    }

    /// Resolves (creating as needed) the parent of `comps` and returns it
    /// with the final name; the root itself is `(root, ".")`.
    fn parent<'c>(&self, path: &Path, comps: &'c [OsString]) -> Result<(OwnedFd, &'c OsStr)> {
        let Some((name, dir)) = comps.split_last() else {
            let root = self.root.try_clone().map_err(|e| io_error(path, e))?;
            return Ok((root, OsStr::new(".")));
        };
        let parent = self.ensure_dir(dir, MAX_SYMLINK_HOPS).map_err(|e| io_error(path, e))?;
        Ok((parent, name.as_os_str()))
    }

    /// Like `parent`, then removes whatever occupies the name, as tar does.
    fn slot<'c>(&self, path: &Path, comps: &'c [OsString]) -> Result<(OwnedFd, &'c OsStr)> {
        let (parent, name) = self.parent(path, comps)?;
        clear_slot(parent.as_fd(), name).map_err(|e| io_error(path, e))?;
        Ok((parent, name))
    }

    /// Opens an existing directory, resolved by the kernel inside the root.
    fn open_dir(&self, path: &Path) -> SysResult<OwnedFd> {
        open_in_root(&self.root, path, OFlags::PATH | OFlags::DIRECTORY)
    }

    /// Opens directory `comps` inside the root, creating missing components
    /// one at a time (0755, root-owned). A dangling symlink on the way is
    /// followed inside the root by creating its target, like `mkdir -p`.
    fn ensure_dir(&self, comps: &[OsString], hops: u32) -> SysResult<OwnedFd> {
        match self.open_dir(&join(comps)) {
            Err(Errno::NOENT) => {}
            done => return done,
        }
        let mut cur = self.open_dir(Path::new("."))?;
        for (i, comp) in comps.iter().enumerate() {
            match self.open_dir(&join(&comps[..=i])) {
                Ok(fd) => cur = fd,
                Err(Errno::NOENT) => match rfs::mkdirat(&cur, comp, Mode::from_raw_mode(0o700)) {
                    Ok(()) => cur = init_implicit_dir(cur.as_fd(), comp)?,
                    Err(Errno::EXIST) => return self.follow_dangling(cur.as_fd(), comps, i, hops),
                    Err(e) => return Err(e),
                },
                Err(e) => return Err(e),
            }
        }
        Ok(cur)
    }

    /// Re-targets `ensure_dir` through the dangling symlink `comps[i]`; the
    /// kernel still resolves the new path in root, so this cannot escape.
    fn follow_dangling(
        &self,
        dir: BorrowedFd,
        comps: &[OsString],
        i: usize,
        hops: u32,
    ) -> SysResult<OwnedFd> {
        if hops == 0 {
            return Err(Errno::LOOP);
        }
        let target = rfs::readlinkat(dir, &comps[i], Vec::new())?;
        let target = target.as_bytes();
        let mut next = if target.starts_with(b"/") { Vec::new() } else { comps[..i].to_vec() };
        let parts = target.split(|b| *b == b'/').filter(|c| !c.is_empty() && *c != b".");
        next.extend(parts.map(|c| OsStr::from_bytes(c).to_os_string()));
        next.extend_from_slice(&comps[i + 1..]);
        self.ensure_dir(&next, hops - 1)
    }

    /// Applies deferred directory mtimes; directories replaced since are skipped.
    fn finish(self) -> Result<ExtractStats> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW;
        for (path, times) in &self.dir_times {
            if let Ok(fd) = open_in_root(&self.root, path, flags) {
                rfs::futimens(&fd, times).map_err(|e| io_error(path, e))?;
            }
        }
        Ok(self.stats)
    }
}

fn read_meta<R: Read>(entry: &mut tar::Entry<R>, path: &Path) -> Result<Meta> {
    let invalid = |what: &str, e: &dyn std::fmt::Display| ExtractError::InvalidHeader {
        path: path.to_path_buf(),
        reason: format!("{what}: {e}"),
    };
    let header = entry.header();
    let mode = header.mode().map_err(|e| invalid("mode", &e))? & 0o7777;
    // u32::MAX means "unchanged" to chown (and trips a rustix debug assert).
    let id = |v: io::Result<u64>, what| match v.map_err(|e| invalid(what, &e))? {
        v if v < u64::from(u32::MAX) => Ok(v as u32),
        v => Err(invalid(what, &v)),
    };
    let uid = rfs::Uid::from_raw(id(header.uid(), "uid")?);
    let gid = rfs::Gid::from_raw(id(header.gid(), "gid")?);
    let secs = header.mtime().map_err(|e| invalid("mtime", &e))?;
    let mut mtime = Timespec { tv_sec: i64::try_from(secs).map_err(|e| invalid("mtime", &e))?, tv_nsec: 0 };
    let mut xattrs = Vec::new();
    if let Some(exts) = entry.pax_extensions().map_err(|e| invalid("pax", &e))? {
        for ext in exts {
            let ext = ext.map_err(|e| invalid("pax", &e))?;
            let (key, value) = (ext.key_bytes(), ext.value_bytes());
            if key == b"mtime" {
                mtime = pax_mtime(value).ok_or_else(|| invalid("pax mtime", &"unparsable"))?;
            } else if let Some(name) = key.strip_prefix(b"SCHILY.xattr.") {
                if let (true, Ok(name)) = (xattr_allowed(name), CString::new(name)) {
                    xattrs.push((name, value.to_vec()));
                }
            }
        }
    }
    Ok(Meta { mode, uid, gid, mtime, xattrs })
}

/// Only xattrs meaningful inside a container are restored. Overlay's own
/// namespaces are dropped so an image cannot forge whiteouts or redirects.
fn xattr_allowed(name: &[u8]) -> bool {
    if name.starts_with(b"trusted.overlay.") || name.starts_with(b"user.overlay.") {
        return false;
    }
    name.starts_with(b"user.") || name.starts_with(b"trusted.") || name == b"security.capability"
}

/// PAX `mtime` is decimal seconds with an optional fraction, possibly negative.
fn pax_mtime(value: &[u8]) -> Option<Timespec> {
    let text = std::str::from_utf8(value).ok()?;
    let (secs, frac) = text.split_once('.').unwrap_or((text, ""));
    let tv_sec: i64 = secs.parse().ok()?;
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = &frac[..frac.len().min(9)];
    let scale = 10_i64.pow(9 - digits.len() as u32);
    let nsec = digits.bytes().fold(0_i64, |n, d| n * 10 + i64::from(d - b'0')) * scale;
    if secs.starts_with('-') && nsec > 0 {
        // "-1.25" is 1.25 s before the epoch: -2 s plus 0.75 s.
        return Some(Timespec { tv_sec: tv_sec.checked_sub(1)?, tv_nsec: (1_000_000_000 - nsec) as _ });
    }
    Some(Timespec { tv_sec, tv_nsec: nsec as _ })
}

fn link_target<R: Read>(entry: &tar::Entry<R>, path: &Path) -> Result<Vec<u8>> {
    let target = entry.link_name_bytes().map(|t| t.into_owned()).unwrap_or_default();
    if target.is_empty() {
        return Err(ExtractError::InvalidHeader {
            path: path.to_path_buf(),
            reason: "link entry without a target".into(),
        });
    }
    if target.contains(&0) {
        return Err(unsafe_path(path, "link target contains NUL"));
    }
    Ok(target)
}

fn device(header: &tar::Header, path: &Path) -> Result<rfs::Dev> {
    let invalid = |e: io::Error| ExtractError::InvalidHeader {
        path: path.to_path_buf(),
        reason: format!("device number: {e}"),
    };
    let major = header.device_major().map_err(invalid)?.unwrap_or(0);
    let minor = header.device_minor().map_err(invalid)?.unwrap_or(0);
    Ok(rfs::makedev(major, minor))
}

/// Lexically normalizes an entry name: drops `/`, `.` and empty components,
/// folds inner `..`, and refuses NUL bytes or a `..` that leaves the root.
fn normalize(raw: &[u8]) -> std::result::Result<Vec<OsString>, &'static str> {
    if raw.contains(&0) {
        return Err("name contains NUL");
    }
    let mut out: Vec<OsString> = Vec::new();
    for comp in raw.split(|b| *b == b'/') {
        match comp {
            b"" | b"." => {}
            b".." => {
                out.pop().ok_or("`..` escapes the layer root")?;
            }
            _ => out.push(OsStr::from_bytes(comp).to_os_string()),
        }
    }
    Ok(out)
}

/// Entry types that create a non-directory node at their name.
fn is_materialized(kind: EntryType) -> bool {
    matches!(
        kind,
        EntryType::Regular
            | EntryType::Continuous
            | EntryType::Symlink
            | EntryType::Link
            | EntryType::Char
            | EntryType::Block
            | EntryType::Fifo
    )
}

fn join(comps: &[OsString]) -> PathBuf {
    if comps.is_empty() {
        return PathBuf::from(".");
    }
    comps.iter().collect()
}

fn shown(raw: &[u8]) -> PathBuf {
    PathBuf::from(OsStr::from_bytes(raw))
}

fn io_error(path: &Path, e: impl Into<io::Error>) -> ExtractError {
    ExtractError::Io { path: path.to_path_buf(), source: e.into() }
}

fn unsafe_path(path: &Path, reason: &'static str) -> ExtractError {
    ExtractError::UnsafePath { path: path.to_path_buf(), reason }
}

fn budget(path: &Path, what: &'static str, limit: u64) -> ExtractError {
    ExtractError::Budget { path: path.to_path_buf(), what, limit }
}

#[cfg(test)]
#[path = "extract_tests.rs"]
mod tests;
