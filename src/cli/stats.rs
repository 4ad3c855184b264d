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

/// The column header of each template field, as Docker names them.
const HEADERS: &[(&str, &str)] = &[
    ("Container", "CONTAINER"),
    ("ID", "CONTAINER ID"),
    ("Name", "NAME"),
    ("CPUPerc", "CPU %"),
    ("MemUsage", "MEM USAGE / LIMIT"),
    ("MemPerc", "MEM %"),
    ("NetIO", "NET I/O"),
    ("BlockIO", "BLOCK I/O"),
    ("PIDs", "PIDS"),
];

/// Docker's default columns.
const DEFAULT_TABLE: &str = "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}";

/// Renders one round of samples in the chosen format: `json` (a line each), `table
/// TEMPLATE` (aligned, with a header made by rendering the template over the column names),
/// or a bare template (a line each).
fn render(samples: &[StatsSample], a: &StatsArgs) -> Result<String, Failure> {
    let format = match a.format.as_deref() {
        None | Some("table") => DEFAULT_TABLE,
        Some(f) => f,
    };
    let mut out = String::new();
    if format == "json" {
        for s in samples {
            out.push_str(&fields(s, a.no_trunc).to_string());
            out.push('\n');
        }
        return Ok(out);
    }
    if let Some(rest) = format.strip_prefix("table") {
        let template = Template::parse(rest.trim()).map_err(Failure::new)?;
        let names: serde_json::Map<String, Value> =
            HEADERS.iter().map(|(k, h)| (k.to_string(), Value::from(*h))).collect();
        let cells = |line: String| line.split('\t').map(String::from).collect::<Vec<_>>();
        let mut table = Table::default();
        table.row(cells(template.render(&Value::Object(names)).map_err(Failure::new)?));
        for s in samples {
            table.row(cells(template.render(&fields(s, a.no_trunc)).map_err(Failure::new)?));
        }
        return Ok(table.render());
    }
    let template = Template::parse(format).map_err(Failure::new)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn args(format: Option<&str>) -> StatsArgs {
        StatsArgs {
            all: false,
            no_stream: true,
            no_trunc: false,
            format: format.map(String::from),
            containers: vec![],
        }
    }

    fn samples() -> Vec<StatsSample> {
        vec![
            StatsSample {
                id: "a".repeat(64),
                name: "web".into(),
                running: true,
                cpu_percent: 12.345,
                memory_usage: 3 << 20,
                memory_limit: 64 << 20,
                memory_percent: 4.6875,
                block_read: 4096,
                pids: 3,
                ..Default::default()
            },
            StatsSample { id: "b".repeat(64), name: "gone".into(), ..Default::default() },
        ]
    }

    #[test]
    fn formats_like_docker_stats() {
        let table = render(&samples(), &args(None)).unwrap();
        let lines: Vec<&str> = table.lines().collect();
        assert!(lines[0].starts_with("CONTAINER ID   NAME") && lines[0].ends_with("PIDS"), "{table}");
        let web: Vec<&str> = lines[1].split("  ").map(str::trim).filter(|c| !c.is_empty()).collect();
        assert_eq!(
            web,
            ["aaaaaaaaaaaa", "web", "12.35%", "3MiB / 64MiB", "4.69%", "0B / 0B", "4.1kB / 0B", "3"]
        );
        assert!(lines[2].contains("--") && lines[2].contains("0B / 0B"), "a stopped container: {table}");
        let custom = render(&samples(), &args(Some("table {{.Container}}\\t{{ .PIDs }}"))).unwrap();
        assert_eq!(custom.lines().next(), Some("CONTAINER      PIDS"));
        assert_eq!(custom.lines().nth(1), Some("aaaaaaaaaaaa   3"));
        let plain = render(&samples(), &args(Some("{{.Name}}: {{.CPUPerc}}"))).unwrap();
        assert_eq!(plain, "web: 12.35%\ngone: --\n");
        let json = render(&samples(), &args(Some("json"))).unwrap();
        let first: Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
        assert_eq!(first["MemPerc"], "4.69%");
    }
}
