//! Live resource samples of containers: one sweep reads every running container's cgroup
//! counters and network interfaces (no process spawned) and turns them into Docker's figures —
//! CPU % against the previous sweep, memory without inactive page cache, per-interface network
//! and block I/O totals, PIDs. [`Engine::share_stats`] runs one sweep per interval for the
//! whole process and publishes it on the event stream, so the CLI's `stats`, the TUI's stats
//! pane and its per-row sparklines all share it.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::Engine;
use super::cgroups::Layout;
use super::cgroups::stats::{self, NetCounters};
use super::container::now_nanos;
use super::error::Result;
use super::events::Event;
use super::store::containers::State;

/// One container's figures at one moment.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StatsSample {
    pub id: String,
    pub name: String,
    /// When the counters were read (ns since the epoch).
    pub read_nanos: i64,
    pub running: bool,
    /// Docker's `CPU %`: percent of one CPU (up to 100 × CPUs).
    pub cpu_percent: f64,
    /// The same as a share of the whole machine (0–100).
    pub cpu_machine_percent: f64,
    pub cpu_usage_ns: u64,
    /// Memory in use, inactive page cache excluded.
    pub memory_usage: u64,
    /// The container's limit, or the host's memory when it has none.
    pub memory_limit: u64,
    pub memory_percent: f64,
    pub networks: Vec<NetCounters>,
    pub block_read: u64,
    pub block_write: u64,
    pub pids: u64,
}

impl StatsSample {
    /// Received and transmitted bytes over every interface.
    pub fn net_io(&self) -> (u64, u64) {
        self.networks.iter().fold((0, 0), |(r, t), n| (r + n.rx_bytes, t + n.tx_bytes))
    }
}

/// What one sweep looks at.
#[derive(Debug, Clone)]
pub struct StatsTarget {
    pub id: String,
    pub name: String,
    pub pid: i32,
    pub running: bool,
    /// Whether the container has a network namespace of its own to report (not `host`).
    pub own_network: bool,
}

/// Keeps the previous sweep's counters, for rates.
pub struct StatsSampler {
    layout: &'static Layout,
    proc_root: PathBuf,
    host_memory: u64,
    online_cpus: u32,
    /// When the previous sweep read its counters (CPU % is CPU time over this wall time).
    prev_at: Option<Instant>,
    prev_cpu: HashMap<String, u64>,
}

impl Default for StatsSampler {
    fn default() -> Self {
        Self::new(Layout::host(), PathBuf::from("/proc"))
    }
}

impl StatsSampler {
    pub fn new(layout: &'static Layout, proc_root: PathBuf) -> Self {
        let host_memory = stats::host_memory(&proc_root);
        let online_cpus = stats::online_cpus();
        Self { layout, proc_root, host_memory, online_cpus, prev_at: None, prev_cpu: HashMap::new() }
    }

    /// Reads every target once. CPU % is measured against the previous sweep; a container
    /// seen for the first time shows 0.
    pub fn sweep(&mut self, targets: &[StatsTarget]) -> Vec<StatsSample> {
        let now = now_nanos();
        let at = Instant::now();
        // Docker divides by the host's CPU time from /proc/stat (jiffies: 10 ms steps); wall
        // time from a monotonic clock is the same measure without the coarse steps.
        let wall_ns = self.prev_at.map(|p| at.duration_since(p).as_nanos() as f64).unwrap_or(0.0);
        let mut prev_cpu = HashMap::with_capacity(targets.len());
        let out = targets
            .iter()
            .map(|t| {
                if !t.running {
                    return StatsSample {
                        id: t.id.clone(),
                        name: t.name.clone(),
                        read_nanos: now,
                        ..Default::default()
                    };
                }
                let c = stats::read(self.layout, &t.id);
                let cpu_percent = match self.prev_cpu.get(&t.id) {
                    Some(&before) if wall_ns > 0.0 => {
                        c.cpu_ns.saturating_sub(before) as f64 / wall_ns * 100.0
                    }
                    // A first sight has nothing to measure against (Docker shows 0 too).
                    _ => 0.0,
                };
                prev_cpu.insert(t.id.clone(), c.cpu_ns);
                let memory_usage = c.memory_usage.saturating_sub(c.memory_inactive_file);
                let memory_limit = match c.memory_limit {
                    Some(l) if self.host_memory == 0 || l < self.host_memory => l,
                    _ => self.host_memory,
                };
                StatsSample {
                    id: t.id.clone(),
                    name: t.name.clone(),
                    read_nanos: now,
                    running: true,
                    cpu_percent,
                    cpu_machine_percent: cpu_percent / f64::from(self.online_cpus),
                    cpu_usage_ns: c.cpu_ns,
                    memory_usage,
                    memory_limit,
                    memory_percent: if memory_limit > 0 {
                        memory_usage as f64 / memory_limit as f64 * 100.0
                    } else {
                        0.0
                    },
                    networks: if t.own_network {
                        stats::read_net(&self.proc_root, t.pid)
                    } else {
                        Vec::new()
                    },
                    block_read: c.block_read,
                    block_write: c.block_write,
                    pids: c.pids,
                }
            })
            .collect();
        self.prev_at = Some(at);
        self.prev_cpu = prev_cpu;
        out
    }
}

impl Engine {
    /// The containers a sweep looks at: the running ones, or (`all`) every one.
    pub fn stats_targets(&self, all: bool) -> Result<Vec<StatsTarget>> {
        Ok(self
            .containers()?
            .into_iter()
            .filter(|c| all || c.row.state == State::Running)
            .map(|c| StatsTarget {
                running: matches!(c.row.state, State::Running | State::Paused),
                own_network: c.host().network_mode != "host",
                id: c.row.id,
                name: c.row.name,
                pid: c.row.pid,
            })
            .collect())
    }

    /// Starts the process's shared sampler (once; later calls do nothing): every `interval`,
    /// while anyone listens to the event stream, one sweep of every container (stopped ones
    /// cost nothing and come with `running: false`) is published as [`Event::Stats`].
    pub fn share_stats(self: &Arc<Self>, interval: Duration) {
        if self.stats_shared.swap(true, Ordering::SeqCst) {
            return;
        }
        let engine = Arc::clone(self);
        tokio::spawn(async move {
            let mut sampler = StatsSampler::default();
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if engine.events.listeners() == 0 {
                    continue;
                }
                let engine2 = Arc::clone(&engine);
                let swept = tokio::task::spawn_blocking(move || {
                    let samples = engine2.stats_targets(true).map(|t| sampler.sweep(&t));
                    (sampler, samples)
                })
                .await;
                sampler = match swept {
                    Ok((s, Ok(samples))) => {
                        engine.events.publish(Event::Stats(samples));
                        s
                    }
                    Ok((s, Err(e))) => {
                        tracing::warn!(error = %e, "stats sweep failed");
                        s
                    }
                    Err(_) => StatsSampler::default(),
                };
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::cgroups::write_fake_files;

    #[test]
    fn sweeps_give_rates_and_dockers_memory_figure() {
        let t = tempfile::tempdir().unwrap();
        let cg = t.path().join("cg/gantry/c1");
        write_fake_files(
            &cg,
            &[
                ("cpu.stat", "usage_usec 1000\n"),
                ("memory.current", "10485760\n"),
                ("memory.stat", "inactive_file 1048576\n"),
                ("memory.max", "max\n"),
                ("pids.current", "2\n"),
            ],
        );
        let proc_root = t.path().join("proc");
        write_fake_files(&proc_root, &[("meminfo", "MemTotal: 1000 kB\n")]);
        write_fake_files(
            &proc_root.join("42/net"),
            &[("dev", "h1\nh2\n  eth0: 500 5 0 0 0 0 0 0 300 3 0 0 0 0 0 0\n")],
        );
        let layout: &'static Layout = Box::leak(Box::new(Layout::v2_at(&t.path().join("cg"))));
        let mut sampler = StatsSampler::new(layout, proc_root);
        let target = |id: &str, running| StatsTarget {
            id: id.into(),
            name: format!("n-{id}"),
            pid: 42,
            running,
            own_network: true,
        };
        let targets = [target("c1", true), target("c2", false)];
        let first = sampler.sweep(&targets);
        assert_eq!(first[0].cpu_percent, 0.0, "nothing to compare with yet");
        assert_eq!(first[0].memory_usage, 9 << 20, "inactive page cache is left out");
        assert_eq!(first[0].memory_limit, 1000 * 1024, "no limit: the host's memory");
        assert_eq!((first[0].net_io(), first[0].pids), ((500, 300), 2));
        assert!(!first[1].running && first[1].memory_usage == 0);
        std::thread::sleep(Duration::from_millis(100));
        // 20 ms of CPU time during at least 100 ms of wall time: at most 20 % of one CPU.
        write_fake_files(&cg, &[("cpu.stat", "usage_usec 21000\n"), ("memory.max", "524288\n")]);
        let second = sampler.sweep(&targets);
        let cpu = second[0].cpu_percent;
        assert!(cpu > 0.0 && cpu <= 20.0, "{cpu}");
        assert_eq!(second[0].memory_limit, 512 << 10);
    }
}
