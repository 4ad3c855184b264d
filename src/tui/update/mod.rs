//! `update(state, message) -> effects`: the only place the UI's state changes. Pure: engine
//! work is returned as [`Effect`]s for the event loop to run, so this is tested without a
//! terminal or an engine.

//!
//! Split by concern: [`logs`] (the log stream and log keys), [`dialogs`] (prompt, menu,
//! palette, viewer), [`pull`] (the pull dialog), [`targets`] (what an action applies to),
//! [`mouse`].

mod dialogs;
mod logs;
mod mouse;
mod objects;
mod pull;
mod targets;
#[cfg(test)]
mod tests;

use dialogs::{choice_key, edit, palette_key, prompt_key, viewer_key};
use logs::{log_action, search_typed, sync_logs};
use objects::{form_key, object_action};
use pull::pull_key;
use targets::{container_action, subject_action};

use ratatui::crossterm::event::{KeyCode, KeyEvent, MouseEvent, MouseEventKind};

use super::app::{App, Confirm, Lists, Mode, Notice, Pane};
use super::dialog::{Choice, ChoiceFor, Palette, Prompt, PromptFor, SIGNALS, Viewer};
use super::jobs::Job;
use super::keymap::{self, Action};
use super::log_view::LogRange;
use super::pull_dialog::{PullDialog, Stage};
use crate::engine::browse::TagDetails;
use crate::engine::container::log_follow::LogBatch;
use crate::engine::events::PullEvent;
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
    /// An engine action finished: what to tell the user (the lists are reloaded).
    Done(Result<String, String>),
    /// A container was run from the form (the lists are reloaded and it is selected).
    Ran {
        id: String,
        text: String,
    },
    /// Something to tell the user that changed nothing in the engine.
    Notice(Result<String, String>),
    /// A second passed (relative times move on).
    Tick(i64),
    Mouse(MouseEvent),
    /// Text for the viewer, or why there is none.
    View(Result<Box<Viewer>, String>),
    /// The registries to offer in the pull dialog.
    PullOpen(Vec<String>),
    Repositories(Result<Vec<String>, String>),
    Tags(Result<Vec<TagDetails>, String>),
    /// A pull event, and when it arrived (ns since the epoch).
    Pull(PullEvent, i64),
    /// A question to confirm (a prune's preview), or why there is nothing to ask.
    Ask(Result<Confirm, String>),
}

/// What the viewer is asked to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViewOf {
    Container(String),
    Top(String),
    Ports(String),
    Image(String),
    History(String),
    Network(String),
}

/// Work for the event loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Reload every list from the engine.
    Reload,
    /// Engine work, run as a task that reports back with [`Msg::Done`].
    Job(Job),
    /// `run -d` from the form, as a task that reports back with [`Msg::Ran`].
    Run(Box<crate::engine::container::CreateRequest>),
    /// Work out what a prune on this pane would remove, to ask first.
    PrunePreview(Pane),
    /// Stream this container's logs (replacing any earlier stream), tagged with a generation.
    FollowLogs {
        generation: u64,
        id: String,
        range: LogRange,
    },
    /// No logs are shown: stop streaming.
    StopLogs,
    /// Write the loaded log lines to a file.
    SaveLogs {
        name: String,
        text: String,
    },
    /// Hand the terminal to `exec` of `args` in the container (ID, name).
    Exec {
        id: String,
        name: String,
        args: Vec<String>,
    },
    /// Hand the terminal to an attach.
    Attach {
        id: String,
        name: String,
    },
    /// Put text on the clipboard (OSC 52).
    Copy(String),
    /// Capture the mouse, or give it back to the terminal.
    MouseCapture(bool),
    /// Load text for the viewer.
    View(ViewOf),
    /// Open the pull dialog (it needs the known registries).
    OpenPull,
    LoadRepositories(String),
    /// Load the tags (with details) of `REGISTRY/REPOSITORY`.
    LoadTags(String),
    /// Pull this reference in the background.
    Pull(String),
}

/// Handles one message, keeps each list's selection on the same item when the list was
/// reordered under it, then starts or stops the log stream when what the logs pane should show
/// changed.
pub fn update(app: &mut App, msg: Msg) -> Vec<Effect> {
    // Only these can reorder a list (new lists, a filter or sort, figures a sort uses); with a
    // resize (the layout decides whether logs show), only these change what the logs show.
    let reorders = matches!(msg, Msg::Key(_) | Msg::Mouse(_) | Msg::Loaded(_) | Msg::Stats(_));
    let resync = reorders || matches!(msg, Msg::Resize(..));
    let before = reorders.then(|| Pane::LISTS.map(|l| (app.selected[l.index()], app.selected_key(l))));
    let mut effects = handle(app, msg);
    if let Some(before) = before {
        keep_selection(app, before);
    }
    if resync {
        effects.extend(sync_logs(app));
    }
    effects
}

/// A selection is a row index, so reordering a list (a filter set or cleared, a sort, new
/// lists, a sort by CPU moving rows every second) would silently select another item and point
/// the logs pane and every action at it. Unless the message moved the selection itself, it
/// follows the item it was on (the nearest row when that item is gone).
fn keep_selection(app: &mut App, before: [(usize, Option<String>); 3]) {
    for (list, (index, key)) in Pane::LISTS.into_iter().zip(before) {
        let now = app.selected[list.index()];
        if now != index || app.selected_key(list) == key {
            continue;
        }
        let rows = app.targets_of(list);
        let found = key.and_then(|k| rows.iter().position(|r| r.0 == k));
        app.selected[list.index()] = found.unwrap_or(now.min(rows.len().saturating_sub(1)));
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
            let rows: std::collections::HashSet<String> =
                app.targets_of(app.pane.list()).into_iter().map(|t| t.0).collect();
            app.marked.retain(|key| rows.contains(key));
            // A container just run from the form: select it.
            if let Some(id) = app.select_on_load.take() {
                match app.visible_containers().iter().position(|c| c.container.id() == id) {
                    Some(i) => app.selected[Pane::Containers.index()] = i,
                    None => app.select_on_load = Some(id),
                }
            }
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
            tell(app, result);
            vec![Effect::Reload]
        }
        Msg::Ran { id, text } => {
            tell(app, Ok(text));
            app.select_on_load = Some(id);
            vec![Effect::Reload]
        }
        Msg::Notice(result) => {
            tell(app, result);
            vec![]
        }
        Msg::Mouse(m) => mouse::event(app, m),
        Msg::View(v) => {
            app.dirty = true;
            match v {
                Ok(v) => {
                    app.viewer = Some(*v);
                    app.mode = Mode::View;
                }
                Err(text) => app.notice = Some(Notice { text, error: true }),
            }
            vec![]
        }
        Msg::PullOpen(registries) => {
            app.pull = Some(PullDialog::new(registries));
            app.mode = Mode::Pull;
            app.dirty = true;
            vec![]
        }
        Msg::Repositories(r) => pull::answered(app, Stage::Registry, r, |d, list| {
            d.repositories = list;
            d.stage = Stage::Repositories;
        }),
        Msg::Tags(r) => pull::answered(app, Stage::Repositories, r, |d, tags| {
            d.tags = tags;
            d.stage = Stage::Tags;
        }),
        Msg::Ask(r) => {
            app.dirty = true;
            match r {
                Ok(c) => app.mode = Mode::Confirm(c),
                Err(text) => app.notice = Some(Notice { text, error: true }),
            }
            vec![]
        }
        Msg::Pull(e, now) => {
            app.dirty |= app.pulls.apply(&e, now);
            vec![]
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

/// Shows a result on the bottom line.
fn tell(app: &mut App, result: Result<String, String>) {
    app.notice = Some(match result {
        Ok(text) => Notice { text, error: false },
        Err(text) => Notice { text, error: true },
    });
    app.dirty = true;
}

fn key(app: &mut App, k: KeyEvent) -> Vec<Effect> {
    app.dirty = true;
    match app.mode.clone() {
        Mode::Help(top) => {
            // The help lists the actions (those that change nothing, read-only), bordered.
            let lines = keymap::ACTIONS.iter().filter(|i| !(app.read_only && i.mutating)).count() as u16;
            let last = lines.saturating_sub(app.size.1.saturating_sub(2));
            app.mode = match app.keymap.action(&k) {
                Some(Action::Down) => Mode::Help(top.saturating_add(1).min(last)),
                Some(Action::Up) => Mode::Help(top.saturating_sub(1)),
                Some(Action::PageDown) => Mode::Help(top.saturating_add(10).min(last)),
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
                _ => {
                    let mut text = app.logs.search.clone();
                    if edit(&mut text, &k) {
                        search_typed(app, &text);
                    }
                }
            }
            vec![]
        }
        Mode::Confirm(c) => {
            app.mode = Mode::Normal;
            if matches!(k.code, KeyCode::Char('y') | KeyCode::Char('Y')) {
                app.marked.clear();
                vec![c.yes]
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
                _ => {
                    edit(&mut text, &k);
                }
            }
            app.notice = app.set_filter(&text).map(|text| Notice { text, error: true });
            app.set_selected(0);
            vec![]
        }
        Mode::Prompt(p) => prompt_key(app, p, k),
        Mode::Choose(c) => choice_key(app, c, k),
        Mode::Palette(p) => palette_key(app, p, k),
        Mode::View => viewer_key(app, k),
        Mode::Pull => pull_key(app, k),
        Mode::Form(f) => form_key(app, f, k),
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

fn action(app: &mut App, a: Action) -> Vec<Effect> {
    // One refusal for every key and the palette alike: the keymap says what changes things.
    if app.read_only && keymap::info(a).mutating {
        app.notice = Some(Notice { text: "read-only mode: nothing can be changed".into(), error: true });
        return vec![];
    }
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
        Action::Palette => app.mode = Mode::Palette(Palette::default()),
        Action::SortNext | Action::SortReverse => {
            let columns = super::app::sort_columns(app.pane).len();
            if columns == 0 {
                app.notice = Some(Notice { text: "this pane has no list to sort".into(), error: true });
            } else {
                let sort = &mut app.sort[app.pane.index()];
                if a == Action::SortNext {
                    sort.column = (sort.column + 1) % columns;
                } else {
                    sort.reverse = !sort.reverse;
                }
                let text = format!("sorted by {}", app.sort_name().unwrap_or_default());
                app.notice = Some(Notice { text, error: false });
            }
        }
        Action::Pull => {
            // Reopens the dialog as it was left, unless its pull is over: then a fresh one.
            let over = |d: &PullDialog| {
                d.stage == Stage::Progress && app.pulls.tracks.get(&d.watching).is_none_or(|t| t.finished())
            };
            match &app.pull {
                Some(d) if !over(d) => app.mode = Mode::Pull,
                _ => return vec![Effect::OpenPull],
            }
        }
        Action::Mouse => {
            app.mouse = !app.mouse;
            let text = if app.mouse { "mouse on" } else { "mouse off: the terminal selects text" };
            app.notice = Some(Notice { text: text.into(), error: false });
            return vec![Effect::MouseCapture(app.mouse)];
        }
        Action::Inspect | Action::Processes | Action::Ports | Action::CopyId => {
            return subject_action(app, a);
        }
        Action::Attach | Action::Exec | Action::ExecCommand | Action::Rename => {
            return container_action(app, a);
        }
        Action::Mark => {
            if let Some((key, _)) = app.selected_target() {
                if !app.marked.remove(&key) {
                    app.marked.insert(key);
                }
                app.set_selected((app.selected_index() + 1).min(rows.saturating_sub(1)));
            }
        }
        Action::Remove | Action::ForceRemove if matches!(app.pane, Pane::Images | Pane::Networks) => {
            return object_action(app, a);
        }
        Action::Create | Action::Tag | Action::Prune | Action::Connect | Action::Disconnect => {
            return object_action(app, a);
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
