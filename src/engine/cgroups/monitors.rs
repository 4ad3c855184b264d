//! The cgroup monitors live in: `gantry/monitors`, beside the containers' `gantry/<id>`.
//!
//! Like podman's cgroup for conmon, it keeps monitors out of the cgroup of whoever ran
//! `gantry run` (an SSH session's scope, a CI job's cgroup): tearing that down must not take the
//! monitors, and so the containers' logs and exit codes, with it.
//!
//! This module also takes a wait off `run`'s path. Every move into a cgroup by PID or TID
//! takes the kernel's global cgroup threadgroup lock for writing, and the first writer after a
//! quiet spell waits for an RCU grace period (6–16 ms measured here, the longer when the CPUs are busy); writers that come within
//! about a grace period after it do not wait. libcontainer's intermediate process would pay
//! that wait when it joins the container's cgroups. So the lock is taken early, off that path:
//! by a thread of the starting CLI as it starts ([`Layout::warm_up_host_migrations`], v1) and by the monitor's
//! starter moving the monitor here while the monitor sets up.
//!
//! The starter's moves also keep the lock warm for longer: it goes cold about a grace period
//! after its last writer. Without them (the monitor moving itself later by writing 0, which
//! takes no lock), the intermediate process, a few ms after the warm-up's move, found it cold
//! again in slow runs and waited a whole grace period (16 ms seen under tracing); a `run
//! --rm` A/B of that design gained nothing.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{Layout, PARENT};

/// The monitors' cgroup, under gantry's parent in each hierarchy.
pub const DIR: &str = "monitors";

/// How long a move keeps the lock warm for the next one: 15-20 ms measured here after the
/// move returns; a margin below that.
const WARM_WINDOW: Duration = Duration::from_millis(10);

/// The v1 controllers a monitor joins: the accounting ones. cpuset would need its CPUs and
/// memory nodes copied in first, and devices and freezer only restrict.
const MONITOR_V1_CONTROLLERS: &[&str] = &["memory", "pids", "cpu", "cpuacct", "blkio"];

impl Layout {
    /// The monitors' cgroup directory in each hierarchy that has one (a hierarchy holding
    /// several controllers is listed once).
    pub fn monitor_dirs(&self) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = match self {
            Self::V1 { mounts } => MONITOR_V1_CONTROLLERS
                .iter()
                .filter_map(|c| mounts.get(*c))
                .map(|m| m.join(PARENT).join(DIR))
                .collect(),
            Self::V2 { root } => vec![root.join(PARENT).join(DIR)],
        };
        dirs.sort();
        dirs.dedup();
        dirs
    }

    /// Starts the cgroup lock's grace period from a thread of the calling process (v1 only), so
    /// it has passed by the time the monitor's starter and then libcontainer move processes.
    /// The thread moves itself by its own thread ID (which takes the lock; writing 0 would
    /// not) into gantry's parent cgroup in the pids hierarchy, a cgroup gantry made and keeps,
    /// and ends there. While it waits it holds the kernel's cgroup mutex, which every cgroup
    /// change and every read of /proc/PID/cgroup takes too. A call within [`WARM_WINDOW`] of
    /// the last one does nothing: the lock is still warm.
    /// v2 cannot move a lone thread into a domain cgroup: there the starter's move of the
    /// monitor is the first.
    pub fn warm_up_migrations(&self) {
        let Some(dir) = self.warm_up_dir() else { return };
        if claim_warm_window() {
            spawn_warm_up(move || join_as_thread(&dir));
        }
    }

    /// Where a warm-up thread moves: gantry's parent cgroup in the v1 pids hierarchy.
    fn warm_up_dir(&self) -> Option<PathBuf> {
        let Self::V1 { mounts } = self else { return None };
        mounts.get("pids").map(|m| m.join(PARENT))
    }

    /// [`Layout::warm_up_migrations`] for the host, as the first thing a CLI that starts a
    /// container does: the grace period this move waits out is what libcontainer's
    /// intermediate process would otherwise wait for, and it ends 13-16 ms after the move
    /// here, well after that process is ready. So the thread starts before the layout is
    /// known (detecting it reads the mount table, about 0.2 ms) and first tries the pids
    /// hierarchy where hosts mount it, after one statfs that checks a cgroup v1 hierarchy is
    /// there; the detection then happens on the thread, off the CLI's own path.
    pub fn warm_up_host_migrations() {
        if !claim_warm_window() {
            return;
        }
        spawn_warm_up(|| {
            let usual = Path::new(USUAL_PIDS_MOUNT);
            if is_v1_hierarchy(usual) {
                return join_as_thread(&usual.join(PARENT));
            }
            Self::host().warm_up_dir().map_or(Ok(()), |dir| join_as_thread(&dir))
        });
    }

    /// Takes the calling monitor out of the monitors' cgroup, into gantry's parent (v1, where
    /// a parent may hold processes; moving oneself by writing 0 takes no lock), and removes
    /// the monitors' cgroup if no other monitor is in it. A starter that finds it gone makes
    /// it again ([`Layout::adopt_monitor`]).
    pub fn leave_monitors(&self) {
        let Self::V1 { .. } = self else { return };
        for dir in self.monitor_dirs() {
            if let Some(parent) = dir.parent() {
                let _ = std::fs::write(parent.join("tasks"), "0");
            }
        }
        self.remove_monitors_if_empty();
    }

    /// Removes the monitors' cgroup where no monitor is left in it (the kernel refuses the
    /// others with EBUSY).
    pub fn remove_monitors_if_empty(&self) {
        for dir in self.monitor_dirs() {
            let _ = std::fs::remove_dir(&dir);
        }
    }

    /// Moves the process `pid` (a monitor) into the monitors' cgroup, creating it as needed.
    pub fn adopt_monitor(&self, pid: i32) -> Result<(), String> {
        for dir in self.monitor_dirs() {
            let procs = dir.join("cgroup.procs");
            let mut attempts = 0;
            loop {
                std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
                match std::fs::write(&procs, pid.to_string()) {
                    Ok(()) => break,
                    // The last monitor leaving removed it between the two calls.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound && attempts < 3 => attempts += 1,
                    Err(e) => return Err(format!("writing {}: {e}", procs.display())),
                }
            }
        }
        Ok(())
    }
}

/// Where hosts mount the v1 pids hierarchy (systemd, cgroupfs-mount).
const USUAL_PIDS_MOUNT: &str = "/sys/fs/cgroup/pids";

/// Whether a warm-up may start now: none started within [`WARM_WINDOW`] (per process).
fn claim_warm_window() -> bool {
    static LAST: std::sync::Mutex<Option<Instant>> = std::sync::Mutex::new(None);
    let mut last = LAST.lock().unwrap_or_else(|p| p.into_inner());
    if last.is_some_and(|t| t.elapsed() < WARM_WINDOW) {
        return false;
    }
    *last = Some(Instant::now());
    true
}

/// Runs a warm-up move on a thread of its own, which ends with it.
fn spawn_warm_up(join: impl FnOnce() -> std::io::Result<()> + Send + 'static) {
    let spawned = std::thread::Builder::new().name("cgroup-warm-up".into()).spawn(move || {
        if let Err(e) = join() {
            tracing::debug!(error = %e, "cgroup warm-up failed");
        }
    });
    if let Err(e) = spawned {
        tracing::debug!(error = %e, "cgroup warm-up thread not started");
    }
}

/// Whether `dir` is the root of a mounted cgroup v1 hierarchy.
fn is_v1_hierarchy(dir: &Path) -> bool {
    rustix::fs::statfs(dir).is_ok_and(|s| s.f_type == libc::CGROUP_SUPER_MAGIC)
}

/// Moves the calling thread into the v1 cgroup `dir` (its `tasks` file, by thread ID).
fn join_as_thread(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("tasks"), rustix::thread::gettid().as_raw_nonzero().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::path::Path;

    fn procs(dir: &Path) -> String {
        std::fs::read_to_string(dir.join("cgroup.procs")).unwrap()
    }

    #[test]
    fn v1_monitors_join_the_accounting_hierarchies_once_each() {
        let t = tempfile::tempdir().unwrap();
        let shared = t.path().join("cpu,cpuacct");
        let mut mounts: BTreeMap<String, PathBuf> = BTreeMap::new();
        for c in ["memory", "pids", "cpuset", "devices", "freezer", "blkio"] {
            mounts.insert(c.into(), t.path().join(c));
        }
        mounts.insert("cpu".into(), shared.clone());
        mounts.insert("cpuacct".into(), shared.clone());
        let layout = Layout::V1 { mounts };
        layout.adopt_monitor(4242).unwrap();
        let dirs = layout.monitor_dirs();
        assert_eq!(dirs.len(), 4, "{dirs:?}");
        for c in ["memory", "pids", "blkio", "cpu,cpuacct"] {
            assert_eq!(procs(&t.path().join(c).join("gantry/monitors")), "4242");
        }
        for c in ["cpuset", "devices", "freezer"] {
            assert!(!t.path().join(c).exists(), "{c} is left alone");
        }
    }

    #[test]
    fn only_a_cgroup_v1_mount_counts_as_a_hierarchy() {
        let t = tempfile::tempdir().unwrap();
        assert!(!is_v1_hierarchy(t.path()), "a plain directory");
        assert!(!is_v1_hierarchy(&t.path().join("missing")));
        // The host's own answer agrees with its mount table (a v1 pids mount there, or none).
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        let v1_there = crate::engine::cgroups::v1_mounts(&mountinfo).get("pids")
            == Some(&PathBuf::from(USUAL_PIDS_MOUNT));
        assert_eq!(is_v1_hierarchy(Path::new(USUAL_PIDS_MOUNT)), v1_there);
    }

    #[test]
    fn v2_monitors_get_a_leaf_beside_the_containers() {
        let t = tempfile::tempdir().unwrap();
        let layout = Layout::v2_at(t.path());
        layout.adopt_monitor(7).unwrap();
        assert_eq!(layout.monitor_dirs(), vec![t.path().join("gantry/monitors")]);
        assert_eq!(procs(&t.path().join("gantry/monitors")), "7");
    }
}
