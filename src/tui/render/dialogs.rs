//! Overlays: the help generated from the keymap, and the confirmation of a destructive action.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use crate::tui::app::{App, Confirm};
use crate::tui::keymap::{self, ACTIONS};

fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let [v] = Layout::vertical([Constraint::Length(h.min(area.height))]).flex(Flex::Center).areas(area);
    let [r] = Layout::horizontal([Constraint::Length(w.min(area.width))]).flex(Flex::Center).areas(v);
    r
}

/// Every action with its keys and what it does (hidden mutating ones in read-only mode),
/// scrolled `top` lines when it does not fit.
pub fn help(app: &App, f: &mut Frame<'_>, top: u16) {
    let t = &app.theme;
    let lines: Vec<Line<'_>> = ACTIONS
        .iter()
        .filter(|i| !(app.read_only && i.mutating))
        .map(|i| {
            Line::from(vec![
                Span::styled(
                    format!("{:<16}", app.keymap.keys_of(i.action).join(" ")),
                    t.fg(t.accent).add_modifier(Modifier::BOLD),
                ),
                Span::styled(format!("{:<14}", i.name), t.fg(t.text)),
                Span::styled(i.description, t.fg(t.muted)),
            ])
        })
        .collect();
    let area = centered(f.area(), 84, lines.len() as u16 + 2);
    let fits = lines.len() as u16 <= area.height.saturating_sub(2);
    let top = if fits { 0 } else { top.min(lines.len() as u16 - area.height.saturating_sub(2)) };
    let title =
        if fits { " Keys — any key closes " } else { " Keys — j/k scroll, any other key closes " };
    let block = super::bordered(app, Span::styled(title, t.header_style())).border_style(t.fg(t.accent));
    f.render_widget(Clear, area);
    f.render_widget(Paragraph::new(lines).scroll((top, 0)).block(block), area);
}

pub fn confirm(app: &App, f: &mut Frame<'_>, c: &Confirm) {
    let t = &app.theme;
    let names: Vec<&str> = c.targets.iter().map(|(_, n)| n.as_str()).collect();
    let what = keymap::info(c.action).description;
    let text = vec![
        Line::from(Span::styled(format!("{what}: {}?", names.join(", ")), t.fg(t.text))),
        Line::from(""),
        Line::from(vec![
            Span::styled("y", t.fg(t.error).add_modifier(Modifier::BOLD)),
            Span::styled(" yes    ", t.fg(t.text)),
            Span::styled("any other key", t.fg(t.accent)),
            Span::styled(" no", t.fg(t.text)),
        ]),
    ];
    let area = centered(f.area(), 60, 6);
    let block = super::bordered(app, Span::styled(" Confirm ", t.header_style())).border_style(t.fg(t.error));
    f.render_widget(Clear, area);
    f.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }).block(block), area);
}
