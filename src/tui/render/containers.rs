//! The containers pane: one row per container (state in colour, STATUS as Docker writes it,
//! ports, CPU and memory with a sparkline of the last minute), and on wide terminals the
//! selected container's details and charts.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row};

use super::list_table;
use crate::text::{bytes_size, human_size, status_text_at};
use crate::tui::app::App;

/// The last `width` values as bar characters, scaled to `max` (at least 100, one full CPU).
pub fn spark_text(bars: [&str; 8], values: impl DoubleEndedIterator<Item = f64>, width: usize) -> String {
    let mut v: Vec<f64> = values.rev().take(width).collect();
    v.reverse();
    let max = v.iter().cloned().fold(100.0, f64::max);
    v.iter().map(|x| bars[((x / max) * 7.0).round().clamp(0.0, 7.0) as usize]).collect()
}

pub fn list(app: &App, f: &mut Frame<'_>, area: Rect) {
    let t = &app.theme;
    // Narrow terminals drop IMAGE, PORTS and the sparkline, never STATUS.
    let wide = area.width >= 120;
    let mut header = vec!["NAME"];
    let mut widths = vec![Constraint::Min(12)];
    if wide {
        header.push("IMAGE");
        widths.push(Constraint::Min(12));
    }
    header.extend(["STATE", "STATUS", "CPU %", "MEM"]);
    widths.extend([
        Constraint::Length(10),
        Constraint::Length(28),
        Constraint::Length(7),
        Constraint::Length(9),
    ]);
    if wide {
        header.extend(["PORTS", "CPU (1 min)"]);
        widths.extend([Constraint::Min(14), Constraint::Length(20)]);
    }
    let rows: Vec<Row<'_>> = app
        .visible_containers()
        .into_iter()
        .map(|item| {
            let c = &item.container;
            let h = app.history.get(c.id());
            let last = h.and_then(|h| h.last.as_ref());
            let mark = if app.marked.contains(c.id()) { app.symbols.mark() } else { "" };
            let mut cells = vec![Cell::from(Line::from(vec![
                Span::styled(mark, t.fg(t.marked)),
                Span::styled(c.row.name.clone(), t.fg(t.text)),
            ]))];
            if wide {
                cells.push(Cell::from(Span::styled(c.row.image_name.clone(), t.fg(t.muted))));
            }
            cells.extend([
                Cell::from(Span::styled(c.row.state.as_str(), t.state(c.row.state))),
                Cell::from(Span::styled(status_text_at(c, app.now), t.fg(t.text))),
                Cell::from(last.map(|s| format!("{:.1}", s.cpu_percent)).unwrap_or_default()),
                Cell::from(last.map(|s| bytes_size(s.memory_usage)).unwrap_or_default()),
            ]);
            if wide {
                cells.push(Cell::from(Span::styled(item.ports.clone(), t.fg(t.muted))));
                let spark =
                    h.map(|h| spark_text(app.symbols.spark(), h.cpu.iter().copied(), 20)).unwrap_or_default();
                cells.push(Cell::from(Span::styled(spark, t.fg(t.chart))));
            }
            Row::new(cells)
        })
        .collect();
    let empty = rows.is_empty();
    list_table(app, f, area, "Containers", header, widths, rows);
    if empty {
        let msg = if app.filter.is_empty() {
            "no containers: `gantry run` one"
        } else {
            "nothing matches the filter"
        };
        let inner = Rect { x: area.x + 2, y: area.y + 2, width: area.width.saturating_sub(4), height: 1 };
        f.render_widget(Paragraph::new(msg).style(t.fg(t.muted)), inner);
    }
}

/// The selected container: identity, state, figures and the last minute's charts.
pub fn details(app: &App, f: &mut Frame<'_>, area: Rect) {
    let t = &app.theme;
    let block = super::bordered(app, Span::styled(" Details ", t.header_style()));
    let Some(item) = app.selected_container() else {
        f.render_widget(Paragraph::new("no container selected").style(t.fg(t.muted)).block(block), area);
        return;
    };
    let inner = block.inner(area);
    f.render_widget(block, area);
    let c = &item.container;
    let h = app.history.get(c.id());
    let last = h.and_then(|h| h.last.as_ref());
    let label = |s: &str| Span::styled(format!("{s:<9}"), t.fg(t.muted));
    let mut lines = vec![
        Line::from(vec![
            label("name"),
            Span::styled(c.row.name.clone(), t.fg(t.text).add_modifier(Modifier::BOLD)),
        ]),
        Line::from(vec![label("id"), Span::styled(c.id()[..12].to_string(), t.fg(t.text))]),
        Line::from(vec![label("image"), Span::styled(c.row.image_name.clone(), t.fg(t.text))]),
        Line::from(vec![label("command"), Span::styled(c.command(), t.fg(t.text))]),
        Line::from(vec![
            label("state"),
            Span::styled(c.row.state.as_str(), t.state(c.row.state)),
            Span::styled(format!("  {}", status_text_at(c, app.now)), t.fg(t.text)),
        ]),
        Line::from(vec![label("ports"), Span::styled(item.ports.clone(), t.fg(t.text))]),
    ];
    if let Some(s) = last {
        let (rx, tx) = s.net_io();
        lines.push(Line::from(vec![
            label("cpu"),
            Span::styled(
                format!("{:.2}% ({:.2}% of the machine)", s.cpu_percent, s.cpu_machine_percent),
                t.fg(t.text),
            ),
        ]));
        lines.push(Line::from(vec![
            label("memory"),
            Span::styled(
                format!(
                    "{} / {} ({:.2}%)",
                    bytes_size(s.memory_usage),
                    bytes_size(s.memory_limit),
                    s.memory_percent
                ),
                t.fg(t.text),
            ),
        ]));
        lines.push(Line::from(vec![
            label("net i/o"),
            Span::styled(format!("{} / {}", human_size(rx), human_size(tx)), t.fg(t.text)),
        ]));
        lines.push(Line::from(vec![
            label("block"),
            Span::styled(
                format!("{} / {}", human_size(s.block_read), human_size(s.block_write)),
                t.fg(t.text),
            ),
        ]));
        lines.push(Line::from(vec![label("pids"), Span::styled(s.pids.to_string(), t.fg(t.text))]));
    }
    let text_height = lines.len() as u16;
    let [text_area, cpu_area, mem_area] =
        Layout::vertical([Constraint::Length(text_height + 1), Constraint::Min(3), Constraint::Min(3)])
            .areas(inner);
    f.render_widget(Paragraph::new(lines), text_area);
    if let (Some(h), Some(s)) = (h, last) {
        let cpu: Vec<u64> = h.cpu.iter().map(|v| (v * 10.0) as u64).collect();
        let title = format!("CPU, last minute (max {:.1}%)", h.cpu.iter().copied().fold(0.0, f64::max));
        super::stats::chart(app, f, cpu_area, title, &cpu, super::stats::CPU_FLOOR);
        let mem: Vec<u64> = h.memory.iter().copied().collect();
        let title = format!("memory, last minute (now {})", crate::text::bytes_size(s.memory_usage));
        super::stats::chart(app, f, mem_area, title, &mem, super::stats::MEMORY_FLOOR);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparkline_text_scales_to_one_cpu_or_more() {
        let bars = crate::tui::symbols::Symbols::default().spark();
        assert_eq!(spark_text(bars, [0.0, 50.0, 100.0].into_iter(), 10), "▁▅█");
        assert_eq!(spark_text(bars, [0.0, 100.0, 200.0].into_iter(), 2), "▅█");
        let ascii = crate::tui::symbols::Symbols { ascii: true }.spark();
        assert!(spark_text(ascii, [0.0, 50.0, 100.0].into_iter(), 10).is_ascii());
    }
}
