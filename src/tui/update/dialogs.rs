//! Keys while an overlay has the keyboard: a prompt, a menu, the palette, the viewer.

use super::*;

/// Edits a line of text: true when the key was an edit.
pub(super) fn edit(text: &mut String, k: &KeyEvent) -> bool {
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

pub(super) fn prompt_key(app: &mut App, mut p: Prompt, k: KeyEvent) -> Vec<Effect> {
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
                PromptFor::Exec(id, name) => match shell_words::split(&text) {
                    Ok(args) => vec![Effect::Exec { id, name, args }],
                    Err(e) => {
                        app.notice = Some(Notice { text: format!("command: {e}"), error: true });
                        vec![]
                    }
                },
                PromptFor::Rename(id, name) => vec![Effect::Job(Job::Rename { id, name, to: text })],
                PromptFor::Tag(image) => vec![Effect::Job(Job::Tag { image, to: text })],
            };
        }
        _ => {
            edit(&mut p.text, &k);
            app.mode = Mode::Prompt(p);
        }
    }
    vec![]
}

pub(super) fn choice_key(app: &mut App, mut c: Choice, k: KeyEvent) -> Vec<Effect> {
    match (k.code, app.keymap.action(&k)) {
        (KeyCode::Esc, _) => {
            app.mode = Mode::Normal;
            return vec![];
        }
        (KeyCode::Enter, _) => {
            app.mode = Mode::Normal;
            let choice = c.options.get(c.selected).cloned().unwrap_or_default();
            return match c.purpose {
                ChoiceFor::Kill(targets) => vec![Effect::Job(Job::Kill { targets, signal: choice })],
                ChoiceFor::Network { network, connect, candidates } => {
                    let Some(container) = candidates.get(c.selected).cloned() else { return vec![] };
                    vec![Effect::Job(if connect {
                        Job::Connect { network, container }
                    } else {
                        Job::Disconnect { network, container }
                    })]
                }
            };
        }
        (_, Some(Action::Up)) => c.selected = c.selected.saturating_sub(1),
        (_, Some(Action::Down)) => c.selected = (c.selected + 1).min(c.options.len().saturating_sub(1)),
        _ => {}
    }
    app.mode = Mode::Choose(c);
    vec![]
}

pub(super) fn palette_key(app: &mut App, mut p: Palette, k: KeyEvent) -> Vec<Effect> {
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

pub(super) fn viewer_key(app: &mut App, k: KeyEvent) -> Vec<Effect> {
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
