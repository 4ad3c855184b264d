//! `exec`: starting another process in a running container. libcontainer's tenant builder
//! clones, so this runs in a fresh single-threaded helper (`gantry __exec`), started from the
//! protected binary like the monitor. The process gets the container's namespaces, cgroup,
//! capabilities and (by default) user; without `-t` it inherits the helper's stdio directly,
//! with `-t` the helper relays between its terminal and the container's pty. The container's
//! seccomp filter is loaded by [`tenant::FilteredExecutor`] (libcontainer's tenant path drops it).

use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::PathBuf;

use libcontainer::container::builder::ContainerBuilder;
use libcontainer::syscall::syscall::SyscallType;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::monitor::sys;
use super::runtime::{tenant, user};
use super::store::containers::State;
use super::{Engine, EngineOptions};

/// What to run, as passed from the CLI to the helper (JSON in an argument).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct ExecRequest {
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub workdir: Option<String>,
    pub user: Option<String>,
    pub tty: bool,
    pub detach: bool,
}

/// The helper's entry point: the exec'd process's exit status, or why it could not run (the
/// caller reports that and exits with 126, as Docker does).
pub fn helper_main(opts: EngineOptions, id: &str, request: &str) -> Result<i32, String> {
    let req: ExecRequest = serde_json::from_str(request).map_err(|e| format!("bad exec request: {e}"))?;
    let engine = Engine::open(opts).map_err(|e| e.to_string())?;
    run(&engine, id, &req)
}

fn run(engine: &Engine, id: &str, req: &ExecRequest) -> Result<i32, String> {
    let c = engine.container(id).map_err(|e| e.to_string())?;
    if c.row.state != State::Running || c.row.pid <= 0 {
        return Err(format!("container {} is not running", c.id()));
    }
    let dirs = engine.container_dirs(id);
    let spec: Value =
        serde_json::from_slice(&std::fs::read(dirs.bundle().join("config.json")).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    let mut process = spec.get("process").cloned().ok_or("the container has no process spec")?;
    // The container's own root, as its init sees it, for looking up users.
    let root = PathBuf::from(format!("/proc/{}/root", c.row.pid));
    let user_spec = req.user.clone().unwrap_or_else(|| c.config.user.clone());
    let u = user::resolve(&root, &user_spec)?;
    let mut env: Vec<String> = process
        .get("env")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect())
        .unwrap_or_default();
    for e in &req.env {
        crate::engine::container::config::set_env(&mut env, e);
    }
    process["args"] = serde_json::json!(req.args);
    process["env"] = serde_json::json!(env);
    process["terminal"] = Value::Bool(req.tty);
    process["user"] = serde_json::json!({"uid": u.uid, "gid": u.gid, "additionalGids": u.additional_gids});
    if let Some(w) = &req.workdir {
        if !w.starts_with('/') {
            return Err(format!("the working directory '{w}' is invalid, it needs to be an absolute path"));
        }
        process["cwd"] = Value::String(w.clone());
    }
    let filter = tenant::filtered(&dirs.bundle(), &spec, &mut process)?;
    let tag = format!("{:08x}", rand::random::<u32>());
    let process_file = dirs.run.join(format!("exec-{tag}.json"));
    std::fs::write(&process_file, serde_json::to_vec(&process).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let _cleanup = RemoveOnDrop(process_file.clone());
    if req.detach {
        sys::daemonize().map_err(|e| e.to_string())?;
    }
    let mut builder = ContainerBuilder::new(id.to_string(), SyscallType::default())
        .with_root_path(engine.paths.runtime_state())
        .map_err(|e| e.to_string())?;
    if let Some(executor) = filter {
        builder = builder.with_executor(executor);
    }
    let mut listener = None;
    let console = dirs.run.join(format!("exec-{tag}.sock"));
    let _console_cleanup = RemoveOnDrop(console.clone());
    if req.tty {
        listener = Some(UnixListener::bind(&console).map_err(|e| format!("console socket: {e}"))?);
        builder = builder.with_console_socket(Some(&console));
    } else if req.detach {
        let null = || std::fs::File::options().read(true).write(true).open("/dev/null").map(OwnedFd::from);
        builder = builder
            .with_stdin(null().map_err(|e| e.to_string())?)
            .with_stdout(null().map_err(|e| e.to_string())?)
            .with_stderr(null().map_err(|e| e.to_string())?);
    }
    let pid = builder
        .as_tenant()
        .with_process(Some(&process_file))
        .with_detach(req.tty || req.detach)
        .build()
        .map_err(|e| format!("exec failed: {e}"))?;
    engine.record(
        "container",
        "exec_start",
        id,
        vec![("execID".into(), tag), ("command".into(), req.args.join(" "))],
    );
    if req.detach {
        return Ok(0);
    }
    if let Some(l) = listener {
        let (stream, _) = l.accept().map_err(|e| e.to_string())?;
        let master = sys::receive_fd(&stream).map_err(|e| e.to_string())?;
        relay_terminal(&master, pid.as_raw());
    }
    Ok(wait(pid.as_raw()))
}

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn wait(pid: i32) -> i32 {
    let mut status = 0;
    // SAFETY: waiting for our own child into a local.
    let r = unsafe { libc::waitpid(pid, &mut status, 0) };
    if r != pid {
        return 126;
    }
    sys::exit_code(status)
}

/// Copies between our terminal (raw) and the container's pty until the process closes it.
fn relay_terminal(master: &OwnedFd, _pid: i32) {
    use rustix::event::{PollFd, PollFlags, poll};
    let stdin = std::io::stdin();
    let saved = rustix::termios::tcgetattr(&stdin).ok();
    if let Some(t) = &saved {
        let mut raw = t.clone();
        raw.make_raw();
        let _ = rustix::termios::tcsetattr(&stdin, rustix::termios::OptionalActions::Now, &raw);
    }
    if let Ok(ws) = rustix::termios::tcgetwinsize(std::io::stdout()) {
        let _ = sys::set_winsize(master, ws.ws_row.max(1), ws.ws_col.max(1));
    }
    let mut buf = [0u8; 16 * 1024];
    let mut stdin_open = true;
    loop {
        let mut fds = vec![PollFd::new(master, PollFlags::IN)];
        if stdin_open {
            fds.push(PollFd::new(&stdin, PollFlags::IN));
        }
        if poll(&mut fds, Some(&rustix::event::Timespec { tv_sec: 1, tv_nsec: 0 })).is_err() {
            continue;
        }
        let m = fds[0].revents();
        let i = fds.get(1).map(|f| f.revents()).unwrap_or(PollFlags::empty());
        drop(fds);
        if !m.is_empty() {
            match rustix::io::read(master, &mut buf) {
                Ok(n) if n > 0 => {
                    let _ = rustix::io::write(std::io::stdout().as_fd(), &buf[..n]);
                }
                _ => break,
            }
        }
        if !i.is_empty() {
            match rustix::io::read(stdin.as_fd(), &mut buf) {
                Ok(n) if n > 0 => {
                    let _ = rustix::io::write(master, &buf[..n]);
                }
                _ => stdin_open = false,
            }
        }
    }
    if let Some(t) = saved {
        let _ = rustix::termios::tcsetattr(&stdin, rustix::termios::OptionalActions::Now, &t);
    }
}

impl Engine {
    /// The command line that runs an exec helper for this engine (state dirs and settings).
    pub fn exec_command(&self, id: &str, req: &ExecRequest) -> super::Result<std::process::Command> {
        let mut cmd = self.helper_command("__exec")?;
        cmd.arg(id).arg(serde_json::to_string(req).unwrap_or_default());
        Ok(cmd)
    }

    /// The command line that attaches the calling terminal to a running container until it
    /// exits or the user detaches (Ctrl-P Ctrl-Q); for clients that hand their terminal over.
    pub fn attach_command(&self, id: &str) -> super::Result<std::process::Command> {
        let mut cmd = self.helper_command("__attach")?;
        cmd.arg(id);
        Ok(cmd)
    }
}
