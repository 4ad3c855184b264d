//! Mouse wheel and clicks.

use super::*;

/// Wheel scrolls what is under the keyboard; a click selects a list row.
pub(super) fn event(app: &mut App, m: MouseEvent) -> Vec<Effect> {
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
        let area = crate::tui::render::list_area(app);
        let rows = area.height.saturating_sub(3) as usize;
        let first_row = area.y + 2;
        if m.column >= area.x
            && m.column < area.x + area.width
            && m.row >= first_row
            && m.row < (area.y + area.height).saturating_sub(1)
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
