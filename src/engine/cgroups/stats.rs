//! Reading a container's counters straight from its cgroup files and /proc: a handful of small
//! reads per container, no process spawned, so a sweep over every container stays cheap enough
//! to run each second.

use std::io::Read;
use std::path::Path;

use super::Layout;

/// Raw counters of one container at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    /// CPU time used, in nanoseconds.
    pub cpu_ns: u64,
    /// Memory charged to the cgroup, and the part of it that is inactive page cache (which
    /// Docker subtracts: it can be reclaimed at no cost).
    pub memory_usage: u64,
    pub memory_inactive_file: u64,
    /// The memory limit, `None` when unlimited.
    pub memory_limit: Option<u64>,
    pub pids: u64,
    pub block_read: u64,
    pub block_write: u64,
}

/// One network interface's counters, from `/proc/<pid>/net/dev` (the process's namespace).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct NetCounters {
    pub interface: String,
    pub rx_bytes: u64,
    pub rx_packets: u64,
    pub tx_bytes: u64,
    pub tx_packets: u64,
}

/// Reads a small file into `buf` (reused across reads to avoid allocations in a sweep).
fn read_into<'a>(path: &Path, buf: &'a mut String) -> Option<&'a str> {
    buf.clear();
    std::fs::File::open(path).ok()?.read_to_string(buf).ok()?;
    Some(buf.as_str())
}

fn read_u64(path: &Path, buf: &mut String) -> Option<u64> {
    read_into(path, buf)?.trim().parse().ok()
}

/// The value of `key` in a flat keyed file (`key value` lines, as memory.stat or cpu.stat).
pub fn read_keyed(path: &Path, key: &str) -> Option<u64> {
    let mut buf = String::new();
    keyed(read_into(path, &mut buf)?, key)
}

fn keyed(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

/// Limits at or above this are "unlimited" (v1 reports `PAGE_COUNTER_MAX` pages as bytes).
const UNLIMITED: u64 = 1 << 62;

/// Reads one container's counters; a missing file counts as zero (a container that just
/// exited has no cgroup any more).
pub fn read(layout: &Layout, id: &str) -> Counters {
    let mut buf = String::with_capacity(4096);
    let mut c = Counters::default();
    match layout {
        Layout::V1 { .. } => {
            if let Some(d) = layout.dir("cpuacct", id) {
                c.cpu_ns = read_u64(&d.join("cpuacct.usage"), &mut buf).unwrap_or(0);
            }
            if let Some(d) = layout.dir("memory", id) {
                c.memory_usage = read_u64(&d.join("memory.usage_in_bytes"), &mut buf).unwrap_or(0);
                c.memory_limit =
                    read_u64(&d.join("memory.limit_in_bytes"), &mut buf).filter(|&l| l < UNLIMITED);
                c.memory_inactive_file = read_into(&d.join("memory.stat"), &mut buf)
                    .and_then(|t| keyed(t, "total_inactive_file"))
                    .unwrap_or(0);
            }
            if let Some(d) = layout.dir("pids", id) {
                c.pids = read_u64(&d.join("pids.current"), &mut buf).unwrap_or(0);
            }
            if let Some(d) = layout.dir("blkio", id) {
                if let Some(t) = read_into(&d.join("blkio.throttle.io_service_bytes_recursive"), &mut buf) {
                    (c.block_read, c.block_write) = v1_blkio(t);
                }
            }
        }
        Layout::V2 { root } => {
            let d = root.join(super::PARENT).join(id);
            c.cpu_ns = read_into(&d.join("cpu.stat"), &mut buf)
                .and_then(|t| keyed(t, "usage_usec"))
                .map(|us| us * 1000)
                .unwrap_or(0);
            c.memory_usage = read_u64(&d.join("memory.current"), &mut buf).unwrap_or(0);
            c.memory_limit = read_u64(&d.join("memory.max"), &mut buf).filter(|&l| l < UNLIMITED);
            c.memory_inactive_file = read_into(&d.join("memory.stat"), &mut buf)
                .and_then(|t| keyed(t, "inactive_file"))
                .unwrap_or(0);
            c.pids = read_u64(&d.join("pids.current"), &mut buf).unwrap_or(0);
            if let Some(t) = read_into(&d.join("io.stat"), &mut buf) {
                (c.block_read, c.block_write) = v2_io(t);
            }
        }
    }
    c
}

/// Sums `<major:minor> Read N` / `Write N` lines of v1's io_service_bytes.
fn v1_blkio(text: &str) -> (u64, u64) {
    let (mut r, mut w) = (0, 0);
    for line in text.lines() {
        let mut f = line.split_whitespace();
        let (Some(_dev), Some(op), Some(n)) = (f.next(), f.next(), f.next()) else { continue };
        let n: u64 = n.parse().unwrap_or(0);
        match op {
            "Read" => r += n,
            "Write" => w += n,
            _ => {}
        }
    }
    (r, w)
}

/// Sums `rbytes=` / `wbytes=` of v2's io.stat.
fn v2_io(text: &str) -> (u64, u64) {
    let (mut r, mut w) = (0, 0);
    for field in text.split_whitespace() {
        if let Some(n) = field.strip_prefix("rbytes=") {
            r += n.parse::<u64>().unwrap_or(0);
        } else if let Some(n) = field.strip_prefix("wbytes=") {
            w += n.parse::<u64>().unwrap_or(0);
        }
    }
    (r, w)
}

/// The interfaces of the network namespace `pid` is in, loopback left out (as Docker does).
pub fn read_net(proc_root: &Path, pid: i32) -> Vec<NetCounters> {
    let mut buf = String::new();
    let Some(text) = read_into(&proc_root.join(pid.to_string()).join("net/dev"), &mut buf) else {
        return Vec::new();
    };
    parse_net_dev(text)
}

fn parse_net_dev(text: &str) -> Vec<NetCounters> {
    text.lines()
        .skip(2)
        .filter_map(|line| {
            let (name, rest) = line.split_once(':')?;
            let name = name.trim();
            if name == "lo" {
                return None;
            }
            let v: Vec<u64> = rest.split_whitespace().map(|x| x.parse().unwrap_or(0)).collect();
            (v.len() >= 10).then(|| NetCounters {
                interface: name.to_string(),
                rx_bytes: v[0],
                rx_packets: v[1],
                tx_bytes: v[8],
                tx_packets: v[9],
            })
        })
        .collect()
}

/// CPUs online on the host: CPU time over wall time is divided by this for "% of the machine".
pub fn online_cpus() -> u32 {
    // SAFETY: sysconf only reads a system value.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    u32::try_from(n).ok().filter(|&n| n > 0).unwrap_or(1)
}

/// Total memory of the host (`MemTotal`), the limit shown for unlimited containers.
pub fn host_memory(proc_root: &Path) -> u64 {
    let mut buf = String::new();
    read_into(&proc_root.join("meminfo"), &mut buf)
        .and_then(|t| t.lines().find_map(|l| l.strip_prefix("MemTotal:")))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::cgroups::write_fake_files;

    #[test]
    fn v2_counters_from_a_fake_tree() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("gantry/abc");
        write_fake_files(
            &d,
            &[
                ("cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n"),
                ("memory.current", "10485760\n"),
                ("memory.max", "max\n"),
                ("memory.stat", "anon 100\nfile 200\ninactive_file 4096\nactive_file 12\n"),
                ("pids.current", "3\n"),
                ("io.stat", "8:0 rbytes=100 wbytes=20 rios=1 wios=2\n8:16 rbytes=1 wbytes=2 rios=0 wios=0\n"),
                ("memory.events", "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n"),
            ],
        );
        let layout = Layout::v2_at(t.path());
        let c = read(&layout, "abc");
        assert_eq!(
            c,
            Counters {
                cpu_ns: 1_500_000,
                memory_usage: 10 << 20,
                memory_inactive_file: 4096,
                memory_limit: None,
                pids: 3,
                block_read: 101,
                block_write: 22,
            }
        );
        write_fake_files(&d, &[("memory.max", "33554432\n")]);
        assert_eq!(read(&layout, "abc").memory_limit, Some(32 << 20));
        assert_eq!(layout.oom_kills("abc"), 1);
        assert_eq!(read(&layout, "gone"), Counters::default());
    }

    #[test]
    fn v1_counters_from_a_fake_tree() {
        let t = tempfile::tempdir().unwrap();
        let layout = Layout::v1_at(t.path());
        let dir = |c: &str| t.path().join(c).join("gantry/abc");
        write_fake_files(&dir("cpuacct"), &[("cpuacct.usage", "123456789\n")]);
        write_fake_files(
            &dir("memory"),
            &[
                ("memory.usage_in_bytes", "2097152\n"),
                ("memory.limit_in_bytes", "9223372036854771712\n"),
                ("memory.stat", "cache 5\ninactive_file 1\ntotal_inactive_file 1024\n"),
                ("memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n"),
            ],
        );
        write_fake_files(&dir("pids"), &[("pids.current", "7\n")]);
        write_fake_files(
            &dir("blkio"),
            &[(
                "blkio.throttle.io_service_bytes_recursive",
                "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Total 12288\nTotal 12288\n",
            )],
        );
        let c = read(&layout, "abc");
        assert_eq!((c.cpu_ns, c.memory_usage, c.memory_inactive_file), (123_456_789, 2 << 20, 1024));
        assert_eq!((c.memory_limit, c.pids, c.block_read, c.block_write), (None, 7, 4096, 8192));
        assert_eq!(layout.oom_kills("abc"), 2);
    }

    #[test]
    fn net_dev_and_meminfo() {
        let text = "Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    lo:     100       2    0    0    0     0          0         0      100       2    0    0    0     0       0          0\n  eth0:    1296      16    0    0    0     0          0         0      726       9    0    0    0     0       0          0\n";
        let n = parse_net_dev(text);
        assert_eq!(
            n,
            vec![NetCounters {
                interface: "eth0".into(),
                rx_bytes: 1296,
                rx_packets: 16,
                tx_bytes: 726,
                tx_packets: 9
            }]
        );
        let t = tempfile::tempdir().unwrap();
        write_fake_files(t.path(), &[("meminfo", "MemTotal:       24576000 kB\nMemFree: 1 kB\n")]);
        assert!(online_cpus() >= 1);
        assert_eq!(host_memory(t.path()), 24_576_000 * 1024);
    }
}
