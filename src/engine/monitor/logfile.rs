//! The container log: one line per output line, `<RFC 3339 nanos> <stdout|stderr> <F|P> <text>`
//! (the CRI layout: `P` marks a partial line that continues in the next record), with
//! size-based rotation (`--log-opt max-size`, `max-file`).

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Lines longer than this are split into partial records.
const MAX_LINE: usize = 16 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

pub struct LogWriter {
    path: PathBuf,
    file: io::BufWriter<File>,
    size: u64,
    max_size: Option<u64>,
    max_files: u32,
    pending: [Vec<u8>; 2],
}

impl LogWriter {
    pub fn open(path: &Path, max_size: Option<u64>, max_files: u32) -> io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let size = file.metadata()?.len();
        Ok(Self {
            path: path.to_path_buf(),
            file: io::BufWriter::with_capacity(64 * 1024, file),
            size,
            max_size,
            max_files,
            pending: [Vec::new(), Vec::new()],
        })
    }

    /// Appends output; complete lines are written now, a trailing partial line is held until
    /// its newline arrives (or it grows past the line limit).
    pub fn write(&mut self, stream: Stream, data: &[u8]) -> io::Result<()> {
        let idx = stream as usize;
        let mut buf = std::mem::take(&mut self.pending[idx]);
        buf.extend_from_slice(data);
        let mut start = 0;
        while let Some(pos) = buf[start..].iter().position(|&b| b == b'\n') {
            let end = start + pos;
            self.record(stream, &buf[start..end], false)?;
            start = end + 1;
        }
        let mut rest = buf.split_off(start);
        while rest.len() >= MAX_LINE {
            let tail = rest.split_off(MAX_LINE);
            self.record(stream, &rest, true)?;
            rest = tail;
        }
        self.pending[idx] = rest;
        Ok(())
    }

    /// Writes out held partial lines (at exit) and flushes.
    pub fn finish(&mut self) -> io::Result<()> {
        for (i, s) in [Stream::Stdout, Stream::Stderr].into_iter().enumerate() {
            let rest = std::mem::take(&mut self.pending[i]);
            if !rest.is_empty() {
                self.record(s, &rest, false)?;
            }
        }
        self.flush()
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }

    fn record(&mut self, stream: Stream, line: &[u8], partial: bool) -> io::Result<()> {
        let ts = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
        let head = format!("{ts} {} {} ", stream.as_str(), if partial { 'P' } else { 'F' });
        let len = (head.len() + line.len() + 1) as u64;
        if self.max_size.is_some_and(|m| self.size + len > m && self.size > 0) {
            self.rotate()?;
        }
        self.file.write_all(head.as_bytes())?;
        self.file.write_all(line)?;
        self.file.write_all(b"\n")?;
        self.size += len;
        Ok(())
    }

    /// `log` → `log.1` → … → `log.<max_files-1>`; with one file the log is truncated.
    fn rotate(&mut self) -> io::Result<()> {
        self.file.flush()?;
        for i in (1..self.max_files).rev() {
            let from = if i == 1 { self.path.clone() } else { rotated(&self.path, i - 1) };
            let _ = std::fs::rename(&from, rotated(&self.path, i));
        }
        let file = OpenOptions::new().create(true).write(true).truncate(true).open(&self.path)?;
        self.file = io::BufWriter::with_capacity(64 * 1024, file);
        self.size = 0;
        Ok(())
    }
}

/// The path of rotated log number `n`.
pub fn rotated(path: &Path, n: u32) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(format!(".{n}"));
    PathBuf::from(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_partials_and_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.log");
        let mut w = LogWriter::open(&p, None, 1).unwrap();
        w.write(Stream::Stdout, b"hel").unwrap();
        w.write(Stream::Stderr, b"err\n").unwrap();
        w.write(Stream::Stdout, b"lo\nworld").unwrap();
        w.finish().unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].ends_with(" stderr F err"));
        assert!(lines[1].ends_with(" stdout F hello"));
        assert!(lines[2].ends_with(" stdout F world"));

        let p = dir.path().join("r.log");
        let mut w = LogWriter::open(&p, Some(200), 3).unwrap();
        for i in 0..20 {
            w.write(Stream::Stdout, format!("line {i}\n").as_bytes()).unwrap();
        }
        w.finish().unwrap();
        assert!(rotated(&p, 1).exists() && rotated(&p, 2).exists() && !rotated(&p, 3).exists());
        assert!(std::fs::metadata(&p).unwrap().len() <= 200);
        let last = std::fs::read_to_string(&p).unwrap();
        assert!(last.contains("line 19"));
    }
}
