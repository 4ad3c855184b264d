//! `update(state, message) -> effects`: the only place the UI's state changes. Pure: engine
//! work is returned as [`Effect`]s for the event loop to run, so this is tested without a
//! terminal or an engine.

use ratatui::crossterm::event::{KeyCode, KeyEvent};

use super::app::{App, Confirm, Lists, Mode, Notice, Pane};
use super::keymap::{self, Action};
use crate::engine::stats::StatsSample;

/// What happened.
#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    Resize,
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
}

pub fn update(app: &mut App, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(k) => key(app, k),
        Msg::Resize => {
            app.dirty = true;
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
            app.dirty = true;
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
        Mode::Help => {
            app.mode = Mode::Normal;
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
            match k.code {
                KeyCode::Esc => {
                    app.filter.clear();
                    app.mode = Mode::Normal;
                }
                KeyCode::Enter => app.mode = Mode::Normal,
                KeyCode::Backspace => {
                    app.filter.pop();
                }
                KeyCode::Char(c) => app.filter.push(c),
                _ => {}
            }
            app.set_selected(0);
            vec![]
        }
        Mode::Normal => match app.keymap.action(&k) {
            Some(a) => action(app, a),
            None if k.code == KeyCode::Esc => {
                app.filter.clear();
                app.marked.clear();
                app.notice = None;
                vec![]
            }
            None => vec![],
        },
    }
}

fn action(app: &mut App, a: Action) -> Vec<Effect> {
    let rows = app.row_count();
    match a {
        Action::Quit => app.quit = true,
        Action::Help => app.mode = Mode::Help,
        Action::NextTab => app.next_pane(1),
        Action::PrevTab => app.next_pane(-1),
        Action::Up => app.set_selected(app.selected_index().saturating_sub(1)),
        Action::Down => app.set_selected((app.selected_index() + 1).min(rows.saturating_sub(1))),
        Action::Top => app.set_selected(0),
        Action::Bottom => app.set_selected(rows.saturating_sub(1)),
        Action::Filter => app.mode = Mode::Filter,
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
        assert_eq!(app.mode, Mode::Help);
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
        update(&mut app, Msg::Key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE)));
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
