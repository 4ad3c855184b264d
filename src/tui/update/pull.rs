//! The pull dialog's keys and the registry's answers.

use super::*;

/// The pull dialog: arrows pick, typing filters (or gives the registry), enter goes on,
/// backspace on nothing goes back, esc closes (pulls go on).
pub(super) fn pull_key(app: &mut App, k: KeyEvent) -> Vec<Effect> {
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
                    if let Some(repo) = d.rows().get(d.selected).map(|r| r.to_string()) {
                        d.repository = repo.clone();
                        d.loading = true;
                        return vec![Effect::LoadTags(format!("{}/{repo}", d.registry))];
                    }
                }
                Stage::Tags => {
                    if let Some(tag) = d.rows().get(d.selected).map(|t| t.to_string()) {
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
pub(super) fn start_pull(app: &mut App, reference: &str, now: i64) -> Vec<Effect> {
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

/// The registry answered a question asked at stage `from` (a catalog, or tags): on success
/// `apply` stores the answer and moves on; an error stays on the dialog. An answer for a stage
/// the user has left is dropped.
pub(super) fn answered<T>(
    app: &mut App,
    from: Stage,
    r: Result<T, String>,
    apply: impl FnOnce(&mut PullDialog, T),
) -> Vec<Effect> {
    if let Some(d) = app.pull.as_mut().filter(|d| d.stage == from) {
        d.loading = false;
        match r {
            Ok(answer) => {
                apply(d, answer);
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
