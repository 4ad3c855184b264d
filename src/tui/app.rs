//! The UI's whole state. Only [`super::update`] changes it; [`super::render`] only reads it.

use std::collections::{HashMap, HashSet, VecDeque};

use crate::engine::container::Container;
use crate::engine::image::ImageSummary;
use crate::engine::stats::StatsSample;
use crate::engine::store::containers::State;
use crate::engine::store::networks::NetworkRow;

use super::dialog::{Choice, Palette, Prompt, Viewer};
use super::form::Form;
use super::keymap::Keymap;
use super::log_view::LogView;
use super::matcher::Matcher;
use super::pull_dialog::{PullDialog, Pulls};
use super::symbols::Symbols;
use super::theme::Theme;
use super::update::Effect;

/// Width from which the containers pane puts the selected container's details beside the list.
pub const WIDE: u16 = 140;
/// Height from which it also shows that container's logs below the list.
pub const TALL: u16 = 36;

/// A list's order: one of [`sort_columns`] (0 is the engine's: newest first), maybe reversed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sort {
    pub column: usize,
    pub reverse: bool,
}

/// What each pane's list can be sorted by.
pub fn sort_columns(pane: Pane) -> &'static [&'static str] {
    match pane {
        Pane::Containers => &["created", "name", "state", "cpu", "memory"],
        Pane::Images => &["created", "repository", "size"],
        Pane::Networks => &["created", "name"],
        Pane::Logs | Pane::Stats | Pane::Volumes => &[],
    }
}

/// What the containers pane shows besides the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScreenLayout {
    pub details: bool,
    pub logs_below: bool,
}

/// How many samples a row's sparkline keeps (one per second: the last minute).
pub const HISTORY: usize = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Containers,
    Logs,
    Stats,
    Images,
    Networks,
    Volumes,
}

impl Pane {
    pub const ALL: [Pane; 6] =
        [Pane::Containers, Pane::Logs, Pane::Stats, Pane::Images, Pane::Networks, Pane::Volumes];

    pub fn title(self) -> &'static str {
        match self {
            Pane::Containers => "Containers",
            Pane::Logs => "Logs",
            Pane::Stats => "Stats",
            Pane::Images => "Images",
            Pane::Networks => "Networks",
            Pane::Volumes => "Volumes",
        }
    }

    pub(crate) fn index(self) -> usize {
        Self::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }

    /// The list this pane selects in: the logs and stats panes show the containers list's
    /// selected container.
    pub fn list(self) -> Pane {
        match self {
            Pane::Logs | Pane::Stats => Pane::Containers,
            p => p,
        }
    }

    /// The panes with a list of their own.
    pub const LISTS: [Pane; 3] = [Pane::Containers, Pane::Images, Pane::Networks];
}

/// A container row: the record, its PORTS text, and its recent figures.
#[derive(Debug, Clone)]
pub struct ContainerItem {
    pub container: Container,
    pub ports: String,
}

/// The last minute of one container's figures; I/O as bytes per second.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub cpu: VecDeque<f64>,
    pub memory: VecDeque<u64>,
    pub net_rx: VecDeque<u64>,
    pub net_tx: VecDeque<u64>,
    pub block_read: VecDeque<u64>,
    pub block_write: VecDeque<u64>,
    pub last: Option<StatsSample>,
}

/// Appends to a ring of [`HISTORY`] values.
fn ring<T>(q: &mut VecDeque<T>, v: T) {
    if q.len() == HISTORY {
        q.pop_front();
    }
    q.push_back(v);
}

impl History {
    pub fn push(&mut self, s: &StatsSample) {
        // Rates from the previous sample's counters (0 for the first, or after a restart).
        let (rx, tx) = s.net_io();
        let (mut rates, seconds) = (
            [0u64; 4],
            match &self.last {
                Some(p) if s.read_nanos > p.read_nanos => (s.read_nanos - p.read_nanos) as f64 / 1e9,
                _ => 0.0,
            },
        );
        if let (Some(p), true) = (&self.last, seconds > 0.0) {
            let (prx, ptx) = p.net_io();
            let now = [rx, tx, s.block_read, s.block_write];
            let before = [prx, ptx, p.block_read, p.block_write];
            for (rate, (n, b)) in rates.iter_mut().zip(now.into_iter().zip(before)) {
                *rate = (n.saturating_sub(b) as f64 / seconds) as u64;
            }
        }
        ring(&mut self.cpu, s.cpu_percent);
        ring(&mut self.memory, s.memory_usage);
        ring(&mut self.net_rx, rates[0]);
        ring(&mut self.net_tx, rates[1]);
        ring(&mut self.block_read, rates[2]);
        ring(&mut self.block_write, rates[3]);
        self.last = Some(s.clone());
    }
}

/// One row of the images pane.
#[derive(Debug, Clone)]
pub struct ImageRow<'a> {
    pub image: &'a ImageSummary,
    pub repo: String,
    pub tag: String,
}

impl ImageRow<'_> {
    /// How an action names this row: `repo:tag`, or the ID of a dangling image.
    pub fn target(&self) -> (String, String) {
        if self.image.dangling() {
            let id = self.image.id.to_string();
            let short = crate::text::short_id(&id, false);
            (id, short)
        } else {
            let name = format!("{}:{}", self.repo, self.tag);
            (name.clone(), name)
        }
    }
}

/// A network and the names of its containers.
#[derive(Debug, Clone)]
pub struct NetworkItem {
    pub network: NetworkRow,
    pub containers: Vec<String>,
}

/// Everything the lists show, as loaded from the engine in one go.
#[derive(Debug, Clone, Default)]
pub struct Lists {
    pub containers: Vec<ContainerItem>,
    pub images: Vec<ImageSummary>,
    pub networks: Vec<NetworkItem>,
}

/// A mutating action waiting for the user's yes: what it will do, line by line (a prune lists
/// what goes and what it frees), and the effect a `y` starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirm {
    pub title: String,
    pub lines: Vec<String>,
    pub yes: Effect,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Prompt(Prompt),
    Choose(Choice),
    Palette(Palette),
    /// The viewer ([`App::viewer`]) has the keyboard.
    View,
    /// The pull dialog ([`App::pull`]) has the keyboard.
    Pull,
    /// Typing a filter.
    Filter,
    /// Typing a search in the logs.
    Search,
    /// The help, scrolled this many lines.
    Help(u16),
    Confirm(Confirm),
    Form(Form),
}

/// A message on the bottom line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub text: String,
    pub error: bool,
}

pub struct App {
    pub pane: Pane,
    pub lists: Lists,
    pub history: HashMap<String, History>,
    /// Selected row per pane (an index into the filtered list).
    pub selected: [usize; Pane::ALL.len()],
    pub filter: String,
    pub filter_matcher: Matcher,
    /// The logs of the selected container.
    pub logs: LogView,
    /// The terminal's size (columns, rows): the layout depends on it.
    pub size: (u16, u16),
    /// What the viewer shows (inspect, top, ports, history).
    pub viewer: Option<Viewer>,
    /// Each pane's sort order.
    pub sort: [Sort; Pane::ALL.len()],
    /// Whether the mouse is captured (clicks and wheel) or left to the terminal.
    pub mouse: bool,
    /// The pull dialog while open, and every pull started from it.
    pub pull: Option<PullDialog>,
    pub pulls: Pulls,
    pub marked: HashSet<String>,
    /// A container to select once the lists have it (one just run from the form).
    pub select_on_load: Option<String>,
    pub mode: Mode,
    pub notice: Option<Notice>,
    pub read_only: bool,
    pub theme: Theme,
    pub symbols: Symbols,
    pub keymap: Keymap,
    /// "Now" for relative times, in ns since the epoch (set each tick; fixed in tests).
    pub now: i64,
    /// Something changed since the last frame.
    pub dirty: bool,
    pub quit: bool,
}

impl App {
    pub fn new(theme: Theme, keymap: Keymap, read_only: bool) -> Self {
        Self {
            pane: Pane::Containers,
            lists: Lists::default(),
            history: HashMap::new(),
            selected: [0; Pane::ALL.len()],
            filter: String::new(),
            filter_matcher: Matcher::All,
            logs: LogView::new(),
            size: (80, 24),
            viewer: None,
            sort: [Sort::default(); Pane::ALL.len()],
            mouse: true,
            pull: None,
            pulls: Pulls::default(),
            marked: HashSet::new(),
            select_on_load: None,
            mode: Mode::Normal,
            notice: None,
            read_only,
            theme,
            symbols: Symbols::default(),
            keymap,
            now: 0,
            dirty: true,
            quit: false,
        }
    }

    /// The selected row of the current pane's list (an index into the list as shown).
    pub fn selected_index(&self) -> usize {
        self.selected[self.pane.list().index()]
    }

    pub fn set_selected(&mut self, i: usize) {
        self.selected[self.pane.list().index()] = i;
    }

    pub fn next_pane(&mut self, step: isize) {
        let n = Pane::ALL.len() as isize;
        self.pane = Pane::ALL[((self.pane.index() as isize + step).rem_euclid(n)) as usize];
        self.set_filter("");
        self.marked.clear();
    }

    /// Sets the list filter; a bad regex matches nothing and says why.
    pub fn set_filter(&mut self, text: &str) -> Option<String> {
        self.filter = text.to_string();
        match Matcher::new(text) {
            Ok(m) => {
                self.filter_matcher = m;
                None
            }
            Err(e) => {
                self.filter_matcher = Matcher::Invalid;
                Some(e)
            }
        }
    }

    /// Whether a row passes the filter. The text is only built when a filter is set (lists
    /// are filtered on every frame).
    fn passes(&self, text: impl FnOnce() -> String) -> bool {
        self.filter_matcher.is_all() || self.filter_matcher.is_match(&text())
    }

    /// The containers the list shows, in order.
    pub fn visible_containers(&self) -> Vec<&ContainerItem> {
        let mut rows: Vec<&ContainerItem> = self
            .lists
            .containers
            .iter()
            .filter(|c| {
                let r = &c.container.row;
                self.passes(|| format!("{} {} {} {}", r.name, r.image_name, r.state.as_str(), r.id))
            })
            .collect();
        let sort = self.sort[Pane::Containers.index()];
        let last = |c: &ContainerItem| self.history.get(c.container.id()).and_then(|h| h.last.as_ref());
        match sort.column {
            1 => rows.sort_by(|a, b| a.container.row.name.cmp(&b.container.row.name)),
            2 => rows.sort_by_key(|c| c.container.row.state.as_str()),
            // Busiest first.
            3 => rows.sort_by(|a, b| {
                let cpu = |c| last(c).map(|s| s.cpu_percent).unwrap_or(0.0);
                cpu(b).total_cmp(&cpu(a))
            }),
            4 => rows.sort_by_key(|c| std::cmp::Reverse(last(c).map(|s| s.memory_usage).unwrap_or(0))),
            _ => {}
        }
        if sort.reverse {
            rows.reverse();
        }
        rows
    }

    /// The image rows: one per name (repository and tag), as `docker images` lists them, and
    /// one `<none>` row for a dangling image.
    pub fn visible_images(&self) -> Vec<ImageRow<'_>> {
        let mut out = Vec::new();
        for image in &self.lists.images {
            let names: Vec<(String, String)> = if image.dangling() {
                vec![("<none>".into(), "<none>".into())]
            } else {
                image
                    .tags
                    .iter()
                    .map(|r| (r.familiar_name(), r.tag().unwrap_or("<none>").to_string()))
                    .collect()
            };
            for (repo, tag) in names {
                if self.passes(|| format!("{repo}:{tag} {}", image.id)) {
                    out.push(ImageRow { image, repo, tag });
                }
            }
        }
        let sort = self.sort[Pane::Images.index()];
        match sort.column {
            1 => out.sort_by(|a, b| (&a.repo, &a.tag).cmp(&(&b.repo, &b.tag))),
            // Largest first.
            2 => out.sort_by_key(|r| std::cmp::Reverse(r.image.size)),
            _ => {}
        }
        if sort.reverse {
            out.reverse();
        }
        out
    }

    pub fn visible_networks(&self) -> Vec<&NetworkItem> {
        let mut rows: Vec<&NetworkItem> = self
            .lists
            .networks
            .iter()
            .filter(|n| {
                self.passes(|| format!("{} {} {}", n.network.name, n.network.driver, n.containers.join(" ")))
            })
            .collect();
        let sort = self.sort[Pane::Networks.index()];
        if sort.column == 1 {
            rows.sort_by(|a, b| a.network.name.cmp(&b.network.name));
        }
        if sort.reverse {
            rows.reverse();
        }
        rows
    }

    /// The current pane's sort order, by name (None where nothing can be sorted).
    pub fn sort_name(&self) -> Option<String> {
        let columns = sort_columns(self.pane);
        let sort = self.sort[self.pane.index()];
        let name = columns.get(sort.column)?;
        Some(if sort.reverse { format!("{name}, reversed") } else { name.to_string() })
    }

    /// How many rows the current pane shows.
    pub fn row_count(&self) -> usize {
        match self.pane.list() {
            Pane::Containers => self.visible_containers().len(),
            Pane::Images => self.visible_images().len(),
            Pane::Networks => self.visible_networks().len(),
            _ => 0,
        }
    }

    /// What an action applies to: the current list's marked rows, else its selected row (the
    /// selected container on the logs and stats panes, which show no marks). Pairs of (what the
    /// engine takes, name to show): a container's or network's ID, an image's `repo:tag` (its
    /// ID when dangling).
    pub fn action_targets(&self) -> Vec<(String, String)> {
        let rows = self.targets_of(self.pane.list());
        let marks_shown = self.pane == self.pane.list();
        let marked: Vec<(String, String)> =
            rows.iter().filter(|(key, _)| marks_shown && self.marked.contains(key)).cloned().collect();
        if !marked.is_empty() {
            return marked;
        }
        rows.into_iter().nth(self.selected_index()).into_iter().collect()
    }

    /// The selected row of the current pane's list as an action target.
    pub fn selected_target(&self) -> Option<(String, String)> {
        self.targets_of(self.pane.list()).into_iter().nth(self.selected_index())
    }

    /// Every row of a list (see [`Pane::LISTS`]) as an action target, in the order shown.
    pub fn targets_of(&self, list: Pane) -> Vec<(String, String)> {
        match list {
            Pane::Containers => self
                .visible_containers()
                .iter()
                .map(|c| (c.container.id().to_string(), c.container.row.name.clone()))
                .collect(),
            Pane::Images => self.visible_images().iter().map(ImageRow::target).collect(),
            Pane::Networks => self
                .visible_networks()
                .iter()
                .map(|n| (n.network.id.clone(), n.network.name.clone()))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The key (see [`App::targets_of`]) of a list's selected row.
    pub fn selected_key(&self, list: Pane) -> Option<String> {
        let i = self.selected[list.index()];
        match list {
            Pane::Containers => self.visible_containers().get(i).map(|c| c.container.id().to_string()),
            Pane::Images => self.visible_images().get(i).map(|r| r.target().0),
            Pane::Networks => self.visible_networks().get(i).map(|n| n.network.id.clone()),
            _ => None,
        }
    }

    /// The container selected in the containers pane (the logs and stats panes show it).
    pub fn selected_container(&self) -> Option<&ContainerItem> {
        self.visible_containers().get(self.selected[Pane::Containers.index()]).copied()
    }

    /// How the screen is divided at the current size.
    pub fn layout(&self) -> ScreenLayout {
        self.layout_for(self.size)
    }

    /// How a screen of `(w, h)` is divided (render passes the frame's own size).
    pub fn layout_for(&self, (w, h): (u16, u16)) -> ScreenLayout {
        let details = self.pane == Pane::Containers && w >= WIDE;
        ScreenLayout { details, logs_below: details && h >= TALL }
    }

    /// Whether the logs of the selected container are on screen.
    pub fn logs_shown(&self) -> bool {
        self.pane == Pane::Logs || self.layout().logs_below
    }

    pub fn running_count(&self) -> usize {
        self.lists.containers.iter().filter(|c| c.container.row.state == State::Running).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_rates_are_per_second_between_samples() {
        let mut h = History::default();
        let sample = |secs: i64, rx: u64, read: u64| StatsSample {
            read_nanos: secs * 1_000_000_000,
            networks: vec![crate::engine::cgroups::stats::NetCounters { rx_bytes: rx, ..Default::default() }],
            block_read: read,
            ..Default::default()
        };
        h.push(&sample(10, 1000, 0));
        h.push(&sample(12, 5000, 4096));
        assert_eq!(h.net_rx.iter().copied().collect::<Vec<_>>(), [0, 2000], "the first sample has no rate");
        assert_eq!(h.block_read.back(), Some(&2048));
        // Counters that went down (a restart) give 0, not a wrap-around.
        h.push(&sample(13, 10, 0));
        assert_eq!((h.net_rx.back(), h.block_read.back()), (Some(&0), Some(&0)));
        for i in 0..100 {
            h.push(&sample(14 + i, 0, 0));
        }
        assert_eq!(h.cpu.len(), HISTORY);
    }
}
