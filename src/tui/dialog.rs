//! The state of the overlays that take the keyboard for a while: a one-line prompt, a list to
//! choose from, the command palette, and the scrollable viewer (inspect JSON with folding,
//! top, ports, history) with its own search.

use std::collections::HashSet;

use super::keymap::{ACTIONS, Action};
use super::matcher::Matcher;

/// What a prompt's answer is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptFor {
    /// Run this command line in the container (ID, name).
    Exec(String, String),
    Rename(String, String),
    /// Give this image (ID) another name.
    Tag(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub title: String,
    pub text: String,
    pub purpose: PromptFor,
}

/// What a choice is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChoiceFor {
    /// Send the chosen signal to these containers (ID, name).
    Kill(Vec<(String, String)>),
    /// Connect (or disconnect) the chosen one of `candidates` (ID, name) to the network.
    Network { network: (String, String), connect: bool, candidates: Vec<(String, String)> },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub title: String,
    pub options: Vec<String>,
    pub selected: usize,
    pub purpose: ChoiceFor,
}

/// The signals offered by kill, most used first.
pub const SIGNALS: &[&str] = &["KILL", "TERM", "INT", "HUP", "QUIT", "USR1", "USR2", "STOP", "CONT", "WINCH"];

/// The `:` palette: every action by name, fuzzy-matched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Palette {
    pub text: String,
    pub selected: usize,
}

/// How well `query` matches `name` as a subsequence (higher is better): consecutive letters and
/// a match at the start score more. `None` when the letters are not all there in order.
pub fn fuzzy_score(query: &str, name: &str) -> Option<i32> {
    let name: Vec<char> = name.to_lowercase().chars().collect();
    let mut score = 0;
    let mut at = 0;
    let mut previous: Option<usize> = None;
    for q in query.to_lowercase().chars().filter(|c| !c.is_whitespace()) {
        let i = (at..name.len()).find(|&i| name[i] == q)?;
        score += match previous {
            Some(p) if p + 1 == i => 5,
            _ if i == 0 => 4,
            _ if i > 0 && matches!(name[i - 1], '-' | ' ') => 3,
            _ => 1,
        };
        score -= (i - at).min(3) as i32;
        previous = Some(i);
        at = i + 1;
    }
    Some(score)
}

impl Palette {
    /// The actions that match, best first (mutating ones left out in read-only mode).
    pub fn matches(&self, read_only: bool) -> Vec<Action> {
        let mut scored: Vec<(i32, usize, Action)> = ACTIONS
            .iter()
            .enumerate()
            .filter(|(_, i)| !(read_only && i.mutating))
            .filter_map(|(n, i)| fuzzy_score(&self.text, i.name).map(|s| (s, n, i.action)))
            .collect();
        scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        scored.into_iter().map(|(_, _, a)| a).collect()
    }
}

/// A scrollable text: inspect's JSON (foldable), top, ports, history.
#[derive(Debug, Clone, Default)]
pub struct Viewer {
    pub title: String,
    pub lines: Vec<String>,
    /// For a line that opens a JSON object or array: the line that closes it.
    pub closes: Vec<Option<usize>>,
    pub folded: HashSet<usize>,
    /// The cursor, as an index into `lines` (always a visible line).
    pub cursor: usize,
    pub search: String,
    pub matcher: Matcher,
    pub searching: bool,
}

impl Viewer {
    /// A viewer of `text`, control characters and escape sequences removed: the text comes
    /// from containers (process command lines) and registries (history), and must not drive
    /// the terminal.
    pub fn new(title: impl Into<String>, text: &str) -> Self {
        let lines: Vec<String> = text.lines().map(|l| super::log_view::strip_ansi(l).into_owned()).collect();
        let closes = bracket_pairs(&lines);
        Self { title: title.into(), lines, closes, ..Default::default() }
    }

    /// Indexes of the lines shown, folded blocks skipped.
    pub fn visible(&self) -> Vec<usize> {
        let mut out = Vec::with_capacity(self.lines.len());
        let mut i = 0;
        while i < self.lines.len() {
            out.push(i);
            i = match (self.folded.contains(&i), self.closes[i]) {
                (true, Some(end)) => end + 1,
                _ => i + 1,
            };
        }
        out
    }

    /// Moves the cursor `delta` visible lines.
    pub fn move_by(&mut self, delta: i64) {
        let vis = self.visible();
        let pos = vis.iter().position(|&i| i == self.cursor).unwrap_or(0) as i64;
        let to = (pos + delta).clamp(0, vis.len().saturating_sub(1) as i64) as usize;
        self.cursor = vis.get(to).copied().unwrap_or(0);
    }

    /// Folds or unfolds the block the cursor is on (or the one it is inside).
    pub fn toggle_fold(&mut self) {
        let opener = if self.closes.get(self.cursor).copied().flatten().is_some() {
            Some(self.cursor)
        } else {
            (0..self.cursor).rev().find(|&i| self.closes[i].is_some_and(|end| end >= self.cursor))
        };
        if let Some(i) = opener {
            if !self.folded.remove(&i) {
                self.folded.insert(i);
            }
            self.cursor = i;
        }
    }

    pub fn set_search(&mut self, text: &str) -> Result<(), String> {
        self.search = text.to_string();
        let m = Matcher::new(text);
        self.matcher = m.clone().unwrap_or(Matcher::Invalid);
        m.map(|_| ())
    }

    /// Whether the cursor's line matches the search.
    pub fn matches_cursor(&self) -> bool {
        !self.matcher.is_all() && self.lines.get(self.cursor).is_some_and(|l| self.matcher.is_match(l))
    }

    /// Moves to the next match after the cursor (before it with `back`), unfolding what hides
    /// it. False when there is none.
    pub fn find(&mut self, back: bool) -> bool {
        if self.matcher.is_all() {
            return false;
        }
        let hit = if back {
            (0..self.cursor).rev().find(|&i| self.matcher.is_match(&self.lines[i]))
        } else {
            (self.cursor + 1..self.lines.len()).find(|&i| self.matcher.is_match(&self.lines[i]))
        };
        let Some(i) = hit else { return false };
        let hiding: Vec<usize> = self
            .folded
            .iter()
            .copied()
            .filter(|&o| o < i && self.closes[o].is_some_and(|e| e >= i))
            .collect();
        for o in hiding {
            self.folded.remove(&o);
        }
        self.cursor = i;
        true
    }
}

/// Pairs the lines that open a block (ending in `{` or `[`) with the line that closes it.
fn bracket_pairs(lines: &[String]) -> Vec<Option<usize>> {
    let mut closes = vec![None; lines.len()];
    let mut open = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let t = l.trim();
        if t.starts_with('}') || t.starts_with(']') {
            if let Some(o) = open.pop() {
                closes[o] = Some(i);
            }
        }
        if t.ends_with('{') || t.ends_with('[') {
            open.push(i);
        }
    }
    closes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuzzy_palette_ranks_close_matches_first() {
        assert!(fuzzy_score("rst", "restart").is_some());
        assert!(fuzzy_score("xyz", "restart").is_none());
        assert!(fuzzy_score("sto", "stop") > fuzzy_score("sto", "restore"));
        let p = Palette { text: "fr".into(), selected: 0 };
        assert_eq!(p.matches(false).first(), Some(&Action::ForceRemove));
        let p = Palette { text: "stop".into(), selected: 0 };
        assert_eq!(p.matches(false).first(), Some(&Action::Stop));
        assert!(!p.matches(true).contains(&Action::Stop), "read-only hides mutating actions");
        assert_eq!(Palette::default().matches(false).len(), ACTIONS.len());
    }

    #[test]
    fn viewer_text_cannot_drive_the_terminal() {
        // A process command line as a container could set it.
        let v = Viewer::new("processes", "PID CMD\n1   sh -c \x1b]52;c;aGk=\x07x\x1b[2J\x07\rdone\n");
        assert_eq!(v.lines, ["PID CMD", "1   sh -c xdone"]);
    }

    #[test]
    fn json_folds_and_search_unfolds() {
        let json = serde_json::to_string_pretty(&serde_json::json!({
            "Id": "abc",
            "Config": { "Env": ["A=1", "B=2"], "Cmd": ["sh"] },
            "State": { "Status": "running" }
        }))
        .unwrap();
        let mut v = Viewer::new("inspect", &json);
        let all = v.visible().len();
        let config = v.lines.iter().position(|l| l.contains("\"Config\"")).unwrap();
        v.cursor = config;
        v.toggle_fold();
        let end = v.closes[config].expect("Config closes");
        assert!(v.lines[end].trim().starts_with('}'));
        assert_eq!(v.visible().len(), all - (end - config), "inner lines and the closing line hidden");
        v.move_by(1);
        assert!(v.lines[v.cursor].contains("\"Id\""), "the cursor skips the folded block");
        v.set_search("B=2").unwrap();
        v.cursor = 0;
        assert!(v.find(false));
        assert!(v.lines[v.cursor].contains("B=2"));
        assert!(v.folded.is_empty(), "the match was unfolded");
        // Folding from inside a block folds that block.
        v.toggle_fold();
        assert!(v.lines[v.cursor].contains("\"Env\""));
        assert!(v.folded.contains(&v.cursor));
    }
}
