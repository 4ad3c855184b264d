//! Starting a container through its monitor process: spawning the monitor (or handing the
//! container to one prepared ahead of it), reading its reports, and attaching a client from
//! the container's first byte of output.

use std::io::BufRead;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::dirs::ContainerDirs;
use super::{Container, exe};
use crate::engine::error::{Error, Result};
use crate::engine::monitor::sys::start_time;
use crate::engine::paths::Paths;
use crate::engine::store::containers::{self, State};
use crate::engine::{Engine, EngineOptions, Locations};

/// How long a start may take before the engine gives up waiting for its monitor.
const START_TIMEOUT: Duration = Duration::from_secs(60);

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
    /// Starts a created or exited container through a new monitor, detached.
    pub async fn start_container(self: &Arc<Self>, key: &str) -> Result<Container> {
        self.start(key, None, None).await.map(|(c, _)| c)
    }

    /// Starts a monitor ahead of the container it will run, so that its process start (an exec
    /// of gantry, opening the engine) overlaps the caller's own work, such as creating the
    /// container; hand it to [`Engine::start_prepared`] or [`Engine::start_attached`] (`attached`
    /// says which). Dropped unused, it ends without touching anything. See
    /// [`PendingMonitor::spawn`] to start one before the engine is even open.
    pub fn prepare_monitor(&self, attached: bool) -> Result<PendingMonitor> {
        PendingMonitor::spawn_with(self.monitor_command(attached)?, attached)
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
        let runs = self.paths.container_runs();
        crate::engine::store::spread::ensure_topdir(&runs)
            .map_err(|e| Error::io(format!("creating {}", runs.display()), e))?;
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
        monitor_command(&self.paths, &self.config_path, self.registry.credentials().path(), attached)
    }

    /// A gantry helper process (`__monitor`, `__exec`) run from the protected binary and told
    /// where this engine's state and settings are.
    pub(crate) fn helper_command(&self, verb: &str) -> Result<std::process::Command> {
        helper_command(&self.paths, &self.config_path, verb)
    }
}

impl PendingMonitor {
    /// [`Engine::prepare_monitor`] for the engine `opts` will open, before it is open: a
    /// command line's `run` starts its monitor this way as the process starts, so that the
    /// monitor's own start (an exec, about 3 ms here) is over by the time the container
    /// exists, rather than begun after the engine opened.
    pub fn spawn(opts: EngineOptions, attached: bool) -> Result<PendingMonitor> {
        let at = Locations::of(opts)?;
        let cmd = monitor_command(&at.paths, &at.config_path, &at.credentials_path, attached)?;
        Self::spawn_with(cmd, attached)
    }

    fn spawn_with(mut cmd: std::process::Command, attached: bool) -> Result<PendingMonitor> {
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
}

/// `__monitor` for the engine at `paths`; `attached` starts the container only once an attach
/// client asks.
fn monitor_command(
    paths: &Paths,
    config_path: &Path,
    credentials: &Path,
    attached: bool,
) -> Result<std::process::Command> {
    let mut cmd = helper_command(paths, config_path, "__monitor")?;
    cmd.arg("--credentials").arg(credentials);
    if attached {
        cmd.arg("--wait-for-attach");
    }
    Ok(cmd)
}

/// A gantry helper process run from the protected binary and told where the engine's state
/// and settings are.
fn helper_command(paths: &Paths, config_path: &Path, verb: &str) -> Result<std::process::Command> {
    let exe = exe::ensure(&paths.protected_exe())?;
    let mut cmd = std::process::Command::new(exe);
    cmd.arg(verb)
        .arg("--state-root")
        .arg(paths.root())
        .arg("--run-root")
        .arg(paths.run())
        .arg("--settings")
        .arg(config_path);
    Ok(cmd)
}
