//! What the kernel and cgroup layout here can honour. A limit this host cannot apply is dropped
//! with a warning in Docker's words (as `docker run` prints "No swap limit support"), never
//! silently; a request that cannot be met at all (CPUs the host lacks) is an error.

use std::path::Path;

use super::Layout;
use super::resources::{Resources, parse_cpuset};

/// The host facts the checks need, read once.
#[derive(Debug, Clone)]
pub struct HostLimits {
    pub memory: bool,
    pub swap: bool,
    pub oom_kill_disable: bool,
    pub cpu_shares: bool,
    pub cpu_cfs: bool,
    pub cpuset: bool,
    pub pids: bool,
    pub blkio_weight: bool,
    pub cpus_available: String,
    pub mems_available: String,
    pub online_cpus: u32,
}

fn exists(dir: Option<&Path>, file: &str) -> bool {
    dir.is_some_and(|d| d.join(file).exists())
}

fn read_trimmed(path: &Path) -> String {
    std::fs::read_to_string(path).map(|s| s.trim().to_string()).unwrap_or_default()
}

impl HostLimits {
    pub fn probe(layout: &Layout) -> Self {
        let online_cpus = super::stats::online_cpus();
        match layout {
            Layout::V1 { .. } => {
                let h = |c: &str| layout.hierarchy(c);
                Self {
                    memory: exists(h("memory"), "memory.limit_in_bytes"),
                    swap: exists(h("memory"), "memory.memsw.limit_in_bytes"),
                    oom_kill_disable: exists(h("memory"), "memory.oom_control"),
                    cpu_shares: exists(h("cpu"), "cpu.shares"),
                    cpu_cfs: exists(h("cpu"), "cpu.cfs_quota_us"),
                    cpuset: exists(h("cpuset"), "cpuset.cpus"),
                    pids: h("pids").is_some(),
                    blkio_weight: exists(h("blkio"), "blkio.weight")
                        || exists(h("blkio"), "blkio.bfq.weight"),
                    cpus_available: h("cpuset")
                        .map(|d| read_trimmed(&d.join("cpuset.cpus")))
                        .unwrap_or_default(),
                    mems_available: h("cpuset")
                        .map(|d| read_trimmed(&d.join("cpuset.mems")))
                        .unwrap_or_default(),
                    online_cpus,
                }
            }
            Layout::V2 { root } => {
                let controllers = read_trimmed(&root.join("cgroup.controllers"));
                let has = |c: &str| controllers.split_whitespace().any(|x| x == c);
                Self {
                    memory: has("memory"),
                    swap: has("memory"),
                    // cgroup v2 has no switch to turn the OOM killer off.
                    oom_kill_disable: false,
                    cpu_shares: has("cpu"),
                    cpu_cfs: has("cpu"),
                    cpuset: has("cpuset"),
                    pids: has("pids"),
                    blkio_weight: has("io"),
                    cpus_available: read_trimmed(&root.join("cpuset.cpus.effective")),
                    mems_available: read_trimmed(&root.join("cpuset.mems.effective")),
                    online_cpus,
                }
            }
        }
    }

    /// Drops what this host cannot apply (returning Docker's warnings), or refuses what cannot
    /// be met at all.
    pub fn check(&self, r: &mut Resources) -> Result<Vec<String>, String> {
        let mut warnings = Vec::new();
        let mut warn = |s: &str| warnings.push(s.to_string());
        if !self.memory && (r.memory > 0 || r.memory_reservation > 0 || r.memory_swap != 0) {
            warn(
                "Your kernel does not support memory limit capabilities or the cgroup is not mounted. Limitation discarded.",
            );
            (r.memory, r.memory_reservation, r.memory_swap) = (0, 0, 0);
        }
        if r.memory > 0 && r.memory_swap != 0 && !self.swap {
            warn(
                "Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.",
            );
            r.memory_swap = 0;
        }
        if r.oom_kill_disable && !self.oom_kill_disable {
            warn("Your kernel does not support OomKillDisable. OomKillDisable discarded.");
            r.oom_kill_disable = false;
        }
        if r.oom_kill_disable && r.memory == 0 {
            warn(
                "OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.",
            );
        }
        if r.cpu_shares > 0 && !self.cpu_shares {
            warn("Your kernel does not support CPU shares or the cgroup is not mounted. Shares discarded.");
            r.cpu_shares = 0;
        }
        if r.nano_cpus > 0 && !self.cpu_cfs {
            return Err("NanoCPUs can not be set, as your kernel does not support CPU CFS scheduler or the cgroup is not mounted".into());
        }
        let max = i64::from(self.online_cpus) * 1_000_000_000;
        if r.nano_cpus > max {
            return Err(format!(
                "Range of CPUs is from 0.01 to {n}.00, as there are only {n} CPUs available",
                n = self.online_cpus
            ));
        }
        if (r.cpu_period > 0 || r.cpu_quota != 0) && !self.cpu_cfs {
            warn(
                "Your kernel does not support CPU cfs period/quota or the cgroup is not mounted. Period/quota discarded.",
            );
            (r.cpu_period, r.cpu_quota) = (0, 0);
        }
        if !r.cpuset_cpus.is_empty() || !r.cpuset_mems.is_empty() {
            if !self.cpuset {
                warn("Your kernel does not support cpuset or the cgroup is not mounted. Cpuset discarded.");
                (r.cpuset_cpus, r.cpuset_mems) = (String::new(), String::new());
            } else {
                check_subset(&r.cpuset_cpus, &self.cpus_available, "CPUs")?;
                check_subset(&r.cpuset_mems, &self.mems_available, "memory nodes")?;
            }
        }
        if r.pids_limit.is_some_and(|l| l > 0) && !self.pids {
            warn(
                "Your kernel does not support PIDs limit capabilities or the cgroup is not mounted. PIDs limit discarded.",
            );
            r.pids_limit = None;
        }
        if r.blkio_weight > 0 && !self.blkio_weight {
            warn(
                "Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.",
            );
            r.blkio_weight = 0;
        }
        Ok(warnings)
    }
}

/// Refuses ulimits this process could not grant: without CAP_SYS_RESOURCE (root here lacks it)
/// no hard limit can be raised above the current one, and libcontainer would fail the start
/// with a bare EPERM.
pub fn check_ulimits(ulimits: &[super::Ulimit]) -> Result<(), String> {
    if ulimits.is_empty() || has_cap_sys_resource() {
        return Ok(());
    }
    for u in ulimits {
        let Some(resource) = rlimit_resource(&u.name) else { continue };
        let mut current = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit fills the struct we own.
        if unsafe { libc::getrlimit(resource, &mut current) } != 0 {
            continue;
        }
        let wanted = super::Ulimit::kernel_value(u.hard);
        if current.rlim_max != libc::RLIM_INFINITY && wanted > current.rlim_max {
            return Err(format!(
                "ulimit {}: hard limit {} is above this host's {} and gantry lacks CAP_SYS_RESOURCE to raise it",
                u.name, u.hard, current.rlim_max
            ));
        }
    }
    Ok(())
}

fn has_cap_sys_resource() -> bool {
    const CAP_SYS_RESOURCE: u32 = 24;
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("CapEff:")).map(|v| v.trim().to_string()))
        .and_then(|hex| u64::from_str_radix(&hex, 16).ok())
        .is_some_and(|caps| caps & (1 << CAP_SYS_RESOURCE) != 0)
}

fn rlimit_resource(name: &str) -> Option<libc::__rlimit_resource_t> {
    Some(match name {
        "core" => libc::RLIMIT_CORE,
        "cpu" => libc::RLIMIT_CPU,
        "data" => libc::RLIMIT_DATA,
        "fsize" => libc::RLIMIT_FSIZE,
        "locks" => libc::RLIMIT_LOCKS,
        "memlock" => libc::RLIMIT_MEMLOCK,
        "msgqueue" => libc::RLIMIT_MSGQUEUE,
        "nice" => libc::RLIMIT_NICE,
        "nofile" => libc::RLIMIT_NOFILE,
        "nproc" => libc::RLIMIT_NPROC,
        "rss" => libc::RLIMIT_RSS,
        "rtprio" => libc::RLIMIT_RTPRIO,
        "rttime" => libc::RLIMIT_RTTIME,
        "sigpending" => libc::RLIMIT_SIGPENDING,
        "stack" => libc::RLIMIT_STACK,
        _ => return None,
    })
}

/// Refuses a cpuset asking for CPUs (or memory nodes) the host's root cpuset lacks.
fn check_subset(requested: &str, available: &str, what: &str) -> Result<(), String> {
    if requested.is_empty() || available.is_empty() {
        return Ok(());
    }
    let (Some(want), Some(have)) = (parse_cpuset(requested), parse_cpuset(available)) else {
        return Ok(());
    };
    if want.iter().all(|c| have.contains(c)) {
        Ok(())
    } else {
        Err(format!("Requested {what} are not available - requested {requested}, available: {available}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::cgroups::write_fake_files;

    #[test]
    fn v1_without_swap_or_weight_warns_and_discards() {
        let t = tempfile::tempdir().unwrap();
        let layout = Layout::v1_at(t.path());
        write_fake_files(
            &t.path().join("memory"),
            &[("memory.limit_in_bytes", ""), ("memory.oom_control", "")],
        );
        write_fake_files(&t.path().join("cpu"), &[("cpu.shares", ""), ("cpu.cfs_quota_us", "")]);
        write_fake_files(&t.path().join("cpuset"), &[("cpuset.cpus", "0-1\n"), ("cpuset.mems", "0\n")]);
        write_fake_files(&t.path().join("blkio"), &[]);
        let host = HostLimits::probe(&layout);
        assert!(host.memory && !host.swap && !host.blkio_weight && host.cpuset);
        let mut r = Resources { memory: 32 << 20, blkio_weight: 300, ..Default::default() };
        r.normalize();
        let w = host.check(&mut r).unwrap();
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].contains("swap limit") && w[1].contains("Block I/O weight"));
        assert_eq!((r.memory, r.memory_swap, r.blkio_weight), (32 << 20, 0, 0));
        let mut r = Resources { cpuset_cpus: "0,5".into(), ..Default::default() };
        let err = host.check(&mut r).unwrap_err();
        assert_eq!(err, "Requested CPUs are not available - requested 0,5, available: 0-1");
        let mut r =
            Resources { nano_cpus: i64::from(host.online_cpus + 1) * 1_000_000_000, ..Default::default() };
        assert!(host.check(&mut r).unwrap_err().contains("CPUs available"));
    }

    #[test]
    fn v2_reads_the_root_controllers() {
        let t = tempfile::tempdir().unwrap();
        write_fake_files(
            t.path(),
            &[("cgroup.controllers", "cpuset cpu io memory pids\n"), ("cpuset.cpus.effective", "0-3\n")],
        );
        let host = HostLimits::probe(&Layout::v2_at(t.path()));
        assert!(host.memory && host.swap && host.pids && host.blkio_weight && !host.oom_kill_disable);
        let mut r = Resources { memory: 64 << 20, oom_kill_disable: true, ..Default::default() };
        let w = host.check(&mut r).unwrap();
        assert!(w[0].contains("OomKillDisable discarded"), "{w:?}");
        assert!(!r.oom_kill_disable);
        write_fake_files(t.path(), &[("cgroup.controllers", "memory\n")]);
        let host = HostLimits::probe(&Layout::v2_at(t.path()));
        let mut r = Resources { pids_limit: Some(20), cpu_shares: 512, ..Default::default() };
        assert_eq!(host.check(&mut r).unwrap().len(), 2);
        assert_eq!((r.pids_limit, r.cpu_shares), (None, 0));
    }
}
