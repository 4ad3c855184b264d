//! The per-container monitor (`gantry __monitor ID`), on conmon's model: a small
//! single-threaded process, detached from whoever started it, that creates the container with
//! libcontainer, owns its stdio (pipes, or the pty master), writes the log, serves attach
//! clients, records the exit, applies the restart policy and removes `--rm` containers. It
//! is single-threaded whenever libcontainer clones from it: its helper threads, which make the
//! container's network namespace and (v1) its cgroups during a launch, are joined before the
//! clone.

mod hidden_cgroups;
mod launch;
pub mod logfile;
pub mod protocol;
mod serve;
pub mod sys;

use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::engine::container::config::{ContainerConfig, HostConfig};
use crate::engine::container::lifecycle::{Discarded, RunEnd};
use crate::engine::container::now_nanos;
use crate::engine::container::start::SyncMessage;
use crate::engine::store::containers::{self, State};
use crate::engine::{Engine, EngineOptions};

/// What the engine passes to a monitor.
#[derive(Debug, Clone)]
pub struct MonitorArgs {
    pub state_root: PathBuf,
    pub run_root: PathBuf,
    pub settings: PathBuf,
    pub credentials: PathBuf,
    /// Empty with `await_id`.
    pub id: String,
    pub wait_for_attach: bool,
    /// Started ahead of its container: read the ID from stdin once the engine is open.
    pub await_id: bool,
}

/// Restart backoff: from 100 ms, doubling, capped; reset after a run of this long.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(60);
const STABLE_RUN: Duration = Duration::from_secs(10);

/// The reporting half of the sync pipe (the monitor's original stdout).
struct Sync(Option<std::fs::File>);

impl Sync {
    fn send(&mut self, m: &SyncMessage) {
        if let Some(f) = self.0.as_mut() {
            let mut line = serde_json::to_string(m).unwrap_or_default();
            line.push('\n');
            let _ = f.write_all(line.as_bytes());
        }
    }

    fn close(&mut self) {
        self.0 = None;
    }
}

/// Takes the monitor out of the monitors' cgroup as it ends, however it ends.
struct LeaveMonitors;

impl Drop for LeaveMonitors {
    fn drop(&mut self) {
        crate::engine::cgroups::Layout::host().leave_monitors();
    }
}

/// Entry point; returns the process exit status.
pub fn main(mut args: MonitorArgs) -> i32 {
    // Keep the sync pipe off fds 0-2, which go to /dev/null (and to the container's init if
    // libcontainer is given no stdio).
    // SAFETY: duplicating our own stdout descriptor.
    let sync_fd = unsafe { libc::fcntl(1, libc::F_DUPFD_CLOEXEC, 3) };
    let mut sync = Sync((sync_fd >= 0).then(|| unsafe { std::fs::File::from_raw_fd(sync_fd) }));
    // SAFETY: as above, for stdin, where a prepared monitor's client sends the ID.
    let id_fd = if args.await_id { unsafe { libc::fcntl(0, libc::F_DUPFD_CLOEXEC, 3) } } else { -1 };
    let id_pipe = (id_fd >= 0).then(|| unsafe { std::fs::File::from_raw_fd(id_fd) });
    let layout = crate::engine::cgroups::Layout::host();
    let detached = sys::daemonize_then(|monitor| {
        // v2: the starter, concurrently with the monitor's set-up (see cgroups::monitors).
        if !layout.is_v2() {
            return;
        }
        if let Err(message) = layout.adopt_monitor(monitor) {
            let _log = init_logging(&args.state_root);
            tracing::warn!(%message, "the monitor stays in its starter's cgroup");
        }
    });
    // v1: the monitor, while it has this one thread.
    let entered = layout.enter_monitors();
    let _leave = LeaveMonitors;
    if let Err(e) = detached.and_then(|_| sys::null_stdio()).and_then(|_| sys::become_subreaper()) {
        sync.send(&SyncMessage::Error { message: format!("monitor setup failed: {e}") });
        return 1;
    }
    let _log = init_logging(&args.state_root);
    if let Err(message) = entered {
        tracing::warn!(%message, "the monitor stays in its starter's cgroup");
    }
    tracing::debug!(container = %args.id, "monitor detached");
    let opts = EngineOptions {
        root: Some(args.state_root.clone()),
        run: Some(args.run_root.clone()),
        config_path: Some(args.settings.clone()),
        credentials_path: Some(args.credentials.clone()),
    };
    let engine = match Engine::open(opts) {
        Ok(e) => e,
        Err(e) => {
            sync.send(&SyncMessage::Error { message: e.to_string() });
            return 1;
        }
    };
    if args.await_id {
        match read_id(id_pipe) {
            Some(id) => args.id = id,
            // The client went away (it could not create the container): nothing to run.
            None => return 0,
        }
        tracing::debug!(container = %args.id, "container handed over");
    }
    let code = match supervise(&engine, &args, &mut sync) {
        Ok(()) => 0,
        Err(message) => {
            tracing::error!(container = %args.id, %message, "monitor failed");
            sync.send(&SyncMessage::Error { message });
            1
        }
    };
    let _ = sync_fd.as_raw_fd();
    code
}

/// The container ID a prepared monitor's client sends (one line), once it has created the
/// container; `None` when the client closed the pipe instead, or sent something else.
fn read_id(pipe: Option<std::fs::File>) -> Option<String> {
    use std::io::{BufRead, Read};
    let mut text = String::new();
    std::io::BufReader::new(pipe?.take(128)).read_line(&mut text).ok()?;
    let id = text.trim();
    crate::engine::container::is_full_id(id).then(|| id.to_string())
}

fn init_logging(root: &std::path::Path) -> Option<()> {
    let dir = root.join("logs");
    std::fs::create_dir_all(&dir).ok()?;
    // A plain blocking writer: the monitor must stay single-threaded.
    let file = tracing_appender::rolling::never(&dir, "gantry.log");
    let filter = tracing_subscriber::EnvFilter::try_from_env("GANTRY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(crate::engine::DEFAULT_LOG_FILTER));
    tracing_subscriber::fmt().with_writer(file).with_ansi(false).with_env_filter(filter).try_init().ok()
}

/// Runs the container until it exits for good (no restart), then cleans up.
fn supervise(engine: &Arc<Engine>, args: &MonitorArgs, sync: &mut Sync) -> Result<(), String> {
    let id = args.id.as_str();
    let me = std::process::id() as i32;
    let my_start = sys::start_time(me).unwrap_or(0);
    engine
        .db
        .write(|tx| containers::set_monitor(tx, id, me, my_start).map_err(|e| engine.db.err(e)))
        .map_err(|e| e.to_string())?;
    let row =
        engine.db.read(|c| containers::get(c, id)).map_err(|e| e.to_string())?.ok_or("container vanished")?;
    let config: ContainerConfig = serde_json::from_str(&row.config).map_err(|e| e.to_string())?;
    let mut host: HostConfig = serde_json::from_str(&row.host_config).map_err(|e| e.to_string())?;
    let dirs = engine.container_dirs(id);
    let (max_size, max_files) = host.log_rotation()?;
    let mut log = logfile::LogWriter::open(&dirs.log(), max_size, max_files)
        .map_err(|e| format!("opening the log: {e}"))?;
    let mut clients =
        serve::Clients::bind(&dirs.attach_socket()).map_err(|e| format!("attach socket: {e}"))?;
    if args.wait_for_attach {
        sync.send(&SyncMessage::Listening);
    }
    let mut backoff = FIRST_BACKOFF;
    let mut first = true;
    // How the previous run ended (for a restart that a stop cancels).
    let (mut last_code, mut last_oom) = (0, false);
    loop {
        let t0 = Instant::now();
        let launched =
            engine.network_prepare(id, &config, &host).map_err(|e| e.to_string()).and_then(|att| {
                tracing::debug!(container = id, elapsed = ?t0.elapsed(), "network prepared");
                launch::launch(engine, id, &row.image_id, &config, &host, &att).map(|p| (p, att))
            });
        tracing::debug!(container = id, elapsed = ?t0.elapsed(), "launched");
        let (mut proc, attachment) = match launched {
            Ok(p) => p,
            Err(message) => {
                engine.network_release(id);
                let _ = launch::unmount_rootfs(engine, id);
                let end =
                    RunEnd { state: State::Exited, code: 127, oom: false, error: &message, die: !first };
                exited(engine, id, &end)?;
                clients.broadcast_error(&message);
                return Err(message);
            }
        };
        if first {
            sync.send(&SyncMessage::Created { pid: proc.pid });
            if args.wait_for_attach {
                clients.wait_for_start(Duration::from_secs(60));
            }
        } else if stopped_meanwhile(engine, id) {
            // A stop that arrived while this restart was being set up ends the policy here.
            proc.delete();
            engine.network_release(id);
            drop(attachment);
            // The previous run's `die` is recorded already.
            let end = RunEnd { state: State::Exited, code: last_code, oom: last_oom, error: "", die: false };
            return finish(engine, id, &end, &host, &mut clients, None);
        }
        proc.start().map_err(|e| format!("starting the container: {e}"))?;
        let started = Instant::now();
        let start_event = engine
            .db
            .write(|tx| {
                containers::set_running(tx, id, proc.pid, me, my_start, now_nanos())
                    .map_err(|e| engine.db.err(e))?;
                let attrs = vec![("image".into(), row.image_name.clone()), ("name".into(), row.name.clone())];
                engine.record_in(tx, "container", "start", id, attrs)
            })
            .map_err(|e| e.to_string())?;
        engine.publish(start_event);
        if first {
            sync.send(&SyncMessage::Started { pid: proc.pid });
            sync.close();
            first = false;
        }
        // Setting up is done: what it used need not stay resident while the container runs.
        let shed = || {
            engine.db.checkpoint();
            engine.db.shrink_memory();
            // SAFETY: the monitor is single-threaded; nothing else changes its mappings.
            let shed = unsafe { sys::shed_memory() };
            tracing::debug!(container = id, shed_bytes = shed, "memory given back");
        };
        let status = serve::run(&mut proc, &mut clients, &mut log, shed);
        tracing::debug!(container = id, "container exited");
        let _ = log.finish();
        let oom = proc.oom_killed();
        engine.network_release(id);
        drop(attachment);
        let code = status.code();
        (last_code, last_oom) = (code, oom);
        let current = engine
            .db
            .read(|c| containers::get(c, id))
            .map_err(|e| e.to_string())?
            .ok_or("container vanished")?;
        // `gantry update` may have changed the restart policy or the limits meanwhile.
        if let Ok(updated) = serde_json::from_str(&current.host_config) {
            host = updated;
        }
        if oom {
            engine.record("container", "oom", id, vec![]);
        }
        let restart =
            host.restart_policy.should_restart(code, current.restart_count, current.stopped_by_user);
        if restart {
            proc.delete_exited();
            exited(engine, id, &RunEnd { state: State::Restarting, code, oom, error: "", die: true })?;
            clients.broadcast_exit(code);
            if started.elapsed() >= STABLE_RUN {
                backoff = FIRST_BACKOFF;
            }
            if !sleep_unless_stopped(engine, id, backoff) {
                let end = RunEnd { state: State::Exited, code, oom, error: "", die: false };
                return finish(engine, id, &end, &host, &mut clients, None);
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
            continue;
        }
        let end = RunEnd { state: State::Exited, code, oom, error: "", die: true };
        return finish(engine, id, &end, &host, &mut clients, Some(&mut proc));
    }
}

/// Whether the user stopped (or removed) the container since its last run ended.
fn stopped_meanwhile(engine: &Engine, id: &str) -> bool {
    !matches!(engine.db.read(|c| containers::get(c, id)), Ok(Some(r)) if !r.stopped_by_user)
}

/// Waits out the restart backoff; false when the user stopped or removed the container.
fn sleep_unless_stopped(engine: &Engine, id: &str, d: Duration) -> bool {
    let deadline = Instant::now() + d;
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20).min(d));
        if stopped_meanwhile(engine, id) {
            return false;
        }
    }
    true
}

/// The container will not run again: unmount first, then record the exit (so a new start,
/// which needs the exited state, can never race this cleanup), honour `--rm`, and tell the
/// clients. `die` is recorded unless a restart already recorded it for this exit. The last
/// run's runtime state and cgroups (`ended`, unless already removed) go before the exit is
/// recorded; for a `--rm` container, which nothing can start again, only once the clients
/// are told, as its files and its root's unmount (an expedited RCU grace period, 0.6-0.8 ms
/// here).
fn finish(
    engine: &Engine,
    id: &str,
    end: &RunEnd<'_>,
    host: &HostConfig,
    clients: &mut serve::Clients,
    mut ended: Option<&mut launch::Proc>,
) -> Result<(), String> {
    if !host.auto_remove {
        if let Some(proc) = ended.take() {
            proc.delete_exited();
        }
    }
    let told = unmount_record_and_tell(engine, id, end, host.auto_remove, clients);
    // The files go only now, with the clients (`run --rm`) already told.
    if let Some(proc) = ended {
        proc.delete_exited();
    }
    let told = told.map(drop);
    engine.db.checkpoint();
    // Off every client's path: a root an older gantry made gets its directories spread.
    crate::engine::store::spread::mark_existing(&engine.paths);
    told
}

/// [`finish`]'s part until the clients are told; returns what `--rm` set aside for deletion.
fn unmount_record_and_tell(
    engine: &Engine,
    id: &str,
    end: &RunEnd<'_>,
    auto_remove: bool,
    clients: &mut serve::Clients,
) -> Result<Option<Discarded>, String> {
    if !auto_remove {
        launch::unmount_rootfs(engine, id)?;
        tracing::debug!(container = id, "root filesystem unmounted");
    }
    // With --rm, remove first: a client told of the exit then finds the container gone. The
    // root, still mounted, moves aside with its files and is unmounted when they go.
    let removed = if auto_remove {
        let retired = engine.retire(id, end).map(Some).map_err(|e| e.to_string());
        if retired.is_err() {
            // Whatever was not moved aside is still mounted where it was.
            let _ = launch::unmount_rootfs(engine, id);
        }
        retired
    } else {
        exited(engine, id, end).map(|()| None)
    };
    tracing::debug!(container = id, "exit recorded");
    clients.broadcast_exit(end.code);
    removed
}

/// Records how a run ended, with its `die` event, in one transaction.
fn exited(engine: &Engine, id: &str, end: &RunEnd<'_>) -> Result<(), String> {
    let event = engine.db.write(|tx| engine.record_end_in(tx, id, end)).map_err(|e| e.to_string())?;
    event.into_iter().for_each(|e| engine.publish(e));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A pipe whose write end gets `text` (then closes, unless `keep_open`).
    fn pipe_with(text: &str, keep_open: bool) -> (std::fs::File, Option<std::fs::File>) {
        let (r, w) = rustix::pipe::pipe().unwrap();
        let mut w = std::fs::File::from(w);
        w.write_all(text.as_bytes()).unwrap();
        (std::fs::File::from(r), keep_open.then_some(w))
    }

    #[test]
    fn a_prepared_monitor_takes_one_full_id_line() {
        let id = "ab".repeat(32);
        let (r, _w) = pipe_with(&format!("{id}\n"), true);
        assert_eq!(read_id(Some(r)).as_deref(), Some(id.as_str()), "a line is enough; no EOF needed");
        let (r, _) = pipe_with("", false);
        assert_eq!(read_id(Some(r)), None, "the client went away");
        let (r, _) = pipe_with("../etc\n", false);
        assert_eq!(read_id(Some(r)), None, "not an ID");
        let (r, _) = pipe_with(&format!("{}\n", "AB".repeat(32)), false);
        assert_eq!(read_id(Some(r)), None, "IDs are lowercase");
        assert_eq!(read_id(None), None);
    }
}
