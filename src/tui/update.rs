//! `update(state, message) -> effects`: the only place the UI's state changes. Pure: engine
//! work is returned as [`Effect`]s for the event loop to run, so this is tested without a
//! terminal or an engine.

use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::app::{App, Confirm, Lists, Mode, Notice, Pane};
use super::keymap::{self, Action};
use super::log_view::LogRange;
use crate::engine::container::log_follow::LogBatch;
use crate::engine::stats::StatsSample;

/// What happened.
#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    /// The terminal's new size (columns, rows).
    Resize(u16, u16),
    /// Log lines for the logs view of this generation.
    Logs(u64, LogBatch),
    /// Fresh lists from the engine.
    Loaded(Box<Lists>),
    Stats(Vec<StatsSample>),
    /// An engine action finished: what to tell the user.
    Done(Result<String, String>),
    /// A second passed (relative times move on).
    Tick(i64),
}

/// Work for the event loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Reload every list from the engine.
    Reload,
    /// Run a container action on these (ID, name) pairs.
    Container(Action, Vec<(String, String)>),
    /// Stream this container's logs (replacing any earlier stream), tagged with a generation.
    FollowLogs { generation: u64, id: String, range: LogRange },
    /// No logs are shown: stop streaming.
    StopLogs,
    /// Write the loaded log lines to a file.
    SaveLogs { name: String, text: String },
}

/// Handles one message, then starts or stops the log stream when what the logs pane should
/// show changed.
pub fn update(app: &mut App, msg: Msg) -> Vec<Effect> {
    let mut effects = handle(app, msg);
    effects.extend(sync_logs(app));
    effects
}

/// The logs stream follows the selected container while logs are on screen.
fn sync_logs(app: &mut App) -> Vec<Effect> {
    let want = if app.logs_shown() {
        app.selected_container().map(|c| (c.container.id().to_string(), c.container.row.name.clone()))
    } else {
        None
    };
    match want {
        Some((id, _)) if id == app.logs.id => vec![],
        Some((id, name)) => {
            app.logs.reset(&id, &name);
            app.dirty = true;
            vec![Effect::FollowLogs { generation: app.logs.generation, id, range: app.logs.range }]
        }
        None if app.logs.id.is_empty() => vec![],
        None => {
            app.logs.reset("", "");
            vec![Effect::StopLogs]
        }
    }
}

fn handle(app: &mut App, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(k) => key(app, k),
        Msg::Resize(w, h) => {
            app.size = (w, h);
            app.dirty = true;
            vec![]
        }
        Msg::Logs(generation, batch) => {
            if generation == app.logs.generation {
                app.logs.push(batch);
                app.dirty |= app.logs_shown();
            }
            vec![]
        }
        Msg::Loaded(lists) => {
            app.lists = *lists;
            let live: std::collections::HashSet<&str> =
                app.lists.containers.iter().map(|c| c.container.id()).collect();
            app.history.retain(|id, _| live.contains(id.as_str()));
            app.marked.retain(|id| live.contains(id.as_str()));
            clamp_selection(app);
            app.dirty = true;
            vec![]
        }
        Msg::Stats(samples) => {
            for s in samples.iter().filter(|s| s.running) {
                app.history.entry(s.id.clone()).or_default().push(s);
            }
            app.dirty |= matches!(app.pane, Pane::Containers | Pane::Stats);
            vec![]
        }
        Msg::Done(result) => {
            app.notice = Some(match result {
                Ok(text) => Notice { text, error: false },
                Err(text) => Notice { text, error: true },
            });
            app.dirty = true;
            vec![Effect::Reload]
        }
        Msg::Tick(now) => {
            app.now = now;
            // Relative times ("Up 3 seconds") change only on the running rows.
            if app.pane == Pane::Containers && app.running_count() > 0 {
                app.dirty = true;
            }
            vec![]
        }
    }
}

fn clamp_selection(app: &mut App) {
    let n = app.row_count();
    if app.selected_index() >= n {
        app.set_selected(n.saturating_sub(1));
    }
}

fn key(app: &mut App, k: KeyEvent) -> Vec<Effect> {
    app.dirty = true;
    match app.mode.clone() {
        Mode::Help(top) => {
            app.mode = match app.keymap.action(&k) {
                Some(Action::Down) => Mode::Help(top.saturating_add(1)),
                Some(Action::Up) => Mode::Help(top.saturating_sub(1)),
                Some(Action::PageDown) => Mode::Help(top.saturating_add(10)),
                Some(Action::PageUp) => Mode::Help(top.saturating_sub(10)),
                _ => Mode::Normal,
            };
            vec![]
        }
        Mode::Search => {
            match k.code {
                KeyCode::Esc => {
                    let _ = app.logs.set_search("");
                    app.mode = Mode::Normal;
                }
                KeyCode::Enter => {
                    app.mode = Mode::Normal;
                    if !app.logs.search.is_empty() && !app.logs.find(true) {
                        app.notice =
                            Some(Notice { text: format!("no match for {:?}", app.logs.search), error: true });
                    }
                }
                KeyCode::Backspace => {
                    let mut s = app.logs.search.clone();
                    s.pop();
                    search_typed(app, &s);
                }
                KeyCode::Char(c) => {
                    let s = format!("{}{c}", app.logs.search);
                    search_typed(app, &s);
                }
                _ => {}
            }
            vec![]
        }
        Mode::Confirm(c) => {
            app.mode = Mode::Normal;
            if matches!(k.code, KeyCode::Char('y') | KeyCode::Char('Y')) {
                app.marked.clear();
                vec![Effect::Container(c.action, c.targets)]
            } else {
                app.notice = Some(Notice { text: "cancelled".into(), error: false });
                vec![]
            }
        }
        Mode::Filter => {
            let mut text = app.filter.clone();
            match k.code {
                KeyCode::Esc => {
                    text.clear();
                    app.mode = Mode::Normal;
                }
                KeyCode::Enter => app.mode = Mode::Normal,
                KeyCode::Backspace => {
                    text.pop();
                }
                KeyCode::Char(c) => text.push(c),
                _ => {}
            }
            app.notice = app.set_filter(&text).map(|text| Notice { text, error: true });
            app.set_selected(0);
            vec![]
        }
        Mode::Normal => match app.keymap.action(&k) {
            Some(a) => action(app, a),
            None if k.code == KeyCode::Esc => {
                app.set_filter("");
                app.marked.clear();
                app.notice = None;
                vec![]
            }
            None => vec![],
        },
    }
}

/// The search as typed so far: an error shows on the prompt line, a match is jumped to.
fn search_typed(app: &mut App, text: &str) {
    app.notice = app.logs.set_search(text).err().map(|text| Notice { text, error: true });
}

/// Log keys: they act on the logs whenever logs are on screen.
fn log_action(app: &mut App, a: Action) -> Vec<Effect> {
    let page = i64::from(app.size.1.saturating_sub(4).max(1));
    let logs = &mut app.logs;
    match a {
        Action::Follow => {
            logs.follow = !logs.follow;
            logs.anchor = logs.bottom();
        }
        Action::Wrap => logs.wrap = !logs.wrap,
        Action::Timestamps => logs.timestamps = !logs.timestamps,
        Action::NextMatch | Action::PrevMatch if !logs.find(a == Action::PrevMatch) => {
            let text = if logs.search.is_empty() {
                "no search: press / first".into()
            } else {
                format!("no more matches for {:?}", logs.search)
            };
            app.notice = Some(Notice { text, error: true });
        }
        Action::LogRange => {
            logs.range = logs.range.next();
            let (id, name) = (logs.id.clone(), logs.name.clone());
            logs.reset(&id, &name);
            app.notice = Some(Notice { text: format!("logs: {}", app.logs.range.label()), error: false });
            if !id.is_empty() {
                return vec![Effect::FollowLogs {
                    generation: app.logs.generation,
                    id,
                    range: app.logs.range,
                }];
            }
        }
        Action::SaveLogs => {
            if logs.id.is_empty() {
                app.notice = Some(Notice { text: "no logs to save".into(), error: true });
            } else {
                return vec![Effect::SaveLogs { name: logs.name.clone(), text: logs.export() }];
            }
        }
        Action::Up => logs.scroll(-1),
        Action::Down => logs.scroll(1),
        Action::PageUp => logs.scroll(-page),
        Action::PageDown => logs.scroll(page),
        Action::Top => logs.to_top(),
        Action::Bottom => logs.to_end(),
        _ => {}
    }
    vec![]
}

fn action(app: &mut App, a: Action) -> Vec<Effect> {
    let rows = app.row_count();
    let log_keys = matches!(
        a,
        Action::Follow
            | Action::Wrap
            | Action::Timestamps
            | Action::LogRange
            | Action::SaveLogs
            | Action::NextMatch
            | Action::PrevMatch
    );
    let moves = matches!(
        a,
        Action::Up | Action::Down | Action::PageUp | Action::PageDown | Action::Top | Action::Bottom
    );
    if (log_keys && app.logs_shown()) || (moves && app.pane == Pane::Logs) {
        return log_action(app, a);
    }
    let page = usize::from(app.size.1.saturating_sub(6).max(1));
    match a {
        Action::Quit => app.quit = true,
        Action::Help => app.mode = Mode::Help(0),
        Action::NextTab => app.next_pane(1),
        Action::PrevTab => app.next_pane(-1),
        Action::Up => app.set_selected(app.selected_index().saturating_sub(1)),
        Action::Down => app.set_selected((app.selected_index() + 1).min(rows.saturating_sub(1))),
        Action::PageUp => app.set_selected(app.selected_index().saturating_sub(page)),
        Action::PageDown => app.set_selected((app.selected_index() + page).min(rows.saturating_sub(1))),
        Action::Top => app.set_selected(0),
        Action::Bottom => app.set_selected(rows.saturating_sub(1)),
        Action::Filter if app.pane == Pane::Logs => app.mode = Mode::Search,
        Action::Filter => app.mode = Mode::Filter,
        Action::Logs => {
            if app.selected_container().is_some() {
                app.pane = Pane::Logs;
            } else {
                app.notice = Some(Notice { text: "no container selected".into(), error: true });
            }
        }
        Action::Follow
        | Action::Wrap
        | Action::Timestamps
        | Action::LogRange
        | Action::SaveLogs
        | Action::NextMatch
        | Action::PrevMatch => {
            app.notice = Some(Notice {
                text: format!("{} works where logs are shown (l)", keymap::info(a).name),
                error: true,
            });
        }
        Action::Refresh => return vec![Effect::Reload],
        Action::Mark => {
            if let Some(id) = app.selected_container().map(|c| c.container.id().to_string()) {
                if !app.marked.remove(&id) {
                    app.marked.insert(id);
                }
                app.set_selected((app.selected_index() + 1).min(rows.saturating_sub(1)));
            }
        }
        Action::Start
        | Action::Stop
        | Action::Restart
        | Action::Kill
        | Action::Pause
        | Action::Remove
        | Action::ForceRemove => return container_action(app, a),
    }
    vec![]
}

fn container_action(app: &mut App, a: Action) -> Vec<Effect> {
    if app.read_only {
        app.notice = Some(Notice { text: "read-only mode: nothing can be changed".into(), error: true });
        return vec![];
    }
    if app.pane != Pane::Containers {
        app.notice = Some(Notice {
            text: format!("{} works on the containers pane", keymap::info(a).name),
            error: true,
        });
        return vec![];
    }
    let targets = app.action_targets();
    if targets.is_empty() {
        app.notice = Some(Notice { text: "no container selected".into(), error: true });
        return vec![];
    }
    if matches!(a, Action::Remove | Action::ForceRemove) {
        app.mode = Mode::Confirm(Confirm { action: a, targets });
        return vec![];
    }
    vec![Effect::Container(a, targets)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::testdata;
    use ratatui::crossterm::event::KeyModifiers;

    fn press(app: &mut App, c: char) -> Vec<Effect> {
        update(app, Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)))
    }

    #[test]
    fn keys_select_confirm_and_emit_effects() {
        let mut app = testdata::app();
        assert_eq!(app.selected_index(), 0);
        press(&mut app, 'j');
        assert_eq!(app.selected_index(), 1);
        press(&mut app, 'j');
        press(&mut app, 'j');
        assert_eq!(app.selected_index(), 2, "stays on the last row");
        let fx = press(&mut app, 's');
        assert_eq!(fx, vec![Effect::Container(Action::Stop, vec![("c".repeat(64), "db".into())])]);
        // Remove asks first; anything but y cancels.
        press(&mut app, 'd');
        assert!(matches!(app.mode, Mode::Confirm(_)));
        assert!(press(&mut app, 'n').is_empty());
        assert_eq!(app.mode, Mode::Normal);
        press(&mut app, 'd');
        let fx = press(&mut app, 'y');
        assert!(matches!(&fx[..], [Effect::Container(Action::Remove, t)] if t.len() == 1));
        // Marks: the action applies to every marked row.
        press(&mut app, 'g');
        press(&mut app, ' ');
        press(&mut app, ' ');
        let fx = press(&mut app, 'r');
        assert!(matches!(&fx[..], [Effect::Container(Action::Restart, t)] if t.len() == 2));
    }

    #[test]
    fn filter_read_only_and_help() {
        let mut app = testdata::app();
        press(&mut app, '/');
        for c in "web".chars() {
            press(&mut app, c);
        }
        assert_eq!(app.visible_containers().len(), 1);
        update(&mut app, Msg::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)));
        assert_eq!(app.visible_containers().len(), 3);
        app.read_only = true;
        assert!(press(&mut app, 's').is_empty());
        assert!(app.notice.as_ref().is_some_and(|n| n.error && n.text.contains("read-only")));
        press(&mut app, '?');
        assert_eq!(app.mode, Mode::Help(0));
        press(&mut app, 'x');
        assert_eq!(app.mode, Mode::Normal);
        press(&mut app, 'q');
        assert!(app.quit);
    }

    #[test]
    fn every_image_name_is_a_row_the_selection_reaches() {
        let mut app = testdata::app();
        let extra =
            crate::engine::reference::Reference::parse("127.0.0.1:5000/fixtures/busybox:1.36").unwrap();
        app.lists.images[0].tags.push(extra);
        for _ in 0..3 {
            update(&mut app, Msg::Key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE)));
        }
        assert_eq!(app.pane, Pane::Images);
        assert_eq!(app.row_count(), 2);
        press(&mut app, 'j');
        assert_eq!(app.selected_index(), 1);
        press(&mut app, '/');
        for c in "1.36".chars() {
            press(&mut app, c);
        }
        let rows = app.visible_images();
        assert_eq!((rows.len(), rows[0].tag.as_str()), (1, "1.36"));
    }

    #[test]
    fn the_log_stream_follows_what_is_shown() {
        use crate::engine::container::log_follow::{LogBatch, LogLine};
        use crate::engine::monitor::logfile::Stream;
        let mut app = testdata::app();
        app.logs.reset("", "");
        let web = "a".repeat(64);
        let fx = press(&mut app, 'l');
        assert_eq!(app.pane, Pane::Logs);
        let generation = app.logs.generation;
        assert_eq!(fx, vec![Effect::FollowLogs { generation, id: web.clone(), range: LogRange::Last100 }]);
        let batch = |text: &str| LogBatch {
            lines: vec![LogLine { time: "T".into(), stream: Stream::Stdout, text: text.into() }],
            ..Default::default()
        };
        update(&mut app, Msg::Logs(generation - 1, batch("stale")));
        update(&mut app, Msg::Logs(generation, batch("fresh line")));
        assert_eq!(app.logs.lines.len(), 1);
        // `/` searches the logs here; enter jumps to the match.
        press(&mut app, '/');
        assert_eq!(app.mode, Mode::Search);
        for c in "fresh".chars() {
            press(&mut app, c);
        }
        update(&mut app, Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
        assert_eq!((app.logs.current, app.logs.follow), (Some(0), false));
        press(&mut app, 'f');
        assert!(app.logs.follow);
        // Another range restarts the stream.
        let fx = press(&mut app, 'L');
        assert!(
            matches!(&fx[..], [Effect::FollowLogs { range: LogRange::Last1000, generation: g, .. }] if *g == generation + 1)
        );
        assert!(app.logs.lines.is_empty());
        // Away from the logs, the stream stops; on a wide, tall screen the containers pane shows them.
        let fx = update(&mut app, Msg::Key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE)));
        assert_eq!(fx, vec![Effect::StopLogs]);
        app.pane = Pane::Containers;
        let fx = update(&mut app, Msg::Resize(160, 48));
        assert!(matches!(&fx[..], [Effect::FollowLogs { id, .. }] if *id == web));
        let fx = press(&mut app, 'j');
        assert!(matches!(&fx[..], [Effect::FollowLogs { id, .. }] if *id == "b".repeat(64)));
    }

    #[test]
    fn a_bad_regex_filter_says_why_and_matches_nothing() {
        let mut app = testdata::app();
        press(&mut app, '/');
        for c in "~(web".chars() {
            press(&mut app, c);
        }
        assert!(app.notice.as_ref().is_some_and(|n| n.error && n.text.starts_with("bad regex")));
        assert!(app.visible_containers().is_empty());
        press(&mut app, ')');
        assert!(app.notice.is_none());
        assert_eq!(app.visible_containers().len(), 1);
    }

    #[test]
    fn stats_fill_the_history_and_engine_results_reload() {
        let mut app = testdata::app();
        let id = app.lists.containers[0].container.id().to_string();
        for i in 0..70 {
            let s =
                StatsSample { id: id.clone(), running: true, cpu_percent: i as f64, ..Default::default() };
            update(&mut app, Msg::Stats(vec![s]));
        }
        let h = &app.history[&id];
        assert_eq!(h.cpu.len(), crate::tui::app::HISTORY);
        assert_eq!(h.cpu.back(), Some(&69.0));
        let fx = update(&mut app, Msg::Done(Err("boom".into())));
        assert_eq!(fx, vec![Effect::Reload]);
        assert!(app.notice.as_ref().is_some_and(|n| n.error));
    }
}
