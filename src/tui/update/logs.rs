//! The logs stream that follows what is shown, and the keys that act on the logs.

use super::*;

/// The logs stream follows the selected container while logs are on screen.
pub(super) fn sync_logs(app: &mut App) -> Vec<Effect> {
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
