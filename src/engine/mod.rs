//! The gantry engine: a library with a typed async API and an event stream. The CLI and the TUI
//! are thin clients of it; nothing in here prints to a terminal.

pub mod browse;
pub mod cgroups;
pub mod config;
pub mod container;
pub mod digest;
pub mod error;
pub mod events;
pub mod exec;
pub mod image;
pub mod layer;
pub mod monitor;
pub mod network;
pub mod paths;
pub mod platform;
pub mod pull;
pub mod reference;
pub mod registry;
pub mod runtime;
pub mod stats;
pub mod store;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::broadcast;

pub use config::EngineConfig;

/// The log filter when `GANTRY_LOG` is unset. libcgroups reports, on every container start,
/// each v1 controller this host lacks (a warning) and which cgroup version it uses: noise
/// that cost each start a few log writes.
pub const DEFAULT_LOG_FILTER: &str = "info,libcgroups=error";
pub use error::{Error, Result};
pub use events::{Event, EventBus, LifecycleEvent};

use error::IoContext;
use paths::Paths;
use registry::{ClientSettings, CredentialStore, RegistryClient};
use store::blobs::BlobStore;
use store::db::Db;
use store::layers::LayerStore;

/// Where the engine's state and settings come from.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    /// State root (`/var/lib/gantry` when `None`); the run dir moves under it too.
    pub root: Option<PathBuf>,
    /// Run dir, when it must differ from the one implied by `root` (monitors are told both).
    pub run: Option<PathBuf>,
    /// Settings file (`$GANTRY_CONFIG` or `/etc/gantry/config.toml` when `None`).
    pub config_path: Option<PathBuf>,
    /// Docker client config with registry credentials (`$DOCKER_CONFIG` or `~/.docker`).
    pub credentials_path: Option<PathBuf>,
}

/// Where an engine keeps its state and finds its settings, resolved from [`EngineOptions`]
/// without opening anything: enough to start a monitor before the engine is open.
pub(crate) struct Locations {
    pub paths: Paths,
    pub config_path: PathBuf,
    pub credentials_path: PathBuf,
}

impl Locations {
    /// Resolves `opts`, creating the state, run and scratch directories (private) if missing.
    pub fn of(opts: EngineOptions) -> Result<Self> {
        if !rustix::process::geteuid().is_root() {
            return Err(Error::NotRoot);
        }
        let mut paths = Paths::new(opts.root.as_deref());
        if let Some(run) = opts.run {
            paths = paths.with_run(run);
        }
        for dir in [paths.root().to_path_buf(), paths.run().to_path_buf()] {
            create_private_dir(&dir)?;
        }
        let tmp = paths.tmp();
        if create_private_dir(&tmp)? {
            store::spread::mark(&tmp);
        }
        Ok(Self {
            paths,
            config_path: opts.config_path.unwrap_or_else(EngineConfig::default_path),
            credentials_path: opts.credentials_path.unwrap_or_else(CredentialStore::default_path),
        })
    }
}

/// One engine per process; cheap to share behind an `Arc`.
pub struct Engine {
    paths: Paths,
    config: EngineConfig,
    config_path: PathBuf,
    db: Db,
    blobs: BlobStore,
    layers: LayerStore,
    registry: RegistryClient,
    events: EventBus,
    /// Whether this engine's shared stats sampler runs (see [`Engine::share_stats`]).
    stats_shared: std::sync::atomic::AtomicBool,
}

impl Engine {
    /// Opens the state under the configured root, creating and migrating it as needed, and
    /// clears scratch data left by processes that were killed.
    pub fn open(opts: EngineOptions) -> Result<Arc<Self>> {
        let Locations { paths, config_path, credentials_path } = Locations::of(opts)?;
        let config = EngineConfig::load(&config_path)?;
        let db = Db::open(&paths.database())?;
        store::tmp::sweep_stale(&paths.tmp());
        let creds = CredentialStore::new(credentials_path);
        let registry = RegistryClient::new(
            ClientSettings {
                insecure_registries: config.insecure_registries.clone(),
                certs_dir: config.certs_dir.clone(),
                config_path: config_path.clone(),
                read_timeout: std::time::Duration::from_secs(config.registry_read_timeout),
            },
            creds,
        );
        Ok(Arc::new(Self {
            blobs: BlobStore::new(paths.clone()),
            layers: LayerStore::new(paths.clone()),
            paths,
            config,
            config_path,
            db,
            registry,
            events: EventBus::new(),
            stats_shared: std::sync::atomic::AtomicBool::new(false),
        }))
    }

    /// Subscribes to the engine's events (pull progress, lifecycle changes).
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    pub fn paths(&self) -> &Paths {
        &self.paths
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    pub fn registry(&self) -> &RegistryClient {
        &self.registry
    }

    /// Records a lifecycle event in the database (for other processes) and publishes it.
    pub(crate) fn record(&self, kind: &str, action: &str, id: &str, attributes: Vec<(String, String)>) {
        match self.db.write(|tx| self.record_in(tx, kind, action, id, attributes)) {
            Ok(event) => self.publish(event),
            Err(e) => tracing::warn!(error = %e, "could not record event"),
        }
    }

    /// Records a lifecycle event inside the caller's transaction, so a state change and its
    /// event commit together (one write instead of two); [`Engine::publish`] the returned event
    /// once the transaction has committed.
    pub(crate) fn record_in(
        &self,
        tx: &rusqlite::Transaction<'_>,
        kind: &str,
        action: &str,
        id: &str,
        mut attributes: Vec<(String, String)>,
    ) -> Result<LifecycleEvent> {
        if kind == "container" {
            self.identify_container(tx, id, &mut attributes)?;
        }
        let event = LifecycleEvent {
            time_nanos: chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default(),
            kind: kind.into(),
            action: action.into(),
            id: id.into(),
            attributes,
        };
        let attrs = serde_json::to_string(&event.attributes).unwrap_or_else(|_| "[]".into());
        tx.execute(
            "INSERT INTO events (time_nanos, kind, action, actor, attributes) VALUES (?1, ?2, ?3, ?4, ?5)",
            rusqlite::params![event.time_nanos, event.kind, event.action, event.id, attrs],
        )
        .map_err(|e| self.db.err(e))?;
        Ok(event)
    }

    /// Gives a container event the `image` and `name` attributes Docker puts on every one
    /// (while the record exists: record `destroy` before deleting it), sorted by key as
    /// Docker prints them.
    fn identify_container(
        &self,
        tx: &rusqlite::Transaction<'_>,
        id: &str,
        attributes: &mut Vec<(String, String)>,
    ) -> Result<()> {
        let has = |attributes: &[(String, String)], key: &str| attributes.iter().any(|(k, _)| k == key);
        if !(has(attributes, "name") && has(attributes, "image"))
            && let Some((name, image)) = store::containers::identity(tx, id).map_err(|e| self.db.err(e))?
        {
            for (key, value) in [("image", image), ("name", name)] {
                if !has(attributes, key) {
                    attributes.push((key.into(), value));
                }
            }
        }
        attributes.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(())
    }

    /// Tells this process's subscribers about a recorded event.
    pub(crate) fn publish(&self, event: LifecycleEvent) {
        self.events.publish(Event::Lifecycle(event));
    }

    /// Recorded lifecycle events with `time_nanos` in `[since, until)`.
    /// The sequence number of the newest recorded event (0 when none): cheap to poll, and it
    /// moves whenever any gantry process (or monitor) records a change.
    pub fn last_event_seq(&self) -> Result<i64> {
        self.db.read(|c| c.query_row("SELECT COALESCE(MAX(seq), 0) FROM events", [], |r| r.get(0)))
    }

    pub fn recorded_events(&self, since: i64, until: i64) -> Result<Vec<LifecycleEvent>> {
        self.db.read(|c| {
            let mut st = c.prepare(
                "SELECT time_nanos, kind, action, actor, attributes FROM events
                 WHERE time_nanos >= ?1 AND time_nanos < ?2 ORDER BY seq",
            )?;
            let rows = st.query_map([since, until], |r| {
                let attrs: String = r.get(4)?;
                Ok(LifecycleEvent {
                    time_nanos: r.get(0)?,
                    kind: r.get(1)?,
                    action: r.get(2)?,
                    id: r.get(3)?,
                    attributes: serde_json::from_str(&attrs).unwrap_or_default(),
                })
            })?;
            rows.collect()
        })
    }
}

/// Creates a root-only directory (state may hold credentials and image content); whether it
/// had to.
pub(crate) fn create_private_dir(dir: &Path) -> Result<bool> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    if dir.exists() {
        return Ok(false);
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .ctx(|| format!("creating {}", dir.display()))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .ctx(|| format!("setting mode of {}", dir.display()))?;
    Ok(true)
}
