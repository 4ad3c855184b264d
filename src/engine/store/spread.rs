//! Directories whose subdirectories have nothing to do with one another (one per container,
//! one per container's runtime state, one per scratch job) are marked as tops of directory
//! hierarchies (ext4's `T` attribute, `FS_TOPDIR_FL`), so that ext4's Orlov allocator spreads
//! those subdirectories, and the files made in them, over the filesystem's block groups
//! instead of packing them into their parent's group.
//!
//! Why: on ext4 without a journal (the root filesystem of the machine gantry is developed and
//! measured on), allocating an inode passes over every inode of its group freed in the last
//! one to six minutes, reading each one's deletion time (the kernel's `recently_deleted`). A
//! `run --rm` makes and deletes about 29 inodes; all in one group, a minute or two of steady
//! runs left thousands of such inodes there, every allocation walked them, and a `run --rm`
//! went from 19 to 31 ms until they aged out. Spread out, each group sees a few.
//!
//! Only a placement hint: where the flag is not supported (tmpfs, most other filesystems) or
//! does not matter (ext4 with a journal), nothing changes, and failing to set it is not an
//! error.

use std::io;
use std::path::Path;

use rustix::fs::{IFlags, Mode, OFlags};

/// Creates `dir` (and its parents) if needed and marks it as the top of unrelated
/// subdirectories where the filesystem supports it.
pub fn ensure_topdir(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    if let Err(e) = mark_topdir(dir) {
        tracing::debug!(dir = %dir.display(), error = %e, "subdirectories not spread");
    }
    Ok(())
}

fn mark_topdir(dir: &Path) -> io::Result<()> {
    let fd = rustix::fs::open(dir, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())?;
    let flags = rustix::fs::ioctl_getflags(&fd)?;
    if !flags.contains(IFlags::TOPDIR) {
        rustix::fs::ioctl_setflags(&fd, flags | IFlags::TOPDIR)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_topdir_is_made_and_marked_where_the_filesystem_keeps_flags() {
        // Under /var/tmp: on disk (ext4 here), where /tmp may be a tmpfs elsewhere.
        let root = tempfile::Builder::new().prefix("gantry-spread-").tempdir_in("/var/tmp").unwrap();
        let dir = root.path().join("a").join("containers");
        ensure_topdir(&dir).unwrap();
        assert!(dir.is_dir());
        let fd = rustix::fs::open(&dir, OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty()).unwrap();
        match rustix::fs::ioctl_getflags(&fd) {
            Ok(flags) => assert!(flags.contains(IFlags::TOPDIR), "flags {flags:?}"),
            // A filesystem without inode flags: the directory alone is all there is to check.
            Err(e) => assert!(matches!(e, rustix::io::Errno::NOTTY | rustix::io::Errno::OPNOTSUPP), "{e}"),
        }
        // Idempotent, and the marked directory's subdirectories are plain.
        ensure_topdir(&dir).unwrap();
        std::fs::create_dir(dir.join("c1")).unwrap();
        let sub =
            rustix::fs::open(dir.join("c1"), OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty()).unwrap();
        if let Ok(flags) = rustix::fs::ioctl_getflags(&sub) {
            assert!(!flags.contains(IFlags::TOPDIR));
        }
    }
}
