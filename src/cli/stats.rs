//! `gantry stats`: Docker's columns (CPU %, MEM USAGE / LIMIT, MEM %, NET I/O, BLOCK I/O, PIDS)
//! from the engine's stats sweeps, once (`--no-stream`) or redrawn each second from the shared
//! sampler on the event stream.

use std::collections::HashSet;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::args::StatsArgs;
use super::format::{Table, bytes_size, human_size, short_id};
use super::output::{Failure, Outcome, print};
use super::template::Template;
use crate::engine::Engine;
use crate::engine::events::Event;
use crate::engine::stats::{StatsSample, StatsSampler};

/// How long `--no-stream` measures CPU use over: long enough for a steady figure (CPU time is
/// counted in nanoseconds), short enough to keep the command quick.
const ONE_SHOT_WINDOW: Duration = Duration::from_millis(100);

/// Which samples to show, and in what order.
struct Selection {
    /// Container IDs the user named, in their order (empty: all, or all running).
    named: Vec<String>,
    all: bool,
}

impl Selection {
    fn pick(&self, samples: &[StatsSample]) -> Vec<StatsSample> {
        if self.named.is_empty() {
            return samples.iter().filter(|s| self.all || s.running).cloned().collect();
        }
        self.named.iter().filter_map(|id| samples.iter().find(|s| &s.id == id).cloned()).collect()
    }
}

/// The fields `--format` templates see, as Docker names them.
fn fields(s: &StatsSample, no_trunc: bool) -> Value {
    let (rx, tx) = s.net_io();
    let dash = |v: String| if s.running { v } else { "--".into() };
    json!({
        "Container": short_id(&s.id, no_trunc),
        "ID": short_id(&s.id, no_trunc),
        "Name": s.name,
        "CPUPerc": dash(format!("{:.2}%", s.cpu_percent)),
        "MemUsage": if s.running { format!("{} / {}", bytes_size(s.memory_usage), bytes_size(s.memory_limit)) } else { "0B / 0B".into() },
        "MemPerc": dash(format!("{:.2}%", s.memory_percent)),
        "NetIO": format!("{} / {}", human_size(rx), human_size(tx)),
        "BlockIO": format!("{} / {}", human_size(s.block_read), human_size(s.block_write)),
        "PIDs": s.pids.to_string(),
    })
}

const COLUMNS: &[(&str, &str)] = &[
    ("ID", "CONTAINER ID"),
    ("Name", "NAME"),
    ("CPUPerc", "CPU %"),
    ("MemUsage", "MEM USAGE / LIMIT"),
    ("MemPerc", "MEM %"),
    ("NetIO", "NET I/O"),
    ("BlockIO", "BLOCK I/O"),
    ("PIDs", "PIDS"),
];

/// Renders one round of samples in the chosen format.
fn render(samples: &[StatsSample], a: &StatsArgs) -> Result<String, Failure> {
    let format = a.format.as_deref().unwrap_or("table");
    if format == "json" {
        let mut out = String::new();
        for s in samples {
            out.push_str(&fields(s, a.no_trunc).to_string());
            out.push('\n');
        }
        return Ok(out);
    }
    if let Some(rest) = format.strip_prefix("table") {
        let rest = rest.trim();
        if rest.is_empty() {
            let mut t = Table::new(&COLUMNS.iter().map(|(_, h)| *h).collect::<Vec<_>>());
            for s in samples {
                let v = fields(s, a.no_trunc);
                t.row(COLUMNS.iter().map(|(k, _)| v[*k].as_str().unwrap_or("").to_string()).collect());
            }
            return Ok(t.render());
        }
        // `table {{.Name}}\t{{.CPUPerc}}`: a header made of the columns' names, then rows.
        let template = Template::parse(rest).map_err(Failure::new)?;
        let header: String = COLUMNS.iter().fold(rest.replace("\\t", "\t"), |h, (k, name)| {
            h.replace(&format!("{{{{.{k}}}}}"), name).replace(&format!("{{{{ .{k} }}}}"), name)
        });
        let header = if rest.contains("{{.Container}}") {
            header.replace("{{.Container}}", "CONTAINER")
        } else {
            header
        };
        let mut rows = vec![header.split('\t').map(String::from).collect::<Vec<_>>()];
        for s in samples {
            let line = template.render(&fields(s, a.no_trunc)).map_err(Failure::new)?;
            rows.push(line.split('\t').map(String::from).collect());
        }
        let mut t = Table::default();
        for r in rows {
            t.row(r);
        }
        return Ok(t.render());
    }
    let template = Template::parse(format).map_err(Failure::new)?;
    let mut out = String::new();
    for s in samples {
        out.push_str(&template.render(&fields(s, a.no_trunc)).map_err(Failure::new)?);
        out.push('\n');
    }
    Ok(out)
}

pub async fn stats(engine: &Arc<Engine>, a: StatsArgs) -> Outcome {
    let mut named = Vec::new();
    for n in &a.containers {
        named.push(engine.container(n)?.id().to_string());
    }
    let selection = Selection { named, all: a.all };
    if a.no_stream {
        let mut sampler = StatsSampler::default();
        sampler.sweep(&engine.stats_targets(true)?);
        tokio::time::sleep(ONE_SHOT_WINDOW).await;
        let samples = sampler.sweep(&engine.stats_targets(true)?);
        return print(&render(&selection.pick(&samples), &a)?);
    }
    let tty = std::io::stdout().is_terminal();
    let mut events = engine.subscribe();
    engine.share_stats(Duration::from_secs(1));
    let mut seen_named: HashSet<String> = HashSet::new();
    loop {
        let samples = match events.recv().await {
            Ok(Event::Stats(samples)) => samples,
            Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
            Err(_) => return Ok(()),
        };
        let picked = selection.pick(&samples);
        // Named containers that were removed drop out; when none is left, stop as Docker does.
        if !selection.named.is_empty() {
            seen_named.extend(picked.iter().map(|s| s.id.clone()));
            if picked.is_empty() && !seen_named.is_empty() {
                return Ok(());
            }
        }
        let mut text = render(&picked, &a)?;
        if tty {
            // Redraw in place: clear the screen and home the cursor, as `docker stats` does.
            text.insert_str(0, "\x1b[2J\x1b[H");
        }
        print(&text)?;
    }
}
