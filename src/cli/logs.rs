//! `gantry logs`: the container's output from its log file, with `--tail`, `-t`, `--since`,
//! `--until` and `-f` (follows until the container stops).

use std::io::{BufWriter, Write};
use std::sync::Arc;
use std::time::Duration;

use super::args::LogsArgs;
use super::output::{Failure, Outcome};
use crate::engine::Engine;
use crate::engine::container::logs::{self, Query, Record};
use crate::engine::monitor::logfile::Stream;

/// Writes records to stdout/stderr with large buffers (a million lines must be quick).
struct Sink {
    out: BufWriter<std::io::Stdout>,
    err: BufWriter<std::io::Stderr>,
    timestamps: bool,
}

impl Sink {
    fn write(&mut self, r: &Record<'_>) -> std::io::Result<()> {
        let w: &mut dyn Write = match r.stream {
            Stream::Stdout => &mut self.out,
            Stream::Stderr => &mut self.err,
        };
        if self.timestamps {
            w.write_all(r.time.as_bytes())?;
            w.write_all(b" ")?;
        }
        w.write_all(r.text)?;
        if !r.partial {
            w.write_all(b"\n")?;
        }
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()?;
        self.err.flush()
    }
}

pub async fn logs(engine: &Arc<Engine>, a: LogsArgs) -> Outcome {
    let c = engine.container(&a.container)?;
    let now = chrono::Utc::now();
    let tail = match a.tail.as_str() {
        "all" | "-1" => None,
        n => Some(n.parse::<usize>().map_err(|_| Failure::usage(format!("invalid --tail value {n:?}")))?),
    };
    let q = Query {
        tail,
        since: a.since.as_deref().map(|s| logs::parse_time(s, now)).transpose().map_err(Failure::usage)?,
        until: a.until.as_deref().map(|s| logs::parse_time(s, now)).transpose().map_err(Failure::usage)?,
    };
    let path = engine.container_dirs(c.id()).log();
    let mut sink = Sink {
        out: BufWriter::with_capacity(256 * 1024, std::io::stdout()),
        err: BufWriter::with_capacity(64 * 1024, std::io::stderr()),
        timestamps: a.timestamps,
    };
    let result = logs::read(&path, &q, |r| sink.write(r));
    let pos = match result {
        Ok(p) => p,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
        Err(e) => return Err(Failure::new(format!("reading logs: {e}"))),
    };
    sink.flush().ok();
    if !a.follow || q.until.is_some() {
        return Ok(());
    }
    // Follow: read what is appended until the container stops (and its output is drained).
    let follow_q = Query { tail: None, ..q };
    let mut tail = logs::Tail::new(&path, pos);
    loop {
        let running = engine.container(c.id()).map(|c| c.row.state.has_monitor()).unwrap_or(false);
        match tail.read_new(&follow_q, &mut |rec| sink.write(rec)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
            Err(e) => return Err(Failure::new(format!("reading logs: {e}"))),
        }
        if sink.flush().is_err() {
            return Ok(());
        }
        if !running {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
