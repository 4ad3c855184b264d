//! Live resource samples of containers: one sweep reads every running container's cgroup
//! counters and network interfaces (no process spawned) and turns them into Docker's figures —
//! CPU % against the previous sweep, memory without inactive page cache, per-interface network
//! and block I/O totals, PIDs. [`Engine::share_stats`] runs one sweep per interval for the
//! whole process and publishes it on the event stream, so the CLI's `stats`, the TUI's stats
//! pane and its per-row sparklines all share it.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::Serialize;

use super::Engine;
use super::cgroups::Layout;
use super::cgroups::stats::{self, HostCounters, NetCounters};
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
    pub started_at: i64,
    pub running: bool,
    /// Whether the container has a network namespace of its own to report (not `host`).
    pub own_network: bool,
}

/// Keeps the previous sweep's counters, for rates.
pub struct StatsSampler {
    layout: &'static Layout,
    proc_root: PathBuf,
    host_memory: u64,
    prev_host: Option<HostCounters>,
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
        Self { layout, proc_root, host_memory, prev_host: None, prev_cpu: HashMap::new() }
    }

    /// Reads every target once. CPU % is measured against the previous sweep; a container
    /// seen for the first time shows 0.
    pub fn sweep(&mut self, targets: &[StatsTarget]) -> Vec<StatsSample> {
        let host = stats::read_host(&self.proc_root);
        let now = now_nanos();
        let system_delta = self.prev_host.map(|p| host.system_ns.saturating_sub(p.system_ns)).unwrap_or(0);
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
                    Some(&before) if system_delta > 0 => {
                        let delta = c.cpu_ns.saturating_sub(before) as f64;
                        delta / system_delta as f64 * f64::from(host.online_cpus) * 100.0
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
                    cpu_machine_percent: cpu_percent / f64::from(host.online_cpus.max(1)),
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
        self.prev_host = Some(host);
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
                own_network: c.host.network_mode != "host",
                id: c.row.id,
                name: c.row.name,
                pid: c.row.pid,
                started_at: c.row.started_at,
            })
            .collect())
    }

    /// Starts the process's shared sampler (once; later calls do nothing): every `interval`,
    /// while anyone listens to the event stream, one sweep of every container (stopped ones
    /// cost nothing and come with `running: false`) is published as [`Event::Stats`].
    pub fn share_stats(self: &Arc<Self>, interval: Duration) {
        static STARTED: AtomicBool = AtomicBool::new(false);
        if STARTED.swap(true, Ordering::SeqCst) {
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
