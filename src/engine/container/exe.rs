//! Monitors and exec helpers are started from a read-only bind mount of the gantry binary, so
//! that a container process which gets hold of `/proc/<pid>/exe` before the payload's exec
//! (CVE-2019-5736) can never open the real binary for writing: every write through that mount
//! fails with EROFS. Two mount calls, once per boot, instead of copying the binary each time.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use rustix::mount::{MountFlags, MountPropagationFlags};

use crate::engine::error::{Error, IoContext, Result};
use crate::engine::runtime::rootfs;

/// Returns the protected path, (re)creating the mount when missing or stale.
pub fn ensure(target: &Path) -> Result<PathBuf> {
    let exe = std::fs::read_link("/proc/self/exe").ctx(|| "locating the gantry binary".into())?;
    let src = std::fs::metadata("/proc/self/exe").ctx(|| "reading the gantry binary".into())?;
    if let Ok(m) = std::fs::metadata(target) {
        if m.ino() == src.ino() && m.dev() == src.dev() && read_only(target) {
            return Ok(target.to_path_buf());
        }
        // A stale mount of an older binary: replace it.
        let _ = rootfs::unmount(target);
    }
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir).ctx(|| format!("creating {}", dir.display()))?;
    }
    if !target.exists() {
        std::fs::File::create(target).ctx(|| format!("creating {}", target.display()))?;
    }
    let mount_err =
        |what: &str, e: rustix::io::Errno| Error::io(format!("{what} {}", target.display()), e.into());
    rustix::mount::mount_bind(&exe, target).map_err(|e| mount_err("bind-mounting the binary at", e))?;
    rustix::mount::mount_change(target, MountPropagationFlags::PRIVATE)
        .map_err(|e| mount_err("making private", e))?;
    rustix::mount::mount_remount(
        target,
        MountFlags::BIND | MountFlags::RDONLY | MountFlags::NOSUID | MountFlags::NODEV,
        "",
    )
    .map_err(|e| mount_err("remounting read-only", e))?;
    Ok(target.to_path_buf())
}

fn read_only(p: &Path) -> bool {
    rustix::fs::statvfs(p).map(|s| s.f_flag.contains(rustix::fs::StatVfsMountFlags::RDONLY)).unwrap_or(false)
}
