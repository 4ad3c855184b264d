//! Every action of the UI, its name and description, and the keys bound to it. The same table
//! drives key handling, the `?` help, the hint bar and the `:` palette, so they can never
//! disagree. Keys can be remapped in `$XDG_CONFIG_HOME/gantry/keys.toml`:
//! `stop = "s"`, `remove = ["d", "delete"]`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Quit,
    Help,
    NextTab,
    PrevTab,
    Up,
    Down,
    Top,
    Bottom,
    Filter,
    Mark,
    Start,
    Stop,
    Restart,
    Kill,
    Pause,
    Remove,
    ForceRemove,
    Refresh,
    PageUp,
    PageDown,
    Logs,
    Follow,
    Wrap,
    Timestamps,
    LogRange,
    SaveLogs,
    NextMatch,
    PrevMatch,
    Attach,
    Exec,
    ExecCommand,
    Inspect,
    Processes,
    Ports,
    CopyId,
    Rename,
    Palette,
    Mouse,
    Pull,
    SortNext,
    SortReverse,
    Create,
    Tag,
    Prune,
    Connect,
    Disconnect,
}

/// An action's name (as in keys.toml and the palette), what it does, and whether it changes
/// anything (hidden in `--read-only` mode).
pub struct ActionInfo {
    pub action: Action,
    pub name: &'static str,
    pub description: &'static str,
    pub mutating: bool,
    pub default_keys: &'static [&'static str],
}

pub const ACTIONS: &[ActionInfo] = &[
    ActionInfo {
        action: Action::Quit,
        name: "quit",
        description: "leave gantry",
        mutating: false,
        default_keys: &["q", "ctrl-c"],
    },
    ActionInfo {
        action: Action::Help,
        name: "help",
        description: "show this help",
        mutating: false,
        default_keys: &["?"],
    },
    ActionInfo {
        action: Action::NextTab,
        name: "next-pane",
        description: "next pane",
        mutating: false,
        default_keys: &["tab", "right"],
    },
    ActionInfo {
        action: Action::PrevTab,
        name: "prev-pane",
        description: "previous pane",
        mutating: false,
        default_keys: &["backtab", "left"],
    },
    ActionInfo {
        action: Action::Up,
        name: "up",
        description: "select the previous row",
        mutating: false,
        default_keys: &["up", "k"],
    },
    ActionInfo {
        action: Action::Down,
        name: "down",
        description: "select the next row",
        mutating: false,
        default_keys: &["down", "j"],
    },
    ActionInfo {
        action: Action::Top,
        name: "top",
        description: "select the first row",
        mutating: false,
        default_keys: &["home", "g"],
    },
    ActionInfo {
        action: Action::Bottom,
        name: "bottom",
        description: "select the last row",
        mutating: false,
        default_keys: &["end", "G"],
    },
    ActionInfo {
        action: Action::PageUp,
        name: "page-up",
        description: "a page up",
        mutating: false,
        default_keys: &["pageup", "ctrl-b"],
    },
    ActionInfo {
        action: Action::PageDown,
        name: "page-down",
        description: "a page down",
        mutating: false,
        default_keys: &["pagedown", "ctrl-f"],
    },
    ActionInfo {
        action: Action::Filter,
        name: "filter",
        description: "filter the list (words, or ~regex); search in the logs",
        mutating: false,
        default_keys: &["/"],
    },
    ActionInfo {
        action: Action::SortNext,
        name: "sort",
        description: "sort the list by the next column (created, name, state, cpu, memory…)",
        mutating: false,
        default_keys: &[">"],
    },
    ActionInfo {
        action: Action::SortReverse,
        name: "sort-reverse",
        description: "reverse the list's order",
        mutating: false,
        default_keys: &["<"],
    },
    ActionInfo {
        action: Action::Mark,
        name: "mark",
        description: "mark the row: actions apply to every marked row",
        mutating: false,
        default_keys: &["space"],
    },
    ActionInfo {
        action: Action::Start,
        name: "start",
        description: "start the container",
        mutating: true,
        default_keys: &["u"],
    },
    ActionInfo {
        action: Action::Stop,
        name: "stop",
        description: "stop the container",
        mutating: true,
        default_keys: &["s"],
    },
    ActionInfo {
        action: Action::Restart,
        name: "restart",
        description: "restart the container",
        mutating: true,
        default_keys: &["r"],
    },
    ActionInfo {
        action: Action::Kill,
        name: "kill",
        description: "send the container a signal (choose; KILL first)",
        mutating: true,
        default_keys: &["K"],
    },
    ActionInfo {
        action: Action::Pause,
        name: "pause",
        description: "pause or unpause the container",
        mutating: true,
        default_keys: &["p"],
    },
    ActionInfo {
        action: Action::Remove,
        name: "remove",
        description: "remove the container, image or network (asks first)",
        mutating: true,
        default_keys: &["d"],
    },
    ActionInfo {
        action: Action::ForceRemove,
        name: "force-remove",
        description: "remove a running container or an image in use (asks first)",
        mutating: true,
        default_keys: &["D"],
    },
    ActionInfo {
        action: Action::Logs,
        name: "logs",
        description: "show the container's logs",
        mutating: false,
        default_keys: &["l", "enter"],
    },
    ActionInfo {
        action: Action::Follow,
        name: "follow",
        description: "logs: follow new lines on or off",
        mutating: false,
        default_keys: &["f"],
    },
    ActionInfo {
        action: Action::Wrap,
        name: "wrap",
        description: "logs: wrap long lines on or off",
        mutating: false,
        default_keys: &["w"],
    },
    ActionInfo {
        action: Action::Timestamps,
        name: "timestamps",
        description: "logs: timestamps on or off",
        mutating: false,
        default_keys: &["t"],
    },
    ActionInfo {
        action: Action::LogRange,
        name: "log-range",
        description: "logs: load the last 100/1000 lines, 5m, 1h or all",
        mutating: false,
        default_keys: &["L"],
    },
    ActionInfo {
        action: Action::SaveLogs,
        name: "save-logs",
        description: "logs: save the loaded lines to a file",
        mutating: false,
        default_keys: &["S"],
    },
    ActionInfo {
        action: Action::NextMatch,
        name: "next-match",
        description: "logs: next (newer) search match",
        mutating: false,
        default_keys: &["n"],
    },
    ActionInfo {
        action: Action::PrevMatch,
        name: "prev-match",
        description: "logs: previous (older) search match",
        mutating: false,
        default_keys: &["N"],
    },
    ActionInfo {
        action: Action::Attach,
        name: "attach",
        description: "attach this terminal to the container (ctrl-p ctrl-q comes back)",
        mutating: true,
        default_keys: &["a"],
    },
    ActionInfo {
        action: Action::Exec,
        name: "exec",
        description: "run a shell (sh) in the container; exit it to come back",
        mutating: true,
        default_keys: &["e"],
    },
    ActionInfo {
        action: Action::ExecCommand,
        name: "exec-command",
        description: "run a command of your choice in the container",
        mutating: true,
        default_keys: &["E"],
    },
    ActionInfo {
        action: Action::Inspect,
        name: "inspect",
        description: "inspect as JSON (enter folds, / searches)",
        mutating: false,
        default_keys: &["i"],
    },
    ActionInfo {
        action: Action::Processes,
        name: "processes",
        description: "the container's processes, as top (images: history)",
        mutating: false,
        default_keys: &["T"],
    },
    ActionInfo {
        action: Action::Ports,
        name: "ports",
        description: "the container's published ports",
        mutating: false,
        default_keys: &["o"],
    },
    ActionInfo {
        action: Action::CopyId,
        name: "copy-id",
        description: "copy the ID to the clipboard (OSC 52)",
        mutating: false,
        default_keys: &["y"],
    },
    ActionInfo {
        action: Action::Rename,
        name: "rename",
        description: "rename the container",
        mutating: true,
        default_keys: &["R"],
    },
    ActionInfo {
        action: Action::Create,
        name: "create",
        description: "run a container from the image (a form); create a network",
        mutating: true,
        default_keys: &["c"],
    },
    ActionInfo {
        action: Action::Tag,
        name: "tag",
        description: "give the image another name",
        mutating: true,
        default_keys: &["+"],
    },
    ActionInfo {
        action: Action::Prune,
        name: "prune",
        description: "remove unused images or networks (shows what goes first)",
        mutating: true,
        default_keys: &["X"],
    },
    ActionInfo {
        action: Action::Connect,
        name: "connect",
        description: "connect a container to the network",
        mutating: true,
        default_keys: &["C"],
    },
    ActionInfo {
        action: Action::Disconnect,
        name: "disconnect",
        description: "disconnect a container from the network",
        mutating: true,
        default_keys: &["x"],
    },
    ActionInfo {
        action: Action::Pull,
        name: "pull",
        description: "pull an image: pick a registry, repository and tag",
        mutating: true,
        default_keys: &["P"],
    },
    ActionInfo {
        action: Action::Palette,
        name: "palette",
        description: "run any action by name (fuzzy match)",
        mutating: false,
        default_keys: &[":"],
    },
    ActionInfo {
        action: Action::Mouse,
        name: "mouse",
        description: "mouse on or off (off lets the terminal select text)",
        mutating: false,
        default_keys: &["m"],
    },
    ActionInfo {
        action: Action::Refresh,
        name: "refresh",
        description: "reload every list",
        mutating: false,
        default_keys: &["ctrl-r"],
    },
];

pub fn info(a: Action) -> &'static ActionInfo {
    ACTIONS.iter().find(|i| i.action == a).expect("every action is in ACTIONS")
}

/// A key as written in keys.toml: `s`, `K`, `ctrl-c`, `tab`, `backtab`, `up`, `space`, `f5`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
}

impl Key {
    pub fn parse(s: &str) -> Result<Self, String> {
        let (ctrl, rest) = match s.strip_prefix("ctrl-") {
            Some(r) => (true, r),
            None => (false, s),
        };
        let code = match rest {
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "enter" => KeyCode::Enter,
            "esc" => KeyCode::Esc,
            "delete" => KeyCode::Delete,
            "pageup" => KeyCode::PageUp,
            "pagedown" => KeyCode::PageDown,
            "space" => KeyCode::Char(' '),
            f if f.len() > 1 && f.starts_with('f') && f[1..].parse::<u8>().is_ok() => {
                KeyCode::F(f[1..].parse().unwrap_or(1))
            }
            c if c.chars().count() == 1 => KeyCode::Char(c.chars().next().unwrap_or(' ')),
            _ => return Err(format!("unknown key {s:?}")),
        };
        Ok(Self { code, ctrl })
    }

    pub fn from_event(e: &KeyEvent) -> Self {
        Self { code: e.code, ctrl: e.modifiers.contains(KeyModifiers::CONTROL) }
    }

    /// How the help and hint bar write it.
    pub fn label(&self) -> String {
        let base = match self.code {
            KeyCode::Char(' ') => "space".to_string(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Tab => "tab".into(),
            KeyCode::BackTab => "S-tab".into(),
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::Left => "←".into(),
            KeyCode::Right => "→".into(),
            KeyCode::Home => "home".into(),
            KeyCode::End => "end".into(),
            KeyCode::Enter => "enter".into(),
            KeyCode::Esc => "esc".into(),
            KeyCode::Delete => "del".into(),
            KeyCode::PageUp => "pgup".into(),
            KeyCode::PageDown => "pgdn".into(),
            KeyCode::F(n) => format!("F{n}"),
            other => format!("{other:?}"),
        };
        if self.ctrl { format!("^{base}") } else { base }
    }
}

/// Keys to actions.
#[derive(Debug, Clone)]
pub struct Keymap {
    bindings: Vec<(Key, Action)>,
}

impl Default for Keymap {
    fn default() -> Self {
        let bindings = ACTIONS
            .iter()
            .flat_map(|i| {
                i.default_keys.iter().map(move |k| (Key::parse(k).expect("default keys parse"), i.action))
            })
            .collect();
        Self { bindings }
    }
}

impl Keymap {
    /// The defaults with the user's keys.toml applied (an action listed there gets exactly the
    /// keys given).
    pub fn with_overrides(text: &str) -> Result<Self, String> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Keys {
            One(String),
            Many(Vec<String>),
        }
        let table: BTreeMap<String, Keys> = toml::from_str(text).map_err(|e| format!("keys.toml: {e}"))?;
        let mut map = Self::default();
        for (name, keys) in table {
            let info = ACTIONS
                .iter()
                .find(|i| i.name == name)
                .ok_or_else(|| format!("keys.toml: no action named {name:?}"))?;
            let keys = match keys {
                Keys::One(k) => vec![k],
                Keys::Many(v) => v,
            };
            let parsed = keys.iter().map(|k| Key::parse(k)).collect::<Result<Vec<_>, _>>()?;
            map.bindings.retain(|(_, a)| *a != info.action);
            for k in parsed {
                map.bindings.retain(|(b, _)| *b != k);
                map.bindings.push((k, info.action));
            }
        }
        Ok(map)
    }

    /// The user's keymap (defaults when there is no keys.toml).
    pub fn load() -> Result<Self, String> {
        match user_keys_file().and_then(|p| std::fs::read_to_string(p).ok()) {
            Some(text) => Self::with_overrides(&text),
            None => Ok(Self::default()),
        }
    }

    pub fn action(&self, e: &KeyEvent) -> Option<Action> {
        let k = Key::from_event(e);
        // Shifted letters arrive as upper-case chars, with or without the SHIFT flag.
        self.bindings.iter().find(|(b, _)| *b == k).map(|(_, a)| *a)
    }

    /// The keys bound to an action, as labels.
    pub fn keys_of(&self, a: Action) -> Vec<String> {
        self.bindings.iter().filter(|(_, b)| *b == a).map(|(k, _)| k.label()).collect()
    }
}

pub fn user_keys_file() -> Option<PathBuf> {
    super::user_config_dir().map(|d| d.join("keys.toml"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new(c, m)
    }

    #[test]
    fn defaults_and_overrides() {
        let m = Keymap::default();
        assert_eq!(m.action(&key(KeyCode::Char('s'), KeyModifiers::NONE)), Some(Action::Stop));
        assert_eq!(m.action(&key(KeyCode::Char('K'), KeyModifiers::SHIFT)), Some(Action::Kill));
        assert_eq!(m.action(&key(KeyCode::Char('c'), KeyModifiers::CONTROL)), Some(Action::Quit));
        assert_eq!(m.action(&key(KeyCode::Char('z'), KeyModifiers::NONE)), None);
        let m = Keymap::with_overrides("stop = \"x\"\nremove = [\"delete\", \"s\"]\n").unwrap();
        assert_eq!(m.action(&key(KeyCode::Char('x'), KeyModifiers::NONE)), Some(Action::Stop));
        assert_eq!(m.action(&key(KeyCode::Char('s'), KeyModifiers::NONE)), Some(Action::Remove));
        assert_eq!(m.action(&key(KeyCode::Char('d'), KeyModifiers::NONE)), None);
        assert_eq!(m.keys_of(Action::Remove), ["del", "s"]);
        assert!(Keymap::with_overrides("explode = \"e\"").unwrap_err().contains("no action named"));
        assert!(Keymap::with_overrides("stop = \"hyper-x\"").unwrap_err().contains("unknown key"));
        // Every action has a default key and a unique name.
        for i in ACTIONS {
            assert!(!Keymap::default().keys_of(i.action).is_empty(), "{}", i.name);
            assert_eq!(ACTIONS.iter().filter(|j| j.name == i.name).count(), 1);
        }
    }
}
