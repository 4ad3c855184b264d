//! Scratch directories for work in progress (downloads, extractions). Each is named after the
//! process that owns it, so a later gantry can tell the leftovers of a killed process (owner
//! gone) from the work of one still running, and remove only the former.

use std::fs;
use std::path::{Path, PathBuf};

use crate::engine::error::{IoContext, Result};

/// A scratch directory removed on drop unless [`TempDir::keep`] was called.
pub struct TempDir {
    path: PathBuf,
    keep: bool,
}

impl TempDir {
    /// Makes a new directory under `tmp_root` owned by this process.
    pub fn new(tmp_root: &Path, purpose: &str) -> Result<Self> {
        super::spread::ensure_topdir(tmp_root).ctx(|| format!("creating {}", tmp_root.display()))?;
        let name = format!("{}-{}-{:016x}", std::process::id(), purpose, rand::random::<u64>());
        let path = tmp_root.join(name);
        fs::create_dir(&path).ctx(|| format!("creating {}", path.display()))?;
        Ok(Self { path, keep: false })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stops the directory from being removed on drop (its content was moved away).
    pub fn keep(mut self) {
        self.keep = true;
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if !self.keep {
            remove_tree(&self.path);
        }
    }
}

/// Removes a tree (or a lone file), best effort, logging failures: used on cleanup paths only.
pub fn remove_tree(path: &Path) {
    let is_dir = fs::symlink_metadata(path).is_ok_and(|m| m.is_dir());
    match if is_dir { fs::remove_dir_all(path) } else { fs::remove_file(path) } {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!(path = %path.display(), error = %e, "could not remove"),
    }
}

/// Removes scratch entries whose owning process no longer exists.
pub fn sweep_stale(tmp_root: &Path) {
    let Ok(entries) = fs::read_dir(tmp_root) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let owner = name.to_str().and_then(|n| n.split('-').next()).and_then(|p| p.parse().ok());
        let alive = owner.is_some_and(process_alive);
        if !alive {
            tracing::info!(path = %entry.path().display(), "removing leftover scratch data");
            // A `--rm` monitor killed between moving a container aside and unmounting its root
            // leaves the mount in here: deleting through it would fail at the mount point.
            detach_mounts_under(&entry.path());
            remove_tree(&entry.path());
        }
    }
}

/// Detaches every mount of this mount namespace at or below `dir` (none, nearly always: the
/// mount table is read only when `dir` is a directory).
fn detach_mounts_under(dir: &Path) {
    if !fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir()) {
        return;
    }
    // The mount table holds resolved paths; a root given through a symlink would match none.
    let Ok(dir) = fs::canonicalize(dir) else { return };
    let Ok(table) = fs::read_to_string("/proc/self/mountinfo") else { return };
    let mut points: Vec<PathBuf> = mount_points(&table).into_iter().filter(|p| p.starts_with(&dir)).collect();
    // Deepest first, so each unmount finds nothing mounted beneath it.
    points.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    for p in points {
        if let Err(e) = rustix::mount::unmount(&p, rustix::mount::UnmountFlags::DETACH) {
            tracing::warn!(path = %p.display(), error = %e, "could not detach a leftover mount");
        }
    }
}

/// The mount points of a `/proc/PID/mountinfo` table (its fifth field, with the kernel's
/// octal escapes for space, tab, newline and backslash undone).
fn mount_points(table: &str) -> Vec<PathBuf> {
    table
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|p| {
            PathBuf::from(
                p.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\"),
            )
        })
        .collect()
}

/// Whether a process with this PID exists.
pub fn process_alive(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    // Signal 0 checks for existence without sending anything; EPERM still means it exists.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_dir_is_removed_and_stale_swept() {
        let root = tempfile::tempdir().unwrap();
        let t = TempDir::new(root.path(), "x").unwrap();
        let p = t.path().to_path_buf();
        fs::write(p.join("f"), b"1").unwrap();
        drop(t);
        assert!(!p.exists());

        let live = TempDir::new(root.path(), "live").unwrap();
        let dead = root.path().join("999999999-pull-1");
        fs::create_dir(&dead).unwrap();
        let junk = root.path().join("not-a-pid");
        fs::create_dir(&junk).unwrap();
        let file = root.path().join("999999999-file");
        fs::write(&file, b"half").unwrap();
        sweep_stale(root.path());
        assert!(live.path().exists());
        assert!(!dead.exists());
        assert!(!junk.exists());
        assert!(!file.exists());
    }

    #[test]
    fn mount_points_undo_the_kernels_escapes() {
        let table = "22 1 0:21 / / rw - ext4 /dev/vda rw\n\
                     40 22 0:40 / /var/tmp/a\\040b rw - tmpfs tmpfs rw\n";
        assert_eq!(mount_points(table), [PathBuf::from("/"), PathBuf::from("/var/tmp/a b")]);
    }

    /// Unmounts on drop, so a failing test leaves no mount behind.
    struct Mounted(PathBuf);

    impl Drop for Mounted {
        fn drop(&mut self) {
            let _ = rustix::mount::unmount(&self.0, rustix::mount::UnmountFlags::DETACH);
        }
    }

    /// A removed container's root still mounted in a dead process's scratch entry, the scratch
    /// area reached through a symlink (needs root).
    #[test]
    fn a_sweep_detaches_mounts_left_in_a_dead_entry() {
        let top = tempfile::tempdir().unwrap();
        let root = top.path().join("tmp");
        let point = root.join("999999999-removed-1/abc/rootfs");
        fs::create_dir_all(&point).unwrap();
        rustix::mount::mount("tmpfs", &point, "tmpfs", rustix::mount::MountFlags::empty(), None).unwrap();
        let _guard = Mounted(point.clone());
        fs::write(point.join("f"), b"1").unwrap();
        let link = top.path().join("link");
        std::os::unix::fs::symlink(&root, &link).unwrap();
        sweep_stale(&link);
        assert!(!root.join("999999999-removed-1").exists());
        let table = fs::read_to_string("/proc/self/mountinfo").unwrap();
        assert!(!mount_points(&table).contains(&point), "the mount is gone");
    }
}
