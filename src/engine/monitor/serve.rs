//! The monitor's event loop while the container runs: copy output to the log and to attach
//! clients, feed client input to the container, resize its terminal, and reap children until
//! the container's init exits. One `poll` over every descriptor; no threads.

use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, poll};

use super::launch::Proc;
use super::logfile::{LogWriter, Stream};
use super::protocol::{Decoder, Frame, MAX_FRAME};
use super::sys;

/// How the container's init ended.
#[derive(Debug, Clone, Copy)]
pub struct ExitStatus(i32);

impl ExitStatus {
    /// Docker's exit code: the status, or 128 + the signal that killed it.
    pub fn code(self) -> i32 {
        sys::exit_code(self.0)
    }
}

struct Client {
    /// Stable identity: indexes shift when clients leave mid-iteration.
    id: u64,
    stream: UnixStream,
    decoder: Decoder,
    stdin: bool,
    stdout: bool,
    stderr: bool,
    hello: bool,
}

/// The attach socket and its connected clients.
pub struct Clients {
    listener: UnixListener,
    list: Vec<Client>,
    next_id: u64,
    start_requested: bool,
    /// What clients sent before the container started, applied when it does.
    early: EarlyInput,
}

impl Clients {
    pub fn bind(path: &Path) -> io::Result<Self> {
        let _ = std::fs::remove_file(path);
        let listener = UnixListener::bind(path)?;
        listener.set_nonblocking(true)?;
        Ok(Self {
            listener,
            list: Vec::new(),
            next_id: 0,
            start_requested: false,
            early: EarlyInput::default(),
        })
    }

    fn accept(&mut self) {
        while let Ok((stream, _)) = self.listener.accept() {
            let _ = stream.set_nonblocking(false);
            // A client that stops reading is dropped rather than stalling the container.
            let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
            self.next_id += 1;
            self.list.push(Client {
                id: self.next_id,
                stream,
                decoder: Decoder::default(),
                stdin: false,
                stdout: false,
                stderr: false,
                hello: false,
            });
        }
    }

    /// Waits (accepting clients) until one asks for the start, or the time is up.
    pub fn wait_for_start(&mut self, limit: Duration) {
        let deadline = Instant::now() + limit;
        while !self.start_requested && Instant::now() < deadline {
            let mut fds = vec![PollFd::new(&self.listener, PollFlags::IN)];
            for c in &self.list {
                fds.push(PollFd::new(&c.stream, PollFlags::IN));
            }
            let _ = poll(&mut fds, Some(&timespec(Duration::from_millis(100))));
            let ready: Vec<u64> = fds
                .iter()
                .skip(1)
                .zip(&self.list)
                .filter(|(f, _)| !f.revents().is_empty())
                .map(|(_, c)| c.id)
                .collect();
            drop(fds);
            self.accept();
            let mut early = std::mem::take(&mut self.early);
            for id in ready {
                if !self.read_client(id, &mut early) {
                    self.list.retain(|c| c.id != id);
                }
            }
            self.early = early;
        }
    }

    /// Reads what client `id` sent; false when it is gone.
    fn read_client(&mut self, id: u64, input: &mut dyn Input) -> bool {
        let mut buf = [0u8; 16 * 1024];
        let Some(c) = self.list.iter_mut().find(|c| c.id == id) else { return false };
        let n = match c.stream.read(&mut buf) {
            Ok(0) | Err(_) => return false,
            Ok(n) => n,
        };
        c.decoder.feed(&buf[..n]);
        loop {
            match c.decoder.next_frame() {
                Ok(Some(Frame::Hello { stdin, stdout, stderr })) => {
                    c.hello = true;
                    c.stdin = stdin;
                    c.stdout = stdout;
                    c.stderr = stderr;
                }
                Ok(Some(Frame::Start)) => self.start_requested = true,
                Ok(Some(Frame::Stdin(d))) if c.stdin => input.write(&d),
                Ok(Some(Frame::StdinEof)) if c.stdin => input.close(),
                Ok(Some(Frame::Resize { rows, cols })) => input.resize(rows, cols),
                Ok(Some(_)) => {}
                Ok(None) => return true,
                Err(_) => return false,
            }
        }
    }

    fn send(&mut self, stream: Stream, data: &[u8]) {
        self.list.retain_mut(|c| {
            let wanted = match stream {
                Stream::Stdout => c.stdout,
                Stream::Stderr => c.stderr,
            };
            if !c.hello || !wanted {
                return true;
            }
            data.chunks(MAX_FRAME).all(|chunk| {
                let f = match stream {
                    Stream::Stdout => Frame::Stdout(chunk.to_vec()),
                    Stream::Stderr => Frame::Stderr(chunk.to_vec()),
                };
                c.stream.write_all(&f.encode()).is_ok()
            })
        });
    }

    /// Tells every client the exit code and disconnects them.
    pub fn broadcast_exit(&mut self, code: i32) {
        for mut c in self.list.drain(..) {
            let _ = c.stream.write_all(&Frame::Exit(code).encode());
        }
    }

    pub fn broadcast_error(&mut self, message: &str) {
        self.accept();
        for mut c in self.list.drain(..) {
            let _ = c.stream.write_all(&Frame::Error(message.to_string()).encode());
        }
    }
}

/// Where client input goes.
trait Input {
    fn write(&mut self, data: &[u8]);
    fn close(&mut self);
    fn resize(&mut self, rows: u16, cols: u16);
}

/// Input arriving before the container starts, kept in order and applied at start. A client
/// that attaches and starts (`start -a -i`) often sends its stdin, even its end, in the same
/// burst as the start request; dropping it would leave the container waiting for input forever.
#[derive(Default)]
struct EarlyInput {
    resize: Option<(u16, u16)>,
    stdin: Vec<u8>,
    eof: bool,
}

/// Stdin held for a container that has not started yet (more than this before start is dropped).
const EARLY_STDIN_CAP: usize = 1 << 20;

impl EarlyInput {
    /// Hands everything held to the started container.
    fn apply(self, to: &mut dyn Input) {
        if let Some((rows, cols)) = self.resize {
            to.resize(rows, cols);
        }
        if !self.stdin.is_empty() {
            to.write(&self.stdin);
        }
        if self.eof {
            to.close();
        }
    }
}

impl Input for EarlyInput {
    fn write(&mut self, data: &[u8]) {
        if !self.eof {
            let room = EARLY_STDIN_CAP.saturating_sub(self.stdin.len());
            self.stdin.extend_from_slice(&data[..data.len().min(room)]);
        }
    }
    fn close(&mut self) {
        self.eof = true;
    }
    fn resize(&mut self, rows: u16, cols: u16) {
        self.resize = Some((rows, cols));
    }
}

/// The container's stdin: a pipe, or the pty master.
struct ContainerInput<'a> {
    pipe: &'a mut Option<OwnedFd>,
    master: Option<BorrowedFd<'a>>,
}

impl Input for ContainerInput<'_> {
    fn write(&mut self, data: &[u8]) {
        let fd = match (&self.master, self.pipe.as_ref()) {
            (Some(m), _) => *m,
            (None, Some(p)) => p.as_fd(),
            (None, None) => return,
        };
        let mut rest = data;
        while !rest.is_empty() {
            match rustix::io::write(fd, rest) {
                Ok(n) => rest = &rest[n..],
                Err(rustix::io::Errno::INTR) => {}
                Err(_) => return,
            }
        }
    }

    fn close(&mut self) {
        match &self.master {
            // End of input on a terminal is the EOF character.
            Some(_) => self.write(&[4]),
            None => *self.pipe = None,
        }
    }

    fn resize(&mut self, rows: u16, cols: u16) {
        if let Some(m) = &self.master {
            let _ = sys::set_winsize(m, rows, cols);
        }
    }
}

/// What a polled descriptor is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Init,
    Stdout,
    Stderr,
    Pty,
    Listener,
    Client(u64),
}

fn timespec(d: Duration) -> rustix::event::Timespec {
    rustix::event::Timespec { tv_sec: d.as_secs() as i64, tv_nsec: d.subsec_nanos() as i64 }
}

/// Reaps children; returns the init's status once it has been reaped.
fn reap(init: i32) -> Option<ExitStatus> {
    let mut found = None;
    loop {
        let mut status = 0;
        // SAFETY: waitpid on any child with WNOHANG, writing into a local.
        let r = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if r <= 0 {
            return found;
        }
        if r == init {
            found = Some(ExitStatus(status));
        }
    }
}

/// How long a container runs before the monitor calls its `settle` work: a container that is
/// over sooner (`run --rm IMAGE true`) does not wait for work only a long run needs.
const SETTLE_AFTER: Duration = Duration::from_millis(100);

/// Runs until the container's init exits; returns how it exited. `settle` runs once, when the
/// container has run for [`SETTLE_AFTER`], and not at all if it exits sooner.
pub fn run(proc: &mut Proc, clients: &mut Clients, log: &mut LogWriter, settle: impl FnOnce()) -> ExitStatus {
    let mut settle = Some((Instant::now() + SETTLE_AFTER, settle));
    let pidfd = rustix::process::pidfd_open(
        rustix::process::Pid::from_raw(proc.pid).expect("init pid is positive"),
        rustix::process::PidfdFlags::empty(),
    )
    .ok();
    std::mem::take(&mut clients.early).apply(&mut ContainerInput {
        pipe: &mut proc.stdin,
        master: proc.master.as_ref().map(|m| m.as_fd()),
    });
    let mut buf = vec![0u8; 64 * 1024];
    let mut status = None;
    let mut exited_at: Option<Instant> = None;
    loop {
        if status.is_none() {
            status = reap(proc.pid);
            if status.is_some() {
                exited_at = Some(Instant::now());
                settle = None; // only a running container settles
            }
        }
        let outputs_open = proc.stdout.is_some() || proc.stderr.is_some() || proc.master.is_some();
        // After the init exits, drain what is left (briefly: with a shared pid namespace other
        // processes may keep the pipes open forever).
        if let Some(t) = exited_at {
            if !outputs_open || t.elapsed() > Duration::from_millis(300) {
                break;
            }
        }
        let mut fds: Vec<PollFd<'_>> = Vec::new();
        let mut kinds: Vec<Source> = Vec::new();
        if let Some(p) = &pidfd {
            if status.is_none() {
                fds.push(PollFd::new(p, PollFlags::IN));
                kinds.push(Source::Init);
            }
        }
        for (k, fd) in
            [(Source::Stdout, &proc.stdout), (Source::Stderr, &proc.stderr), (Source::Pty, &proc.master)]
        {
            if let Some(fd) = fd {
                fds.push(PollFd::new(fd, PollFlags::IN));
                kinds.push(k);
            }
        }
        fds.push(PollFd::new(&clients.listener, PollFlags::IN));
        kinds.push(Source::Listener);
        for c in &clients.list {
            fds.push(PollFd::new(&c.stream, PollFlags::IN));
            kinds.push(Source::Client(c.id));
        }
        let mut wait = if exited_at.is_some() { Duration::from_millis(50) } else { Duration::from_secs(1) };
        if let Some((at, _)) = &settle {
            wait = wait.min(at.saturating_duration_since(Instant::now()));
        }
        let _ = poll(&mut fds, Some(&timespec(wait)));
        if settle.as_ref().is_some_and(|(at, _)| Instant::now() >= *at) {
            if let Some((_, f)) = settle.take() {
                f();
            }
        }
        let ready: Vec<Source> = kinds
            .into_iter()
            .zip(fds.iter())
            .filter(|(_, f)| !f.revents().is_empty())
            .map(|(k, _)| k)
            .collect();
        drop(fds);
        for kind in ready {
            match kind {
                Source::Stdout | Source::Stderr | Source::Pty => {
                    let (stream, slot) = match kind {
                        Source::Stdout => (Stream::Stdout, &mut proc.stdout),
                        Source::Stderr => (Stream::Stderr, &mut proc.stderr),
                        _ => (Stream::Stdout, &mut proc.master),
                    };
                    let read = slot.as_ref().map(|fd| rustix::io::read(fd, &mut buf[..]));
                    match read {
                        Some(Ok(n)) if n > 0 => {
                            let _ = log.write(stream, &buf[..n]);
                            clients.send(stream, &buf[..n]);
                        }
                        Some(Err(rustix::io::Errno::INTR)) | Some(Err(rustix::io::Errno::AGAIN)) => {}
                        // EOF, or EIO from a pty whose other side closed.
                        _ => *slot = None,
                    }
                }
                Source::Listener => clients.accept(),
                Source::Client(id) => {
                    let mut input = ContainerInput {
                        pipe: &mut proc.stdin,
                        master: proc.master.as_ref().map(|m| m.as_fd()),
                    };
                    if !clients.read_client(id, &mut input) {
                        clients.list.retain(|c| c.id != id);
                    }
                }
                Source::Init => {}
            }
        }
        let _ = log.flush();
    }
    status.unwrap_or(ExitStatus(255 << 8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Recorder(Vec<String>);

    impl Input for Recorder {
        fn write(&mut self, data: &[u8]) {
            self.0.push(format!("write {}", String::from_utf8_lossy(data)));
        }
        fn close(&mut self) {
            self.0.push("close".into());
        }
        fn resize(&mut self, rows: u16, cols: u16) {
            self.0.push(format!("resize {rows}x{cols}"));
        }
    }

    #[test]
    fn input_before_start_is_kept_in_order() {
        let mut early = EarlyInput::default();
        early.resize(24, 80);
        early.write(b"typed");
        early.write(b"\n");
        early.close();
        early.write(b"after the end");
        let mut r = Recorder::default();
        early.apply(&mut r);
        assert_eq!(r.0, ["resize 24x80", "write typed\n", "close"]);
        let mut big = EarlyInput::default();
        big.write(&vec![b'x'; EARLY_STDIN_CAP + 10]);
        assert_eq!(big.stdin.len(), EARLY_STDIN_CAP);
    }
}
