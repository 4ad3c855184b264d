//! The logs stream that follows what is shown, and the keys that act on the logs.

use super::*;

/// The logs stream follows the selected container while logs are on screen. Runs after every
/// message that can change what is shown, so it allocates only when the stream has to change.
pub(super) fn sync_logs(app: &mut App) -> Vec<Effect> {
    let shown = if app.logs_shown() { app.selected_container().map(|c| &c.container.row) } else { None };
    let change = match shown {
        // The same container: keep the stream, unless it ended and the container was started
        // again since.
        Some(r) if r.id == app.logs.id => {
            app.logs.ended && r.state.has_monitor() && r.started_at != app.logs.started_at
        }
        Some(_) => true,
        None => !app.logs.id.is_empty(),
    };
    if !change {
        return vec![];
    }
    match shown.map(|r| (r.id.clone(), r.name.clone(), r.started_at)) {
        Some((id, name, started_at)) => {
            app.logs.reset(&id, &name);
            app.logs.started_at = started_at;
            app.dirty = true;
            vec![Effect::FollowLogs { generation: app.logs.generation, id, range: app.logs.range }]
        }
        None => {
            app.logs.reset("", "");
            vec![Effect::StopLogs]
        }
    }
}

/// The search as typed so far: an error shows on the prompt line, a match is jumped to.
pub(super) fn search_typed(app: &mut App, text: &str) {
    app.notice = app.logs.set_search(text).err().map(|text| Notice { text, error: true });
}

/// Log keys: they act on the logs whenever logs are on screen.
pub(super) fn log_action(app: &mut App, a: Action) -> Vec<Effect> {
    let page = i64::from(app.size.1.saturating_sub(4).max(1));
    let logs = &mut app.logs;
    match a {
        Action::Follow => {
            // The line at the bottom now stays there (it is read before follow changes).
            logs.anchor = logs.bottom();
            logs.follow = !logs.follow;
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
            // Forgetting the stream makes `sync_logs` start it again with the new range.
            logs.id.clear();
            app.notice = Some(Notice { text: format!("logs: {}", app.logs.range.label()), error: false });
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
