//! A container's log as a stream of line batches: the chosen window first, then whatever is
//! appended, until the reader goes away. Built for live viewers (the TUI's logs pane): memory
//! stays bounded however fast the container prints, because batches are capped, the channel is
//! small, and a reader that falls far behind jumps to the end (saying how much it skipped)
//! instead of queueing everything.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::logs::{self, CatchUp, Query, Record, Tail};
use crate::engine::Engine;
use crate::engine::error::Result;
use crate::engine::monitor::logfile::Stream;

/// Longest line kept (longer ones are cut, marked with `…`): a viewer's memory must not depend
/// on what one line holds.
pub const MAX_LINE: usize = 4096;
/// Lines per batch.
const BATCH: usize = 2000;
/// Batches in flight: with [`BATCH`] and [`MAX_LINE`] this bounds the queue.
const QUEUE: usize = 4;
/// When the file is this far ahead of the reader, the reader jumps to the end.
const CATCH_UP: u64 = 8 << 20;
/// How much before the end a jump lands.
const JUMP_BACK: u64 = 256 << 10;
/// How often a follower looks for new output.
const POLL: Duration = Duration::from_millis(100);

/// One log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// RFC 3339 with nanoseconds, UTC.
    pub time: String,
    pub stream: Stream,
    /// The text as written (escape sequences included), lossily UTF-8.
    pub text: String,
}

/// What a follower sends.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogBatch {
    pub lines: Vec<LogLine>,
    /// Bytes of log passed over to keep up.
    pub skipped_bytes: u64,
    /// The container has stopped and everything it wrote has been sent.
    pub ended: bool,
}

/// Joins partial records into lines (per stream: the monitor writes stdout and stderr
/// independently, so their partial records interleave), cuts overlong ones, and sends a batch
/// whenever [`BATCH`] lines are ready — memory is bounded by the batch and the queue, not by
/// how much one read covers.
struct Assembler<'a> {
    pending: [Option<LogLine>; 2],
    out: Vec<LogLine>,
    tx: &'a mpsc::Sender<LogBatch>,
}

/// The receiver went away.
fn gone() -> std::io::Error {
    std::io::Error::from(std::io::ErrorKind::BrokenPipe)
}

impl<'a> Assembler<'a> {
    fn new(tx: &'a mpsc::Sender<LogBatch>) -> Self {
        Self { pending: [None, None], out: Vec::new(), tx }
    }

    fn push(&mut self, r: &Record<'_>) -> std::io::Result<()> {
        let slot = &mut self.pending[r.stream as usize];
        let line = slot.get_or_insert_with(|| LogLine {
            time: r.time.to_string(),
            stream: r.stream,
            text: String::new(),
        });
        if line.text.len() < MAX_LINE {
            let room = MAX_LINE - line.text.len();
            let text = String::from_utf8_lossy(&r.text[..r.text.len().min(room)]);
            line.text.push_str(&text);
            if r.text.len() > room {
                line.text.push('…');
            }
        }
        if !r.partial
            && let Some(done) = slot.take()
        {
            self.out.push(done);
        }
        if self.out.len() >= BATCH && !self.send(0, false) {
            return Err(gone());
        }
        Ok(())
    }

    /// Bytes were skipped: a line begun before them will not be finished.
    fn skipped(&mut self) {
        self.pending = [None, None];
    }

    /// Sends what is ready (with the skip and end news); false when the receiver is gone.
    fn send(&mut self, skipped_bytes: u64, ended: bool) -> bool {
        if self.out.is_empty() && skipped_bytes == 0 && !ended {
            return true;
        }
        let lines = std::mem::take(&mut self.out);
        self.tx.blocking_send(LogBatch { lines, skipped_bytes, ended }).is_ok()
    }
}

/// The follow loop (on a blocking thread): reads what was appended since `pos`, jumping ahead
/// when far behind, until the container stops or the receiver hangs up.
fn follow_appended(engine: &Engine, id: &str, path: &Path, pos: u64, asm: &mut Assembler<'_>) {
    let mut tail = Tail::new(path, pos);
    let catch_up = CatchUp { behind: CATCH_UP, keep: JUMP_BACK };
    loop {
        let running = engine.container(id).map(|c| c.row.state.has_monitor()).unwrap_or(false);
        let skipped = tail.catch_up(catch_up);
        if skipped > 0 {
            asm.skipped();
        }
        if tail.read_new(&Query::default(), &mut |rec| asm.push(rec)).is_err()
            || !asm.send(skipped, !running)
            || !running
        {
            return;
        }
        std::thread::sleep(POLL);
    }
}

impl Engine {
    /// Streams a container's log: the lines `q` selects, then new ones until the container
    /// stops or the receiver is dropped. Reading happens on a blocking thread.
    pub fn stream_logs(self: &Arc<Self>, key: &str, q: Query) -> Result<mpsc::Receiver<LogBatch>> {
        let c = self.container(key)?;
        let id = c.id().to_string();
        let path: PathBuf = self.container_dirs(&id).log();
        let (tx, rx) = mpsc::channel(QUEUE);
        let engine = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let mut asm = Assembler::new(&tx);
            let pos = match logs::read(&path, &q, |r| asm.push(r)) {
                Ok(p) => p,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
                Err(_) => return,
            };
            // A line the window ends in the middle of is finished by the follow.
            if asm.send(0, false) {
                follow_appended(&engine, &id, &path, pos, &mut asm);
            }
        });
        Ok(rx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(stream: Stream, partial: bool, text: &[u8]) -> Record<'_> {
        Record { time: "2024-01-01T00:00:00.000000000Z", stream, partial, text }
    }

    #[test]
    fn partial_records_join_per_stream_and_long_lines_are_cut() {
        let (tx, mut rx) = mpsc::channel(QUEUE);
        let mut a = Assembler::new(&tx);
        a.push(&rec(Stream::Stderr, true, b"hello ")).unwrap();
        assert!(a.out.is_empty());
        // A stdout line in between does not join the stderr one.
        a.push(&rec(Stream::Stdout, true, b"out ")).unwrap();
        a.push(&rec(Stream::Stdout, false, b"line")).unwrap();
        a.push(&rec(Stream::Stderr, false, b"world")).unwrap();
        let got: Vec<_> = a.out.iter().map(|l| (l.stream, l.text.as_str())).collect();
        assert_eq!(got, [(Stream::Stdout, "out line"), (Stream::Stderr, "hello world")]);
        // After a skip, a line begun before it is dropped rather than glued to a later one.
        a.push(&rec(Stream::Stdout, true, b"cut off ")).unwrap();
        a.skipped();
        a.push(&rec(Stream::Stdout, false, b"fresh")).unwrap();
        assert_eq!(a.out.last().map(|l| l.text.as_str()), Some("fresh"));
        let long = vec![b'x'; MAX_LINE * 2];
        a.push(&rec(Stream::Stderr, true, &long)).unwrap();
        a.push(&rec(Stream::Stderr, false, &long)).unwrap();
        let last = a.out.last().unwrap();
        assert_eq!(last.text.chars().filter(|c| *c == 'x').count(), MAX_LINE);
        assert!(last.text.ends_with('…'));
        assert!(a.send(7, true));
        let batch = rx.try_recv().unwrap();
        assert_eq!((batch.lines.len(), batch.skipped_bytes, batch.ended), (4, 7, true));
    }

    #[test]
    fn full_batches_go_as_they_fill() {
        let (tx, mut rx) = mpsc::channel(QUEUE);
        let mut a = Assembler::new(&tx);
        for _ in 0..BATCH + 1 {
            a.push(&rec(Stream::Stdout, false, b"x")).unwrap();
        }
        assert_eq!(rx.try_recv().unwrap().lines.len(), BATCH);
        assert_eq!(a.out.len(), 1);
        drop(rx);
        for _ in 0..BATCH - 2 {
            a.push(&rec(Stream::Stdout, false, b"x")).unwrap();
        }
        assert!(a.push(&rec(Stream::Stdout, false, b"x")).is_err(), "the receiver is gone");
    }
}
