//! `render(state, frame)`: draws the whole screen from the state, nothing else. One file per
//! pane and dialog. Small terminals (80x24) show one pane at a time as tabs; wide ones (140
//! columns and more) put the selected container's details beside the list.

mod containers;
mod dialogs;
mod images;
mod networks;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table, TableState};

use super::app::{App, Mode, Pane};
use super::keymap::{self, Action};

/// Width from which the details panel sits beside the list.
const WIDE: u16 = 140;

pub fn render(app: &App, f: &mut Frame<'_>) {
    let [top, body, bottom] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(3), Constraint::Length(1)]).areas(f.area());
    tabs(app, f, top);
    let list_area = if app.pane == Pane::Containers && body.width >= WIDE {
        let [list, details] =
            Layout::horizontal([Constraint::Percentage(62), Constraint::Percentage(38)]).areas(body);
        containers::details(app, f, details);
        list
    } else {
        body
    };
    match app.pane {
        Pane::Containers => containers::list(app, f, list_area),
        Pane::Images => images::list(app, f, list_area),
        Pane::Networks => networks::list(app, f, list_area),
        Pane::Volumes => {
            let block = pane_block(app, "Volumes");
            let text =
                Paragraph::new("Volumes are not implemented yet: gantry has no volume support so far.")
                    .style(app.theme.fg(app.theme.muted))
                    .block(block);
            f.render_widget(text, list_area);
        }
    }
    bottom_line(app, f, bottom);
    match &app.mode {
        Mode::Help => dialogs::help(app, f),
        Mode::Confirm(c) => dialogs::confirm(app, f, c),
        Mode::Normal | Mode::Filter => {}
    }
}

/// The pane tabs and a summary on the right.
fn tabs(app: &App, f: &mut Frame<'_>, area: Rect) {
    let t = &app.theme;
    let mut spans = vec![Span::styled(" gantry ", t.fg(t.accent).add_modifier(Modifier::BOLD))];
    for p in Pane::ALL {
        let style = if p == app.pane { t.selected() } else { t.fg(t.text) };
        spans.push(Span::styled(format!(" {} ", p.title()), style));
        spans.push(Span::raw(" "));
    }
    let used: usize = spans.iter().map(|s| s.width()).sum();
    let ro = if app.read_only { " · read-only" } else { "" };
    let (n, running, images) = (app.lists.containers.len(), app.running_count(), app.lists.images.len());
    let long = format!("{n} containers ({running} running) · {images} images{ro}");
    let summary = if used + long.chars().count() < area.width as usize {
        long
    } else {
        format!("{running}/{n} up{ro}")
    };
    let pad = (area.width as usize).saturating_sub(used + summary.chars().count() + 1);
    spans.push(Span::raw(" ".repeat(pad)));
    spans.push(Span::styled(summary, t.fg(t.muted)));
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// A bordered block titled with the pane's name and, when filtering, the filter.
fn pane_block<'a>(app: &App, title: &'a str) -> Block<'a> {
    let t = &app.theme;
    let mut title = format!(" {title} ");
    if !app.filter.is_empty() || app.mode == Mode::Filter {
        title.push_str(&format!("/{} ", app.filter));
    }
    Block::default()
        .borders(Borders::ALL)
        .border_style(t.fg(t.border))
        .title(Span::styled(title, t.header_style()))
}

/// A pane's table: header, rows, the selection highlighted and kept in view.
pub(super) fn list_table(
    app: &App,
    f: &mut Frame<'_>,
    area: Rect,
    title: &str,
    header: Vec<&str>,
    widths: Vec<Constraint>,
    rows: Vec<Row<'_>>,
) {
    let t = &app.theme;
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(t.header_style()))
        .row_highlight_style(t.selected())
        .block(pane_block(app, title));
    let mut state = TableState::default().with_selected(Some(app.selected_index()));
    f.render_stateful_widget(table, area, &mut state);
}

/// The key hints generated from the keymap, or the filter prompt, or a notice.
fn bottom_line(app: &App, f: &mut Frame<'_>, area: Rect) {
    let t = &app.theme;
    if app.mode == Mode::Filter {
        let line = Line::from(vec![
            Span::styled("/", t.fg(t.accent)),
            Span::styled(app.filter.clone(), t.fg(t.text)),
            Span::styled("▏  enter keeps the filter, esc clears it", t.fg(t.muted)),
        ]);
        f.render_widget(Paragraph::new(line), area);
        return;
    }
    if let Some(n) = &app.notice {
        let style = if n.error { t.fg(t.error) } else { t.fg(t.ok) };
        f.render_widget(Paragraph::new(Span::styled(n.text.clone(), style)), area);
        return;
    }
    let mut hints = vec![Action::Quit, Action::Help, Action::NextTab, Action::Filter];
    if app.pane == Pane::Containers && !app.read_only {
        hints.extend([
            Action::Start,
            Action::Stop,
            Action::Restart,
            Action::Pause,
            Action::Remove,
            Action::Mark,
        ]);
    }
    let mut spans = Vec::new();
    for a in hints {
        let Some(k) = app.keymap.keys_of(a).into_iter().next() else { continue };
        spans.push(Span::styled(k, t.fg(t.accent).add_modifier(Modifier::BOLD)));
        spans.push(Span::styled(format!(" {}  ", keymap::info(a).name), t.fg(t.muted)));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

#[cfg(test)]
mod tests {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use ratatui::buffer::Buffer;

    use super::*;
    use crate::tui::testdata;

    /// The screen as text, one line per row.
    fn text(b: &Buffer) -> String {
        let mut out = String::new();
        for y in 0..b.area.height {
            let line: String = (0..b.area.width).map(|x| b[(x, y)].symbol().to_string()).collect();
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }

    fn draw(app: &App, w: u16, h: u16) -> Buffer {
        let mut term = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
        term.draw(|f| render(app, f)).expect("draw");
        term.backend().buffer().clone()
    }

    /// Compares with `src/tui/snapshots/NAME.txt`; `UPDATE_SNAPSHOTS=1` rewrites it.
    fn snapshot(name: &str, b: &Buffer) {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src/tui/snapshots")
            .join(format!("{name}.txt"));
        let got = text(b);
        if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
            std::fs::create_dir_all(path.parent().expect("snapshot dir")).expect("snapshot dir");
            std::fs::write(&path, &got).expect("write snapshot");
            return;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_else(|_| {
            panic!("no snapshot {} (run with UPDATE_SNAPSHOTS=1 and review it)", path.display())
        });
        assert_eq!(got, want, "snapshot {name} differs:\n{got}");
    }

    #[test]
    fn panes_at_80x24_and_160x48() {
        let mut app = testdata::app();
        for (w, h) in [(80, 24), (160, 48)] {
            app.pane = Pane::Containers;
            snapshot(&format!("containers_{w}x{h}"), &draw(&app, w, h));
            app.pane = Pane::Images;
            snapshot(&format!("images_{w}x{h}"), &draw(&app, w, h));
            app.pane = Pane::Networks;
            snapshot(&format!("networks_{w}x{h}"), &draw(&app, w, h));
        }
        app.pane = Pane::Volumes;
        assert!(text(&draw(&app, 80, 24)).contains("Volumes are not implemented yet"));
    }

    #[test]
    fn dialogs() {
        let mut app = testdata::app();
        app.mode = Mode::Help;
        snapshot("help_80x24", &draw(&app, 80, 24));
        let screen = text(&draw(&app, 160, 48));
        for info in keymap::ACTIONS {
            assert!(screen.contains(info.name), "help lists {}", info.name);
        }
        app.mode = Mode::Confirm(crate::tui::app::Confirm {
            action: Action::Remove,
            targets: vec![("a".repeat(64), "web".into())],
        });
        snapshot("confirm_80x24", &draw(&app, 80, 24));
    }

    #[test]
    fn states_are_coloured_from_the_theme() {
        let app = testdata::app();
        let b = draw(&app, 80, 24);
        let screen = text(&b);
        // The style of `word` in the row of container `name`.
        let find = |name: &str, word: &str| {
            let (y, line) =
                screen.lines().enumerate().find(|(_, l)| l.starts_with(&format!("│{name} "))).expect(name);
            let x = line.find(word).expect(word);
            b[(line[..x].chars().count() as u16, y as u16)].style()
        };
        assert_eq!(find("worker", "paused").fg, Some(app.theme.paused));
        assert_eq!(find("db", "exited").fg, Some(app.theme.exited));
        // The selected row (web, running) is drawn in the selection colours.
        assert_eq!(find("web", "running").bg, Some(app.theme.selected_bg));
        // Without colour, nothing has a colour.
        let mut mono = testdata::app();
        mono.theme = mono.theme.clone().without_colour();
        let b = draw(&mono, 80, 24);
        assert!(
            b.content
                .iter()
                .all(|c| c.fg == ratatui::style::Color::Reset && c.bg == ratatui::style::Color::Reset)
        );
    }
}
