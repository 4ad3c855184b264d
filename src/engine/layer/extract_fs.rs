//! The descriptor-relative filesystem operations of the layer extractor: opening
//! parents confined to the layer root, creating and replacing entries without
//! following what is already there, and applying metadata through descriptors
//! or no-follow `*at` calls.

use std::ffi::{CString, OsStr};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags, ResolveFlags, XattrFlags};
use rustix::io::{Errno, Result as SysResult};

use super::Meta;

/// `openat2` confined to `root`; retries the kernel's EAGAIN on rename races.
pub(super) fn open_in_root(root: &OwnedFd, path: &Path, flags: OFlags) -> SysResult<OwnedFd> {
    let resolve = ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS;
    let mut tries = 0;
    loop {
        match rfs::openat2(root, path, flags | OFlags::CLOEXEC, Mode::empty(), resolve) {
            Err(Errno::AGAIN) if tries < 16 => tries += 1,
            done => return done,
        }
    }
}

/// Gives a freshly made parent directory a fixed mode and owner independent
/// of the umask, and returns an fd for descending into it.
pub(super) fn init_implicit_dir(parent: BorrowedFd, name: &OsStr) -> SysResult<OwnedFd> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let fd = rfs::openat(parent, name, flags, Mode::empty())?;
    rfs::fchown(&fd, Some(rfs::Uid::ROOT), Some(rfs::Gid::ROOT))?;
    rfs::fchmod(&fd, Mode::from_raw_mode(0o755))?;
    Ok(fd)
}

/// Creates a directory, keeping an existing one and replacing anything else
/// (a symlink in particular is removed, never followed).
pub(super) fn make_dir(parent: BorrowedFd, name: &OsStr) -> SysResult<()> {
    let mode = Mode::from_raw_mode(0o700);
    match rfs::mkdirat(parent, name, mode) {
        Err(Errno::EXIST) => {}
        done => return done,
    }
    let st = rfs::statat(parent, name, AtFlags::SYMLINK_NOFOLLOW)?;
    if FileType::from_raw_mode(st.st_mode) == FileType::Directory {
        return Ok(());
    }
    clear_slot(parent, name)?;
    rfs::mkdirat(parent, name, mode)
}

/// Removes whatever is at `name` (recursively for directories) so a later
/// entry replaces an earlier one. Nothing is followed.
pub(super) fn clear_slot(parent: BorrowedFd, name: &OsStr) -> SysResult<()> {
    match rfs::unlinkat(parent, name, AtFlags::empty()) {
        Ok(()) | Err(Errno::NOENT) => Ok(()),
        Err(Errno::ISDIR) => remove_tree(parent, name),
        Err(e) => Err(e),
    }
}

pub(super) fn remove_tree(parent: BorrowedFd, name: &OsStr) -> SysResult<()> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let dir = rfs::openat(parent, name, flags, Mode::empty())?;
    let mut children = Vec::new();
    for ent in rfs::Dir::read_from(&dir)? {
        let child = ent?.file_name().to_bytes().to_vec();
        if child != b"." && child != b".." {
            children.push(child);
        }
    }
    for child in children {
        clear_slot(dir.as_fd(), OsStr::from_bytes(&child))?;
    }
    rfs::unlinkat(parent, name, AtFlags::REMOVEDIR)
}

/// Ownership first (chown clears setuid bits and capabilities), then mode,
/// then xattrs, then the mtime.
pub(super) fn apply_fd_meta(fd: BorrowedFd, meta: &Meta, with_mtime: bool) -> SysResult<()> {
    rfs::fchown(fd, Some(meta.uid), Some(meta.gid))?;
    rfs::fchmod(fd, Mode::from_raw_mode(meta.mode))?;
    for (name, value) in &meta.xattrs {
        match rfs::fsetxattr(fd, name.as_c_str(), value, XattrFlags::empty()) {
            Ok(()) | Err(Errno::OPNOTSUPP) => {}
            Err(e) => return Err(e),
        }
    }
    if with_mtime {
        rfs::futimens(fd, &meta.times())?;
    }
    Ok(())
}

/// Metadata for nodes we cannot open safely (symlinks, devices, FIFOs).
/// Their xattrs are dropped: `user.*` and capabilities do not apply to them.
pub(super) fn apply_at_meta(parent: BorrowedFd, name: &OsStr, meta: &Meta, chmod: bool) -> SysResult<()> {
    let nofollow = AtFlags::SYMLINK_NOFOLLOW;
    rfs::chownat(parent, name, Some(meta.uid), Some(meta.gid), nofollow)?;
    if chmod {
        chmod_nofollow(parent, name, meta.mode)?;
    }
    rfs::utimensat(parent, name, &meta.times(), nofollow)
}

/// rustix refuses `AT_SYMLINK_NOFOLLOW` for chmod; libc implements it (via
/// `fchmodat2` or an `O_PATH` fallback), failing rather than following.
pub(super) fn chmod_nofollow(parent: BorrowedFd, name: &OsStr, mode: u32) -> SysResult<()> {
    let name = CString::new(name.as_bytes()).map_err(|_| Errno::INVAL)?;
    let flags = libc::AT_SYMLINK_NOFOLLOW;
    // SAFETY: `parent` is a live fd and `name` a NUL-terminated string that
    // outlives the call; fchmodat does not retain either.
    let rc = unsafe { libc::fchmodat(parent.as_raw_fd(), name.as_ptr(), mode, flags) };
    if rc == 0 {
        return Ok(());
    }
    Err(Errno::from_io_error(&io::Error::last_os_error()).unwrap_or(Errno::IO))
}
