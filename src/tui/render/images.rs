//! The images pane: repository, tag, ID, size and age; dangling images (`<none>`) dimmed.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row, Table, TableState};

use super::pane_block;
use crate::text::{human_duration, human_size, short_id};
use crate::tui::app::App;

pub fn list(app: &App, f: &mut Frame<'_>, area: Rect) {
    let t = &app.theme;
    let mut rows = Vec::new();
    for img in app.visible_images() {
        let age = img
            .created
            .map(|c| {
                let d = (app.now - c.timestamp_nanos_opt().unwrap_or(0)).max(0) as u64;
                format!("{} ago", human_duration(std::time::Duration::from_nanos(d)))
            })
            .unwrap_or_else(|| "N/A".into());
        let names: Vec<(String, String)> = if img.dangling() {
            vec![("<none>".into(), "<none>".into())]
        } else {
            img.tags.iter().map(|r| (r.familiar_name(), r.tag().unwrap_or("<none>").to_string())).collect()
        };
        for (repo, tag) in names {
            let style = if img.dangling() { t.fg(t.muted) } else { t.fg(t.text) };
            rows.push(Row::new(vec![
                Cell::from(Span::styled(repo, style)),
                Cell::from(Span::styled(tag, style)),
                Cell::from(Span::styled(short_id(&img.id.to_string(), false), t.fg(t.muted))),
                Cell::from(Span::styled(age.clone(), style)),
                Cell::from(Span::styled(human_size(img.size), style)),
            ]));
        }
    }
    let widths = [
        Constraint::Min(20),
        Constraint::Length(10),
        Constraint::Length(12),
        Constraint::Length(14),
        Constraint::Length(8),
    ];
    let table = Table::new(rows, widths)
        .header(Row::new(["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]).style(t.header_style()))
        .row_highlight_style(t.selected())
        .block(pane_block(app, "Images"));
    let mut state = TableState::default().with_selected(Some(app.selected_index()));
    f.render_stateful_widget(table, area, &mut state);
}
