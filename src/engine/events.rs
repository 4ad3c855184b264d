//! The engine's event stream. Every state change and every step of a pull is published here;
//! the CLI prints from it and the TUI draws from it, so neither ever has to poll.
//!
//! Lifecycle events (image pull/tag/untag/delete, later container events) are also recorded in
//! the state database so that `gantry events` run in another process sees them.

use serde::Serialize;
use tokio::sync::broadcast;

use super::digest::Digest;

/// Capacity of the in-process channel; a subscriber that falls this far behind loses the oldest
/// events (it is told how many) rather than slowing the engine down.
const CAPACITY: usize = 4096;

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// Progress of one pull.
    Pull(PullEvent),
    /// A recorded lifecycle event (Docker's `events` vocabulary).
    Lifecycle(LifecycleEvent),
    /// One sweep of the running containers' resource figures (see [`super::Engine::share_stats`]).
    Stats(Vec<super::stats::StatsSample>),
}

/// One step of a pull, keyed by the reference being pulled.
#[derive(Debug, Clone, Serialize)]
pub struct PullEvent {
    /// The reference as the user gave it, normalized (`docker.io/library/busybox:latest`).
    pub reference: String,
    pub progress: PullProgress,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum PullProgress {
    /// The manifest was resolved; the layers that will be fetched, in order.
    Resolved { digest: Digest, layers: Vec<LayerPlan> },
    /// A change of one layer's state.
    Layer { layer: Digest, status: LayerStatus },
    /// The image is stored; `new` is false when it was already up to date.
    Done { image_id: Digest, digest: Digest, new: bool },
    /// The pull failed; nothing half-written remains.
    Failed { message: String },
}

#[derive(Debug, Clone, Serialize)]
pub struct LayerPlan {
    /// The compressed blob's digest (what Docker shows, shortened, as the layer's name).
    pub digest: Digest,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum LayerStatus {
    Waiting,
    Downloading { current: u64, total: u64 },
    Verifying,
    Extracting { entries: u64 },
    Done,
    AlreadyExists,
    Error { message: String },
}

/// An event in Docker's `events` vocabulary: `<type> <action> <id>` plus attributes.
#[derive(Debug, Clone, Serialize)]
pub struct LifecycleEvent {
    /// Nanoseconds since the Unix epoch.
    pub time_nanos: i64,
    /// `image` or `container`.
    pub kind: String,
    /// `pull`, `tag`, `untag`, `delete`, `create`, `start`, ...
    pub action: String,
    /// The object's ID (or the reference, for pulls).
    pub id: String,
    /// Extra attributes such as `name`.
    pub attributes: Vec<(String, String)>,
}

/// The in-process half of the event stream.
#[derive(Debug)]
pub struct EventBus {
    /// Made at the first subscription: the channel's slots take half a megabyte, which a
    /// command or a monitor that nobody listens to should not pay for.
    tx: std::sync::OnceLock<broadcast::Sender<Event>>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBus {
    pub fn new() -> Self {
        Self { tx: std::sync::OnceLock::new() }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.get_or_init(|| broadcast::channel(CAPACITY).0).subscribe()
    }

    /// How many subscribers there are (work only they would see can be skipped when none).
    pub fn listeners(&self) -> usize {
        self.tx.get().map_or(0, broadcast::Sender::receiver_count)
    }

    /// Publishes to whoever listens; no listener is not an error.
    pub fn publish(&self, event: Event) {
        if let Some(tx) = self.tx.get() {
            let _ = tx.send(event);
        }
    }

    pub fn pull(&self, reference: &str, progress: PullProgress) {
        self.publish(Event::Pull(PullEvent { reference: reference.to_string(), progress }));
    }
}
