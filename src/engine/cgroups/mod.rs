//! The container cgroups at `/gantry/<id>` in every hierarchy (made by the monitor on v1, see
//! [`placement`], and by libcontainer on v2): where they live on this host (v1 hierarchies, which includes the hybrid layout, or
//! the unified v2 tree), what the kernel here can limit, changing limits of a running container,
//! and the counters stats and OOM detection read.
//!
//! Every path goes through a [`Layout`] rooted at a directory, so the v2 code runs against a
//! fake cgroupfs tree in tests. gantry only ever touches cgroups under its own `gantry/` parent.

pub mod monitors;
pub mod placement;
pub mod resources;
pub mod stats;
pub mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libcgroups::common::{CgroupManager, ControllerOpt};
use oci_spec::runtime::LinuxResources;

pub use resources::{ResourceUpdate, Resources, Ulimit};

/// Writes files of a fake cgroupfs (or /proc) tree for tests.
#[cfg(test)]
pub(crate) fn write_fake_files(dir: &Path, files: &[(&str, &str)]) {
    std::fs::create_dir_all(dir).expect("fake tree dir");
    for (f, text) in files {
        std::fs::write(dir.join(f), text).expect("fake tree file");
    }
}

/// The parent of every container cgroup, in every hierarchy.
pub const PARENT: &str = "gantry";

/// The v1 controllers gantry reads or limits.
pub const V1_CONTROLLERS: &[&str] =
    &["cpu", "cpuacct", "cpuset", "memory", "pids", "blkio", "devices", "freezer"];

/// Every v1 controller libcgroups makes a container cgroup in when the host mounts it: the
/// hierarchies gantry must look in to remove one.
const RUNTIME_V1_CONTROLLERS: &[&str] = &[
    "cpu",
    "cpuacct",
    "cpuset",
    "memory",
    "pids",
    "blkio",
    "devices",
    "freezer",
    "hugetlb",
    "perf_event",
    "net_cls",
    "net_prio",
];

/// The cgroup v1 mounts in a mountinfo text: each one's mount point and super options.
fn v1_mount_entries(mountinfo: &str) -> impl Iterator<Item = (&str, &str)> {
    mountinfo.lines().filter_map(|line| {
        let (mount, fs) = line.split_once(" - ")?;
        let mut fs = fs.split_whitespace();
        let (Some("cgroup"), Some(_source), Some(options)) = (fs.next(), fs.next(), fs.next()) else {
            return None;
        };
        Some((mount.split_whitespace().nth(4)?, options))
    })
}

/// The v1 hierarchies in a mountinfo text. Parsed here in one pass: libcgroups' helper reads
/// mountinfo once per controller, and the monitor pays for this on every container start.
fn v1_mounts(mountinfo: &str) -> BTreeMap<String, PathBuf> {
    let mut out = BTreeMap::new();
    for (point, options) in v1_mount_entries(mountinfo) {
        for option in options.split(',') {
            if RUNTIME_V1_CONTROLLERS.contains(&option) {
                out.entry(option.to_string()).or_insert_with(|| PathBuf::from(point));
            }
        }
    }
    out
}

/// Every cgroup v1 mount point in a mountinfo text, controllers' or named (`name=systemd`),
/// in mount order.
pub fn v1_mount_points(mountinfo: &str) -> Vec<PathBuf> {
    v1_mount_entries(mountinfo).map(|(point, _)| PathBuf::from(point)).collect()
}

/// Where the host's cgroups are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    /// One hierarchy per controller (pure v1, or hybrid: libcgroups, and so the containers,
    /// use the v1 hierarchies there, as this machine does).
    V1 { mounts: BTreeMap<String, PathBuf> },
    /// The unified v2 tree.
    V2 { root: PathBuf },
}

impl Layout {
    /// The host's layout, detected once per process.
    pub fn host() -> &'static Layout {
        static HOST: OnceLock<Layout> = OnceLock::new();
        HOST.get_or_init(Self::detect)
    }

    fn detect() -> Self {
        use libcgroups::common::{CgroupSetup, get_cgroup_setup};
        if matches!(get_cgroup_setup(), Ok(CgroupSetup::Unified)) {
            return Self::V2 { root: PathBuf::from("/sys/fs/cgroup") };
        }
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        Self::V1 { mounts: v1_mounts(&mountinfo) }
    }

    /// A v1 layout with every controller mounted at `root/<controller>` (tests).
    pub fn v1_at(root: &Path) -> Self {
        Self::V1 { mounts: V1_CONTROLLERS.iter().map(|c| (c.to_string(), root.join(c))).collect() }
    }

    /// A v2 layout rooted at `root` (tests use a fake tree).
    pub fn v2_at(root: &Path) -> Self {
        Self::V2 { root: root.to_path_buf() }
    }

    pub fn is_v2(&self) -> bool {
        matches!(self, Self::V2 { .. })
    }

    /// The top of the hierarchy holding `controller` (v2: the one tree), if it is mounted.
    pub fn hierarchy(&self, controller: &str) -> Option<&Path> {
        match self {
            Self::V1 { mounts } => mounts.get(controller).map(PathBuf::as_path),
            Self::V2 { root } => Some(root),
        }
    }

    /// The container's cgroup directory for `controller`.
    pub fn dir(&self, controller: &str, id: &str) -> Option<PathBuf> {
        self.hierarchy(controller).map(|h| h.join(PARENT).join(id))
    }

    /// The spec's `cgroupsPath` for a container.
    pub fn cgroups_path(id: &str) -> String {
        format!("/{PARENT}/{id}")
    }

    /// Changes the limits of a running container's cgroup to `r` (all of them, as `runc
    /// update` does), through libcgroups, which also converts them for v2 (shares to
    /// `cpu.weight`, quota and period to `cpu.max`, memory+swap to `memory.swap.max`).
    pub fn apply(&self, id: &str, r: &Resources) -> Result<(), String> {
        let oci: LinuxResources =
            serde_json::from_value(r.to_oci()).map_err(|e| format!("resource limits: {e}"))?;
        let opt = ControllerOpt {
            resources: &oci,
            disable_oom_killer: r.oom_kill_disable,
            oom_score_adj: None,
            freezer_state: None,
        };
        let path = PathBuf::from(Self::cgroups_path(id));
        match self {
            Self::V2 { root } => {
                let dir = root.join(PARENT).join(id);
                if !dir.is_dir() {
                    return Err(format!("the container's cgroup {} is gone", dir.display()));
                }
                libcgroups::v2::manager::Manager::new(root.clone(), path)
                    .map_err(|e| e.to_string())?
                    .apply(&opt)
                    .map_err(|e| e.to_string())
            }
            Self::V1 { .. } => {
                // libcgroups finds the v1 hierarchies itself (from mountinfo), as it did at create.
                libcgroups::v1::manager::Manager::new(&path)
                    .map_err(|e| e.to_string())?
                    .apply(&opt)
                    .map_err(|e| e.to_string())
            }
        }
    }

    /// The container's cgroup directory in every hierarchy (existing or not).
    fn container_dirs(&self, id: &str) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = match self {
            Self::V1 { mounts } => mounts.values().map(|m| m.join(PARENT).join(id)).collect(),
            Self::V2 { root } => vec![root.join(PARENT).join(id)],
        };
        dirs.sort();
        dirs.dedup();
        dirs
    }

    /// The processes in the container's cgroups (every hierarchy's, once each).
    pub fn processes(&self, id: &str) -> Vec<i32> {
        let mut pids: Vec<i32> = self
            .container_dirs(id)
            .iter()
            .filter_map(|d| std::fs::read_to_string(d.join("cgroup.procs")).ok())
            .flat_map(|text| text.lines().filter_map(|l| l.trim().parse().ok()).collect::<Vec<i32>>())
            .collect();
        pids.sort_unstable();
        pids.dedup();
        pids
    }

    /// Removes the container's cgroups if no process is left in any of them; false (with
    /// nothing more removed) when one is, or a directory cannot be removed.
    pub fn remove_if_empty(&self, id: &str) -> bool {
        let dirs = self.container_dirs(id);
        let occupied = |d: &PathBuf| match std::fs::read_to_string(d.join("cgroup.procs")) {
            Ok(procs) => !procs.trim().is_empty(),
            Err(e) => e.kind() != std::io::ErrorKind::NotFound,
        };
        if dirs.iter().any(occupied) {
            return false;
        }
        dirs.iter().all(|d| match std::fs::remove_dir(d) {
            Ok(()) => true,
            Err(e) => e.kind() == std::io::ErrorKind::NotFound,
        })
    }

    /// Removes what is left of a container's cgroups (empty directories only: the kernel
    /// refuses to remove a cgroup with processes in it). Only `gantry/<id>` is ever touched.
    pub fn remove(&self, id: &str) {
        for d in self.container_dirs(id) {
            if d.is_dir() {
                if let Err(e) = std::fs::remove_dir(&d) {
                    tracing::warn!(cgroup = %d.display(), error = %e, "leftover cgroup not removed");
                }
            }
        }
    }

    /// How many times the kernel's OOM killer acted in the container's memory cgroup (v1
    /// `memory.oom_control`, v2 `memory.events`).
    pub fn oom_kills(&self, id: &str) -> u64 {
        let Some(dir) = self.dir("memory", id) else { return 0 };
        let file = if self.is_v2() { "memory.events" } else { "memory.oom_control" };
        stats::read_keyed(&dir.join(file), "oom_kill").unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_hierarchies_from_mountinfo() {
        let text = "\
25 30 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
26 25 0:23 / /sys/fs/cgroup/unified rw,nosuid shared:10 - cgroup2 cgroup2 rw,nsdelegate
33 25 0:30 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:16 - cgroup cgroup rw,cpu,cpuacct
34 25 0:31 / /sys/fs/cgroup/memory rw,nosuid shared:17 - cgroup cgroup rw,memory
35 25 0:32 / /sys/fs/cgroup/systemd rw shared:11 - cgroup cgroup rw,xattr,name=systemd
";
        let m = v1_mounts(text);
        assert_eq!(m.get("cpu"), Some(&PathBuf::from("/sys/fs/cgroup/cpu,cpuacct")));
        assert_eq!(m.get("cpuacct"), Some(&PathBuf::from("/sys/fs/cgroup/cpu,cpuacct")));
        assert_eq!(m.get("memory"), Some(&PathBuf::from("/sys/fs/cgroup/memory")));
        assert_eq!(m.len(), 3);
        let points: Vec<PathBuf> = ["cpu,cpuacct", "memory", "systemd"]
            .iter()
            .map(|p| PathBuf::from("/sys/fs/cgroup").join(p))
            .collect();
        assert_eq!(v1_mount_points(text), points, "named hierarchies too, and no cgroup2");
        let layout = Layout::V1 { mounts: m };
        assert_eq!(layout.dir("memory", "x"), Some(PathBuf::from("/sys/fs/cgroup/memory/gantry/x")));
        assert_eq!(layout.dir("pids", "x"), None);
    }

    #[test]
    fn remove_if_empty_leaves_occupied_cgroups_alone() {
        let t = tempfile::tempdir().unwrap();
        let layout = Layout::v1_at(t.path());
        assert!(layout.remove_if_empty("abc"), "no cgroup at all: nothing to do");
        write_fake_files(&t.path().join("pids/gantry/abc"), &[("cgroup.procs", "42\n")]);
        write_fake_files(&t.path().join("memory/gantry/abc"), &[("cgroup.procs", "")]);
        assert!(!layout.remove_if_empty("abc"), "a process is left in pids");
        assert!(t.path().join("memory/gantry/abc").exists(), "nothing was removed");
        write_fake_files(&t.path().join("memory/gantry/abc"), &[("cgroup.procs", "7\n42\n")]);
        assert_eq!(layout.processes("abc"), vec![7, 42]);
    }

    /// A fake v2 tree: the root's controllers, and a container cgroup with the files a kernel
    /// would give it.
    fn fake_v2(id: &str) -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        write_fake_files(t.path(), &[("cgroup.controllers", "cpuset cpu io memory pids\n")]);
        // libcgroups writes like the kernel expects (no truncation), so the files start empty
        // and each holds exactly what was last written.
        let files = [
            "cgroup.procs",
            "memory.max",
            "memory.swap.max",
            "memory.low",
            "cpu.weight",
            "cpu.max",
            "cpuset.cpus",
            "cpuset.mems",
            "pids.max",
            "io.weight",
        ]
        .map(|f| (f, ""));
        write_fake_files(&t.path().join(PARENT).join(id), &files);
        t
    }

    /// Reads a file of the fake tree, emptying it for the next write.
    fn file(t: &tempfile::TempDir, id: &str, f: &str) -> String {
        let p = t.path().join(PARENT).join(id).join(f);
        let text = std::fs::read_to_string(&p).unwrap().trim().to_string();
        std::fs::write(&p, "").unwrap();
        text
    }

    #[test]
    fn v2_limits_are_converted_and_written_on_a_fake_tree() {
        let t = fake_v2("c1");
        let layout = Layout::v2_at(t.path());
        let mut r = Resources {
            memory: 64 << 20,
            memory_reservation: 32 << 20,
            cpu_shares: 1024,
            nano_cpus: 1_500_000_000,
            cpuset_cpus: "0".into(),
            pids_limit: Some(20),
            ..Default::default()
        };
        r.normalize();
        layout.apply("c1", &r).unwrap();
        assert_eq!(file(&t, "c1", "memory.max"), (64u64 << 20).to_string());
        // v1's memory+swap becomes v2's swap alone.
        assert_eq!(file(&t, "c1", "memory.swap.max"), (64u64 << 20).to_string());
        assert_eq!(file(&t, "c1", "memory.low"), (32u64 << 20).to_string());
        // Shares map onto cpu.weight (1024, the default share, is the default weight 100).
        assert_eq!(file(&t, "c1", "cpu.weight"), "100");
        assert_eq!(file(&t, "c1", "cpu.max"), "150000 100000");
        assert_eq!(file(&t, "c1", "cpuset.cpus"), "0");
        assert_eq!(file(&t, "c1", "pids.max"), "20");
        // An update: half the shares, an explicit quota and period, unlimited PIDs.
        r.merge(&ResourceUpdate {
            cpu_shares: Some(512),
            cpu_quota: Some(50_000),
            cpu_period: Some(200_000),
            pids_limit: Some(-1),
            ..Default::default()
        })
        .unwrap();
        layout.apply("c1", &r).unwrap();
        let weight: u64 = file(&t, "c1", "cpu.weight").parse().unwrap();
        assert!((50..100).contains(&weight), "512 shares is a lower weight: {weight}");
        assert_eq!(file(&t, "c1", "cpu.max"), "50000 200000");
        assert_eq!(file(&t, "c1", "pids.max"), "max");
        // A container whose cgroup is gone is an error, not a new cgroup.
        assert!(layout.apply("gone", &r).unwrap_err().contains("is gone"));
        assert!(!t.path().join(PARENT).join("gone").exists());
        // Removal only takes empty directories (a kernel cgroupfs has no regular files).
        layout.remove("c1");
        assert!(t.path().join(PARENT).join("c1").exists());
        let empty = t.path().join(PARENT).join("c2");
        std::fs::create_dir_all(&empty).unwrap();
        layout.remove("c2");
        assert!(!empty.exists());
    }
}
