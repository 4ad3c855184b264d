//! Putting a new container into its v1 cgroups without waiting on the kernel.
//!
//! Moving a process into a cgroup by PID or TID takes the kernel's global cgroup threadgroup
//! lock for writing, and the first writer after a quiet spell waits out an RCU grace period:
//! 5-16 ms on this machine, the longest single step of `run --rm` when libcontainer's
//! intermediate process joins the container's cgroups that way. A thread that moves only
//! itself, by writing 0 to a v1 `tasks` file, takes no such lock (0.15 ms for all eight
//! hierarchies here). So on v1 the monitor's launching thread makes the container's cgroups,
//! writes their device rules and moves itself in ([`Layout::enter_container`]; a helper
//! thread makes the cgroups meanwhile: [`Layout::make_container_cgroups`]); the
//! intermediate process it clones next starts inside them, as does the init, and libcontainer
//! is kept from joining a second time (see `monitor::hidden_cgroups`). The thread then moves
//! back (to the monitors' cgroup, or gantry's parent where it was in a cgroup gantry did not
//! make), and the limits are written (libcgroups, as `update` does) before the container is
//! started.
//!
//! v2 cannot move a single thread into a domain cgroup; there libcontainer joins as usual.

use std::path::{Path, PathBuf};

use oci_spec::runtime::LinuxDeviceCgroup;

use super::{Layout, PARENT};

/// The device rules libcgroups adds after the spec's in every container (v1 `devices.allow`),
/// kept the same so that a container placed here ends with the rules libcontainer would have
/// written: the standard character devices (null, zero, full, tty, urandom, random), mknod of
/// any device, the console, the ptys and their multiplexer, and tun.
const DEFAULT_ALLOWED_DEVICES: &[&str] = &[
    "c 1:3 rwm",
    "c 1:5 rwm",
    "c 1:7 rwm",
    "c 5:0 rwm",
    "c 1:9 rwm",
    "c 1:8 rwm",
    "c *:* m",
    "b *:* m",
    "c 5:1 rwm",
    "c 136:* rwm",
    "c 5:2 rwm",
    "c 10:200 rwm",
];

/// The calling thread's stay in a container's cgroups: dropping it moves the thread back.
#[must_use = "dropping it moves the thread back at once"]
pub struct ThreadVisit {
    /// Where the thread goes back to, one cgroup per hierarchy, all under gantry's parent.
    back: Vec<PathBuf>,
}

impl Drop for ThreadVisit {
    fn drop(&mut self) {
        for dir in &self.back {
            // Made again if it went meanwhile (the monitors' cgroup, removed by the last
            // monitor to leave it).
            if let Err(message) = super::monitors::join_created(dir, "tasks", "0") {
                tracing::warn!(%message, "monitor thread not moved back");
            }
        }
    }
}

/// Where a thread that was in `current` (its path in the v1 hierarchy mounted at
/// `hierarchy`, if it has one there) goes back to: that cgroup if gantry made it (the
/// monitors'), else gantry's parent, as gantry never writes to a cgroup it did not make.
fn return_dir(hierarchy: &Path, current: Option<&str>) -> PathBuf {
    let ours = hierarchy.join(PARENT);
    current
        .map(|path| hierarchy.join(path.trim_start_matches('/')))
        .filter(|dir| dir.starts_with(&ours))
        .unwrap_or(ours)
}

impl Layout {
    /// Makes container `id`'s cgroups in every v1 hierarchy, ready to take a task (cpuset
    /// filled), for [`Layout::enter_container`]. Any thread may do it; nothing on v2.
    pub fn make_container_cgroups(&self, id: &str) -> Result<(), String> {
        let Self::V1 { mounts } = self else { return Ok(()) };
        for dir in self.container_dirs(id) {
            std::fs::create_dir_all(&dir).map_err(|e| format!("creating cgroup {}: {e}", dir.display()))?;
        }
        match mounts.get("cpuset") {
            Some(cpuset) => fill_cpuset(&cpuset.join(PARENT), id),
            None => Ok(()),
        }
    }

    /// Writes the spec's device rules (`device_rules`, in order, then libcgroups' defaults)
    /// to container `id`'s cgroups, made by [`Layout::make_container_cgroups`], and moves the
    /// calling thread into them, so that a process it forks next starts there. `None` on v2
    /// (nothing is done). The limits are not written here: see [`Layout::apply`], once the
    /// thread is back.
    pub fn enter_container(
        &self,
        id: &str,
        device_rules: &[LinuxDeviceCgroup],
    ) -> Result<Option<ThreadVisit>, String> {
        let Self::V1 { mounts } = self else { return Ok(None) };
        let now = std::fs::read_to_string("/proc/thread-self/cgroup")
            .map_err(|e| format!("reading this thread's cgroups: {e}"))?;
        let dirs = self.container_dirs(id);
        let back = dirs
            .iter()
            .map(|dir| {
                let hierarchy = dir.parent().and_then(Path::parent).unwrap_or(dir);
                return_dir(hierarchy, current_cgroup(&now, mounts, hierarchy))
            })
            .collect();
        if let Some(devices) = self.dir("devices", id) {
            write_device_rules(&devices, device_rules)?;
        }
        let visit = ThreadVisit { back };
        for dir in &dirs {
            std::fs::write(dir.join("tasks"), "0")
                .map_err(|e| format!("joining cgroup {}: {e}", dir.display()))?;
        }
        Ok(Some(visit))
    }
}

/// The calling thread's cgroup path in the v1 hierarchy mounted at `hierarchy`, from the text
/// of `/proc/thread-self/cgroup` (`ID:controllers:path` lines).
fn current_cgroup<'a>(
    text: &'a str,
    mounts: &std::collections::BTreeMap<String, PathBuf>,
    hierarchy: &Path,
) -> Option<&'a str> {
    text.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        controllers.split(',').any(|c| mounts.get(c).is_some_and(|m| m == hierarchy)).then_some(path)
    })
}

/// A new v1 cpuset cgroup has no CPUs and no memory nodes, and takes no task until it has:
/// gantry's parent and the container's cgroup get their parent's where they are empty.
fn fill_cpuset(parent: &Path, id: &str) -> Result<(), String> {
    for dir in [parent.to_path_buf(), parent.join(id)] {
        for file in ["cpuset.cpus", "cpuset.mems"] {
            let own = std::fs::read_to_string(dir.join(file)).unwrap_or_default();
            if !own.trim().is_empty() {
                continue;
            }
            let above = dir.parent().map(|p| p.join(file)).unwrap_or_default();
            let value =
                std::fs::read_to_string(&above).map_err(|e| format!("reading {}: {e}", above.display()))?;
            std::fs::write(dir.join(file), value.trim())
                .map_err(|e| format!("writing {}: {e}", dir.join(file).display()))?;
        }
    }
    Ok(())
}

/// The writes that set a v1 devices cgroup's rules: the spec's in order, then
/// [`DEFAULT_ALLOWED_DEVICES`]; each is the file (`devices.allow` or `devices.deny`) and the rule.
fn device_writes(rules: &[LinuxDeviceCgroup]) -> Vec<(&'static str, String)> {
    let spec = rules.iter().map(|r| (r.allow(), r.to_string()));
    let defaults = DEFAULT_ALLOWED_DEVICES.iter().map(|r| (true, r.to_string()));
    spec.chain(defaults)
        .map(|(allow, rule)| (if allow { "devices.allow" } else { "devices.deny" }, rule))
        .collect()
}

fn write_device_rules(dir: &Path, rules: &[LinuxDeviceCgroup]) -> Result<(), String> {
    for (file, rule) in device_writes(rules) {
        let file = dir.join(file);
        std::fs::write(&file, &rule).map_err(|e| format!("writing {rule:?} to {}: {e}", file.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::cgroups::write_fake_files;
    use std::collections::BTreeMap;

    #[test]
    fn the_thread_returns_to_the_cgroup_of_each_hierarchy() {
        let mounts: BTreeMap<String, PathBuf> = [
            ("cpu", "/sys/fs/cgroup/cpu,cpuacct"),
            ("cpuacct", "/sys/fs/cgroup/cpu,cpuacct"),
            ("memory", "/sys/fs/cgroup/memory"),
        ]
        .into_iter()
        .map(|(c, m)| (c.to_string(), PathBuf::from(m)))
        .collect();
        let text = "12:memory:/gantry/monitors\n4:cpu,cpuacct:/user.slice\n1:name=systemd:/x\n0::/y\n";
        let memory = Path::new("/sys/fs/cgroup/memory");
        assert_eq!(current_cgroup(text, &mounts, memory), Some("/gantry/monitors"));
        let cpu = Path::new("/sys/fs/cgroup/cpu,cpuacct");
        assert_eq!(current_cgroup(text, &mounts, cpu), Some("/user.slice"));
        assert_eq!(current_cgroup(text, &mounts, Path::new("/sys/fs/cgroup/pids")), None);
    }

    #[test]
    fn the_thread_goes_back_only_to_cgroups_gantry_made() {
        let h = Path::new("/sys/fs/cgroup/memory");
        assert_eq!(return_dir(h, Some("/gantry/monitors")), h.join("gantry/monitors"));
        assert_eq!(return_dir(h, Some("/user.slice/session-1.scope")), h.join("gantry"));
        assert_eq!(return_dir(h, Some("/")), h.join("gantry"));
        assert_eq!(return_dir(h, Some("/gantryish")), h.join("gantry"), "a prefix is not a parent");
        assert_eq!(return_dir(h, None), h.join("gantry"));
    }

    #[test]
    fn an_empty_cpuset_gets_its_parents_cpus_and_nodes() {
        let t = tempfile::tempdir().unwrap();
        write_fake_files(t.path(), &[("cpuset.cpus", "0-3\n"), ("cpuset.mems", "0\n")]);
        write_fake_files(&t.path().join("gantry"), &[("cpuset.cpus", "\n"), ("cpuset.mems", "")]);
        write_fake_files(&t.path().join("gantry/abc"), &[("cpuset.cpus", "1"), ("cpuset.mems", "")]);
        fill_cpuset(&t.path().join("gantry"), "abc").unwrap();
        let read = |p: &str| std::fs::read_to_string(t.path().join(p)).unwrap();
        assert_eq!(read("gantry/cpuset.cpus"), "0-3");
        assert_eq!(read("gantry/cpuset.mems"), "0");
        assert_eq!(read("gantry/abc/cpuset.cpus"), "1", "a set value is kept");
        assert_eq!(read("gantry/abc/cpuset.mems"), "0");
    }

    #[test]
    fn device_rules_are_the_specs_in_order_then_the_defaults() {
        let rules: Vec<LinuxDeviceCgroup> = serde_json::from_value(serde_json::json!([
            {"allow": false, "access": "rwm"},
            {"allow": true, "type": "c", "major": 4, "minor": 64, "access": "rw"},
        ]))
        .unwrap();
        let writes = device_writes(&rules);
        assert_eq!(writes[0], ("devices.deny", "a *:* rwm".to_string()));
        assert_eq!(writes[1], ("devices.allow", "c 4:64 rw".to_string()));
        assert_eq!(writes.len(), 2 + DEFAULT_ALLOWED_DEVICES.len());
        assert!(writes[2..].iter().all(|(f, _)| *f == "devices.allow"));
        assert_eq!(writes[2].1, "c 1:3 rwm", "/dev/null first");
    }

    #[test]
    fn v2_places_nothing() {
        let t = tempfile::tempdir().unwrap();
        assert!(Layout::v2_at(t.path()).enter_container("abc", &[]).unwrap().is_none());
        assert!(!t.path().join("gantry").exists());
    }
}
