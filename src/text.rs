//! Docker's ways of writing things, shared by the command line and the terminal UI: human
//! sizes (`4.26MB`, `1.5MiB`), relative times (`About a minute ago`), 12-character IDs, and a
//! container's STATUS (`Up 3 seconds`, `Exited (137) 2 minutes ago`).

use std::time::Duration;

use crate::engine::container::Container;
use crate::engine::store::containers::State;

/// JSON as `docker inspect` prints it: four-space indents.
pub fn pretty_json(v: &serde_json::Value) -> String {
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    if serde::Serialize::serialize(v, &mut ser).is_err() {
        return "[]".into();
    }
    String::from_utf8(buf).unwrap_or_default()
}

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

/// Now, in ns since the epoch.
pub fn now_nanos() -> i64 {
    chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
}

/// The time since `nanos` (ns since the epoch).
pub fn since(nanos: i64) -> Duration {
    since_at(nanos, now_nanos())
}

fn since_at(nanos: i64, now: i64) -> Duration {
    Duration::from_nanos((now - nanos).max(0) as u64)
}

/// Docker's STATUS column.
pub fn status_text(c: &Container) -> String {
    status_text_at(c, now_nanos())
}

/// Docker's STATUS column as of `now` (ns since the epoch).
pub fn status_text_at(c: &Container, now: i64) -> String {
    let since = |t| since_at(t, now);
    let r = &c.row;
    match r.state {
        State::Running => format!("Up {}", human_duration(since(r.started_at))),
        State::Paused => format!("Up {} (Paused)", human_duration(since(r.started_at))),
        State::Restarting => {
            format!("Restarting ({}) {} ago", r.exit_code, human_duration(since(r.finished_at)))
        }
        State::Exited if r.finished_at > 0 => {
            format!("Exited ({}) {} ago", r.exit_code, human_duration(since(r.finished_at)))
        }
        State::Exited | State::Created | State::Starting => "Created".into(),
        State::Removing => "Removal In Progress".into(),
        State::Dead => "Dead".into(),
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
}
