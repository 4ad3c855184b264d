//! The logs pane's state: a bounded ring of the selected container's lines, the follow, wrap
//! and timestamp toggles, the since/tail choice, the search and the scroll position. Memory is
//! bounded by line count and bytes whatever the container prints; lines are only formatted when
//! drawn (see `render::logs`).

use std::collections::VecDeque;

use crate::engine::container::log_follow::{LogBatch, LogLine};
use crate::engine::container::logs::{self, Query};

use super::matcher::Matcher;

/// Most lines kept.
pub const MAX_LINES: usize = 10_000;
/// Most text bytes kept.
pub const MAX_BYTES: usize = 16 << 20;

/// Which part of the log is loaded when the pane opens: the since/tail chooser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogRange {
    #[default]
    Last100,
    Last1000,
    Since5m,
    Since1h,
    /// Everything the ring can hold.
    All,
}

impl LogRange {
    pub const ALL: [LogRange; 5] = [Self::Last100, Self::Last1000, Self::Since5m, Self::Since1h, Self::All];

    pub fn label(self) -> &'static str {
        match self {
            Self::Last100 => "last 100",
            Self::Last1000 => "last 1000",
            Self::Since5m => "5m",
            Self::Since1h => "1h",
            Self::All => "all",
        }
    }

    pub fn next(self) -> Self {
        let i = Self::ALL.iter().position(|r| *r == self).unwrap_or(0);
        Self::ALL[(i + 1) % Self::ALL.len()]
    }

    /// The engine query for this range, relative to `now`.
    pub fn query(self, now: chrono::DateTime<chrono::Utc>) -> Query {
        let since = |d: &str| logs::parse_time(d, now).ok();
        match self {
            Self::Last100 => Query { tail: Some(100), ..Default::default() },
            Self::Last1000 => Query { tail: Some(1000), ..Default::default() },
            Self::Since5m => Query { since: since("5m"), ..Default::default() },
            Self::Since1h => Query { since: since("1h"), ..Default::default() },
            Self::All => Query { tail: Some(MAX_LINES), ..Default::default() },
        }
    }
}

/// Removes terminal escape sequences (CSI, OSC, two-byte ESC) and other control characters
/// but tab, for searching and saving. Hand-written: ansi-to-tui parses into styled spans, which
/// is wasted work for a plain-text search over thousands of lines.
pub fn strip_ansi(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.bytes().any(|b| b == 0x1b || (b < 0x20 && b != b'\t')) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => match chars.next() {
                Some('[') => {
                    // Parameters and intermediates, then one final byte in @..~.
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
                Some(']') => {
                    // OSC ends with BEL or ESC \.
                    while let Some(c) = chars.next() {
                        if c == '\x07' {
                            break;
                        }
                        if c == '\x1b' {
                            chars.next();
                            break;
                        }
                    }
                }
                _ => {}
            },
            '\t' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// One container's log as the pane shows it.
#[derive(Debug, Clone, Default)]
pub struct LogView {
    /// The container (ID and name); empty when none is selected.
    pub id: String,
    pub name: String,
    pub lines: VecDeque<LogLine>,
    bytes: usize,
    /// Sequence number of `lines[0]`: lines keep their number while older ones drop out.
    pub first: u64,
    /// Stick to the newest line.
    pub follow: bool,
    pub wrap: bool,
    pub timestamps: bool,
    pub range: LogRange,
    /// The search as typed, and its compiled form.
    pub search: String,
    pub matcher: Matcher,
    /// The line of the current match.
    pub current: Option<u64>,
    /// When not following: the sequence number of the bottom line shown.
    pub anchor: u64,
    /// Bytes the engine skipped to keep up.
    pub skipped_bytes: u64,
    /// The container stopped and its output is all here.
    pub ended: bool,
    /// When the container was started, as the stream began (a later start restarts it).
    pub started_at: i64,
    /// Tells batches of this view's stream from those of an earlier one.
    pub generation: u64,
}

impl LogView {
    /// An empty view that will follow.
    pub fn new() -> Self {
        Self { follow: true, ..Default::default() }
    }

    /// A fresh view of a container (toggles carried over from the previous view).
    pub fn reset(&mut self, id: &str, name: &str) {
        let generation = self.generation + 1;
        *self = Self {
            id: id.into(),
            name: name.into(),
            follow: true,
            wrap: self.wrap,
            timestamps: self.timestamps,
            range: self.range,
            search: std::mem::take(&mut self.search),
            matcher: std::mem::take(&mut self.matcher),
            generation,
            ..Default::default()
        };
    }

    /// Sequence number after the newest line.
    pub fn end(&self) -> u64 {
        self.first + self.lines.len() as u64
    }

    pub fn get(&self, seq: u64) -> Option<&LogLine> {
        seq.checked_sub(self.first).and_then(|i| self.lines.get(i as usize))
    }

    /// The bottom line shown.
    pub fn bottom(&self) -> u64 {
        if self.follow {
            self.end().saturating_sub(1)
        } else {
            self.anchor.clamp(self.first, self.end().max(1) - 1)
        }
    }

    pub fn push(&mut self, batch: LogBatch) {
        self.skipped_bytes += batch.skipped_bytes;
        self.ended |= batch.ended;
        for line in batch.lines {
            self.bytes += line.text.len() + line.time.len();
            self.lines.push_back(line);
        }
        while self.lines.len() > MAX_LINES || (self.bytes > MAX_BYTES && self.lines.len() > 1) {
            if let Some(old) = self.lines.pop_front() {
                self.bytes -= old.text.len() + old.time.len();
                self.first += 1;
            }
        }
    }

    /// Moves the view `delta` lines (negative: older). Moving up stops following; reaching
    /// the end does not resume it (`f` or `G` does).
    pub fn scroll(&mut self, delta: i64) {
        let bottom = self.bottom() as i64;
        let last = self.end().saturating_sub(1) as i64;
        self.anchor = (bottom + delta).clamp(self.first as i64, last.max(self.first as i64)) as u64;
        if delta < 0 {
            self.follow = false;
        }
    }

    pub fn to_top(&mut self) {
        self.follow = false;
        self.anchor = self.first;
    }

    pub fn to_end(&mut self) {
        self.follow = true;
    }

    pub fn set_search(&mut self, text: &str) -> Result<(), String> {
        self.search = text.to_string();
        self.current = None;
        let m = Matcher::new(text);
        self.matcher = m.clone().unwrap_or(Matcher::Invalid);
        m.map(|_| ())
    }

    pub fn line_matches(&self, line: &LogLine) -> bool {
        !self.matcher.is_all() && self.matcher.is_match(&strip_ansi(&line.text))
    }

    /// Jumps to the next match (older with `back`), starting beside the current one (or from
    /// the bottom line). Returns false when there is none.
    pub fn find(&mut self, back: bool) -> bool {
        if self.matcher.is_all() || self.lines.is_empty() {
            return false;
        }
        let from = self.current.unwrap_or(if back { self.bottom() + 1 } else { self.bottom() });
        let hit = if back {
            (self.first..from.min(self.end()))
                .rev()
                .find(|s| self.get(*s).is_some_and(|l| self.line_matches(l)))
        } else {
            (from + 1..self.end()).find(|s| self.get(*s).is_some_and(|l| self.line_matches(l)))
        };
        match hit {
            Some(s) => {
                self.current = Some(s);
                self.follow = false;
                self.anchor = s;
                true
            }
            None => false,
        }
    }

    /// The text a save writes: one line per record, `TIME STREAM TEXT`, escapes removed.
    pub fn export(&self) -> String {
        let mut out = String::new();
        for l in &self.lines {
            out.push_str(&l.time);
            out.push(' ');
            out.push_str(l.stream.as_str());
            out.push(' ');
            out.push_str(&strip_ansi(&l.text));
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::monitor::logfile::Stream;

    fn line(i: usize) -> LogLine {
        LogLine { time: format!("t{i}"), stream: Stream::Stdout, text: format!("line {i}") }
    }

    fn view(n: usize) -> LogView {
        let mut v = LogView::default();
        v.reset("id", "web");
        v.push(LogBatch { lines: (0..n).map(line).collect(), ..Default::default() });
        v
    }

    #[test]
    fn the_ring_is_bounded_and_numbers_stay() {
        let mut v = view(MAX_LINES + 50);
        assert_eq!(v.lines.len(), MAX_LINES);
        assert_eq!(v.first, 50, "the first kept line's number counts those dropped");
        assert_eq!(v.get(50).unwrap().text, "line 50");
        assert!(v.get(49).is_none());
        // Bytes bound too: a few huge lines push out the rest.
        let big = "x".repeat(MAX_BYTES / 3);
        let huge = (0..4).map(|_| LogLine { time: String::new(), stream: Stream::Stderr, text: big.clone() });
        v.push(LogBatch { lines: huge.collect(), ..Default::default() });
        assert!(v.lines.len() <= 3);
    }

    #[test]
    fn scrolling_search_and_follow() {
        let mut v = view(100);
        assert_eq!(v.bottom(), 99);
        v.scroll(-10);
        assert!(!v.follow);
        assert_eq!(v.bottom(), 89);
        v.push(LogBatch { lines: vec![line(100)], ..Default::default() });
        assert_eq!(v.bottom(), 89, "a paused view stays put");
        v.scroll(1000);
        assert_eq!(v.bottom(), 100);
        v.to_end();
        v.set_search("~LINE 5").unwrap();
        assert!(v.find(true));
        assert_eq!(v.current, Some(59));
        assert!(v.find(true));
        assert_eq!(v.current, Some(58));
        assert!(v.find(false));
        assert_eq!(v.current, Some(59));
        v.set_search("~^line 7$").unwrap();
        assert!(v.find(true));
        assert_eq!(v.current, Some(7));
        assert!(!v.find(true), "no older match");
        v.set_search("nothing").unwrap();
        assert!(!v.find(true));
        v.reset("id2", "db");
        assert!(v.lines.is_empty() && v.follow && v.search == "nothing");
    }

    #[test]
    fn escapes_are_stripped_for_search_and_save() {
        assert_eq!(strip_ansi("\x1b[1;31merror\x1b[0m: x"), "error: x");
        assert_eq!(strip_ansi("\x1b]0;title\x07ok\r"), "ok");
        assert!(matches!(strip_ansi("plain\ttext"), std::borrow::Cow::Borrowed(_)));
        let mut v = view(0);
        v.push(LogBatch {
            lines: vec![LogLine {
                time: "T".into(),
                stream: Stream::Stderr,
                text: "\x1b[31mred\x1b[0m".into(),
            }],
            ..Default::default()
        });
        assert_eq!(v.export(), "T stderr red\n");
        assert_eq!(LogRange::Last100.query(chrono::Utc::now()).tail, Some(100));
        assert!(LogRange::Since5m.query(chrono::Utc::now()).since.is_some());
        assert_eq!(LogRange::All.next(), LogRange::Last100);
    }
}
