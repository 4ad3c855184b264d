//! Overlays: the help generated from the keymap, and the confirmation of a destructive action.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use crate::tui::app::{App, Confirm};
use crate::tui::dialog::{Choice, Palette, Prompt};
use crate::tui::keymap::{self, ACTIONS};

pub(super) fn centered(area: Rect, w: u16, h: u16) -> Rect {
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
                    format!("{:<16}", app.symbols.text(&app.keymap.keys_of(i.action).join(" "))),
                    t.fg(t.accent).add_modifier(Modifier::BOLD),
                ),
                Span::styled(format!("{:<14}", i.name), t.fg(t.text)),
                Span::styled(app.symbols.text(i.description), t.fg(t.muted)),
            ])
        })
        .collect();
    let area = centered(f.area(), 100, lines.len() as u16 + 2);
    let fits = lines.len() as u16 <= area.height.saturating_sub(2);
    let top = if fits { 0 } else { top.min(lines.len() as u16 - area.height.saturating_sub(2)) };
    let title =
        if fits { " Keys — any key closes " } else { " Keys — j/k scroll, any other key closes " };
    let block = super::bordered(app, Span::styled(app.symbols.text(title), t.header_style()))
        .border_style(t.fg(t.accent));
    f.render_widget(Clear, area);
    f.render_widget(Paragraph::new(lines).scroll((top, 0)).block(block), area);
}

/// A question before something is removed: its lines (a prune lists what goes and what it
/// frees), then y or no.
pub fn confirm(app: &App, f: &mut Frame<'_>, c: &Confirm) {
    let t = &app.theme;
    let mut text: Vec<Line<'_>> =
        c.lines.iter().map(|l| Line::from(Span::styled(l.clone(), t.fg(t.text)))).collect();
    text.push(Line::from(""));
    text.push(Line::from(vec![
        Span::styled("y", t.fg(t.error).add_modifier(Modifier::BOLD)),
        Span::styled(" yes    ", t.fg(t.text)),
        Span::styled("any other key", t.fg(t.accent)),
        Span::styled(" no", t.fg(t.text)),
    ]));
    let area = centered(f.area(), 64, text.len() as u16 + 3);
    let block = super::bordered(app, Span::styled(format!(" {} ", c.title), t.header_style()))
        .border_style(t.fg(t.error));
    f.render_widget(Clear, area);
    f.render_widget(Paragraph::new(text).wrap(Wrap { trim: false }).block(block), area);
}

/// A one-line text entry.
pub fn prompt(app: &App, f: &mut Frame<'_>, p: &Prompt) {
    let t = &app.theme;
    let area = centered(f.area(), 64, 5);
    let block = super::bordered(app, Span::styled(format!(" {} ", p.title), t.header_style()))
        .border_style(t.fg(t.accent));
    let lines = vec![
        Line::from(vec![
            Span::styled(p.text.clone(), t.fg(t.text)),
            Span::styled(app.symbols.cursor(), t.fg(t.accent)),
        ]),
        Line::from(""),
        Line::from(Span::styled("enter runs it, esc cancels", t.fg(t.muted))),
    ];
    f.render_widget(Clear, area);
    f.render_widget(Paragraph::new(lines).block(block), area);
}

/// Rows of `items` with the selected one highlighted, in a box titled `title`.
/// A bordered list with the selected row highlighted and kept in view, under an optional
/// `header` line that does not scroll (the palette's input).
fn menu(
    app: &App,
    f: &mut Frame<'_>,
    title: &str,
    header: Option<Line<'_>>,
    items: Vec<Line<'_>>,
    selected: usize,
    width: u16,
) {
    let t = &app.theme;
    let fixed = usize::from(header.is_some());
    let height = ((items.len() + fixed) as u16 + 2).min(f.area().height.saturating_sub(2)).max(3);
    let area = centered(f.area(), width, height);
    let visible = (height.saturating_sub(2) as usize).saturating_sub(fixed).max(1);
    let offset = (selected + 1).saturating_sub(visible);
    let rows: Vec<Line<'_>> = header
        .into_iter()
        .chain(
            items
                .into_iter()
                .enumerate()
                .skip(offset)
                .take(visible)
                .map(|(i, l)| if i == selected { l.style(t.selected()) } else { l }),
        )
        .collect();
    let block =
        super::bordered(app, Span::styled(format!(" {} ", app.symbols.text(title)), t.header_style()))
            .border_style(t.fg(t.accent));
    f.render_widget(Clear, area);
    f.render_widget(Paragraph::new(rows).block(block), area);
}

pub fn choose(app: &App, f: &mut Frame<'_>, c: &Choice) {
    let t = &app.theme;
    let items = c.options.iter().map(|o| Line::from(Span::styled(format!(" {o}"), t.fg(t.text)))).collect();
    menu(app, f, &format!("{} — enter sends, esc cancels", c.title), None, items, c.selected, 60);
}

/// The `:` palette: what was typed, then the matching actions with their keys.
pub fn palette(app: &App, f: &mut Frame<'_>, p: &Palette) {
    let t = &app.theme;
    let input = Line::from(vec![
        Span::styled(":", t.fg(t.accent)),
        Span::styled(p.text.clone(), t.fg(t.text)),
        Span::styled(app.symbols.cursor(), t.fg(t.accent)),
    ]);
    let mut items = Vec::new();
    for a in p.matches(app.read_only) {
        let info = keymap::info(a);
        items.push(Line::from(vec![
            Span::styled(format!(" {:<14}", info.name), t.fg(t.text).add_modifier(Modifier::BOLD)),
            Span::styled(
                format!("{:<10}", app.symbols.text(&app.keymap.keys_of(a).join(" "))),
                t.fg(t.accent),
            ),
            Span::styled(app.symbols.text(info.description), t.fg(t.muted)),
        ]));
    }
    menu(app, f, "Run an action — type to narrow, enter runs", Some(input), items, p.selected, 90);
}
