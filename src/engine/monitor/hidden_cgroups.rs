//! A mount namespace of the launching thread's own, without the cgroup v1 hierarchies, for
//! the moment libcontainer creates a container in it.
//!
//! libcontainer's intermediate process joins the container's cgroups by PID in every v1
//! hierarchy it finds in its mount table, and then writes their limits. On v1 gantry has done
//! both already, without the kernel's global lock (see `cgroups::placement`): in a namespace
//! where no hierarchy is mounted, libcontainer finds none and does nothing. Had it found one
//! anyway, it would join the same cgroup the process is in already: slower, never wrong.
//!
//! The namespace is made a slave first, so nothing in it propagates back to the host, and the
//! thread goes back to the host's namespace as soon as libcontainer returns (the guard's
//! drop). The container's init makes its own mount namespace from this one and pivots away
//! from all of it, so the container sees no difference.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};

use rustix::mount::{MountPropagationFlags, UnmountFlags, mount_change, unmount};
use rustix::thread::{LinkNameSpaceType, UnshareFlags, move_into_link_name_space, unshare_unsafe};

/// The calling thread's stay in a mount namespace without cgroup hierarchies; dropping it
/// returns the thread to the host's.
#[must_use = "dropping it returns to the host's mount namespace at once"]
pub struct HiddenCgroups {
    host: OwnedFd,
}

impl Drop for HiddenCgroups {
    fn drop(&mut self) {
        if let Err(e) = move_into_link_name_space(self.host.as_fd(), Some(LinkNameSpaceType::Mount)) {
            // Not expected (the thread has its own filesystem context since the unshare); what
            // the monitor mounts or unmounts from here on would stay out of the host's sight.
            tracing::error!(error = %e, "the monitor could not return to the host's mount namespace");
        }
    }
}

/// Moves the calling thread into a new mount namespace in which no cgroup v1 hierarchy is
/// mounted.
pub fn hide_cgroup_mounts() -> io::Result<HiddenCgroups> {
    let host = OwnedFd::from(File::open("/proc/thread-self/ns/mnt")?);
    // SAFETY: unsharing the mount namespace (and with it this thread's filesystem context,
    // root and working directory) touches no memory and no descriptor table.
    unsafe { unshare_unsafe(UnshareFlags::NEWNS) }?;
    let hidden = HiddenCgroups { host };
    mount_change("/", MountPropagationFlags::DOWNSTREAM | MountPropagationFlags::REC)?;
    let mountinfo = std::fs::read_to_string("/proc/thread-self/mountinfo")?;
    // Nested mounts first.
    for point in crate::engine::cgroups::v1_mount_points(&mountinfo).iter().rev() {
        unmount(point, UnmountFlags::DETACH)?;
    }
    Ok(hidden)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `f` on a thread of its own, as the namespace change is per thread.
    fn on_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        std::thread::spawn(f).join().expect("test thread")
    }

    /// Needs root, as the whole suite does.
    #[test]
    fn the_hierarchies_are_gone_inside_and_back_after() {
        let host = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        let before = crate::engine::cgroups::v1_mount_points(&host);
        let (inside, after, same_ns) = on_thread(|| {
            let ns = || std::fs::read_link("/proc/thread-self/ns/mnt").unwrap();
            let host_ns = ns();
            let hidden = hide_cgroup_mounts().unwrap();
            let inside = std::fs::read_to_string("/proc/thread-self/mountinfo").unwrap();
            assert_ne!(ns(), host_ns, "a namespace of its own");
            drop(hidden);
            let after = std::fs::read_to_string("/proc/thread-self/mountinfo").unwrap();
            (inside, after, ns() == host_ns)
        });
        assert!(crate::engine::cgroups::v1_mount_points(&inside).is_empty(), "{inside}");
        assert!(same_ns, "back in the host's namespace");
        assert_eq!(crate::engine::cgroups::v1_mount_points(&after), before, "the host keeps its mounts");
    }
}
