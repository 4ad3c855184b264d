//! The stats pane: the selected container's last minute as charts — CPU, memory, network and
//! block I/O rates — each titled with its current figure.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Paragraph, Sparkline};

use crate::text::{bytes_size, human_size};
use crate::tui::app::App;

/// Charts scale to what they show (an idle container's CPU is still visible), but never below
/// these: 1% of a CPU (CPU is charted in tenths of a percent) and 1 MiB.
pub(super) const CPU_FLOOR: u64 = 10;
pub(super) const MEMORY_FLOOR: u64 = 1 << 20;

/// One chart: a bordered sparkline of `data` scaled to its largest value, at least `floor`.
pub(super) fn chart(app: &App, f: &mut Frame<'_>, area: Rect, title: String, data: &[u64], floor: u64) {
    let t = &app.theme;
    let block = super::bordered(app, Span::styled(format!(" {title} "), t.fg(t.text)));
    // The newest values at the right edge.
    let width = area.width.saturating_sub(2) as usize;
    let data = &data[data.len().saturating_sub(width)..];
    let spark = Sparkline::default()
        .block(block)
        .data(data)
        .max(data.iter().copied().max().unwrap_or(0).max(floor))
        .bar_set(app.symbols.bars())
        .style(t.fg(t.chart));
    f.render_widget(spark, area);
}

pub fn view(app: &App, f: &mut Frame<'_>, area: Rect) {
    let t = &app.theme;
    let Some(item) = app.selected_container() else {
        let block = super::bordered(app, Span::raw(" Stats "));
        f.render_widget(Paragraph::new("no container selected").style(t.fg(t.muted)).block(block), area);
        return;
    };
    let c = &item.container;
    let [head, grid] = Layout::vertical([Constraint::Length(1), Constraint::Min(6)]).areas(area);
    let h = app.history.get(c.id());
    let Some((h, s)) = h.and_then(|h| h.last.as_ref().map(|s| (h, s))) else {
        let text = format!(" {} is {}: no figures yet", c.row.name, c.row.state.as_str());
        f.render_widget(Paragraph::new(text).style(t.fg(t.muted)), head);
        return;
    };
    let summary = [
        c.row.name.clone(),
        c.row.state.as_str().to_string(),
        format!("pids {}", s.pids),
        format!("net {} / {}", human_size(s.net_io().0), human_size(s.net_io().1)),
        format!("block {} / {}", human_size(s.block_read), human_size(s.block_write)),
    ]
    .join(app.symbols.sep());
    let summary = format!(" {summary}");
    f.render_widget(Paragraph::new(Span::styled(summary, t.header_style())), head);
    let rows = Layout::vertical([Constraint::Ratio(1, 3); 3]).split(grid);
    let cells: Vec<[Rect; 2]> =
        rows.iter().map(|r| Layout::horizontal([Constraint::Ratio(1, 2); 2]).areas(*r)).collect();
    let last = |q: &std::collections::VecDeque<u64>| q.back().copied().unwrap_or(0);
    // CPU in tenths of a percent, so small loads still show.
    let cpu: Vec<u64> = h.cpu.iter().map(|v| (v * 10.0) as u64).collect();
    chart(app, f, cells[0][0], format!("CPU {:.1}%", s.cpu_percent), &cpu, CPU_FLOOR);
    let mem: Vec<u64> = h.memory.iter().copied().collect();
    let mem_title = format!(
        "memory {} / {} ({:.1}%)",
        bytes_size(s.memory_usage),
        bytes_size(s.memory_limit),
        s.memory_percent
    );
    chart(app, f, cells[0][1], mem_title, &mem, MEMORY_FLOOR);
    let rates = [
        ("net in", &h.net_rx, cells[1][0]),
        ("net out", &h.net_tx, cells[1][1]),
        ("block read", &h.block_read, cells[2][0]),
        ("block write", &h.block_write, cells[2][1]),
    ];
    for (name, q, area) in rates {
        let data: Vec<u64> = q.iter().copied().collect();
        chart(app, f, area, format!("{name} {}/s", human_size(last(q))), &data, 1024);
    }
}
