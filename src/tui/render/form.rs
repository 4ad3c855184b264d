//! A form: one labelled line per field (the focused one with the cursor, empty ones with a
//! greyed hint), a note, the last mistake, and the keys.

use ratatui::Frame;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::dialogs::centered;
use crate::tui::app::App;
use crate::tui::form::Form;

/// Width of the label column.
const LABEL: usize = 9;

pub fn form(app: &App, f: &mut Frame<'_>, form: &Form) {
    let t = &app.theme;
    let mut lines: Vec<Line<'_>> = Vec::new();
    for (i, field) in form.fields.iter().enumerate() {
        let focused = i == form.focus;
        let label_style = if focused { t.fg(t.accent).add_modifier(Modifier::BOLD) } else { t.fg(t.muted) };
        let mut spans = vec![
            Span::styled(format!("{:>LABEL$} ", field.label), label_style),
            Span::styled(field.value.clone(), t.fg(t.text)),
        ];
        if focused {
            spans.push(Span::styled(app.symbols.cursor(), t.fg(t.accent)));
        }
        if field.value.is_empty() {
            spans.push(Span::styled(format!(" {}", field.hint), t.fg(t.muted)));
        }
        lines.push(Line::from(spans));
    }
    lines.push(Line::from(""));
    let indent = " ".repeat(LABEL + 1);
    if let Some(note) = form.note {
        lines.push(Line::from(Span::styled(format!("{indent}{note}"), t.fg(t.muted))));
    }
    if let Some(e) = &form.error {
        lines.push(Line::from(Span::styled(format!("{indent}{e}"), t.fg(t.error))));
    }
    let keys = app.symbols.text("tab/↑↓ move between fields · enter goes · esc cancels");
    lines.push(Line::from(Span::styled(format!("{indent}{keys}"), t.fg(t.muted))));
    let area = centered(f.area(), 76, lines.len() as u16 + 2);
    let block = super::bordered(app, Span::styled(format!(" {} ", form.title), t.header_style()))
        .border_style(t.fg(t.accent));
    f.render_widget(Clear, area);
    f.render_widget(Paragraph::new(lines).block(block), area);
}
