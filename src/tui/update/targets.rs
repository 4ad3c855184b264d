//! What an action applies to: the selected (or marked) containers, or what the current pane
//! selects.

use super::*;
use crate::tui::jobs::Job;

/// The ID of what is selected in the current pane (the selected container on the logs and
/// stats panes).
pub(super) fn selected_id(app: &App) -> Option<String> {
    match app.pane {
        Pane::Containers | Pane::Logs | Pane::Stats => {
            app.selected_container().map(|c| c.container.id().to_string())
        }
        Pane::Images => app.visible_images().get(app.selected_index()).map(|r| r.image.id.to_string()),
        Pane::Networks => app.visible_networks().get(app.selected_index()).map(|n| n.network.id.clone()),
        Pane::Volumes => None,
    }
}

/// The targets' names for a question or a title: a few, then how many more (a dialog must not
/// grow past the screen with many marked rows).
pub(super) fn names(targets: &[(String, String)]) -> String {
    const SHOWN: usize = 5;
    let mut text = targets.iter().take(SHOWN).map(|t| t.1.as_str()).collect::<Vec<_>>().join(", ");
    if targets.len() > SHOWN {
        text.push_str(&format!(" and {} more", targets.len() - SHOWN));
    }
    text
}

/// Read-only actions on whatever is selected: inspect, top/history, ports, copy ID.
pub(super) fn subject_action(app: &mut App, a: Action) -> Vec<Effect> {
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

pub(super) fn container_action(app: &mut App, a: Action) -> Vec<Effect> {
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
        let names = names(&targets);
        let question = match a {
            Action::ForceRemove => format!("remove {names}, even if running?"),
            _ => format!("remove {names}?"),
        };
        app.mode = Mode::Confirm(Confirm {
            title: "remove".into(),
            lines: vec![question],
            yes: Effect::Job(Job::Container(a, targets)),
        });
        return vec![];
    }
    if a == Action::Kill {
        app.mode = Mode::Choose(Choice {
            title: format!("signal for {}", names(&targets)),
            options: SIGNALS.iter().map(|s| s.to_string()).collect(),
            selected: 0,
            purpose: ChoiceFor::Kill(targets),
        });
        return vec![];
    }
    // One container at a time for the rest: the selected one, marks or not.
    let Some((id, name)) = app.selected_target() else { return vec![] };
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
    vec![Effect::Job(Job::Container(a, targets))]
}
