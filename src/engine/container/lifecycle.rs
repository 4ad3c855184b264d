//! Stopping, killing, pausing, removing, renaming and waiting for containers, and noticing
//! monitors that died. Starting them is in `start`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::dirs::ContainerDirs;
use super::{Container, now_nanos};
use crate::engine::Engine;
use crate::engine::error::{Error, Result};
use crate::engine::monitor::sys::same_process;
use crate::engine::runtime::rootfs;
use crate::engine::store::containers::{self, ContainerRow, State};
use crate::engine::store::tmp::TempDir;

const POLL: Duration = Duration::from_millis(10);

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

/// The files of a removed container, moved into the scratch area; deleted on drop, the root
/// filesystem unmounted first if it still is mounted (a `--rm` monitor unmounts it only once
/// its client is told).
#[must_use = "dropping it deletes the removed container's files"]
pub struct Discarded {
    #[allow(dead_code, reason = "held for its Drop")]
    trash: Option<TempDir>,
    rootfs: Option<std::path::PathBuf>,
}

impl Discarded {
    const NOTHING: Self = Self { trash: None, rootfs: None };
}

impl Drop for Discarded {
    fn drop(&mut self) {
        if let Some(rootfs) = &self.rootfs {
            if let Err(e) = rootfs::unmount(rootfs) {
                tracing::warn!(path = %rootfs.display(), error = %e, "could not unmount a removed root");
            }
        }
        // The trash directory goes with the field's own drop, after this.
    }
}

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

impl Engine {
    pub(super) fn row(&self, id: &str) -> Result<ContainerRow> {
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
                None => Ok(Discarded::NOTHING),
                Some(r) if r.state == State::Removing => Ok(Discarded::NOTHING),
                Some(r) => Err(Error::Conflict(format!("container {} is {}", r.name, r.state.as_str()))),
            };
        }
        self.teardown_runtime(id);
        let trash = self.move_aside(id)?;
        let destroyed = self.db.write(|tx| {
            let event = self.record_in(tx, "container", "destroy", id, vec![])?;
            containers::delete(tx, id).map_err(|e| self.db.err(e))?;
            Ok(event)
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
            events.push(self.record_in(tx, "container", "destroy", id, vec![])?);
            containers::delete(tx, id).map_err(|e| self.db.err(e))?;
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

    /// Moves the container's files into the scratch area (one rename; a root filesystem still
    /// mounted moves with them), where they are deleted when the result is dropped, or by the
    /// next command's sweep if this process dies first.
    fn move_aside(&self, id: &str) -> Result<Discarded> {
        let dirs = ContainerDirs::new(&self.paths, id);
        crate::engine::store::tmp::remove_tree(&dirs.run);
        let trash = TempDir::new(&self.paths.tmp(), "removed")?;
        let moved = trash.path().join(id);
        match std::fs::rename(&dirs.base, &moved) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(container = id, error = %e, "could not move the container's files aside");
                let _ = rootfs::unmount(&dirs.rootfs());
                crate::engine::store::tmp::remove_tree(&dirs.base);
            }
        }
        let rootfs = ContainerDirs { base: moved, run: dirs.run }.rootfs();
        Ok(Discarded { trash: Some(trash), rootfs: Some(rootfs) })
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
