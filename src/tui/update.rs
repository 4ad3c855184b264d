//! `update(state, message) -> effects`: the only place the UI's state changes. Pure: engine
//! work is returned as [`Effect`]s for the event loop to run, so this is tested without a
//! terminal or an engine.

use ratatui::crossterm::event::{KeyCode, KeyEvent, MouseEvent, MouseEventKind};

use super::app::{App, Confirm, Lists, Mode, Notice, Pane};
use super::dialog::{Choice, ChoiceFor, Palette, Prompt, PromptFor, SIGNALS, Viewer};
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
    /// An engine action finished: what to tell the user.
    Done(Result<String, String>),
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
    /// Run a container action on these (ID, name) pairs.
    Container(Action, Vec<(String, String)>),
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
    Kill {
        targets: Vec<(String, String)>,
        signal: String,
    },
    Rename {
        id: String,
        name: String,
        to: String,
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
        app.selected_container().map(|c| {
            let r = &c.container.row;
            (r.id.clone(), r.name.clone(), r.state.has_monitor() && r.started_at != app.logs.started_at)
        })
    } else {
        None
    };
    match want {
        // The same container: keep the stream, unless it ended and the container was started
        // again since.
        Some((id, _, restarted)) if id == app.logs.id && !(app.logs.ended && restarted) => vec![],
        Some((id, name, _)) => {
            app.logs.reset(&id, &name);
            app.logs.started_at = app.selected_container().map(|c| c.container.row.started_at).unwrap_or(0);
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
        Msg::Mouse(m) => mouse(app, m),
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
        Msg::Repositories(r) => {
            if let Some(d) = app.pull.as_mut().filter(|d| d.stage == Stage::Registry) {
                d.loading = false;
                match r {
                    Ok(list) => {
                        d.repositories = list;
                        d.stage = Stage::Repositories;
                        d.input.clear();
                        d.selected = 0;
                        d.error = None;
                    }
                    Err(e) => d.error = Some(e),
                }
            }
            app.dirty = true;
            vec![]
        }
        Msg::Tags(r) => {
            if let Some(d) = app.pull.as_mut().filter(|d| d.stage == Stage::Repositories) {
                d.loading = false;
                match r {
                    Ok(tags) => {
                        d.tags = tags;
                        d.stage = Stage::Tags;
                        d.input.clear();
                        d.selected = 0;
                        d.error = None;
                    }
                    Err(e) => d.error = Some(e),
                }
            }
            app.dirty = true;
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
        Mode::Prompt(p) => prompt_key(app, p, k),
        Mode::Choose(c) => choice_key(app, c, k),
        Mode::Palette(p) => palette_key(app, p, k),
        Mode::View => viewer_key(app, k),
        Mode::Pull => pull_key(app, k),
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

/// Edits a line of text: true when the key was an edit.
fn edit(text: &mut String, k: &KeyEvent) -> bool {
    match k.code {
        KeyCode::Backspace => {
            text.pop();
        }
        KeyCode::Char(c) if !k.modifiers.contains(ratatui::crossterm::event::KeyModifiers::CONTROL) => {
            text.push(c)
        }
        _ => return false,
    }
    true
}

fn prompt_key(app: &mut App, mut p: Prompt, k: KeyEvent) -> Vec<Effect> {
    match k.code {
        KeyCode::Esc => app.mode = Mode::Normal,
        KeyCode::Enter => {
            app.mode = Mode::Normal;
            let text = p.text.trim().to_string();
            if text.is_empty() {
                app.notice = Some(Notice { text: "cancelled".into(), error: false });
                return vec![];
            }
            return match p.purpose {
                PromptFor::Exec(id, name) => {
                    vec![Effect::Exec { id, name, args: text.split_whitespace().map(String::from).collect() }]
                }
                PromptFor::Rename(id, name) => vec![Effect::Rename { id, name, to: text }],
            };
        }
        _ => {
            edit(&mut p.text, &k);
            app.mode = Mode::Prompt(p);
        }
    }
    vec![]
}

fn choice_key(app: &mut App, mut c: Choice, k: KeyEvent) -> Vec<Effect> {
    match (k.code, app.keymap.action(&k)) {
        (KeyCode::Esc, _) => {
            app.mode = Mode::Normal;
            return vec![];
        }
        (KeyCode::Enter, _) => {
            app.mode = Mode::Normal;
            let choice = c.options.get(c.selected).cloned().unwrap_or_default();
            return match c.purpose {
                ChoiceFor::Kill(targets) => vec![Effect::Kill { targets, signal: choice }],
            };
        }
        (_, Some(Action::Up)) => c.selected = c.selected.saturating_sub(1),
        (_, Some(Action::Down)) => c.selected = (c.selected + 1).min(c.options.len().saturating_sub(1)),
        _ => {}
    }
    app.mode = Mode::Choose(c);
    vec![]
}

fn palette_key(app: &mut App, mut p: Palette, k: KeyEvent) -> Vec<Effect> {
    let found = p.matches(app.read_only);
    match k.code {
        KeyCode::Esc => {
            app.mode = Mode::Normal;
            return vec![];
        }
        KeyCode::Enter => {
            app.mode = Mode::Normal;
            return match found.get(p.selected) {
                Some(a) => action(app, *a),
                None => vec![],
            };
        }
        KeyCode::Up => p.selected = p.selected.saturating_sub(1),
        KeyCode::Down => p.selected = (p.selected + 1).min(found.len().saturating_sub(1)),
        _ => {
            if edit(&mut p.text, &k) {
                p.selected = 0;
            }
        }
    }
    app.mode = Mode::Palette(p);
    vec![]
}

fn viewer_key(app: &mut App, k: KeyEvent) -> Vec<Effect> {
    let page = i64::from(app.size.1.saturating_sub(6).max(1));
    let action = app.keymap.action(&k);
    let Some(v) = app.viewer.as_mut() else {
        app.mode = Mode::Normal;
        return vec![];
    };
    if v.searching {
        let mut text = v.search.clone();
        match k.code {
            KeyCode::Esc => {
                text.clear();
                v.searching = false;
            }
            KeyCode::Enter => v.searching = false,
            _ => {
                edit(&mut text, &k);
            }
        }
        app.notice = v.set_search(&text).err().map(|text| Notice { text, error: true });
        if k.code == KeyCode::Enter && !v.search.is_empty() && !v.matches_cursor() && !v.find(false) {
            app.notice = Some(Notice { text: format!("no match for {:?}", v.search), error: true });
        }
        return vec![];
    }
    match (k.code, action) {
        (KeyCode::Esc | KeyCode::Char('q'), _) => {
            app.viewer = None;
            app.mode = Mode::Normal;
        }
        (KeyCode::Enter | KeyCode::Char(' '), _) => v.toggle_fold(),
        (_, Some(Action::Up)) => v.move_by(-1),
        (_, Some(Action::Down)) => v.move_by(1),
        (_, Some(Action::PageUp)) => v.move_by(-page),
        (_, Some(Action::PageDown)) => v.move_by(page),
        (_, Some(Action::Top)) => v.move_by(i64::MIN / 2),
        (_, Some(Action::Bottom)) => v.move_by(i64::MAX / 2),
        (_, Some(Action::Filter)) => {
            v.searching = true;
            let _ = v.set_search("");
        }
        (_, Some(a @ (Action::NextMatch | Action::PrevMatch))) if !v.find(a == Action::PrevMatch) => {
            app.notice = Some(Notice { text: "no more matches".into(), error: true });
        }
        _ => {}
    }
    vec![]
}

/// The pull dialog: arrows pick, typing filters (or gives the registry), enter goes on,
/// backspace on nothing goes back, esc closes (pulls go on).
fn pull_key(app: &mut App, k: KeyEvent) -> Vec<Effect> {
    let now = app.now;
    let Some(d) = app.pull.as_mut() else {
        app.mode = Mode::Normal;
        return vec![];
    };
    match k.code {
        // The dialog is kept as it is for the next `P`.
        KeyCode::Esc => app.mode = Mode::Normal,
        KeyCode::Up => d.select(-1),
        KeyCode::Down => d.select(1),
        KeyCode::PageUp => d.select(-10),
        KeyCode::PageDown => d.select(10),
        KeyCode::Backspace if d.input.is_empty() => {
            d.back();
        }
        KeyCode::Enter if !d.loading => {
            d.error = None;
            match d.stage {
                Stage::Registry => {
                    let typed = d.input.trim().to_string();
                    if typed.contains('/') {
                        // A whole reference: pull it straight away.
                        return start_pull(app, &typed, now);
                    }
                    d.registry = typed.clone();
                    d.loading = true;
                    return vec![Effect::LoadRepositories(typed)];
                }
                Stage::Repositories => {
                    if let Some(repo) = d.rows().get(d.selected).cloned() {
                        d.repository = repo.clone();
                        d.loading = true;
                        return vec![Effect::LoadTags(format!("{}/{repo}", d.registry))];
                    }
                }
                Stage::Tags => {
                    if let Some(tag) = d.rows().get(d.selected).cloned() {
                        let reference = format!("{}/{}:{tag}", d.registry, d.repository);
                        return start_pull(app, &reference, now);
                    }
                }
                Stage::Progress => app.mode = Mode::Normal,
            }
        }
        _ => {
            if d.stage != Stage::Progress && edit(&mut d.input, &k) {
                d.selected = 0;
            }
        }
    }
    vec![]
}

/// Starts watching and pulling `reference`.
fn start_pull(app: &mut App, reference: &str, now: i64) -> Vec<Effect> {
    let key = match crate::engine::reference::Reference::parse(reference) {
        Ok(r) => r.to_string(),
        Err(e) => {
            if let Some(d) = app.pull.as_mut() {
                d.error = Some(e.to_string());
            }
            return vec![];
        }
    };
    if let Some(d) = app.pull.as_mut() {
        d.stage = Stage::Progress;
        d.watching = key.clone();
    }
    app.pulls.start(&key, now);
    vec![Effect::Pull(key)]
}

/// Wheel scrolls what is under the keyboard; a click selects a list row.
fn mouse(app: &mut App, m: MouseEvent) -> Vec<Effect> {
    let step = match m.kind {
        MouseEventKind::ScrollUp => Some(Action::Up),
        MouseEventKind::ScrollDown => Some(Action::Down),
        _ => None,
    };
    if let Some(a) = step {
        app.dirty = true;
        return match app.mode {
            Mode::View => {
                if let Some(v) = app.viewer.as_mut() {
                    v.move_by(if a == Action::Up { -3 } else { 3 });
                }
                vec![]
            }
            Mode::Normal if app.pane == Pane::Logs => {
                app.logs.scroll(if a == Action::Up { -3 } else { 3 });
                vec![]
            }
            Mode::Normal => action(app, a),
            _ => vec![],
        };
    }
    if matches!(m.kind, MouseEventKind::Down(_)) && app.mode == Mode::Normal {
        let area = super::render::list_area(app);
        let rows = area.height.saturating_sub(3) as usize;
        let first_row = area.y + 2;
        if m.column >= area.x
            && m.column < area.x + area.width
            && m.row >= first_row
            && m.row < area.y + area.height - 1
        {
            // The table scrolls just enough to keep the selection in view (as ratatui does).
            let offset = (app.selected_index() + 1).saturating_sub(rows);
            let i = offset + usize::from(m.row - first_row);
            if i < app.row_count() {
                app.set_selected(i);
                app.dirty = true;
            }
        }
    }
    vec![]
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
        Action::Palette => app.mode = Mode::Palette(Palette::default()),
        Action::SortNext | Action::SortReverse => {
            let columns = super::app::sort_columns(app.pane).len();
            if columns == 0 {
                app.notice = Some(Notice { text: "this pane has no list to sort".into(), error: true });
            } else {
                let sort = &mut app.sort[Pane::ALL.iter().position(|p| *p == app.pane).unwrap_or(0)];
                if a == Action::SortNext {
                    sort.column = (sort.column + 1) % columns;
                } else {
                    sort.reverse = !sort.reverse;
                }
                let text = format!("sorted by {}", app.sort_name().unwrap_or_default());
                app.notice = Some(Notice { text, error: false });
            }
        }
        Action::Pull if app.read_only => {
            app.notice = Some(Notice { text: "read-only mode: nothing can be changed".into(), error: true });
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

/// The ID of what is selected in the current pane (the selected container on the logs and
/// stats panes).
fn selected_id(app: &App) -> Option<String> {
    match app.pane {
        Pane::Containers | Pane::Logs | Pane::Stats => {
            app.selected_container().map(|c| c.container.id().to_string())
        }
        Pane::Images => app.visible_images().get(app.selected_index()).map(|r| r.image.id.to_string()),
        Pane::Networks => app.visible_networks().get(app.selected_index()).map(|n| n.network.id.clone()),
        Pane::Volumes => None,
    }
}

/// Read-only actions on whatever is selected: inspect, top/history, ports, copy ID.
fn subject_action(app: &mut App, a: Action) -> Vec<Effect> {
    let Some(id) = selected_id(app) else {
        app.notice = Some(Notice { text: "nothing selected".into(), error: true });
        return vec![];
    };
    let on_container = matches!(app.pane, Pane::Containers | Pane::Logs | Pane::Stats);
    let view = match (a, app.pane) {
        (Action::CopyId, _) => return vec![Effect::Copy(id)],
        (Action::Inspect, Pane::Images) => ViewOf::Image(id),
        (Action::Inspect, Pane::Networks) => ViewOf::Network(id),
        (Action::Inspect, _) => ViewOf::Container(id),
        (Action::Processes, Pane::Images) => ViewOf::History(id),
        (Action::Processes, _) if on_container => ViewOf::Top(id),
        (Action::Ports, _) if on_container => ViewOf::Ports(id),
        _ => {
            app.notice =
                Some(Notice { text: format!("{} works on containers", keymap::info(a).name), error: true });
            return vec![];
        }
    };
    vec![Effect::View(view)]
}

fn container_action(app: &mut App, a: Action) -> Vec<Effect> {
    if app.read_only {
        app.notice = Some(Notice { text: "read-only mode: nothing can be changed".into(), error: true });
        return vec![];
    }
    if !matches!(app.pane, Pane::Containers | Pane::Logs | Pane::Stats) {
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
    if a == Action::Kill {
        app.mode = Mode::Choose(Choice {
            title: format!(
                "signal for {}",
                targets.iter().map(|t| t.1.as_str()).collect::<Vec<_>>().join(", ")
            ),
            options: SIGNALS.iter().map(|s| s.to_string()).collect(),
            selected: 0,
            purpose: ChoiceFor::Kill(targets),
        });
        return vec![];
    }
    // One container at a time for the rest (the selected one).
    let (id, name) = targets[0].clone();
    match a {
        Action::Attach => return vec![Effect::Attach { id, name }],
        Action::Exec => return vec![Effect::Exec { id, name, args: vec!["sh".into()] }],
        Action::ExecCommand => {
            app.mode = Mode::Prompt(Prompt {
                title: format!("command to run in {name}"),
                text: "sh".into(),
                purpose: PromptFor::Exec(id, name),
            });
            return vec![];
        }
        Action::Rename => {
            app.mode = Mode::Prompt(Prompt {
                title: format!("new name for {name}"),
                text: name.clone(),
                purpose: PromptFor::Rename(id, name),
            });
            return vec![];
        }
        _ => {}
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
        // A stream that ended follows again once the container is started again.
        press(&mut app, 'l');
        let g = app.logs.generation;
        update(&mut app, Msg::Logs(g, LogBatch { ended: true, ..Default::default() }));
        let now = app.now;
        assert_eq!(update(&mut app, Msg::Tick(now)), vec![], "same start: nothing to follow");
        app.lists.containers[0].container.row.started_at += 1;
        let fx = update(&mut app, Msg::Tick(now));
        assert!(matches!(&fx[..], [Effect::FollowLogs { generation, .. }] if *generation == g + 1));
        app.pane = Pane::Containers;
        let fx = update(&mut app, Msg::Resize(160, 48));
        assert_eq!(fx, vec![], "the same stream goes on below the list");
        update(&mut app, Msg::Resize(100, 30));
        assert!(app.logs.id.is_empty(), "no logs on a small containers pane");
        let fx = update(&mut app, Msg::Resize(160, 48));
        assert!(matches!(&fx[..], [Effect::FollowLogs { id, .. }] if *id == web));
        let fx = press(&mut app, 'j');
        assert!(matches!(&fx[..], [Effect::FollowLogs { id, .. }] if *id == "b".repeat(64)));
    }

    #[test]
    fn kill_asks_for_a_signal_exec_and_rename_ask_for_text() {
        let mut app = testdata::app();
        let web = ("a".repeat(64), "web".to_string());
        press(&mut app, 'K');
        assert!(matches!(&app.mode, Mode::Choose(c) if c.options[0] == "KILL"));
        press(&mut app, 'j');
        let fx = update(&mut app, Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
        assert_eq!(fx, vec![Effect::Kill { targets: vec![web.clone()], signal: "TERM".into() }]);
        assert_eq!(
            press(&mut app, 'e'),
            vec![Effect::Exec { id: web.0.clone(), name: "web".into(), args: vec!["sh".into()] }]
        );
        press(&mut app, 'E');
        for c in " -c date".chars() {
            press(&mut app, c);
        }
        let fx = update(&mut app, Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
        let args: Vec<String> = ["sh", "-c", "date"].map(String::from).to_vec();
        assert_eq!(fx, vec![Effect::Exec { id: web.0.clone(), name: "web".into(), args }]);
        press(&mut app, 'R');
        for _ in 0.."web".len() {
            update(&mut app, Msg::Key(KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE)));
        }
        for c in "front".chars() {
            press(&mut app, c);
        }
        let fx = update(&mut app, Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
        assert_eq!(fx, vec![Effect::Rename { id: web.0.clone(), name: "web".into(), to: "front".into() }]);
        assert_eq!(press(&mut app, 'a'), vec![Effect::Attach { id: web.0.clone(), name: "web".into() }]);
        assert_eq!(press(&mut app, 'y'), vec![Effect::Copy(web.0.clone())]);
        assert_eq!(press(&mut app, 'i'), vec![Effect::View(ViewOf::Container(web.0.clone()))]);
        // Read-only: none of the mutating ones.
        app.read_only = true;
        for c in ['K', 'e', 'E', 'R', 'a'] {
            assert!(press(&mut app, c).is_empty(), "{c} in read-only mode");
            assert_eq!(app.mode, Mode::Normal);
        }
    }

    #[test]
    fn the_palette_runs_actions_by_fuzzy_name_and_the_viewer_closes() {
        let mut app = testdata::app();
        press(&mut app, ':');
        for c in "rstrt".chars() {
            press(&mut app, c);
        }
        let fx = update(&mut app, Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
        assert!(matches!(&fx[..], [Effect::Container(Action::Restart, t)] if t.len() == 1));
        // The viewer takes the keys until esc.
        let v = Viewer::new("inspect", "{\n  \"A\": [\n    1\n  ]\n}");
        update(&mut app, Msg::View(Ok(Box::new(v))));
        assert_eq!(app.mode, Mode::View);
        press(&mut app, 'j');
        assert!(press(&mut app, 's').is_empty(), "stop does nothing under the viewer");
        update(&mut app, Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
        assert_eq!(app.viewer.as_ref().map(|v| v.visible().len()), Some(3));
        update(&mut app, Msg::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)));
        assert_eq!(app.mode, Mode::Normal);
        assert!(app.viewer.is_none());
    }

    #[test]
    fn sort_keys_cycle_columns_and_reverse() {
        let mut app = testdata::app();
        let names = |app: &App| {
            app.visible_containers().iter().map(|c| c.container.row.name.clone()).collect::<Vec<_>>()
        };
        assert_eq!(names(&app), ["web", "worker", "db"], "the engine's order first");
        press(&mut app, '>');
        assert_eq!(names(&app), ["db", "web", "worker"], "by name");
        assert!(app.notice.as_ref().is_some_and(|n| n.text == "sorted by name"));
        press(&mut app, '<');
        assert_eq!(names(&app), ["worker", "web", "db"]);
        press(&mut app, '>');
        press(&mut app, '<');
        assert_eq!(names(&app), ["db", "worker", "web"], "by state: exited, paused, running");
        press(&mut app, '>');
        assert_eq!(names(&app)[0], "web", "by CPU: the only one with figures first");
        // The logs follow the selected row of the sorted list.
        press(&mut app, '>');
        press(&mut app, '>');
        assert_eq!(app.sort_name().as_deref(), Some("created"));
        app.pane = Pane::Logs;
        press(&mut app, '>');
        assert!(app.notice.as_ref().is_some_and(|n| n.error));
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
