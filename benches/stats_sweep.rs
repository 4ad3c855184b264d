//! The cost of one stats sweep (every running container's cgroup counters and network
//! interfaces) as the TUI pays it each second: `cargo bench --bench stats_sweep -- ROOT [RUNS]`
//! against a gantry state root with containers running (scripts/bench `stats` starts 100).
//! Prints the median, minimum and maximum of RUNS sweeps, with and without listing the
//! containers from the database first, and whether any process was spawned meanwhile.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use gantry::engine::stats::StatsSampler;
use gantry::engine::{Engine, EngineOptions};

/// The kernel's most recently allocated PID (the 5th field of /proc/loadavg).
fn last_pid() -> u64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().nth(4).and_then(|p| p.parse().ok()))
        .unwrap_or(0)
}

fn summary(mut v: Vec<Duration>) -> String {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!("median {:.2} ms  min {:.2} ms  max {:.2} ms", ms(v[v.len() / 2]), ms(v[0]), ms(v[v.len() - 1]))
}

fn main() {
    // `cargo bench` passes `--bench`; everything else is ours.
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let Some(root) = args.first() else {
        eprintln!("usage: cargo bench --bench stats_sweep -- GANTRY_ROOT [RUNS]");
        std::process::exit(2);
    };
    let runs: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(50);
    let engine = Engine::open(EngineOptions {
        root: Some(PathBuf::from(root)),
        config_path: std::env::var_os("GANTRY_CONFIG").map(PathBuf::from),
        ..Default::default()
    })
    .unwrap_or_else(|e| panic!("opening {root}: {e}"));
    let targets = engine.stats_targets(false).expect("listing containers");
    let mut sampler = StatsSampler::default();
    sampler.sweep(&targets);
    let pid_before = last_pid();
    let (mut sweep, mut full) = (Vec::new(), Vec::new());
    let mut samples = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        samples = sampler.sweep(&targets);
        sweep.push(t.elapsed());
        let t = Instant::now();
        let listed = engine.stats_targets(false).expect("listing containers");
        sampler.sweep(&listed);
        full.push(t.elapsed());
    }
    let spawned = last_pid() != pid_before;
    let with_memory = samples.iter().filter(|s| s.memory_usage > 0).count();
    println!("containers running: {} (samples with memory figures: {with_memory})", targets.len());
    println!("one sweep (cgroup files + /proc):       {}", summary(sweep));
    println!("list containers + sweep (what stats does): {}", summary(full));
    println!(
        "processes spawned during the sweeps: {}",
        if spawned {
            "the host's last PID moved (something on the host forked; gantry's sweep spawns none)"
        } else {
            "none (the host's last PID did not move)"
        }
    );
}
