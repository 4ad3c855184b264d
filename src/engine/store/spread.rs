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

use crate::engine::paths::Paths;

/// Creates `dir` (and its parents) if needed, marking it as the top of unrelated
/// subdirectories where the filesystem supports it. A directory that exists already costs
/// only the failed `mkdir`: this is on the path of every `run`. Those an older gantry made
/// are marked by [`mark_existing`].
pub fn ensure_topdir(dir: &Path) -> io::Result<()> {
    match std::fs::create_dir(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => std::fs::create_dir_all(dir)?,
        Err(e) => return Err(e),
    }
    mark(dir);
    Ok(())
}

/// Marks `dir` where the filesystem supports it; a failure is only logged.
pub fn mark(dir: &Path) {
    if let Err(e) = mark_topdir(dir) {
        tracing::debug!(dir = %dir.display(), error = %e, "subdirectories not spread");
    }
}

/// Marks the engine's directories of unrelated subdirectories that exist unmarked (a root
/// made before gantry spread them). A monitor calls it once its container runs, off every
/// command's path.
pub fn mark_existing(paths: &Paths) {
    for dir in [paths.containers(), paths.container_runs(), paths.runtime_state(), paths.tmp()] {
        if dir.is_dir() {
            mark(&dir);
        }
    }
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

    /// The directory's TOPDIR flag, or `None` on a filesystem without inode flags.
    fn topdir(dir: &Path) -> Option<bool> {
        let fd = rustix::fs::open(dir, OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty()).unwrap();
        match rustix::fs::ioctl_getflags(&fd) {
            Ok(flags) => Some(flags.contains(IFlags::TOPDIR)),
            Err(e) => {
                assert!(matches!(e, rustix::io::Errno::NOTTY | rustix::io::Errno::OPNOTSUPP), "{e}");
                None
            }
        }
    }

    #[test]
    fn a_new_topdir_is_marked_and_an_older_one_once_its_root_is_visited() {
        // Under /var/tmp: on disk (ext4 here), where /tmp may be a tmpfs elsewhere.
        let root = tempfile::Builder::new().prefix("gantry-spread-").tempdir_in("/var/tmp").unwrap();
        let dir = root.path().join("a").join("containers");
        ensure_topdir(&dir).unwrap();
        assert!(dir.is_dir());
        let supported = topdir(&dir).is_some();
        assert!(!supported || topdir(&dir) == Some(true));
        // Its subdirectories are plain.
        std::fs::create_dir(dir.join("c1")).unwrap();
        assert_ne!(topdir(&dir.join("c1")), Some(true));
        // A directory made before (by an older gantry) is left as it is on the hot path, and
        // marked by mark_existing.
        let paths = Paths::new(Some(&root.path().join("b")));
        std::fs::create_dir_all(paths.containers()).unwrap();
        ensure_topdir(&paths.containers()).unwrap();
        assert_ne!(topdir(&paths.containers()), Some(true));
        mark_existing(&paths);
        assert!(!supported || topdir(&paths.containers()) == Some(true));
        assert!(!paths.tmp().exists(), "mark_existing made a directory");
    }
}
