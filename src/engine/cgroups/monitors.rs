//! The cgroup monitors live in: `gantry/monitors`, beside the containers' `gantry/<id>`.
//!
//! Like podman's cgroup for conmon, it keeps monitors out of the cgroup of whoever ran
//! `gantry run` (an SSH session's scope, a CI job's cgroup): tearing that down must not take the
//! monitors, and so the containers' logs and exit codes, with it.
//!
//! On v1 a monitor moves itself in, first thing, by writing 0 to each `tasks` file: a move of
//! the calling thread alone, which takes none of the kernel's global locks (see
//! `cgroups::placement`), and the monitor has no other thread yet. On v2 a process is moved
//! by PID, which takes the global lock and may wait out an RCU grace period: the monitor's
//! starter does it, concurrently with the monitor's set-up, and libcontainer's later join
//! then finds the lock warm.

use std::path::{Path, PathBuf};

use super::{Layout, PARENT};

/// The monitors' cgroup, under gantry's parent in each hierarchy.
pub const DIR: &str = "monitors";

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

    /// Moves the calling thread, a monitor's only one, into the monitors' cgroup, creating
    /// it as needed (v1; on v2 the starter moves the monitor: [`Layout::adopt_monitor`]).
    pub fn enter_monitors(&self) -> Result<(), String> {
        let Self::V1 { .. } = self else { return Ok(()) };
        for dir in self.monitor_dirs() {
            join_created(&dir, "tasks", "0")?;
        }
        Ok(())
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
            join_created(&dir, "cgroup.procs", &pid.to_string())?;
        }
        Ok(())
    }
}

/// Writes `what` to `file` of the cgroup `dir`, creating `dir` first.
pub(super) fn join_created(dir: &Path, file: &str, what: &str) -> Result<(), String> {
    let path = dir.join(file);
    let mut attempts = 0;
    loop {
        std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        match std::fs::write(&path, what) {
            Ok(()) => return Ok(()),
            // The last monitor leaving removed it between the two calls.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && attempts < 3 => attempts += 1,
            Err(e) => return Err(format!("writing {}: {e}", path.display())),
        }
    }
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
    fn v1_monitors_move_themselves_into_the_accounting_hierarchies_once_each() {
        let t = tempfile::tempdir().unwrap();
        let shared = t.path().join("cpu,cpuacct");
        let mut mounts: BTreeMap<String, PathBuf> = BTreeMap::new();
        for c in ["memory", "pids", "cpuset", "devices", "freezer", "blkio"] {
            mounts.insert(c.into(), t.path().join(c));
        }
        mounts.insert("cpu".into(), shared.clone());
        mounts.insert("cpuacct".into(), shared.clone());
        let layout = Layout::V1 { mounts };
        layout.enter_monitors().unwrap();
        let dirs = layout.monitor_dirs();
        assert_eq!(dirs.len(), 4, "{dirs:?}");
        for c in ["memory", "pids", "blkio", "cpu,cpuacct"] {
            let tasks = std::fs::read_to_string(t.path().join(c).join("gantry/monitors/tasks")).unwrap();
            assert_eq!(tasks, "0", "the thread moves itself, by no ID");
        }
        for c in ["cpuset", "devices", "freezer"] {
            assert!(!t.path().join(c).exists(), "{c} is left alone");
        }
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
