//! Starting (through a monitor process), stopping, killing, pausing, removing, renaming and
//! waiting for containers, and noticing monitors that died.

use std::io::BufRead;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::dirs::ContainerDirs;
use super::{Container, exe, now_nanos};
use crate::engine::Engine;
use crate::engine::error::{Error, Result};
use crate::engine::monitor::sys::{same_process, start_time};
use crate::engine::runtime::rootfs;
use crate::engine::store::containers::{self, ContainerRow, State};
use crate::engine::store::tmp::TempDir;

/// How long a start may take before the engine gives up waiting for its monitor.
const START_TIMEOUT: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(10);

/// What the monitor reports on its sync pipe (one JSON object per line).
#[derive(Debug, serde::Deserialize, serde::Serialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum SyncMessage {
    /// The attach socket listens (sent only when the start waits for a client): the client
    /// connects and asks for the start now, while the container is still being created.
    Listening,
    /// The container exists and waits for an attach client to start it.
    Created {
        pid: i32,
    },
    Started {
        pid: i32,
    },
    Error {
        message: String,
    },
}

/// Parses a signal name (`KILL`, `SIGKILL`, `kill`) or number.
pub fn parse_signal(s: &str) -> Result<i32> {
    if let Ok(n) = s.parse::<i32>() {
        if (1..=64).contains(&n) {
            return Ok(n);
        }
    }
    let up = s.to_ascii_uppercase();
    let name = up.strip_prefix("SIG").unwrap_or(&up);
    let n = match name {
        "HUP" => libc::SIGHUP,
        "INT" => libc::SIGINT,
        "QUIT" => libc::SIGQUIT,
        "ILL" => libc::SIGILL,
        "TRAP" => libc::SIGTRAP,
        "ABRT" | "IOT" => libc::SIGABRT,
        "BUS" => libc::SIGBUS,
        "FPE" => libc::SIGFPE,
        "KILL" => libc::SIGKILL,
        "USR1" => libc::SIGUSR1,
        "SEGV" => libc::SIGSEGV,
        "USR2" => libc::SIGUSR2,
        "PIPE" => libc::SIGPIPE,
        "ALRM" => libc::SIGALRM,
        "TERM" => libc::SIGTERM,
        "STKFLT" => libc::SIGSTKFLT,
        "CHLD" => libc::SIGCHLD,
        "CONT" => libc::SIGCONT,
        "STOP" => libc::SIGSTOP,
        "TSTP" => libc::SIGTSTP,
        "TTIN" => libc::SIGTTIN,
        "TTOU" => libc::SIGTTOU,
        "URG" => libc::SIGURG,
        "XCPU" => libc::SIGXCPU,
        "XFSZ" => libc::SIGXFSZ,
        "VTALRM" => libc::SIGVTALRM,
        "PROF" => libc::SIGPROF,
        "WINCH" => libc::SIGWINCH,
        "IO" | "POLL" => libc::SIGIO,
        "PWR" => libc::SIGPWR,
        "SYS" => libc::SIGSYS,
        _ => return Err(Error::InvalidArgument(format!("invalid signal: {s}"))),
    };
    Ok(n)
}

/// The files of a removed container, moved into the scratch area; deleted on drop.
#[must_use = "dropping it deletes the removed container's files"]
pub struct Discarded(#[allow(dead_code, reason = "held for its Drop")] Option<TempDir>);

fn send_signal(pid: i32, sig: i32) -> Result<()> {
    // SAFETY: kill(2) with integers only.
    if unsafe { libc::kill(pid, sig) } != 0 {
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::ESRCH) {
            return Err(Error::io(format!("signalling process {pid}"), e));
        }
    }
    Ok(())
}

/// How a run of a container ended, as its monitor records it.
pub(crate) struct RunEnd<'a> {
    /// `Exited`, or `Restarting` when the restart policy runs it again.
    pub state: State,
    pub code: i32,
    pub oom: bool,
    /// Why it could not run (empty when it ran).
    pub error: &'a str,
    /// Whether to record `die` (not when a restart already recorded it for this exit).
    pub die: bool,
}

/// A monitor started before its container exists ([`Engine::prepare_monitor`]): it waits for
/// the container's ID on `id_pipe`, and reports on `report` like any monitor. Dropping it
/// closes the pipe, and the monitor ends.
pub struct PendingMonitor {
    child: std::process::Child,
    id_pipe: std::process::ChildStdin,
    report: std::process::ChildStdout,
    attached: bool,
}

/// Reads a monitor's reports on its sync pipe until the start (detached) or, with `hello`, the
/// creation, sending `hello` to the attach socket as soon as it listens.
fn read_report(
    stdout: std::process::ChildStdout,
    name: &str,
    socket: &std::path::Path,
    hello: Option<&[u8]>,
) -> Result<Option<std::os::unix::net::UnixStream>> {
    let mut reader = std::io::BufReader::new(stdout);
    let deadline = Instant::now() + START_TIMEOUT;
    let mut line = String::new();
    let mut attached = None;
    while Instant::now() < deadline {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) => {
                return Err(Error::Runtime(format!(
                    "the monitor of {name} exited before starting it (see gantry.log)"
                )));
            }
            Ok(_) => match serde_json::from_str::<SyncMessage>(line.trim()) {
                Ok(SyncMessage::Listening) => {
                    if let Some(hello) = hello {
                        attached = Some(connect_and_send(socket, hello)?);
                    }
                }
                Ok(SyncMessage::Started { .. }) => return Ok(None),
                Ok(SyncMessage::Created { .. }) if hello.is_some() => {
                    return attached.map(Some).ok_or_else(|| {
                        Error::Runtime(format!("the monitor of {name} did not offer an attach socket"))
                    });
                }
                Ok(SyncMessage::Created { .. }) => continue,
                Ok(SyncMessage::Error { message }) => return Err(Error::Runtime(message)),
                Err(_) => continue,
            },
            Err(e) => return Err(Error::io("reading the monitor's report", e)),
        }
    }
    Err(Error::Runtime(format!("timed out starting {name}")))
}

/// Connects to a monitor's attach socket and sends a client's first frames.
fn connect_and_send(socket: &std::path::Path, hello: &[u8]) -> Result<std::os::unix::net::UnixStream> {
    use std::io::Write;
    let mut stream = std::os::unix::net::UnixStream::connect(socket)
        .map_err(|e| Error::io(format!("attaching to {}", socket.display()), e))?;
    stream.write_all(hello).map_err(|e| Error::io("attaching", e))?;
    Ok(stream)
}

impl Engine {
    fn row(&self, id: &str) -> Result<ContainerRow> {
        self.db.read(|c| containers::get(c, id))?.ok_or_else(|| Error::ContainerNotFound(id.to_string()))
    }

    /// Whether the container's monitor (or, while starting, its starter) is still alive.
    pub(crate) fn monitor_alive(&self, row: &ContainerRow) -> bool {
        same_process(row.monitor_pid, row.monitor_start)
    }

    /// If the container's monitor died (killed, or the machine rebooted), stops whatever is
    /// left of the container and records it as exited with an error.
    pub fn reconcile(&self, id: &str) -> Result<()> {
        let row = self.row(id)?;
        if !row.state.has_monitor() || self.monitor_alive(&row) {
            return Ok(());
        }
        tracing::warn!(container = id, monitor = row.monitor_pid, "monitor is gone; cleaning up");
        self.teardown_runtime(id);
        let msg = format!(
            "container monitor (pid {}) died unexpectedly; the container was stopped",
            row.monitor_pid
        );
        self.db.write(|tx| {
            containers::set_exited(tx, id, State::Exited, 255, false, &msg, now_nanos())
                .map_err(|e| self.db.err(e))
        })?;
        self.record("container", "die", id, vec![("exitCode".into(), "255".into())]);
        // A crash may have left more than this container's objects behind.
        self.sweep_network_orphans();
        Ok(())
    }

    /// Kills what libcontainer still tracks for the container, unmounts its rootfs and
    /// releases its network resources.
    fn teardown_runtime(&self, id: &str) {
        let state = self.paths.runtime_state().join(id);
        if state.exists() {
            match libcontainer::container::Container::load(state.clone()) {
                Ok(mut c) => {
                    if let Err(e) = c.delete(true) {
                        tracing::warn!(container = id, error = %e, "runtime delete failed");
                    }
                }
                Err(e) => tracing::warn!(container = id, error = %e, "runtime state unreadable"),
            }
            crate::engine::store::tmp::remove_tree(&state);
        }
        // Whatever the runtime could not remove (its state lost with a killed monitor), and the
        // monitors' cgroup if that monitor was the last in it.
        crate::engine::cgroups::Layout::host().remove(id);
        crate::engine::cgroups::Layout::host().remove_monitors_if_empty();
        let dirs = ContainerDirs::new(&self.paths, id);
        if let Err(e) = rootfs::unmount(&dirs.rootfs()) {
            tracing::warn!(container = id, error = %e, "unmounting rootfs failed");
        }
        self.network_release(id);
    }

    /// Starts a created or exited container through a new monitor, detached.
    pub async fn start_container(self: &Arc<Self>, key: &str) -> Result<Container> {
        self.start(key, None, None).await.map(|(c, _)| c)
    }

    /// Starts a monitor ahead of the container it will run, so that its process start (an exec
    /// of gantry, opening the engine) overlaps the caller's own work, such as creating the
    /// container; hand it to [`Engine::start_prepared`] or [`Engine::start_attached`] (`attached`
    /// says which). Dropped unused, it ends without touching anything.
    pub fn prepare_monitor(&self, attached: bool) -> Result<PendingMonitor> {
        let mut cmd = self.monitor_command(attached)?;
        cmd.arg("--await-id")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null());
        let mut child = cmd.spawn().map_err(|e| Error::io("starting the monitor", e))?;
        let (Some(id_pipe), Some(report)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(Error::Runtime("the monitor has no pipes".into()));
        };
        Ok(PendingMonitor { child, id_pipe, report, attached })
    }

    /// [`Engine::start_container`] through a monitor made ready by [`Engine::prepare_monitor`].
    pub async fn start_prepared(
        self: &Arc<Self>,
        key: &str,
        monitor: Option<PendingMonitor>,
    ) -> Result<Container> {
        self.start(key, None, monitor).await.map(|(c, _)| c)
    }

    /// Starts a created or exited container with a client attached from its first byte of
    /// output: the client's `hello` frames (which must ask for the start) go to the monitor's
    /// attach socket as soon as it listens, while the container is still being created, so the
    /// monitor starts it the moment it is ready. Returns once the container is created, with
    /// the connected stream for the attach session.
    pub async fn start_attached(
        self: &Arc<Self>,
        key: &str,
        hello: Vec<u8>,
        monitor: Option<PendingMonitor>,
    ) -> Result<(Container, std::os::unix::net::UnixStream)> {
        let (c, stream) = self.start(key, Some(hello), monitor).await?;
        // Not reached: an attached start reports Created only after it connected.
        let stream = stream.ok_or_else(|| Error::Runtime(format!("no attach connection to {}", c.id())))?;
        Ok((c, stream))
    }

    async fn start(
        self: &Arc<Self>,
        key: &str,
        hello: Option<Vec<u8>>,
        monitor: Option<PendingMonitor>,
    ) -> Result<(Container, Option<std::os::unix::net::UnixStream>)> {
        let id = self.resolve_container(key)?;
        self.reconcile(&id)?;
        let me = std::process::id() as i32;
        let my_start = start_time(me).unwrap_or(0);
        let row = self.row(&id)?;
        match row.state {
            State::Running | State::Restarting | State::Starting => return self.already_started(&id, hello),
            State::Paused => {
                return Err(Error::Conflict(format!(
                    "cannot start a paused container {}, try unpause instead",
                    row.name
                )));
            }
            State::Removing | State::Dead => {
                return Err(Error::Conflict(format!(
                    "container {} is marked for removal and cannot be started",
                    row.name
                )));
            }
            State::Created | State::Exited => {}
        }
        // A no-op when the CLI did it as it started (a long-lived client, the TUI, relies on this).
        crate::engine::cgroups::Layout::host().warm_up_migrations();
        let (moved, attach_event) = self.db.write(|tx| {
            let ok = containers::transition(tx, &id, &[State::Created, State::Exited], State::Starting)
                .map_err(|e| self.db.err(e))?;
            if !ok {
                return Ok((false, None));
            }
            containers::set_monitor(tx, &id, me, my_start).map_err(|e| self.db.err(e))?;
            containers::clear_stopped_by_user(tx, &id).map_err(|e| self.db.err(e))?;
            // The client attaches before the start, as with Docker; recorded here rather than
            // when it connects, where it would compete with the monitor's own writes.
            let event = hello.is_some().then(|| self.record_in(tx, "container", "attach", &id, vec![]));
            Ok((true, event.transpose()?))
        })?;
        attach_event.into_iter().for_each(|e| self.publish(e));
        if !moved {
            // Someone else started it in the meantime.
            return self.already_started(&id, hello);
        }
        // A monitor prepared for the other kind of start cannot serve this one.
        let monitor = monitor.filter(|m| m.attached == hello.is_some());
        match self.spawn_monitor(&id, hello, monitor).await {
            Ok(stream) => Ok((self.container(&id)?, stream)),
            Err(e) => {
                // The monitor records its own failures; make sure nothing stays "starting".
                let _ = self.db.write(|tx| {
                    containers::transition(tx, &id, &[State::Starting], State::Exited)
                        .map(|_| ())
                        .map_err(|e| self.db.err(e))
                });
                Err(e)
            }
        }
    }

    /// A start of a container that runs already does nothing, or, attached (`start -a`),
    /// attaches to it.
    fn already_started(
        &self,
        id: &str,
        hello: Option<Vec<u8>>,
    ) -> Result<(Container, Option<std::os::unix::net::UnixStream>)> {
        let stream = match hello {
            Some(hello) => {
                let stream = connect_and_send(&ContainerDirs::new(&self.paths, id).attach_socket(), &hello)?;
                self.note_attach(id);
                Some(stream)
            }
            None => None,
        };
        Ok((self.container(id)?, stream))
    }

    /// Runs a monitor for container `id` (the prepared one, told the ID, or a new one) and
    /// waits for its report: the start (detached), or the creation once `hello` went to its
    /// attach socket (attached; the stream is returned).
    async fn spawn_monitor(
        &self,
        id: &str,
        hello: Option<Vec<u8>>,
        prepared: Option<PendingMonitor>,
    ) -> Result<Option<std::os::unix::net::UnixStream>> {
        let dirs = ContainerDirs::new(&self.paths, id);
        crate::engine::create_private_dir(&dirs.run)?;
        let (mut child, stdout) = match prepared {
            Some(PendingMonitor { child, mut id_pipe, report, .. }) => {
                use std::io::Write;
                tracing::debug!(container = id, "handing the container to the prepared monitor");
                id_pipe
                    .write_all(format!("{id}\n").as_bytes())
                    .map_err(|e| Error::io("starting the monitor", e))?;
                (child, report)
            }
            None => {
                let mut cmd = self.monitor_command(hello.is_some())?;
                cmd.arg(id)
                    .stdin(std::process::Stdio::null())
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::null());
                tracing::debug!(container = id, "spawning the monitor");
                let mut child = cmd.spawn().map_err(|e| Error::io("starting the monitor", e))?;
                let stdout =
                    child.stdout.take().ok_or_else(|| Error::Runtime("monitor has no sync pipe".into()))?;
                (child, stdout)
            }
        };
        let name = id.to_string();
        let socket = dirs.attach_socket();
        tokio::task::spawn_blocking(move || {
            let report = read_report(stdout, &name, &socket, hello.as_deref());
            // The starter (the monitor's parent, which exits once the monitor is detached) is
            // reaped here, off the start's path: it may still be moving the monitor.
            if !matches!(child.try_wait(), Ok(Some(_))) {
                std::thread::spawn(move || child.wait());
            }
            report
        })
        .await
        .map_err(|e| Error::Runtime(format!("waiting for the monitor: {e}")))?
    }

    /// `__monitor` with this engine's roots and credentials; `attached` starts the container
    /// only once an attach client asks.
    fn monitor_command(&self, attached: bool) -> Result<std::process::Command> {
        let mut cmd = self.helper_command("__monitor")?;
        cmd.arg("--credentials").arg(self.registry.credentials().path());
        if attached {
            cmd.arg("--wait-for-attach");
        }
        Ok(cmd)
    }

    /// A gantry helper process (`__monitor`, `__exec`) run from the protected binary and told
    /// where this engine's state and settings are.
    pub(crate) fn helper_command(&self, verb: &str) -> Result<std::process::Command> {
        let exe = exe::ensure(&self.paths.protected_exe())?;
        let mut cmd = std::process::Command::new(exe);
        cmd.arg(verb)
            .arg("--state-root")
            .arg(self.paths.root())
            .arg("--run-root")
            .arg(self.paths.run())
            .arg("--settings")
            .arg(&self.config_path);
        Ok(cmd)
    }

    /// Stops a container: its stop signal (TERM by default), then KILL after `timeout` seconds.
    pub async fn stop_container(&self, key: &str, timeout: Option<i64>) -> Result<()> {
        let id = self.resolve_container(key)?;
        self.reconcile(&id)?;
        let row = self.row(&id)?;
        if !row.state.has_monitor() {
            return Ok(());
        }
        let c = Container::from_row(row.clone());
        self.db.write(|tx| containers::set_stopped_by_user(tx, &id).map_err(|e| self.db.err(e)))?;
        let grace = timeout.or(c.config.stop_timeout).unwrap_or(10).max(0) as u64;
        let signal = match &c.config.stop_signal {
            Some(s) => parse_signal(s)?,
            None => libc::SIGTERM,
        };
        if row.pid > 0 {
            send_signal(row.pid, signal)?;
            self.record("container", "kill", &id, vec![("signal".into(), signal.to_string())]);
            if row.state == State::Paused {
                self.set_frozen(&id, false)?;
            }
        }
        if !self.wait_until_stopped(&id, Duration::from_secs(grace)).await? {
            let row = self.row(&id)?;
            if row.pid > 0 {
                send_signal(row.pid, libc::SIGKILL)?;
                self.record("container", "kill", &id, vec![("signal".into(), libc::SIGKILL.to_string())]);
            }
            if !self.wait_until_stopped(&id, Duration::from_secs(30)).await? {
                return Err(Error::Runtime(format!("container {} did not stop", c.row.name)));
            }
        }
        self.record("container", "stop", &id, vec![]);
        Ok(())
    }

    /// Polls until the monitor is gone (the container exited and was recorded).
    async fn wait_until_stopped(&self, id: &str, limit: Duration) -> Result<bool> {
        let deadline = Instant::now() + limit;
        loop {
            self.reconcile(id)?;
            let row = match self.db.read(|c| containers::get(c, id))? {
                Some(r) => r,
                None => return Ok(true), // removed (--rm)
            };
            if !row.state.has_monitor() {
                return Ok(true);
            }
            if Instant::now() >= deadline {
                return Ok(false);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Sends a signal to the container's main process.
    pub fn kill_container(&self, key: &str, signal: &str) -> Result<()> {
        let sig = parse_signal(signal)?;
        let c = self.container(key)?;
        if !matches!(c.row.state, State::Running | State::Paused) || c.row.pid <= 0 {
            return Err(Error::Conflict(format!("Container {} is not running", c.id())));
        }
        if sig == libc::SIGKILL || sig == libc::SIGTERM || sig == libc::SIGINT {
            self.db.write(|tx| containers::set_stopped_by_user(tx, c.id()).map_err(|e| self.db.err(e)))?;
        }
        send_signal(c.row.pid, sig)?;
        self.record("container", "kill", c.id(), vec![("signal".into(), sig.to_string())]);
        Ok(())
    }

    /// `restart`: stop (if running) and start again.
    pub async fn restart_container(self: &Arc<Self>, key: &str, timeout: Option<i64>) -> Result<()> {
        let id = self.resolve_container(key)?;
        self.stop_container(&id, timeout).await?;
        self.start_container(&id).await?;
        self.record("container", "restart", &id, vec![]);
        Ok(())
    }

    fn set_frozen(&self, id: &str, frozen: bool) -> Result<()> {
        let mut c = libcontainer::container::Container::load(self.paths.runtime_state().join(id))
            .map_err(|e| Error::Runtime(format!("loading runtime state: {e}")))?;
        let r = if frozen { c.pause() } else { c.resume() };
        r.map_err(|e| Error::Runtime(format!("{} failed: {e}", if frozen { "pause" } else { "unpause" })))
    }

    /// Freezes every process of the container (cgroup freezer).
    pub fn pause_container(&self, key: &str) -> Result<()> {
        let c = self.container(key)?;
        match c.row.state {
            State::Running => {}
            State::Paused => return Err(Error::Conflict(format!("Container {} is already paused", c.id()))),
            _ => return Err(Error::Conflict(format!("Container {} is not running", c.id()))),
        }
        self.set_frozen(c.id(), true)?;
        self.db.write(|tx| {
            containers::transition(tx, c.id(), &[State::Running], State::Paused)
                .map(|_| ())
                .map_err(|e| self.db.err(e))
        })?;
        self.record("container", "pause", c.id(), vec![]);
        Ok(())
    }

    pub fn unpause_container(&self, key: &str) -> Result<()> {
        let c = self.container(key)?;
        if c.row.state != State::Paused {
            return Err(Error::Conflict(format!("Container {} is not paused", c.id())));
        }
        self.set_frozen(c.id(), false)?;
        self.db.write(|tx| {
            containers::transition(tx, c.id(), &[State::Paused], State::Running)
                .map(|_| ())
                .map_err(|e| self.db.err(e))
        })?;
        self.record("container", "unpause", c.id(), vec![]);
        Ok(())
    }

    /// Removes a container; a running one only with `force` (killed first).
    pub async fn remove_container(&self, key: &str, force: bool) -> Result<()> {
        let id = self.resolve_container(key)?;
        self.reconcile(&id)?;
        let row = self.row(&id)?;
        if row.state.has_monitor() {
            if !force {
                return Err(Error::Conflict(format!(
                    "You cannot remove a {} container {id}. Stop the container before attempting removal or force remove",
                    row.state.as_str()
                )));
            }
            self.db.write(|tx| containers::set_stopped_by_user(tx, &id).map_err(|e| self.db.err(e)))?;
            if row.state == State::Paused {
                let _ = self.set_frozen(&id, false);
            }
            if row.pid > 0 {
                send_signal(row.pid, libc::SIGKILL)?;
            }
            if !self.wait_until_stopped(&id, Duration::from_secs(30)).await? {
                return Err(Error::Runtime(format!("container {} could not be killed", row.name)));
            }
        }
        self.destroy(&id).map(drop)
    }

    /// Deletes an exited container's state, files and record (also used by `--rm` monitors).
    /// The container's files are moved into the scratch area and deleted when the returned
    /// value is dropped: a `--rm` monitor tells its clients first (the record is gone by then),
    /// and a process killed before deleting them leaves them to the next command's sweep.
    pub fn destroy(&self, id: &str) -> Result<Discarded> {
        let claimed = self.db.write(|tx| {
            containers::transition(tx, id, &[State::Created, State::Exited, State::Dead], State::Removing)
                .map_err(|e| self.db.err(e))
        })?;
        if !claimed {
            let row = self.db.read(|c| containers::get(c, id))?;
            return match row {
                None => Ok(Discarded(None)),
                Some(r) if r.state == State::Removing => Ok(Discarded(None)),
                Some(r) => Err(Error::Conflict(format!("container {} is {}", r.name, r.state.as_str()))),
            };
        }
        self.teardown_runtime(id);
        let trash = self.move_aside(id)?;
        let destroyed = self.db.write(|tx| {
            containers::delete(tx, id).map_err(|e| self.db.err(e))?;
            self.record_in(tx, "container", "destroy", id, vec![])
        })?;
        self.publish(destroyed);
        Ok(trash)
    }

    /// The end of a `--rm` container's last run, from its monitor, which has already removed
    /// the runtime state, cgroups, network and root mount: the files are moved aside (deleted
    /// when the result is dropped, once the client is told) and the exit, its `die` event
    /// (unless a restart recorded it), the record's removal and `destroy` commit together.
    pub(crate) fn retire(&self, id: &str, end: &RunEnd<'_>) -> Result<Discarded> {
        let trash = self.move_aside(id)?;
        let events = self.db.write(|tx| {
            let mut events: Vec<_> = self.record_end_in(tx, id, end)?.into_iter().collect();
            containers::delete(tx, id).map_err(|e| self.db.err(e))?;
            events.push(self.record_in(tx, "container", "destroy", id, vec![])?);
            Ok(events)
        })?;
        events.into_iter().for_each(|e| self.publish(e));
        Ok(trash)
    }

    /// Records how a run ended inside `tx` (a restart also counts), and returns its `die`
    /// event when `end.die` asks for one, to publish once `tx` commits. The event commits with
    /// the state: whoever reacts to it (the TUI reloads its lists) must find the container
    /// exited or restarting, not still running.
    pub(crate) fn record_end_in(
        &self,
        tx: &rusqlite::Transaction<'_>,
        id: &str,
        end: &RunEnd<'_>,
    ) -> Result<Option<crate::engine::LifecycleEvent>> {
        containers::set_exited(tx, id, end.state, end.code, end.oom, end.error, now_nanos())
            .map_err(|e| self.db.err(e))?;
        if end.state == State::Restarting {
            containers::bump_restart(tx, id).map_err(|e| self.db.err(e))?;
        }
        let attrs = vec![("exitCode".to_string(), end.code.to_string())];
        end.die.then(|| self.record_in(tx, "container", "die", id, attrs)).transpose()
    }

    /// Moves the container's files into the scratch area (one rename), where they are deleted
    /// when the result is dropped, or by the next command's sweep if this process dies first.
    fn move_aside(&self, id: &str) -> Result<Discarded> {
        let dirs = ContainerDirs::new(&self.paths, id);
        crate::engine::store::tmp::remove_tree(&dirs.run);
        let trash = TempDir::new(&self.paths.tmp(), "removed")?;
        match std::fs::rename(&dirs.base, trash.path().join(id)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(container = id, error = %e, "could not move the container's files aside");
                crate::engine::store::tmp::remove_tree(&dirs.base);
            }
        }
        Ok(Discarded(Some(trash)))
    }

    pub fn rename_container(&self, key: &str, new_name: &str) -> Result<()> {
        let id = self.resolve_container(key)?;
        super::names::validate(new_name).map_err(Error::InvalidArgument)?;
        let old = self.row(&id)?.name;
        if old == new_name {
            return Err(Error::InvalidArgument(
                "Renaming a container with the same name as its current name".into(),
            ));
        }
        let r = self.db.write_unique(|tx| containers::rename(tx, &id, new_name))?;
        if !r {
            return Err(Error::Conflict(format!(
                "Error when allocating new name: The container name \"/{new_name}\" is already in use"
            )));
        }
        self.record(
            "container",
            "rename",
            &id,
            vec![("oldName".into(), format!("/{old}")), ("name".into(), new_name.into())],
        );
        Ok(())
    }

    /// Blocks until the container's next exit and returns its exit code.
    pub async fn wait_container(&self, key: &str) -> Result<i32> {
        let id = self.resolve_container(key)?;
        self.reconcile(&id)?;
        let first = self.row(&id)?;
        if matches!(first.state, State::Exited | State::Dead) {
            return Ok(first.exit_code);
        }
        loop {
            tokio::time::sleep(POLL).await;
            self.reconcile(&id)?;
            let Some(row) = self.db.read(|c| containers::get(c, &id))? else {
                return Ok(first.exit_code); // removed after exit (--rm)
            };
            if row.finished_at != first.finished_at
                && !matches!(row.state, State::Running | State::Starting | State::Paused)
            {
                return Ok(row.exit_code);
            }
        }
    }

    /// Waits until a container's record is gone (an `--rm` monitor removing it), up to `limit`.
    pub async fn wait_removed(&self, id: &str, limit: Duration) {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            match self.db.read(|c| containers::get(c, id)) {
                Ok(Some(_)) => tokio::time::sleep(POLL).await,
                _ => return,
            }
        }
    }

    /// Records that a client attached (Docker's `attach` event).
    pub fn note_attach(&self, id: &str) {
        self.record("container", "attach", id, vec![]);
    }

    /// Removes every stopped container; returns their IDs.
    pub fn prune_containers(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for c in self.containers()? {
            if matches!(c.row.state, State::Exited | State::Created | State::Dead) {
                drop(self.destroy(c.id())?);
                out.push(c.row.id.clone());
            }
        }
        Ok(out)
    }
}
