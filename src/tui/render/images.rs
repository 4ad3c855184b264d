//! The images pane: repository, tag, ID, size and age; dangling images (`<none>`) dimmed.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row};

use super::list_table;
use crate::text::{human_duration, human_size, short_id};
use crate::tui::app::App;

pub fn list(app: &App, f: &mut Frame<'_>, area: Rect) {
    let t = &app.theme;
    let rows = app
        .visible_images()
        .into_iter()
        .map(|r| {
            let img = r.image;
            let age = img
                .created
                .map(|c| {
                    let d = (app.now - c.timestamp_nanos_opt().unwrap_or(0)).max(0) as u64;
                    format!("{} ago", human_duration(std::time::Duration::from_nanos(d)))
                })
                .unwrap_or_else(|| "N/A".into());
            let style = if img.dangling() { t.fg(t.muted) } else { t.fg(t.text) };
            let mark = if app.marked.contains(&r.target().0) { app.symbols.mark() } else { "" };
            Row::new(vec![
                Cell::from(Line::from(vec![
                    Span::styled(mark, t.fg(t.marked)),
                    Span::styled(r.repo.clone(), style),
                ])),
                Cell::from(Span::styled(r.tag, style)),
                Cell::from(Span::styled(short_id(&img.id.to_string(), false), t.fg(t.muted))),
                Cell::from(Span::styled(age, style)),
                Cell::from(Span::styled(human_size(img.size), style)),
            ])
        })
        .collect();
    let widths = vec![
        Constraint::Min(20),
        Constraint::Length(10),
        Constraint::Length(12),
        Constraint::Length(14),
        Constraint::Length(8),
    ];
    list_table(
        app,
        f,
        area,
        "Images",
        vec!["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"],
        widths,
        rows,
    );
}
