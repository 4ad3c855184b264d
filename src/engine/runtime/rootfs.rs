//! The container's root filesystem: an overlay of the image's layers (read-only lowerdirs) with
//! a per-container upper and work directory.
//!
//! Layers are passed one by one with the mount API's `lowerdir+` key, so no mount option string
//! is built at all and images with hundreds of layers mount fine. Kernels without `lowerdir+`
//! (before 6.8) get a classic `mount(2)` whose option string stays under a page by naming each
//! layer through a short numbered link, as Docker's overlay2 driver does with its `l/` links.

use std::io;
use std::path::{Path, PathBuf};

use rustix::fs::{CWD, Mode, OFlags};
use rustix::mount::{
    FsMountFlags, FsOpenFlags, MountAttrFlags, MountFlags, MoveMountFlags, UnmountFlags, fsconfig_create,
    fsconfig_set_flag, fsconfig_set_string, fsmount, fsopen, move_mount,
};

/// Where one container's layers come from and go to.
#[derive(Clone, Copy)]
pub struct Overlay<'a> {
    /// Layer `diff` directories, topmost first.
    pub lowers: &'a [PathBuf],
    pub upper: &'a Path,
    pub work: &'a Path,
    /// Scratch directory for the short links of the classic fallback (`<root>/l`).
    pub links: &'a Path,
    /// Mount with overlayfs's `volatile` option: no sync of the upper directory, ever (not on
    /// fsync, not on unmount, which otherwise flushes the whole upper filesystem's journal).
    /// For containers whose files are thrown away when they exit (`--rm`), as podman does.
    pub volatile: bool,
}

/// Mounts the overlay at `target` (which must exist).
pub fn mount(o: &Overlay<'_>, target: &Path) -> io::Result<()> {
    if o.volatile {
        // overlayfs refuses a work dir a volatile mount has used before, even after a clean
        // unmount, in case a crash lost writes: those of a disposable container do not matter.
        remove_if_present(&o.work.join("work/incompat/volatile"))?;
        match mount_any(o, target) {
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                tracing::debug!("overlayfs here has no volatile option");
                return mount_any(&Overlay { volatile: false, ..*o }, target);
            }
            r => return r,
        }
    }
    mount_any(o, target)
}

fn remove_if_present(dir: &Path) -> io::Result<()> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

fn mount_any(o: &Overlay<'_>, target: &Path) -> io::Result<()> {
    match mount_with_fsconfig(o, target) {
        Ok(()) => Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) || e.raw_os_error() == Some(libc::ENOSYS) => {
            mount_classic(o, target)
        }
        Err(e) => Err(e),
    }
}

fn mount_with_fsconfig(o: &Overlay<'_>, target: &Path) -> io::Result<()> {
    let fs = fsopen("overlay", FsOpenFlags::FSOPEN_CLOEXEC)?;
    for lower in o.lowers {
        fsconfig_set_string(&fs, "lowerdir+", lower.as_path())?;
    }
    fsconfig_set_string(&fs, "upperdir", o.upper)?;
    fsconfig_set_string(&fs, "workdir", o.work)?;
    fsconfig_set_string(&fs, "index", "off")?;
    if o.volatile {
        fsconfig_set_flag(&fs, "volatile")?;
    }
    fsconfig_create(&fs)?;
    let mnt = fsmount(&fs, FsMountFlags::FSMOUNT_CLOEXEC, MountAttrFlags::empty())?;
    move_mount(&mnt, "", CWD, target, MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH)?;
    Ok(())
}

fn mount_classic(o: &Overlay<'_>, target: &Path) -> io::Result<()> {
    // Numbered links in a per-mount directory, reached through its open descriptor: each
    // layer costs ~20 bytes of the option string whatever the root's length, and no chdir
    // (unsafe in a multi-threaded process) is needed.
    std::fs::create_dir_all(o.links)?;
    let dir = o.links.join(format!("{}-{:08x}", std::process::id(), rand::random::<u32>()));
    std::fs::create_dir(&dir)?;
    let result = (|| {
        for (i, lower) in o.lowers.iter().enumerate() {
            std::os::unix::fs::symlink(lower, dir.join(i.to_string()))?;
        }
        let fd = rustix::fs::open(&dir, OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())?;
        let base = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&fd));
        let lowers: Vec<String> = (0..o.lowers.len()).map(|i| format!("{base}/{i}")).collect();
        let data = format!(
            "lowerdir={},upperdir={},workdir={},index=off{}",
            lowers.join(":"),
            o.upper.display(),
            o.work.display(),
            if o.volatile { ",volatile" } else { "" }
        );
        if data.len() >= 4096 {
            return Err(io::Error::other(format!(
                "overlay options exceed a page ({} bytes, {} layers)",
                data.len(),
                lowers.len()
            )));
        }
        let data = std::ffi::CString::new(data).map_err(io::Error::other)?;
        rustix::mount::mount("overlay", target, "overlay", MountFlags::empty(), Some(data.as_c_str()))
            .map_err(io::Error::from)
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Unmounts (lazily if busy); not mounted is fine.
pub fn unmount(target: &Path) -> io::Result<()> {
    match rustix::mount::unmount(target, UnmountFlags::empty()) {
        Ok(()) => Ok(()),
        Err(rustix::io::Errno::INVAL) | Err(rustix::io::Errno::NOENT) => Ok(()),
        Err(rustix::io::Errno::BUSY) => {
            rustix::mount::unmount(target, UnmountFlags::DETACH).map_err(io::Error::from)
        }
        Err(e) => Err(e.into()),
    }
}

/// Whether `path` is a mount point (its device differs from its parent's, or it is an overlay).
pub fn is_mounted(path: &Path) -> bool {
    let Ok(fd) = rustix::fs::open(path, OFlags::PATH | OFlags::CLOEXEC | OFlags::NOFOLLOW, Mode::empty())
    else {
        return false;
    };
    let Some(parent) = path.parent() else { return false };
    match (rustix::fs::fstat(&fd), rustix::fs::stat(parent)) {
        (Ok(a), Ok(b)) => a.st_dev != b.st_dev,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mounts an overlay of many layers both ways and checks the union (needs root).
    #[test]
    fn many_layers_mount_both_ways() {
        let dir = tempfile::tempdir().unwrap();
        let mut lowers = Vec::new();
        for i in 0..130 {
            let d = dir.path().join(format!("layers/{:064x}/diff", i));
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join(format!("f{i}")), b"x").unwrap();
            lowers.push(d);
        }
        lowers.reverse();
        for (name, classic, volatile) in
            [("a", false, false), ("b", true, false), ("c", false, true), ("d", true, true)]
        {
            let upper = dir.path().join(format!("{name}/upper"));
            let work = dir.path().join(format!("{name}/work"));
            let target = dir.path().join(format!("{name}/merged"));
            for d in [&upper, &work, &target] {
                std::fs::create_dir_all(d).unwrap();
            }
            let o = Overlay {
                lowers: &lowers,
                upper: &upper,
                work: &work,
                links: &dir.path().join("l"),
                volatile,
            };
            if classic {
                mount_classic(&o, &target).unwrap()
            } else {
                mount(&o, &target).unwrap()
            }
            assert!(is_mounted(&target));
            assert!(target.join("f0").exists() && target.join("f129").exists());
            std::fs::write(target.join("new"), b"y").unwrap();
            assert!(upper.join("new").exists());
            unmount(&target).unwrap();
            assert!(!is_mounted(&target));
            if volatile {
                // overlayfs marks a work dir a volatile mount used; mounting it again works.
                assert!(work.join("work/incompat/volatile").exists(), "volatile in effect");
                mount(&o, &target).unwrap();
                assert!(target.join("new").exists());
                unmount(&target).unwrap();
            }
        }
    }
}
