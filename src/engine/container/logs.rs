//! Reading container logs (the monitor's CRI-style files, rotated ones included): tail from the
//! end without reading everything, filter by time with plain string comparison (timestamps are
//! fixed-width RFC 3339 nanoseconds, so they sort as strings), and follow new output.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::engine::monitor::logfile::{Stream, rotated};

/// One parsed log record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    pub time: &'a str,
    pub stream: Stream,
    /// True when the line continues in the next record.
    pub partial: bool,
    pub text: &'a [u8],
}

/// Parses `<time> <stream> <F|P> <text>` (without the newline).
pub fn parse(line: &[u8]) -> Option<Record<'_>> {
    let sp1 = line.iter().position(|&b| b == b' ')?;
    let time = std::str::from_utf8(&line[..sp1]).ok()?;
    let rest = &line[sp1 + 1..];
    let (stream, rest) = if let Some(r) = rest.strip_prefix(b"stdout ") {
        (Stream::Stdout, r)
    } else {
        (Stream::Stderr, rest.strip_prefix(b"stderr ")?)
    };
    let (partial, text) = match rest {
        [b'F', b' ', t @ ..] => (false, t),
        [b'P', b' ', t @ ..] => (true, t),
        [b'F'] => (false, &[][..]),
        _ => return None,
    };
    Some(Record { time, stream, partial, text })
}

/// Which records to return.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Only the last N lines.
    pub tail: Option<usize>,
    /// Timestamps (RFC 3339 nanos, UTC) bounding the records: `since <= t < until`.
    pub since: Option<String>,
    pub until: Option<String>,
}

/// The log files of a container, oldest first.
pub fn files(log: &Path) -> Vec<PathBuf> {
    let mut rotated_files: Vec<PathBuf> =
        (1..100).map(|n| rotated(log, n)).take_while(|p| p.exists()).collect();
    rotated_files.reverse();
    rotated_files.push(log.to_path_buf());
    rotated_files.into_iter().filter(|p| p.exists()).collect()
}

/// Where reading of one file starts.
struct Segment {
    path: PathBuf,
    offset: u64,
}

/// Finds the start of the last `n` lines across the files (newest last).
fn tail_segments(files: &[PathBuf], n: usize) -> io::Result<Vec<Segment>> {
    let mut wanted = n;
    let mut out = Vec::new();
    for path in files.iter().rev() {
        if wanted == 0 {
            break;
        }
        let mut f = File::open(path)?;
        let len = f.metadata()?.len();
        let mut pos = len;
        let mut newlines = 0usize;
        let mut start = 0u64;
        let mut buf = vec![0u8; 64 * 1024];
        let mut found = false;
        'scan: while pos > 0 {
            let chunk = (pos.min(buf.len() as u64)) as usize;
            pos -= chunk as u64;
            f.seek(SeekFrom::Start(pos))?;
            f.read_exact(&mut buf[..chunk])?;
            for i in (0..chunk).rev() {
                if buf[i] == b'\n' {
                    // The file's final newline ends the last line; it does not start one.
                    if pos + i as u64 + 1 == len {
                        continue;
                    }
                    newlines += 1;
                    if newlines == wanted {
                        start = pos + i as u64 + 1;
                        found = true;
                        break 'scan;
                    }
                }
            }
        }
        let lines_here = if found {
            wanted
        } else if len > 0 {
            newlines + 1
        } else {
            0
        };
        out.push(Segment { path: path.clone(), offset: if found { start } else { 0 } });
        wanted = wanted.saturating_sub(lines_here);
    }
    out.reverse();
    Ok(out)
}

/// Calls `sink` for each matching record, oldest first. Returns the position reached in the
/// newest file, from which a follower continues.
pub fn read(log: &Path, q: &Query, mut sink: impl FnMut(&Record<'_>) -> io::Result<()>) -> io::Result<u64> {
    let all = files(log);
    let segments = match q.tail {
        Some(0) => all
            .last()
            .map(|p| vec![Segment { offset: p.metadata().map(|m| m.len()).unwrap_or(0), path: p.clone() }])
            .unwrap_or_default(),
        Some(n) => tail_segments(&all, n)?,
        None => all.iter().map(|p| Segment { path: p.clone(), offset: 0 }).collect(),
    };
    let mut end = 0;
    for seg in segments {
        let mut f = File::open(&seg.path)?;
        f.seek(SeekFrom::Start(seg.offset))?;
        end = seg.offset + scan(&mut BufReader::with_capacity(256 * 1024, f), q, &mut sink)?;
    }
    Ok(end)
}

/// Reads whole lines from `r`, passing those in the time window to `sink`; returns the bytes
/// consumed (a trailing line without its newline is left for later).
pub fn scan(
    r: &mut impl BufRead,
    q: &Query,
    sink: &mut impl FnMut(&Record<'_>) -> io::Result<()>,
) -> io::Result<u64> {
    let mut consumed = 0u64;
    let mut line = Vec::with_capacity(256);
    loop {
        line.clear();
        let n = r.read_until(b'\n', &mut line)?;
        if n == 0 || line.last() != Some(&b'\n') {
            return Ok(consumed);
        }
        consumed += n as u64;
        let Some(rec) = parse(&line[..line.len() - 1]) else { continue };
        if q.since.as_deref().is_some_and(|s| rec.time < s)
            || q.until.as_deref().is_some_and(|u| rec.time >= u)
        {
            continue;
        }
        sink(&rec)?;
    }
}

/// A follower's place in a container's current log file. It holds the file open, so a
/// rotation (the file renamed aside, a new one under the name) loses nothing: what was
/// appended to the old file is read to its end before the new one is read from its start. A
/// truncation starts it again from the beginning.
#[derive(Debug)]
pub struct Tail {
    path: PathBuf,
    /// The file being followed (None until it exists), and its inode.
    file: Option<(File, u64)>,
    pos: u64,
}

/// The file at `path` and its inode, if it is there.
fn open_with_inode(path: &Path) -> Option<(File, u64)> {
    use std::os::unix::fs::MetadataExt;
    let f = File::open(path).ok()?;
    let ino = f.metadata().ok()?.ino();
    Some((f, ino))
}

fn inode(p: &Path) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(p).map(|m| m.ino()).ok()
}

/// Bytes from `at` to the start of the next line (0 when `at` is one; to the end when no line
/// starts after it).
fn skip_to_line_start(f: &mut File, at: u64) -> u64 {
    if at == 0 || f.seek(SeekFrom::Start(at - 1)).is_err() {
        return 0;
    }
    let mut buf = [0u8; 8192];
    // Counted from `at - 1`: the byte before `at` is read first.
    let mut read = 0u64;
    loop {
        let n = match f.read(&mut buf) {
            Ok(0) | Err(_) => return read.saturating_sub(1),
            Ok(n) => n,
        };
        if let Some(i) = buf[..n].iter().position(|&b| b == b'\n') {
            return read + i as u64;
        }
        read += n as u64;
    }
}

/// When a follower may skip ahead: more than `behind` bytes behind, it jumps to `keep` bytes
/// before the end (at a line start). `keep` is at most `behind`.
#[derive(Debug, Clone, Copy)]
pub struct CatchUp {
    pub behind: u64,
    pub keep: u64,
}

impl Tail {
    /// Following `path` from byte `pos` (where [`read`] stopped).
    pub fn new(path: &Path, pos: u64) -> Self {
        Self { path: path.to_path_buf(), file: open_with_inode(path), pos }
    }

    /// Jumps to near the end of the file when far behind (see [`CatchUp`]); the bytes passed
    /// over.
    pub fn catch_up(&mut self, c: CatchUp) -> u64 {
        let Some((f, _)) = self.file.as_mut() else { return 0 };
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        if len < self.pos || len - self.pos <= c.behind {
            return 0;
        }
        let target = (len - c.keep.min(len)).max(self.pos);
        let before = self.pos;
        self.pos = target + skip_to_line_start(f, target);
        self.pos - before
    }

    /// Passes the whole records appended since the last call to `sink` (at most what the
    /// file held when the call began, so one call is bounded); a file not there yet is nothing
    /// new.
    pub fn read_new(
        &mut self,
        q: &Query,
        sink: &mut impl FnMut(&Record<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
        if self.file.is_none() {
            self.file = open_with_inode(&self.path);
            self.pos = 0;
        }
        let Some((_, held)) = &self.file else { return Ok(()) };
        let rotated = inode(&self.path).is_some_and(|now| now != *held);
        // After a rotation the held file gets nothing more: read it to its end first.
        self.read_held(q, sink)?;
        if rotated && let Some(next) = open_with_inode(&self.path) {
            self.file = Some(next);
            self.pos = 0;
            self.read_held(q, sink)?;
        }
        Ok(())
    }

    fn read_held(
        &mut self,
        q: &Query,
        sink: &mut impl FnMut(&Record<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
        let Some((f, _)) = self.file.as_mut() else { return Ok(()) };
        let len = f.metadata()?.len();
        if len < self.pos {
            self.pos = 0;
        }
        if len == self.pos {
            return Ok(());
        }
        f.seek(SeekFrom::Start(self.pos))?;
        let new = len - self.pos;
        let cap = new.clamp(8 << 10, 256 << 10) as usize;
        let mut r = BufReader::with_capacity(cap, (&*f).take(new));
        self.pos += scan(&mut r, q, sink)?;
        Ok(())
    }
}

/// Parses `--since`/`--until`: RFC 3339, a date, Unix seconds, or a Go duration before now
/// (`10m`, `1h30m`). Returns the bound as a comparable timestamp string.
pub fn parse_time(s: &str, now: chrono::DateTime<chrono::Utc>) -> Result<String, String> {
    use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
    let fmt = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Nanos, true);
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(fmt(t.with_timezone(&Utc)));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(fmt(d.and_hms_opt(0, 0, 0).ok_or("bad date")?.and_utc()));
    }
    if let Ok(secs) = s.parse::<f64>() {
        let nanos = (secs * 1e9) as i64;
        return Ok(fmt(DateTime::from_timestamp_nanos(nanos)));
    }
    let d = parse_duration(s).ok_or_else(|| {
        format!("invalid time value {s:?}: use RFC 3339, Unix seconds or a duration like 10m")
    })?;
    Ok(fmt(now - chrono::Duration::from_std(d).map_err(|e| e.to_string())?))
}

/// Go-style durations: `300ms`, `1.5h`, `2h45m`.
pub fn parse_duration(s: &str) -> Option<std::time::Duration> {
    let mut total = 0f64;
    let mut rest = s;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let n: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let mult = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += n * mult;
        rest = &rest[unit_len..];
    }
    Some(std::time::Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::monitor::logfile::LogWriter;

    fn collect(log: &Path, q: &Query) -> Vec<String> {
        let mut out = Vec::new();
        read(log, q, |r| {
            out.push(String::from_utf8_lossy(r.text).into_owned());
            Ok(())
        })
        .unwrap();
        out
    }

    #[test]
    fn tail_across_rotated_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.log");
        let mut w = LogWriter::open(&p, Some(300), 3).unwrap();
        for i in 0..12 {
            w.write(Stream::Stdout, format!("line {i}\n").as_bytes()).unwrap();
        }
        w.finish().unwrap();
        assert!(files(&p).len() >= 2);
        let all = collect(&p, &Query::default());
        assert_eq!(all.last().unwrap(), "line 11");
        let t = collect(&p, &Query { tail: Some(3), ..Default::default() });
        assert_eq!(t, vec!["line 9", "line 10", "line 11"]);
        let t = collect(&p, &Query { tail: Some(all.len() + 5), ..Default::default() });
        assert_eq!(t, all);
        let t = collect(&p, &Query { tail: Some(5), ..Default::default() });
        assert_eq!(t.len(), 5);
        assert!(collect(&p, &Query { tail: Some(0), ..Default::default() }).is_empty());
    }

    #[test]
    fn a_jump_lands_on_a_line_start() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"aaaa\nbbbb\ncccc\n").unwrap();
        let mut f = File::open(&p).unwrap();
        assert_eq!(skip_to_line_start(&mut f, 0), 0);
        assert_eq!(skip_to_line_start(&mut f, 5), 0, "already at a line start");
        assert_eq!(skip_to_line_start(&mut f, 7), 3, "to the c line");
        assert_eq!(skip_to_line_start(&mut f, 12), 3, "to the end when no line starts after");
        std::fs::write(&p, b"aaaa\nbb").unwrap();
        let mut f = File::open(&p).unwrap();
        assert_eq!(skip_to_line_start(&mut f, 6), 1, "never past the end");
    }

    #[test]
    fn a_tail_reads_what_is_appended_and_catches_up_at_a_line_start() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.log");
        let mut w = LogWriter::open(&p, None, 1).unwrap();
        w.write(Stream::Stdout, b"first\n").unwrap();
        w.flush().unwrap();
        let mut lines = Vec::new();
        let end = read(&p, &Query::default(), |r| {
            lines.push(String::from_utf8_lossy(r.text).into_owned());
            Ok(())
        })
        .unwrap();
        let mut tail = Tail::new(&p, end);
        let mut got = Vec::new();
        let mut sink = |r: &Record<'_>| {
            got.push(String::from_utf8_lossy(r.text).into_owned());
            Ok(())
        };
        tail.read_new(&Query::default(), &mut sink).unwrap();
        assert_eq!(tail.catch_up(CatchUp { behind: 4096, keep: 1000 }), 0, "nothing to skip");
        for i in 0..1000 {
            w.write(Stream::Stdout, format!("line {i}\n").as_bytes()).unwrap();
        }
        w.flush().unwrap();
        let skipped = tail.catch_up(CatchUp { behind: 4096, keep: 1000 });
        tail.read_new(&Query::default(), &mut sink).unwrap();
        assert!(skipped > 4096, "skipped {skipped}");
        assert_eq!(got.last().map(String::as_str), Some("line 999"));
        assert!(got.len() < 100, "only the last kilobyte is read: {}", got.len());
        assert!(got.iter().all(|l| l.starts_with("line ")), "whole records only: {got:?}");
        let size = std::fs::metadata(&p).unwrap().len();
        assert_eq!(tail.pos, size);
        // A rotation: the old file (renamed aside, as the monitor does) is read to its end,
        // then the new one from its start.
        w.write(Stream::Stdout, b"last before rotation\n").unwrap();
        w.flush().unwrap();
        std::fs::rename(&p, dir.path().join("c.log.1")).unwrap();
        let mut w = LogWriter::open(&p, None, 1).unwrap();
        w.write(Stream::Stderr, b"after rotation\n").unwrap();
        w.flush().unwrap();
        got.clear();
        let mut sink = |r: &Record<'_>| {
            got.push(String::from_utf8_lossy(r.text).into_owned());
            Ok(())
        };
        tail.read_new(&Query::default(), &mut sink).unwrap();
        assert_eq!(got, ["last before rotation", "after rotation"]);
        got.clear();
        let mut sink = |r: &Record<'_>| {
            got.push(String::from_utf8_lossy(r.text).into_owned());
            Ok(())
        };
        tail.read_new(&Query::default(), &mut sink).unwrap();
        assert!(got.is_empty(), "nothing twice: {got:?}");
        assert_eq!(lines, ["first"]);
    }

    #[test]
    fn parses_records_and_times() {
        let r = parse(b"2024-01-01T00:00:00.000000001Z stderr P abc def").unwrap();
        assert_eq!((r.stream, r.partial, r.text), (Stream::Stderr, true, &b"abc def"[..]));
        assert!(parse(b"garbage").is_none());
        let now =
            chrono::DateTime::parse_from_rfc3339("2024-01-01T01:00:00Z").unwrap().with_timezone(&chrono::Utc);
        assert_eq!(parse_time("10m", now).unwrap(), "2024-01-01T00:50:00.000000000Z");
        assert_eq!(parse_time("2024-01-01T00:00:00Z", now).unwrap(), "2024-01-01T00:00:00.000000000Z");
        assert_eq!(parse_time("1704067200", now).unwrap(), "2024-01-01T00:00:00.000000000Z");
        assert!(parse_time("yesterday", now).is_err());
        assert_eq!(parse_duration("1h30m"), Some(std::time::Duration::from_secs(5400)));
    }
}
