//! `render(state, frame)`: draws the whole screen from the state, nothing else. One file per
//! pane and dialog. Small terminals (80x24) show one pane at a time as tabs; wide ones (140
//! columns and more) put the selected container's details beside the list.

mod containers;
mod dialogs;
mod form;
mod images;
mod logs;
mod networks;
mod pull;
mod stats;
mod viewer;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table, TableState};

use super::app::{App, Mode, Pane};
use super::keymap::{self, Action};

/// Where things go on a screen of `full` size.
struct Areas {
    tabs: Rect,
    body: Rect,
    bottom: Rect,
    /// The list of the current pane (on the containers pane, without details and logs).
    list: Rect,
    details: Option<Rect>,
    logs: Option<Rect>,
}

fn areas(app: &App, full: Rect) -> Areas {
    let [tabs, body, bottom] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(3), Constraint::Length(1)]).areas(full);
    let layout = app.layout_for((full.width, full.height));
    let (left, details) = if layout.details {
        let [left, details] =
            Layout::horizontal([Constraint::Percentage(62), Constraint::Percentage(38)]).areas(body);
        (left, Some(details))
    } else {
        (body, None)
    };
    let (list, logs) = if layout.logs_below {
        let [list, logs] =
            Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(left);
        (list, Some(logs))
    } else {
        (left, None)
    };
    Areas { tabs, body, bottom, list, details, logs }
}

/// The current pane's list on the screen (for mouse clicks).
pub fn list_area(app: &App) -> Rect {
    areas(app, Rect::new(0, 0, app.size.0, app.size.1)).list
}

pub fn render(app: &App, f: &mut Frame<'_>) {
    let a = areas(app, f.area());
    tabs(app, f, a.tabs);
    match app.pane {
        Pane::Containers => {
            if let Some(d) = a.details {
                containers::details(app, f, d);
            }
            if let Some(l) = a.logs {
                logs::view(app, f, l);
            }
            containers::list(app, f, a.list);
        }
        Pane::Logs => logs::view(app, f, a.body),
        Pane::Stats => stats::view(app, f, a.body),
        Pane::Images => images::list(app, f, a.body),
        Pane::Networks => networks::list(app, f, a.body),
        Pane::Volumes => {
            let text =
                Paragraph::new("Volumes are not implemented yet: gantry has no volume support so far.")
                    .style(app.theme.fg(app.theme.muted))
                    .block(pane_block(app, "Volumes"));
            f.render_widget(text, a.body);
        }
    }
    bottom_line(app, f, a.bottom);
    match &app.mode {
        Mode::Help(top) => dialogs::help(app, f, *top),
        Mode::Confirm(c) => dialogs::confirm(app, f, c),
        Mode::Prompt(p) => dialogs::prompt(app, f, p),
        Mode::Choose(c) => dialogs::choose(app, f, c),
        Mode::Palette(p) => dialogs::palette(app, f, p),
        Mode::Form(form) => form::form(app, f, form),
        Mode::View => {
            if let Some(v) = &app.viewer {
                viewer::view(app, f, v);
            }
        }
        Mode::Pull => {
            if let Some(d) = &app.pull {
                pull::dialog(app, f, d);
            }
        }
        Mode::Normal | Mode::Filter | Mode::Search => {}
    }
}

/// A bordered block in the theme's border colour, drawn with the chosen symbols.
pub(super) fn bordered<'a>(app: &App, title: Span<'a>) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_set(app.symbols.border())
        .border_style(app.theme.fg(app.theme.border))
        .title(title)
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
    let sep = app.symbols.sep();
    let ro = if app.read_only { format!("{sep}read-only") } else { String::new() };
    let (n, running, images) = (app.lists.containers.len(), app.running_count(), app.lists.images.len());
    let pulling = match app.pulls.running() {
        0 => String::new(),
        p => format!("{sep}pulling {p}"),
    };
    let long = format!("{n} containers ({running} running){sep}{images} images{pulling}{ro}");
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
    if let Some(sort) = app.sort_name().filter(|s| s != "created") {
        title.push_str(&format!("(by {sort}) "));
    }
    bordered(app, Span::styled(title, t.header_style()))
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
    let prompt = match app.mode {
        Mode::Filter => Some((&app.filter, "enter keeps the filter, esc clears it; ~ starts a regex")),
        Mode::Search => Some((&app.logs.search, "enter searches, then n/N; esc clears; ~ starts a regex")),
        Mode::View => app
            .viewer
            .as_ref()
            .filter(|v| v.searching)
            .map(|v| (&v.search, "enter searches, then n/N; esc clears; ~ starts a regex")),
        _ => None,
    };
    if let Some((text, help)) = prompt {
        let mut spans = vec![
            Span::styled("/", t.fg(t.accent)),
            Span::styled(text.clone(), t.fg(t.text)),
            Span::styled(app.symbols.cursor(), t.fg(t.muted)),
        ];
        match &app.notice {
            Some(n) if n.error => spans.push(Span::styled(format!("  {}", n.text), t.fg(t.error))),
            _ => spans.push(Span::styled(format!("  {help}"), t.fg(t.muted))),
        }
        f.render_widget(Paragraph::new(Line::from(spans)), area);
        return;
    }
    if let Some(n) = &app.notice {
        let style = if n.error { t.fg(t.error) } else { t.fg(t.ok) };
        f.render_widget(Paragraph::new(Span::styled(n.text.clone(), style)), area);
        return;
    }
    let mut hints = vec![Action::Quit, Action::Help, Action::NextTab, Action::Filter];
    match app.pane {
        Pane::Containers if !app.read_only => hints.extend([
            Action::Logs,
            Action::Start,
            Action::Stop,
            Action::Restart,
            Action::Pause,
            Action::Remove,
            Action::Mark,
        ]),
        Pane::Containers => hints.push(Action::Logs),
        Pane::Images if !app.read_only => hints.extend([
            Action::Create,
            Action::Inspect,
            Action::Processes,
            Action::Tag,
            Action::Remove,
            Action::Prune,
            Action::Pull,
        ]),
        Pane::Networks if !app.read_only => hints.extend([
            Action::Create,
            Action::Inspect,
            Action::Connect,
            Action::Disconnect,
            Action::Remove,
            Action::Prune,
        ]),
        Pane::Images | Pane::Networks => hints.push(Action::Inspect),
        Pane::Logs => hints.extend([
            Action::Follow,
            Action::Wrap,
            Action::Timestamps,
            Action::LogRange,
            Action::NextMatch,
            Action::SaveLogs,
        ]),
        _ => {}
    }
    let mut spans = Vec::new();
    for a in hints {
        let Some(k) = app.keymap.keys_of(a).into_iter().next() else { continue };
        spans.push(Span::styled(
            app.symbols.text(&k).into_owned(),
            t.fg(t.accent).add_modifier(Modifier::BOLD),
        ));
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
        if std::env::var("UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1") {
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
            app.size = (w, h);
            app.pane = Pane::Containers;
            snapshot(&format!("containers_{w}x{h}"), &draw(&app, w, h));
            app.pane = Pane::Images;
            snapshot(&format!("images_{w}x{h}"), &draw(&app, w, h));
            app.pane = Pane::Networks;
            snapshot(&format!("networks_{w}x{h}"), &draw(&app, w, h));
        }
        app.pane = Pane::Volumes;
        assert!(text(&draw(&app, 80, 24)).contains("Volumes are not implemented yet"));
        for (w, h) in [(80, 24), (160, 48)] {
            app.size = (w, h);
            app.pane = Pane::Logs;
            snapshot(&format!("logs_{w}x{h}"), &draw(&app, w, h));
            app.pane = Pane::Stats;
            snapshot(&format!("stats_{w}x{h}"), &draw(&app, w, h));
        }
        // Wide and tall: list, details and logs together.
        app.pane = Pane::Containers;
        app.size = (160, 48);
        let screen = text(&draw(&app, 160, 48));
        assert!(
            screen.contains("Details") && screen.contains("Logs: web") && screen.contains("listening on :80")
        );
    }

    #[test]
    fn the_pull_dialog_lists_tags_and_draws_layer_bars() {
        use crate::engine::digest::Digest;
        use crate::engine::events::{LayerPlan, LayerStatus, PullProgress};
        use crate::tui::pull_dialog::{PullDialog, Stage};
        let mut app = testdata::app();
        let d = |c: char| Digest::from_hex(&c.to_string().repeat(64)).expect("digest");
        let mut dialog = PullDialog::new(vec!["127.0.0.1:5000".into(), "ghcr.io".into()]);
        app.mode = Mode::Pull;
        app.pull = Some(dialog.clone());
        snapshot("pull_registry_80x24", &draw(&app, 80, 24));
        dialog.stage = Stage::Tags;
        dialog.registry = "127.0.0.1:5000".into();
        dialog.repository = "fixtures/web".into();
        dialog.input.clear();
        dialog.tags = ["1.0", "latest"]
            .iter()
            .map(|tag| crate::engine::browse::TagDetails {
                tag: tag.to_string(),
                digest: d('4'),
                media_type: "application/vnd.oci.image.index.v1+json".into(),
                platforms: vec!["linux/amd64".into(), "linux/arm64".into()],
                size: 2_345_678,
            })
            .collect();
        dialog.selected = 1;
        app.pull = Some(dialog.clone());
        snapshot("pull_tags_80x24", &draw(&app, 80, 24));
        // Mid-pull: one layer done, one downloading, one waiting, one already there.
        let reference = "127.0.0.1:5000/fixtures/web:latest";
        dialog.stage = Stage::Progress;
        dialog.watching = reference.into();
        app.pull = Some(dialog);
        app.pulls.start(reference, app.now);
        let plan = ['a', 'b', 'c', 'e'].map(|c| LayerPlan { digest: d(c), size: 4 << 20 }).to_vec();
        let ev = |progress| crate::engine::events::PullEvent { reference: reference.into(), progress };
        app.pulls.apply(&ev(PullProgress::Resolved { digest: d('4'), layers: plan }), app.now);
        let steps = [
            ('a', LayerStatus::Done),
            ('b', LayerStatus::Downloading { current: 1 << 20, total: 4 << 20 }),
            ('e', LayerStatus::AlreadyExists),
        ];
        for (c, status) in steps {
            app.pulls.apply(&ev(PullProgress::Layer { layer: d(c), status }), app.now - 2_000_000_000);
        }
        let b = draw(&app, 160, 48);
        snapshot("pull_progress_160x48", &b);
        let screen = text(&b);
        assert!(screen.contains("2/4 layers"), "done and already there count: {screen}");
        assert!(
            screen.contains("downloading") && screen.contains("already exists") && screen.contains("waiting")
        );
        assert!(screen.contains("pulling 1"), "the tab line counts running pulls");
    }

    #[test]
    fn logs_wrap_search_highlight_and_ascii() {
        let mut app = testdata::app();
        app.pane = Pane::Logs;
        app.logs.wrap = true;
        let _ = app.logs.set_search("error");
        assert!(app.logs.find(true));
        let b = draw(&app, 80, 24);
        let screen = text(&b);
        snapshot("logs_search_80x24", &b);
        // The match is highlighted, the ANSI red of the line kept around it.
        let (y, line) =
            screen.lines().enumerate().find(|(_, l)| l.contains("disk error")).expect("match row");
        let x = line[..line.find("error").expect("word")].chars().count() as u16;
        assert_eq!(b[(x, y as u16)].bg, app.theme.r#match);
        assert_eq!(b[(x - 3, y as u16)].fg, ratatui::style::Color::Red);
        // The long line wraps onto the next rows instead of being cut.
        app.logs.to_end();
        assert!(text(&draw(&app, 80, 24)).contains("line-end"));
        app.logs.wrap = false;
        assert!(!text(&draw(&app, 80, 24)).contains("line-end"));
        // ASCII: no box drawing or blocks anywhere.
        app.symbols = crate::tui::symbols::Symbols { ascii: true };
        for pane in [Pane::Logs, Pane::Stats, Pane::Containers, Pane::Images, Pane::Networks] {
            app.pane = pane;
            assert!(text(&draw(&app, 160, 48)).is_ascii(), "{pane:?} is ASCII");
        }
        // And every overlay, hints and key names included.
        app.pane = Pane::Containers;
        app.viewer = Some(crate::tui::dialog::Viewer::new("inspect web", "{\n  \"A\": 1\n}"));
        if let Some(v) = app.viewer.as_mut() {
            v.toggle_fold();
        }
        let mut pull = crate::tui::pull_dialog::PullDialog::new(vec!["127.0.0.1:5000".into()]);
        pull.loading = true;
        app.pull = Some(pull);
        let overlays = [
            Mode::Help(0),
            Mode::Palette(crate::tui::dialog::Palette::default()),
            Mode::Choose(crate::tui::dialog::Choice {
                title: "signal for web".into(),
                options: vec!["KILL".into()],
                selected: 0,
                purpose: crate::tui::dialog::ChoiceFor::Kill(vec![]),
            }),
            Mode::Form(crate::tui::form::Form::run("web")),
            Mode::View,
            Mode::Pull,
        ];
        for mode in overlays {
            app.mode = mode.clone();
            let screen = text(&draw(&app, 160, 48));
            assert!(screen.is_ascii(), "{mode:?} is ASCII:\n{screen}");
        }
    }

    const ACTIONS_LAST: usize = keymap::ACTIONS.len() - 1;

    #[test]
    fn dialogs() {
        let mut app = testdata::app();
        app.mode = Mode::Help(0);
        snapshot("help_80x24", &draw(&app, 80, 24));
        let screen = text(&draw(&app, 160, 48));
        for info in keymap::ACTIONS {
            assert!(screen.contains(info.name), "help lists {}", info.name);
        }
        app.mode = Mode::Confirm(crate::tui::app::Confirm {
            title: "remove".into(),
            lines: vec!["remove web?".into()],
            yes: crate::tui::update::Effect::Reload,
        });
        snapshot("confirm_80x24", &draw(&app, 80, 24));
        app.mode = Mode::Palette(crate::tui::dialog::Palette { text: "st".into(), selected: 1 });
        snapshot("palette_80x24", &draw(&app, 80, 24));
        // Scrolled to its last action, the palette still shows what was typed.
        let last = crate::tui::dialog::Palette::default().matches(false).len() - 1;
        app.mode = Mode::Palette(crate::tui::dialog::Palette { text: String::new(), selected: last });
        let screen = text(&draw(&app, 80, 24));
        assert!(screen.lines().any(|l| l.contains("│:▏")), "{screen}");
        assert!(screen.contains(keymap::info(keymap::ACTIONS[ACTIONS_LAST].action).name), "{screen}");
        app.mode = Mode::Choose(crate::tui::dialog::Choice {
            title: "signal for web".into(),
            options: crate::tui::dialog::SIGNALS.iter().map(|s| s.to_string()).collect(),
            selected: 1,
            purpose: crate::tui::dialog::ChoiceFor::Kill(vec![]),
        });
        snapshot("kill_80x24", &draw(&app, 80, 24));
        app.mode = Mode::Prompt(crate::tui::dialog::Prompt {
            title: "command to run in web".into(),
            text: "sh -l".into(),
            purpose: crate::tui::dialog::PromptFor::Exec("a".into(), "web".into()),
        });
        snapshot("exec_prompt_80x24", &draw(&app, 80, 24));
        let json = serde_json::json!({"Id": "a", "Config": {"Env": ["A=1", "PATH=/bin"], "Cmd": ["sleep", "1000"]}, "State": {"Status": "running", "Pid": 42}});
        let mut v = crate::tui::dialog::Viewer::new(
            "inspect web",
            &serde_json::to_string_pretty(&json).expect("json"),
        );
        v.cursor = 1;
        v.toggle_fold();
        let _ = v.set_search("running");
        app.viewer = Some(v);
        app.mode = Mode::View;
        for (w, h) in [(80, 24), (160, 48)] {
            snapshot(&format!("inspect_{w}x{h}"), &draw(&app, w, h));
        }
    }

    #[test]
    fn forms_and_prune_preview() {
        let mut app = testdata::app();
        app.pane = Pane::Images;
        let mut form = crate::tui::form::Form::run("127.0.0.1:5000/fixtures/busybox:latest");
        form.fields[0].value = "front".into();
        form.fields[1].value = "8080:http".into();
        form.focus = 1;
        form.error = form.run_request().err();
        app.mode = Mode::Form(form);
        for (w, h) in [(80, 24), (160, 48)] {
            snapshot(&format!("run_form_{w}x{h}"), &draw(&app, w, h));
        }
        app.pane = Pane::Networks;
        app.mode = Mode::Form(crate::tui::form::Form::network());
        snapshot("network_form_80x24", &draw(&app, 80, 24));
        app.pane = Pane::Images;
        app.mode = Mode::Confirm(crate::tui::app::Confirm {
            title: "prune".into(),
            lines: vec![
                "remove 2 dangling images?".into(),
                "  0123456789ab  4.1MB".into(),
                "  ba9876543210  1.2MB".into(),
                "frees 3.9MB".into(),
            ],
            yes: crate::tui::update::Effect::Reload,
        });
        snapshot("prune_80x24", &draw(&app, 80, 24));
        // Marked images and networks show the mark.
        app.mode = Mode::Normal;
        app.marked.insert("127.0.0.1:5000/fixtures/busybox:latest".into());
        assert!(text(&draw(&app, 80, 24)).contains(app.symbols.mark()));
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
