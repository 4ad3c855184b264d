//! `exec`, `top`, `diff` and `cp`: working with a container's processes and files.

use std::path::Path;
use std::sync::Arc;

use super::args::{CpArgs, DiffArgs, ExecArgs, TopArgs};
use super::format::Table;
use super::output::{Failure, Outcome, print};
use crate::engine::Engine;
use crate::engine::container::inspect_fs::{copy_in, copy_out};
use crate::engine::exec::ExecRequest;
use crate::engine::store::containers::State;

pub async fn exec(engine: &Arc<Engine>, a: ExecArgs) -> Outcome {
    let c = engine.container(&a.container)?;
    if c.row.state != State::Running {
        return Err(Failure { message: format!("Container {} is not running", c.id()), code: 126 });
    }
    let req = ExecRequest {
        args: a.command.clone(),
        env: a.env.clone(),
        workdir: a.workdir.clone(),
        user: a.user.clone(),
        tty: a.tty,
        detach: a.detach,
    };
    let mut cmd = engine.exec_command(c.id(), &req)?;
    if !a.interactive {
        cmd.stdin(std::process::Stdio::null());
    }
    // The helper owns the terminal (or the stdio) until the process ends.
    let status = tokio::task::spawn_blocking(move || cmd.status())
        .await
        .map_err(|e| Failure::new(e.to_string()))?
        .map_err(|e| Failure::new(format!("starting exec: {e}")))?;
    match status.code() {
        Some(0) => Ok(()),
        Some(c) => Err(Failure::silent(c as u8)),
        None => Err(Failure::silent(1)),
    }
}

/// `ps -ef`-style columns, as `docker top` prints them.
pub fn top(engine: &Arc<Engine>, a: TopArgs) -> Outcome {
    let rows = engine.top(&a.container)?;
    let users = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let name = |uid: u32| {
        users
            .lines()
            .find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.len() > 2 && f[2].parse::<u32>().ok() == Some(uid)).then(|| f[0].to_string())
            })
            .unwrap_or_else(|| uid.to_string())
    };
    let ticks = rustix::param::clock_ticks_per_second().max(1);
    let boot = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| l.strip_prefix("btime ").and_then(|v| v.trim().parse::<i64>().ok()))
        })
        .unwrap_or(0);
    let mut table = Table::new(&["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]);
    for r in rows {
        let started =
            chrono::DateTime::from_timestamp(boot + (r.start_ticks / ticks) as i64, 0).unwrap_or_default();
        let stime = if chrono::Utc::now() - started < chrono::Duration::hours(24) {
            started.format("%H:%M").to_string()
        } else {
            started.format("%b%d").to_string()
        };
        let secs = r.cpu_ticks / ticks;
        let time = format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
        table.row(vec![
            name(r.uid),
            r.pid.to_string(),
            r.ppid.to_string(),
            r.cpu_percent.to_string(),
            stime,
            r.tty,
            time,
            r.cmd,
        ]);
    }
    print(&table.render())
}

pub fn diff(engine: &Arc<Engine>, a: DiffArgs) -> Outcome {
    let out: String = engine.diff(&a.container)?.iter().map(|c| format!("{} {}\n", c.kind, c.path)).collect();
    print(&out)
}

/// Splits `CONTAINER:PATH`; a local path has no colon before its first slash.
fn container_path(s: &str) -> Option<(&str, &str)> {
    if s.starts_with('/') || s.starts_with('.') {
        return None;
    }
    s.split_once(':')
}

pub fn cp(engine: &Arc<Engine>, a: CpArgs) -> Outcome {
    match (container_path(&a.source), container_path(&a.dest)) {
        (Some((ctr, src)), None) => {
            let root = engine.open_root(ctr)?;
            copy_out(&root, src, Path::new(&a.dest))?;
            Ok(())
        }
        (None, Some((ctr, dest))) => {
            let root = engine.open_root(ctr)?;
            copy_in(&root, Path::new(&a.source), dest)?;
            Ok(())
        }
        (Some(_), Some(_)) => Err(Failure::usage("copying between containers is not supported")),
        (None, None) => Err(Failure::usage("must specify at least one container source")),
    }
}
