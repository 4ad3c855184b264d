//! The viewer overlay: inspect JSON (folded blocks drawn as `{ … }`), top, ports and history,
//! with the cursor line highlighted and search matches marked.

use ratatui::Frame;
use ratatui::layout::Margin;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use crate::tui::app::App;
use crate::tui::dialog::Viewer;

pub fn view(app: &App, f: &mut Frame<'_>, v: &Viewer) {
    let t = &app.theme;
    let area = f.area().inner(Margin { horizontal: 2, vertical: 1 });
    let title = app
        .symbols
        .text(&format!(" {} — j/k move, enter folds, / searches, esc closes ", v.title))
        .into_owned();
    let block = super::bordered(app, Span::styled(title, t.header_style())).border_style(t.fg(t.accent));
    let inner = block.inner(area);
    let visible = v.visible();
    let height = inner.height as usize;
    let pos = visible.iter().position(|&i| i == v.cursor).unwrap_or(0);
    // Keep the cursor in the middle third when possible.
    let top = pos.saturating_sub(height / 3).min(visible.len().saturating_sub(height));
    let lines: Vec<Line<'_>> = visible
        .iter()
        .skip(top)
        .take(height)
        .map(|&i| {
            let text = &v.lines[i];
            let plain = vec![Span::styled(text.clone(), t.fg(t.text))];
            let mut spans = super::logs::highlight(plain, &v.matcher.ranges(text), t.matched());
            if v.folded.contains(&i) {
                let hidden = v.closes[i].map(|e| e - i - 1).unwrap_or(0);
                let close = if text.trim_end().ends_with('[') { "]" } else { "}" };
                let folded = app.symbols.text(&format!(" … {hidden} lines {close}")).into_owned();
                spans.push(Span::styled(folded, t.fg(t.muted)));
            }
            let line = Line::from(spans);
            if i == v.cursor { line.style(t.selected()) } else { line }
        })
        .collect();
    f.render_widget(Clear, area);
    f.render_widget(Paragraph::new(lines).block(block), area);
}
