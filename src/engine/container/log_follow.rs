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

/// Joins partial records into lines and cuts overlong ones.
#[derive(Default)]
struct Assembler {
    pending: Option<LogLine>,
    out: Vec<LogLine>,
}

impl Assembler {
    fn push(&mut self, r: &Record<'_>) {
        let line = self.pending.get_or_insert_with(|| LogLine {
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
        if !r.partial {
            if let Some(done) = self.pending.take() {
                self.out.push(done);
            }
        }
    }

    fn take(&mut self) -> Vec<LogLine> {
        std::mem::take(&mut self.out)
    }
}

/// Sends `lines` in batches; false when the receiver is gone.
fn send(tx: &mpsc::Sender<LogBatch>, lines: Vec<LogLine>, skipped_bytes: u64, ended: bool) -> bool {
    if lines.is_empty() && skipped_bytes == 0 && !ended {
        return true;
    }
    let mut lines = lines;
    while lines.len() > BATCH {
        let rest = lines.split_off(BATCH);
        if tx.blocking_send(LogBatch { lines, skipped_bytes: 0, ended: false }).is_err() {
            return false;
        }
        lines = rest;
    }
    tx.blocking_send(LogBatch { lines, skipped_bytes, ended }).is_ok()
}

/// The follow loop (on a blocking thread): reads what was appended since `pos`, jumping ahead
/// when far behind, until the container stops or the receiver hangs up.
fn follow_appended(engine: &Engine, id: &str, path: &Path, pos: u64, tx: &mpsc::Sender<LogBatch>) {
    let mut tail = Tail::new(path, pos);
    let mut asm = Assembler::default();
    let catch_up = CatchUp { behind: CATCH_UP, keep: JUMP_BACK };
    loop {
        let running = engine.container(id).map(|c| c.row.state.has_monitor()).unwrap_or(false);
        let read = tail.read_new(&Query::default(), Some(catch_up), &mut |rec| {
            asm.push(rec);
            Ok(())
        });
        let Ok(skipped) = read else { return };
        if !send(tx, asm.take(), skipped, !running) || !running {
            return;
        }
        std::thread::sleep(POLL);
    }
}

impl Engine {
    /// Streams a container's log: the lines `q` selects, then (with `follow`) new ones until
    /// the container stops or the receiver is dropped. Reading happens on a blocking thread.
    pub fn stream_logs(
        self: &Arc<Self>,
        key: &str,
        q: Query,
        follow: bool,
    ) -> Result<mpsc::Receiver<LogBatch>> {
        let c = self.container(key)?;
        let id = c.id().to_string();
        let path: PathBuf = self.container_dirs(&id).log();
        let (tx, rx) = mpsc::channel(QUEUE);
        let engine = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let mut asm = Assembler::default();
            let mut pending = Vec::new();
            let result = logs::read(&path, &q, |r| {
                asm.push(r);
                pending.extend(asm.take());
                if pending.len() >= BATCH {
                    let lines = std::mem::take(&mut pending);
                    if tx.blocking_send(LogBatch { lines, skipped_bytes: 0, ended: false }).is_err() {
                        return Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
                    }
                }
                Ok(())
            });
            let pos = match result {
                Ok(p) => p,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
                Err(_) => return,
            };
            if !follow {
                send(&tx, pending, 0, true);
                return;
            }
            if !send(&tx, pending, 0, false) {
                return;
            }
            follow_appended(&engine, &id, &path, pos, &tx);
        });
        Ok(rx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_records_join_and_long_lines_are_cut() {
        let mut a = Assembler::default();
        let rec = |partial, text: &'static [u8]| Record {
            time: "2024-01-01T00:00:00.000000000Z",
            stream: Stream::Stderr,
            partial,
            text,
        };
        a.push(&rec(true, b"hello "));
        assert!(a.take().is_empty());
        a.push(&rec(false, b"world"));
        let lines = a.take();
        assert_eq!(lines.len(), 1);
        assert_eq!((lines[0].text.as_str(), lines[0].stream), ("hello world", Stream::Stderr));
        let long = vec![b'x'; MAX_LINE * 2].leak();
        a.push(&rec(true, long));
        a.push(&rec(false, long));
        let lines = a.take();
        assert_eq!(lines[0].text.chars().filter(|c| *c == 'x').count(), MAX_LINE);
        assert!(lines[0].text.ends_with('…'));
    }
}
