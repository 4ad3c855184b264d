//! The UI's whole state. Only [`super::update`] changes it; [`super::render`] only reads it.

use std::collections::{HashMap, HashSet, VecDeque};

use crate::engine::container::Container;
use crate::engine::image::ImageSummary;
use crate::engine::stats::StatsSample;
use crate::engine::store::containers::State;
use crate::engine::store::networks::NetworkRow;

use super::keymap::{Action, Keymap};
use super::theme::Theme;

/// How many samples a row's sparkline keeps (one per second: the last minute).
pub const HISTORY: usize = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Containers,
    Images,
    Networks,
    Volumes,
}

impl Pane {
    pub const ALL: [Pane; 4] = [Pane::Containers, Pane::Images, Pane::Networks, Pane::Volumes];

    pub fn title(self) -> &'static str {
        match self {
            Pane::Containers => "Containers",
            Pane::Images => "Images",
            Pane::Networks => "Networks",
            Pane::Volumes => "Volumes",
        }
    }

    fn index(self) -> usize {
        Self::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }
}

/// A container row: the record, its PORTS text, and its recent figures.
#[derive(Debug, Clone)]
pub struct ContainerItem {
    pub container: Container,
    pub ports: String,
}

/// The last minute of one container's figures.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub cpu: VecDeque<f64>,
    pub memory: VecDeque<u64>,
    pub last: Option<StatsSample>,
}

impl History {
    pub fn push(&mut self, s: &StatsSample) {
        if self.cpu.len() == HISTORY {
            self.cpu.pop_front();
            self.memory.pop_front();
        }
        self.cpu.push_back(s.cpu_percent);
        self.memory.push_back(s.memory_usage);
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

/// A mutating action waiting for the user's yes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirm {
    pub action: Action,
    pub targets: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// Typing a filter.
    Filter,
    Help,
    Confirm(Confirm),
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
    pub selected: [usize; 4],
    pub filter: String,
    pub marked: HashSet<String>,
    pub mode: Mode,
    pub notice: Option<Notice>,
    pub read_only: bool,
    pub theme: Theme,
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
            selected: [0; 4],
            filter: String::new(),
            marked: HashSet::new(),
            mode: Mode::Normal,
            notice: None,
            read_only,
            theme,
            keymap,
            now: 0,
            dirty: true,
            quit: false,
        }
    }

    pub fn selected_index(&self) -> usize {
        self.selected[self.pane.index()]
    }

    pub fn set_selected(&mut self, i: usize) {
        self.selected[self.pane.index()] = i;
    }

    pub fn next_pane(&mut self, step: isize) {
        let n = Pane::ALL.len() as isize;
        self.pane = Pane::ALL[((self.pane.index() as isize + step).rem_euclid(n)) as usize];
        self.filter.clear();
        self.marked.clear();
    }

    /// Whether a row passes the filter: every word of it appears (any case) in the row's
    /// text. The text is only built when a filter is set (lists are filtered on every frame).
    fn passes(&self, text: impl FnOnce() -> String) -> bool {
        if self.filter.is_empty() {
            return true;
        }
        let hay = text().to_lowercase();
        self.filter.to_lowercase().split_whitespace().all(|w| hay.contains(w))
    }

    /// The containers the list shows, in order.
    pub fn visible_containers(&self) -> Vec<&ContainerItem> {
        self.lists
            .containers
            .iter()
            .filter(|c| {
                let r = &c.container.row;
                self.passes(|| format!("{} {} {} {}", r.name, r.image_name, r.state.as_str(), r.id))
            })
            .collect()
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
        out
    }

    pub fn visible_networks(&self) -> Vec<&NetworkItem> {
        self.lists
            .networks
            .iter()
            .filter(|n| {
                self.passes(|| format!("{} {} {}", n.network.name, n.network.driver, n.containers.join(" ")))
            })
            .collect()
    }

    /// How many rows the current pane shows.
    pub fn row_count(&self) -> usize {
        match self.pane {
            Pane::Containers => self.visible_containers().len(),
            Pane::Images => self.visible_images().len(),
            Pane::Networks => self.visible_networks().len(),
            Pane::Volumes => 0,
        }
    }

    /// The containers an action applies to: the marked ones, else the selected one. Pairs of
    /// (ID, name).
    pub fn action_targets(&self) -> Vec<(String, String)> {
        let visible = self.visible_containers();
        let marked: Vec<(String, String)> = visible
            .iter()
            .filter(|c| self.marked.contains(c.container.id()))
            .map(|c| (c.container.id().to_string(), c.container.row.name.clone()))
            .collect();
        if !marked.is_empty() {
            return marked;
        }
        visible
            .get(self.selected_index())
            .map(|c| vec![(c.container.id().to_string(), c.container.row.name.clone())])
            .unwrap_or_default()
    }

    /// The selected container, if the containers pane shows one.
    pub fn selected_container(&self) -> Option<&ContainerItem> {
        self.visible_containers().get(self.selected_index()).copied()
    }

    pub fn running_count(&self) -> usize {
        self.lists.containers.iter().filter(|c| c.container.row.state == State::Running).count()
    }
}
