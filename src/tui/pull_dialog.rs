//! Point-and-pick pulls: the dialog's state (pick a registry, one of its repositories, one of
//! their tags) and the progress of every pull started from it, per layer, as the engine's
//! pull events report it. Pulls go on in the background when the dialog closes.

use std::collections::BTreeMap;

use crate::engine::browse::TagDetails;
use crate::engine::digest::Digest;
use crate::engine::events::{LayerStatus, PullEvent, PullProgress};

/// Where the dialog is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Registry,
    Repositories,
    Tags,
    /// Watching the pull started last.
    Progress,
}

#[derive(Debug, Clone)]
pub struct PullDialog {
    pub stage: Stage,
    /// What is typed: the registry at the first stage, a filter at the list stages.
    pub input: String,
    pub registries: Vec<String>,
    pub registry: String,
    pub repositories: Vec<String>,
    pub repository: String,
    pub tags: Vec<TagDetails>,
    pub selected: usize,
    /// Waiting for the registry.
    pub loading: bool,
    pub error: Option<String>,
    /// The reference being watched at [`Stage::Progress`].
    pub watching: String,
}

impl PullDialog {
    pub fn new(registries: Vec<String>) -> Self {
        let input = registries.first().cloned().unwrap_or_else(|| "docker.io".into());
        Self {
            stage: Stage::Registry,
            input,
            registries,
            registry: String::new(),
            repositories: vec![],
            repository: String::new(),
            tags: vec![],
            selected: 0,
            loading: false,
            error: None,
            watching: String::new(),
        }
    }

    /// The rows of the current list stage that pass the typed filter (case-insensitive), as
    /// indexes into that stage's list.
    pub fn matching(&self) -> Vec<usize> {
        let filter = self.input.to_lowercase();
        let keep = |s: &str| filter.is_empty() || s.to_lowercase().contains(&filter);
        match self.stage {
            Stage::Registry => (0..self.registries.len()).collect(),
            Stage::Repositories => {
                (0..self.repositories.len()).filter(|&i| keep(&self.repositories[i])).collect()
            }
            Stage::Tags => (0..self.tags.len()).filter(|&i| keep(&self.tags[i].tag)).collect(),
            Stage::Progress => vec![],
        }
    }

    /// The name of the row at index `i` of the current stage's list.
    pub fn name(&self, i: usize) -> &str {
        match self.stage {
            Stage::Registry => &self.registries[i],
            Stage::Repositories => &self.repositories[i],
            Stage::Tags => &self.tags[i].tag,
            Stage::Progress => "",
        }
    }

    /// The names of the rows that pass the filter.
    pub fn rows(&self) -> Vec<&str> {
        self.matching().into_iter().map(|i| self.name(i)).collect()
    }

    /// Moves the selection; at the registry stage the input follows it.
    pub fn select(&mut self, delta: i64) {
        let n = self.rows().len();
        if n == 0 {
            return;
        }
        self.selected = (self.selected as i64 + delta).clamp(0, n as i64 - 1) as usize;
        if self.stage == Stage::Registry {
            self.input = self.registries[self.selected].clone();
        }
    }

    /// One stage back (from the first, nothing).
    pub fn back(&mut self) {
        let (stage, input) = match self.stage {
            Stage::Registry => return,
            Stage::Repositories => (Stage::Registry, self.registry.clone()),
            Stage::Tags => (Stage::Repositories, String::new()),
            Stage::Progress => (Stage::Tags, String::new()),
        };
        self.stage = stage;
        self.input = input;
        self.selected = 0;
        self.error = None;
        self.loading = false;
    }
}

/// One layer of a pull.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerTrack {
    pub digest: Digest,
    pub size: u64,
    pub status: LayerStatus,
    /// When its download started (ns since the epoch), for the rate.
    pub started: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PullState {
    Resolving,
    Pulling,
    Done { new: bool },
    Failed(String),
}

/// A pull's progress.
#[derive(Debug, Clone, PartialEq)]
pub struct PullTrack {
    pub state: PullState,
    pub layers: Vec<LayerTrack>,
    pub started: i64,
}

impl PullTrack {
    pub fn new(now: i64) -> Self {
        Self { state: PullState::Resolving, layers: vec![], started: now }
    }

    pub fn finished(&self) -> bool {
        matches!(self.state, PullState::Done { .. } | PullState::Failed(_))
    }

    /// Applies one engine event (`now` in ns since the epoch).
    pub fn apply(&mut self, progress: &PullProgress, now: i64) {
        match progress {
            PullProgress::Resolved { layers, .. } => {
                self.state = PullState::Pulling;
                self.layers = layers
                    .iter()
                    .map(|l| LayerTrack {
                        digest: l.digest.clone(),
                        size: l.size,
                        status: LayerStatus::Waiting,
                        started: None,
                    })
                    .collect();
            }
            PullProgress::Layer { layer, status } => {
                if let Some(l) = self.layers.iter_mut().find(|l| &l.digest == layer) {
                    if matches!(status, LayerStatus::Downloading { .. }) && l.started.is_none() {
                        l.started = Some(now);
                    }
                    l.status = status.clone();
                }
            }
            PullProgress::Done { new, .. } => self.state = PullState::Done { new: *new },
            PullProgress::Failed { message } => self.state = PullState::Failed(message.clone()),
        }
    }
}

/// Every pull started from the UI, by reference.
#[derive(Debug, Clone, Default)]
pub struct Pulls {
    pub tracks: BTreeMap<String, PullTrack>,
}

impl Pulls {
    pub fn start(&mut self, reference: &str, now: i64) {
        self.tracks.insert(reference.to_string(), PullTrack::new(now));
    }

    /// Applies an event of a pull this UI started (others are ignored). True when it changed
    /// something.
    pub fn apply(&mut self, e: &PullEvent, now: i64) -> bool {
        match self.tracks.get_mut(&e.reference) {
            Some(t) => {
                t.apply(&e.progress, now);
                true
            }
            None => false,
        }
    }

    pub fn running(&self) -> usize {
        self.tracks.values().filter(|t| !t.finished()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::events::LayerPlan;

    fn digest(c: char) -> Digest {
        Digest::from_hex(&c.to_string().repeat(64)).unwrap()
    }

    #[test]
    fn stages_filter_and_go_back() {
        let mut d = PullDialog::new(vec!["127.0.0.1:5000".into(), "ghcr.io".into()]);
        assert_eq!(d.input, "127.0.0.1:5000");
        d.select(1);
        assert_eq!(d.input, "ghcr.io");
        d.stage = Stage::Repositories;
        d.registry = "ghcr.io".into();
        d.repositories = vec!["fixtures/busybox".into(), "fixtures/debian".into(), "other/app".into()];
        d.input = "fix".into();
        assert_eq!(d.rows().len(), 2);
        d.back();
        assert_eq!(d.stage, Stage::Registry);
        assert_eq!((d.stage, d.input.as_str()), (Stage::Registry, "ghcr.io"));
        d.back();
        assert_eq!(d.stage, Stage::Registry, "nothing before the first stage");
    }

    #[test]
    fn a_pull_is_tracked_layer_by_layer() {
        let mut pulls = Pulls::default();
        pulls.start("r/x:1", 0);
        let ev = |progress| PullEvent { reference: "r/x:1".into(), progress };
        let plan =
            vec![LayerPlan { digest: digest('a'), size: 100 }, LayerPlan { digest: digest('b'), size: 50 }];
        assert!(pulls.apply(&ev(PullProgress::Resolved { digest: digest('c'), layers: plan }), 1));
        let downloading = LayerStatus::Downloading { current: 40, total: 100 };
        pulls.apply(&ev(PullProgress::Layer { layer: digest('a'), status: downloading.clone() }), 5);
        pulls.apply(&ev(PullProgress::Layer { layer: digest('b'), status: LayerStatus::AlreadyExists }), 6);
        let t = &pulls.tracks["r/x:1"];
        assert_eq!((t.layers[0].status.clone(), t.layers[0].started), (downloading, Some(5)));
        assert_eq!(t.layers[1].status, LayerStatus::AlreadyExists);
        assert_eq!(pulls.running(), 1);
        pulls.apply(&ev(PullProgress::Done { image_id: digest('d'), digest: digest('c'), new: true }), 9);
        assert_eq!(pulls.running(), 0);
        let other = PullEvent {
            reference: "someone/else".into(),
            progress: PullProgress::Failed { message: "x".into() },
        };
        assert!(!pulls.apply(&other, 9), "pulls of other clients are not ours");
    }
}
