//! The logs pane: only the lines in view are formatted — ANSI colours parsed into styles,
//! stderr marked in the gutter, search matches highlighted, long lines wrapped or cut — so a
//! full ring costs nothing to draw.

use ansi_to_tui::IntoText;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthChar;

use crate::engine::container::log_follow::LogLine;
use crate::engine::monitor::logfile::Stream;
use crate::tui::app::App;
use crate::tui::log_view::LogView;

/// The line's text as styled spans. Escape sequences other than colours, and every control
/// character, are dropped: a container's output must never reach the real terminal as
/// commands.
fn styled_text(text: &str) -> Vec<Span<'static>> {
    // Most lines are plain: no escape to parse, no control character to drop.
    if !text.chars().any(char::is_control) {
        return vec![Span::raw(text.to_owned())];
    }
    let text = text.replace('\t', "    ");
    let parsed = text.as_bytes().into_text().ok();
    let spans: Vec<Span<'static>> = match parsed {
        Some(t) => t.lines.into_iter().flat_map(|l| l.spans).collect(),
        None => vec![Span::raw(crate::tui::log_view::strip_ansi(&text).into_owned())],
    };
    spans
        .into_iter()
        .map(|mut s| {
            if s.content.chars().any(char::is_control) {
                s.content = s.content.chars().filter(|c| !c.is_control()).collect::<String>().into();
            }
            s
        })
        .filter(|s| !s.content.is_empty())
        .collect()
}

/// Splits spans so that the byte ranges of `ranges` (over the spans' joined text) get `hit`.
pub(super) fn highlight(
    spans: Vec<Span<'static>>,
    ranges: &[(usize, usize)],
    hit: Style,
) -> Vec<Span<'static>> {
    if ranges.is_empty() {
        return spans;
    }
    let mut out = Vec::new();
    let mut offset = 0;
    for span in spans {
        let text = span.content.to_string();
        let (start, end) = (offset, offset + text.len());
        offset = end;
        let mut cut = start;
        for &(a, b) in ranges.iter().filter(|(a, b)| *b > start && *a < end) {
            let (a, b) = (a.max(start), b.min(end));
            if !text.is_char_boundary(a - start) || !text.is_char_boundary(b - start) {
                continue;
            }
            if a > cut {
                out.push(Span::styled(text[cut - start..a - start].to_string(), span.style));
            }
            out.push(Span::styled(text[a - start..b - start].to_string(), span.style.patch(hit)));
            cut = b;
        }
        if cut < end {
            out.push(Span::styled(text[cut - start..].to_string(), span.style));
        }
    }
    out
}

/// One log line as shown: gutter, optional timestamp, the text.
pub fn format_line(app: &App, line: &LogLine, current: bool) -> Line<'static> {
    let (t, v) = (&app.theme, &app.logs);
    let gutter = match (current, line.stream) {
        (true, _) => Span::styled(app.symbols.current(), t.fg(t.accent).add_modifier(Modifier::BOLD)),
        (false, Stream::Stderr) => Span::styled(app.symbols.stderr(), t.fg(t.error)),
        (false, Stream::Stdout) => Span::raw(" "),
    };
    let mut spans = vec![gutter];
    if v.timestamps {
        let time = line.time.get(..23).map(|s| format!("{s}Z ")).unwrap_or_else(|| format!("{} ", line.time));
        spans.push(Span::styled(time, t.fg(t.muted)));
    }
    let mut text = styled_text(&line.text);
    if !v.matcher.is_all() {
        let plain: String = text.iter().map(|s| s.content.as_ref()).collect();
        // Only lines the search matches (every word) are highlighted.
        if v.matcher.is_match(&plain) {
            text = highlight(text, &v.matcher.ranges(&plain), t.matched());
        }
    }
    spans.extend(text);
    Line::from(spans)
}

/// Cuts a line into rows of `width` columns.
fn wrap(line: Line<'static>, width: usize) -> Vec<Line<'static>> {
    let mut rows = vec![];
    let mut row: Vec<Span<'static>> = vec![];
    let mut used = 0;
    for span in line.spans {
        let mut piece = String::new();
        for c in span.content.chars() {
            let w = c.width().unwrap_or(0);
            if used + w > width && used > 0 {
                if !piece.is_empty() {
                    row.push(Span::styled(std::mem::take(&mut piece), span.style));
                }
                rows.push(Line::from(std::mem::take(&mut row)));
                used = 0;
            }
            piece.push(c);
            used += w;
        }
        if !piece.is_empty() {
            row.push(Span::styled(piece, span.style));
        }
    }
    rows.push(Line::from(row));
    rows
}

fn title(v: &LogView, sep: &str) -> String {
    let mut parts = vec![format!("Logs: {}", if v.name.is_empty() { "-" } else { &v.name })];
    parts.push(if v.follow { "following".into() } else { "paused".into() });
    parts.push(v.range.label().into());
    if v.wrap {
        parts.push("wrap".into());
    }
    if !v.search.is_empty() {
        parts.push(format!("/{}", v.search));
    }
    if v.skipped_bytes > 0 {
        parts.push(format!("skipped {} to keep up", crate::text::human_size(v.skipped_bytes)));
    }
    if v.ended {
        parts.push("container stopped".into());
    }
    format!(" {} ", parts.join(sep))
}

pub fn view(app: &App, f: &mut Frame<'_>, area: Rect) {
    let t = &app.theme;
    let v = &app.logs;
    let block = super::bordered(app, Span::styled(title(v, app.symbols.sep()), t.header_style()));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let message = if v.id.is_empty() {
        Some("no container selected")
    } else if v.lines.is_empty() {
        Some(if v.ended { "no output" } else { "no output yet" })
    } else {
        None
    };
    if let Some(m) = message {
        f.render_widget(Paragraph::new(m).style(t.fg(t.muted)), inner);
        return;
    }
    let (height, width) = (inner.height as usize, inner.width.max(1) as usize);
    let mut rows: Vec<Line<'static>> = Vec::with_capacity(height);
    let mut seq = v.bottom();
    loop {
        if let Some(line) = v.get(seq) {
            let formatted = format_line(app, line, v.current == Some(seq));
            let mut parts = if v.wrap { wrap(formatted, width) } else { vec![formatted] };
            while let Some(part) = parts.pop() {
                if rows.len() < height {
                    rows.push(part);
                }
            }
        }
        if rows.len() >= height || seq <= v.first {
            break;
        }
        seq -= 1;
    }
    rows.reverse();
    // Near the top of the ring (a match on an early line), fill the rest with the lines after.
    let mut next = v.bottom() + 1;
    while rows.len() < height {
        let Some(line) = v.get(next) else { break };
        let formatted = format_line(app, line, false);
        let parts = if v.wrap { wrap(formatted, width) } else { vec![formatted] };
        rows.extend(parts.into_iter().take(height - rows.len()));
        next += 1;
    }
    f.render_widget(Paragraph::new(rows), inner);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(spans: &[Span<'_>]) -> String {
        spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn colours_become_styles_and_control_sequences_never_pass() {
        let spans = styled_text("\x1b[31mred\x1b[0m plain\x1b[2J\x1b]0;pwned\x07\x07\r");
        assert_eq!(plain(&spans).trim_end(), "red plain");
        assert_eq!(spans[0].style.fg, Some(ratatui::style::Color::Red));
        assert!(spans.iter().all(|s| !s.content.chars().any(char::is_control)));
        assert_eq!(plain(&styled_text("a\tb")), "a    b");
    }

    #[test]
    fn matches_split_spans_and_lines_wrap_by_width() {
        let hit = Style::default().bg(ratatui::style::Color::Yellow);
        let spans =
            vec![Span::raw("hello "), Span::styled("world", Style::default().fg(ratatui::style::Color::Red))];
        let out = highlight(spans, &[(4, 8)], hit);
        let texts: Vec<&str> = out.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(texts, ["hell", "o ", "wo", "rld"]);
        assert_eq!(out[1].style.bg, Some(ratatui::style::Color::Yellow));
        assert_eq!(out[2].style.fg, Some(ratatui::style::Color::Red));
        assert_eq!(out[2].style.bg, Some(ratatui::style::Color::Yellow));
        let rows = wrap(Line::from(vec![Span::raw("abcdef"), Span::raw("gh")]), 3);
        let rows: Vec<String> = rows.iter().map(|l| plain(&l.spans)).collect();
        assert_eq!(rows, ["abc", "def", "gh"]);
        let rows = wrap(Line::from("日本語"), 4);
        assert_eq!(rows.len(), 2, "wide characters count twice");
    }
}
