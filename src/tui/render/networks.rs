//! The networks pane: each network with its driver, subnet and the containers on it.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row};

use super::list_table;
use crate::tui::app::App;

pub fn list(app: &App, f: &mut Frame<'_>, area: Rect) {
    let t = &app.theme;
    let rows: Vec<Row<'_>> = app
        .visible_networks()
        .into_iter()
        .map(|n| {
            let mark = if app.marked.contains(&n.network.id) { app.symbols.mark() } else { "" };
            Row::new(vec![
                Cell::from(Line::from(vec![
                    Span::styled(mark, t.fg(t.marked)),
                    Span::styled(n.network.name.clone(), t.fg(t.text)),
                ])),
                Cell::from(Span::styled(
                    n.network.id[..12.min(n.network.id.len())].to_string(),
                    t.fg(t.muted),
                )),
                Cell::from(Span::styled(n.network.driver.clone(), t.fg(t.text))),
                Cell::from(Span::styled(n.network.subnet.clone(), t.fg(t.text))),
                Cell::from(Span::styled(n.containers.join(", "), t.fg(t.accent))),
            ])
        })
        .collect();
    let widths = vec![
        Constraint::Min(14),
        Constraint::Length(13),
        Constraint::Length(8),
        Constraint::Length(18),
        Constraint::Min(10),
    ];
    list_table(
        app,
        f,
        area,
        "Networks",
        vec!["NAME", "NETWORK ID", "DRIVER", "SUBNET", "CONTAINERS"],
        widths,
        rows,
    );
}
