//! Output formatting shared by commands, matching the Docker CLI: tab-aligned tables, human
//! sizes (`4.26MB`), relative times (`About a minute ago`), 12-character IDs.

use std::time::Duration;

/// Docker's `units.HumanSizeWithPrecision(size, 3)`: decimal units, three significant digits.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
    let mut size = bytes as f64;
    let mut unit = 0;
    while size >= 1000.0 && unit < UNITS.len() - 1 {
        size /= 1000.0;
        unit += 1;
    }
    format!("{}{}", significant(size, 3), UNITS[unit])
}

/// Docker's `units.BytesSize`: binary units, four significant digits (`1.5MiB`, `1.944GiB`).
pub fn bytes_size(bytes: u64) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut size = bytes as f64;
    let mut unit = 0;
    while size >= 1024.0 && unit < UNITS.len() - 1 {
        size /= 1024.0;
        unit += 1;
    }
    format!("{}{}", significant(size, 4), UNITS[unit])
}

/// Formats like Go's `%.{digits}g` for values in [0, 1000).
fn significant(v: f64, digits: i32) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let magnitude = v.abs().log10().floor() as i32 + 1;
    let decimals = (digits - magnitude).max(0) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
}

/// Docker's `units.HumanDuration`.
pub fn human_duration(d: Duration) -> String {
    let secs = d.as_secs();
    let minutes = secs / 60;
    let hours = (d.as_secs_f64() / 3600.0 + 0.5) as u64;
    if secs < 1 {
        "Less than a second".into()
    } else if secs == 1 {
        "1 second".into()
    } else if secs < 60 {
        format!("{secs} seconds")
    } else if minutes == 1 {
        "About a minute".into()
    } else if minutes < 60 {
        format!("{minutes} minutes")
    } else if hours == 1 {
        "About an hour".into()
    } else if hours < 48 {
        format!("{hours} hours")
    } else if hours < 24 * 7 * 2 {
        format!("{} days", hours / 24)
    } else if hours < 24 * 30 * 2 {
        format!("{} weeks", hours / 24 / 7)
    } else if hours < 24 * 365 * 2 {
        format!("{} months", hours / 24 / 30)
    } else {
        format!("{} years", hours / 24 / 365)
    }
}

/// `"<duration> ago"` for a past time, `N/A` when unknown.
pub fn ago(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    match t {
        Some(t) => {
            let d = (chrono::Utc::now() - t).to_std().unwrap_or_default();
            format!("{} ago", human_duration(d))
        }
        None => "N/A".into(),
    }
}

/// An ID as Docker shows it: 12 hex characters, or the full `sha256:…` with `--no-trunc`.
pub fn short_id(full: &str, no_trunc: bool) -> String {
    if no_trunc {
        return full.to_string();
    }
    let hex = full.strip_prefix("sha256:").unwrap_or(full);
    hex.chars().take(12).collect()
}

/// Docker's `stringutils.Ellipsis`: at most `max` characters, the last one `…` when cut.
pub fn ellipsis(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A table aligned like Go's tabwriter as the Docker CLI configures it (min width 10,
/// padding 3); the last column is not padded.
#[derive(Debug, Default)]
pub struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Self {
        Self { rows: vec![header.iter().map(|s| s.to_string()).collect()] }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn render(&self) -> String {
        let cols = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..cols)
            .map(|c| {
                let w =
                    self.rows.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max().unwrap_or(0);
                (w + 3).max(10)
            })
            .collect();
        let mut out = String::new();
        for row in &self.rows {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i + 1 == row.len() {
                    line.push_str(cell);
                } else {
                    line.push_str(cell);
                    line.extend(std::iter::repeat_n(' ', widths[i] - cell.chars().count()));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_like_docker() {
        assert_eq!(human_size(0), "0B");
        assert_eq!(human_size(999), "999B");
        assert_eq!(human_size(1000), "1kB");
        assert_eq!(human_size(1_240), "1.24kB");
        assert_eq!(human_size(4_261_000), "4.26MB");
        assert_eq!(human_size(124_000_000), "124MB");
        assert_eq!(human_size(58_800_000), "58.8MB");
        assert_eq!(human_size(2_000_000_000), "2GB");
    }

    #[test]
    fn durations_like_docker() {
        let s = Duration::from_secs;
        assert_eq!(human_duration(Duration::from_millis(300)), "Less than a second");
        assert_eq!(human_duration(s(1)), "1 second");
        assert_eq!(human_duration(s(3)), "3 seconds");
        assert_eq!(human_duration(s(61)), "About a minute");
        assert_eq!(human_duration(s(6 * 60)), "6 minutes");
        assert_eq!(human_duration(s(3600)), "About an hour");
        assert_eq!(human_duration(s(5 * 3600)), "5 hours");
        assert_eq!(human_duration(s(3 * 86400)), "3 days");
        assert_eq!(human_duration(s(20 * 86400)), "2 weeks");
        assert_eq!(human_duration(s(90 * 86400)), "3 months");
        assert_eq!(human_duration(s(800 * 86400)), "2 years");
    }

    #[test]
    fn table_aligns_like_tabwriter() {
        let mut t = Table::new(&["REPOSITORY", "TAG", "IMAGE ID"]);
        t.row(vec!["busybox".into(), "latest".into(), "abc".into()]);
        assert_eq!(t.render(), "REPOSITORY   TAG       IMAGE ID\nbusybox      latest    abc\n");
        assert_eq!(ellipsis("abcdef", 4), "abc…");
        assert_eq!(short_id("sha256:0123456789abcdef", false), "0123456789ab");
    }
}
