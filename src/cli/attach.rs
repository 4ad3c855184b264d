//! Attaching a terminal (or pipes) to a container through its monitor's attach socket: output
//! frames to stdout/stderr, stdin to the container, window-size changes, and the detach key
//! sequence (Ctrl-P Ctrl-Q by default) that leaves the container running.

use std::io::{IsTerminal, Write};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

use super::args::AttachArgs;
use super::output::{Failure, Outcome};
use crate::engine::Engine;
use crate::engine::monitor::protocol::{Decoder, Frame};
use crate::engine::store::containers::State;

pub struct AttachOptions {
    pub stdin: bool,
    pub tty: bool,
    pub detach_keys: Option<String>,
    /// Ask the monitor to start a container that waits for its first client.
    pub start: bool,
}

/// Parses Docker's detach-keys syntax: `ctrl-p,ctrl-q`, letters, `ctrl-@`…`ctrl-_`.
pub fn parse_detach_keys(s: &str) -> Result<Vec<u8>, String> {
    s.split(',')
        .map(|k| {
            let k = k.trim();
            if let Some(c) = k.strip_prefix("ctrl-") {
                let c = c.to_ascii_lowercase();
                match c.as_bytes() {
                    [b @ b'a'..=b'z'] => Ok(b - b'a' + 1),
                    [b'@'] => Ok(0),
                    [b'['] => Ok(27),
                    [b'\\'] => Ok(28),
                    [b']'] => Ok(29),
                    [b'^'] => Ok(30),
                    [b'_'] => Ok(31),
                    _ => Err(format!("invalid detach key {k:?}")),
                }
            } else if k.len() == 1 {
                Ok(k.as_bytes()[0])
            } else {
                Err(format!("invalid detach key {k:?}"))
            }
        })
        .collect()
}

/// Restores the terminal's settings when dropped (also on error paths).
struct RawMode {
    saved: rustix::termios::Termios,
}

impl RawMode {
    fn enable() -> Option<Self> {
        let stdin = std::io::stdin();
        if !stdin.is_terminal() {
            return None;
        }
        let saved = rustix::termios::tcgetattr(&stdin).ok()?;
        let mut raw = saved.clone();
        raw.make_raw();
        rustix::termios::tcsetattr(&stdin, rustix::termios::OptionalActions::Now, &raw).ok()?;
        Some(Self { saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ =
            rustix::termios::tcsetattr(std::io::stdin(), rustix::termios::OptionalActions::Now, &self.saved);
    }
}

fn terminal_size() -> Option<(u16, u16)> {
    let ws = rustix::termios::tcgetwinsize(std::io::stdout()).ok()?;
    (ws.ws_row > 0 && ws.ws_col > 0).then_some((ws.ws_row, ws.ws_col))
}

/// Watches stdin bytes for the detach sequence, holding back a partial match.
struct DetachMatcher {
    keys: Vec<u8>,
    held: usize,
}

impl DetachMatcher {
    /// Returns the bytes to forward, and whether the sequence completed.
    fn feed(&mut self, data: &[u8]) -> (Vec<u8>, bool) {
        let mut out = Vec::with_capacity(data.len());
        for &b in data {
            if !self.keys.is_empty() && b == self.keys[self.held] {
                self.held += 1;
                if self.held == self.keys.len() {
                    return (out, true);
                }
                continue;
            }
            out.extend_from_slice(&self.keys[..self.held]);
            self.held = 0;
            if !self.keys.is_empty() && b == self.keys[0] {
                self.held = 1;
            } else {
                out.push(b);
            }
        }
        (out, false)
    }
}

/// The detach sequence the options ask for (Ctrl-P Ctrl-Q by default); checked before a
/// container is started for the session.
pub fn detach_keys(opts: &AttachOptions) -> Result<Vec<u8>, Failure> {
    parse_detach_keys(opts.detach_keys.as_deref().unwrap_or("ctrl-p,ctrl-q")).map_err(Failure::usage)
}

/// The frames a client opens with: which streams it wants, the terminal's size, and with
/// `start` the request to start a container that waits for its first client.
pub fn hello(opts: &AttachOptions) -> Vec<u8> {
    let mut hello = Frame::Hello { stdin: opts.stdin, stdout: true, stderr: true }.encode();
    if opts.tty {
        if let Some((rows, cols)) = terminal_size() {
            hello.extend(Frame::Resize { rows, cols }.encode());
        }
    }
    if opts.start {
        hello.extend(Frame::Start.encode());
    }
    hello
}

/// Attaches until the container exits (returning its exit code) or the user detaches (`None`).
pub async fn attach(engine: &Arc<Engine>, id: &str, opts: &AttachOptions) -> Result<Option<i32>, Failure> {
    let path = engine.container_dirs(id).attach_socket();
    let mut stream =
        UnixStream::connect(&path).await.map_err(|e| Failure::new(format!("attaching to {id}: {e}")))?;
    stream.write_all(&hello(opts)).await.map_err(|e| Failure::new(format!("attaching: {e}")))?;
    session(engine, id, stream, opts).await
}

/// Runs an attach session on a connection that has sent its [`hello`].
pub async fn session(
    engine: &Arc<Engine>,
    id: &str,
    stream: UnixStream,
    opts: &AttachOptions,
) -> Result<Option<i32>, Failure> {
    let keys = detach_keys(opts)?;
    let (mut rd, mut wr) = stream.into_split();
    if !opts.start {
        // A start with a client attached (`run`, `start -a`) recorded it with the start.
        engine.note_attach(id);
    }
    let _raw = if opts.tty && opts.stdin { RawMode::enable() } else { None };
    let (detach_tx, mut detach_rx) = tokio::sync::mpsc::channel::<()>(1);
    if opts.stdin {
        let tty = opts.tty;
        tokio::spawn(async move {
            let mut stdin = tokio::io::stdin();
            let mut buf = vec![0u8; 8192];
            let mut matcher = DetachMatcher { keys, held: 0 };
            let mut winch = if tty {
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::window_change()).ok()
            } else {
                None
            };
            loop {
                tokio::select! {
                    n = stdin.read(&mut buf) => match n {
                        Ok(0) | Err(_) => {
                            let _ = wr.write_all(&Frame::StdinEof.encode()).await;
                            break;
                        }
                        Ok(n) => {
                            let (data, detach) = matcher.feed(&buf[..n]);
                            if !data.is_empty() && wr.write_all(&Frame::Stdin(data).encode()).await.is_err() {
                                break;
                            }
                            if detach {
                                let _ = detach_tx.send(()).await;
                                break;
                            }
                        }
                    },
                    Some(()) = async { match winch.as_mut() { Some(w) => w.recv().await, None => std::future::pending().await } } => {
                        if let Some((rows, cols)) = terminal_size() {
                            let _ = wr.write_all(&Frame::Resize { rows, cols }.encode()).await;
                        }
                    }
                }
            }
            // Keep the write half open so the monitor does not see us leave before output ends.
            std::future::pending::<()>().await;
        });
    }
    let mut decoder = Decoder::default();
    let mut buf = vec![0u8; 64 * 1024];
    let mut stdout = std::io::stdout();
    let mut stderr = std::io::stderr();
    loop {
        tokio::select! {
            _ = detach_rx.recv() => return Ok(None),
            n = rd.read(&mut buf) => {
                let n = n.map_err(|e| Failure::new(format!("reading from the container: {e}")))?;
                if n == 0 {
                    // The monitor closed without an exit frame (e.g. killed): report what is known.
                    let c = engine.container(id).ok();
                    return Ok(c.filter(|c| matches!(c.row.state, State::Exited | State::Dead)).map(|c| c.row.exit_code));
                }
                decoder.feed(&buf[..n]);
                while let Some(f) = decoder.next_frame().map_err(|e| Failure::new(e.to_string()))? {
                    match f {
                        Frame::Stdout(d) => { let _ = stdout.write_all(&d); let _ = stdout.flush(); }
                        Frame::Stderr(d) => { let _ = stderr.write_all(&d); let _ = stderr.flush(); }
                        Frame::Exit(code) => return Ok(Some(code)),
                        Frame::Error(m) => return Err(Failure { message: m, code: 125 }),
                        _ => {}
                    }
                }
            }
        }
    }
}

pub async fn attach_command(engine: &Arc<Engine>, a: AttachArgs) -> Outcome {
    let c = engine.container(&a.container)?;
    if c.row.state != State::Running {
        return Err(Failure::new("You cannot attach to a stopped container, start it first"));
    }
    let opts = AttachOptions {
        stdin: !a.no_stdin && c.config.open_stdin,
        tty: c.config.tty,
        detach_keys: a.detach_keys,
        start: false,
    };
    let code = attach(engine, c.id(), &opts).await?;
    super::containers::exit_with(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detach_keys() {
        assert_eq!(parse_detach_keys("ctrl-p,ctrl-q").unwrap(), vec![16, 17]);
        assert_eq!(parse_detach_keys("a,ctrl-@").unwrap(), vec![b'a', 0]);
        assert!(parse_detach_keys("ctrl-1").is_err());
        let mut m = DetachMatcher { keys: vec![16, 17], held: 0 };
        assert_eq!(m.feed(b"ab\x10"), (b"ab".to_vec(), false));
        assert_eq!(m.feed(b"x"), (b"\x10x".to_vec(), false));
        assert_eq!(m.feed(b"\x10\x11rest"), (vec![], true));
        let mut m = DetachMatcher { keys: vec![16, 17], held: 0 };
        assert_eq!(m.feed(b"\x10\x10\x11"), (b"\x10".to_vec(), true));
    }
}
