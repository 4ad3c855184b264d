//! Actions on the images and networks panes — run (a form), tag, remove, prune (after a
//! preview), create a network, connect and disconnect containers — and the form's keys.

use super::*;
use crate::tui::form::{Form, FormFor};
use crate::tui::jobs::Job;

fn refuse(app: &mut App, text: impl Into<String>) -> Vec<Effect> {
    app.notice = Some(Notice { text: text.into(), error: true });
    vec![]
}

/// Create, tag, remove, prune, connect, disconnect on the images or networks pane.
pub(super) fn object_action(app: &mut App, a: Action) -> Vec<Effect> {
    let pane = app.pane;
    match (a, pane) {
        (Action::Prune, Pane::Images | Pane::Networks) => return vec![Effect::PrunePreview(pane)],
        (Action::Create, Pane::Networks) => {
            app.mode = Mode::Form(Form::network());
            return vec![];
        }
        (Action::Create | Action::Tag | Action::Remove | Action::ForceRemove, Pane::Images)
        | (Action::Remove | Action::ForceRemove | Action::Connect | Action::Disconnect, Pane::Networks) => {}
        (Action::Create | Action::Tag, _) => return refuse(app, "select an image on the images pane first"),
        _ => return refuse(app, format!("{} works on the images and networks panes", keymap::info(a).name)),
    }
    let targets = app.action_targets();
    // Create, tag, connect and disconnect work on the selected row, marks or not.
    let Some(selected) = app.selected_target() else {
        return refuse(app, "nothing selected");
    };
    let names = super::targets::names(&targets);
    match a {
        Action::Create => app.mode = Mode::Form(Form::run(&selected.1)),
        Action::Tag => {
            let image = super::targets::selected_id(app).unwrap_or(selected.0.clone());
            app.mode = Mode::Prompt(Prompt {
                title: format!("another name for {}", selected.1),
                text: String::new(),
                purpose: PromptFor::Tag(image),
            });
        }
        Action::Remove | Action::ForceRemove => {
            let (job, question) = match (pane, a) {
                (Pane::Images, Action::ForceRemove) => (
                    Job::RemoveImages { targets, force: true },
                    format!("remove {names}, even if containers use it?"),
                ),
                (Pane::Images, _) => {
                    (Job::RemoveImages { targets, force: false }, format!("remove {names}?"))
                }
                _ => (Job::RemoveNetworks(targets), format!("remove network {names}?")),
            };
            app.mode = Mode::Confirm(Confirm {
                title: "remove".into(),
                lines: vec![question],
                yes: Effect::Job(job),
            });
        }
        Action::Connect | Action::Disconnect => {
            let members: Vec<&str> = app
                .visible_networks()
                .iter()
                .find(|n| n.network.id == selected.0)
                .map(|n| n.containers.iter().map(String::as_str).collect())
                .unwrap_or_default();
            let connect = a == Action::Connect;
            let candidates: Vec<(String, String)> = app
                .lists
                .containers
                .iter()
                .map(|c| (c.container.id().to_string(), c.container.row.name.clone()))
                .filter(|(_, name)| members.contains(&name.as_str()) != connect)
                .collect();
            if candidates.is_empty() {
                let why = if connect { "every container is on it already" } else { "no container is on it" };
                return refuse(app, format!("{}: {why}", selected.1));
            }
            let verb = if connect { "connect to" } else { "disconnect from" };
            app.mode = Mode::Choose(Choice {
                title: format!("{verb} {}", selected.1),
                options: candidates.iter().map(|c| c.1.clone()).collect(),
                selected: 0,
                purpose: ChoiceFor::Network { network: selected, connect, candidates },
            });
        }
        _ => {}
    }
    vec![]
}

/// Keys while a form is open: tab/shift-tab (or the arrows) move between fields, typing edits
/// the focused one, enter submits, esc cancels.
pub(super) fn form_key(app: &mut App, mut form: Form, k: KeyEvent) -> Vec<Effect> {
    match k.code {
        KeyCode::Esc => {
            app.mode = Mode::Normal;
            app.notice = Some(Notice { text: "cancelled".into(), error: false });
            return vec![];
        }
        KeyCode::Tab | KeyCode::Down => form.step(false),
        KeyCode::BackTab | KeyCode::Up => form.step(true),
        KeyCode::Enter => {
            let effect = match &form.purpose {
                FormFor::Run(_) => form.run_request().map(|r| Effect::Run(Box::new(r))),
                FormFor::Network => form.network_request().map(|n| Effect::Job(Job::CreateNetwork(n))),
            };
            match effect {
                Ok(effect) => {
                    app.mode = Mode::Normal;
                    if matches!(effect, Effect::Run(_)) {
                        // The containers pane, where the new one is selected once it is listed.
                        app.pane = Pane::Containers;
                        app.set_filter("");
                        app.marked.clear();
                    }
                    return vec![effect];
                }
                Err(e) => form.error = Some(e),
            }
        }
        _ => {
            if edit(form.focused(), &k) {
                form.error = None;
            }
        }
    }
    app.mode = Mode::Form(form);
    vec![]
}
