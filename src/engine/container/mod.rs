//! Containers: creating them from an image and the run flags, and the record every command and
//! monitor shares. The lifecycle (start, stop, kill, pause, remove, wait) is in `lifecycle`,
//! Docker-shaped inspect in `inspect`.

pub mod config;
pub mod dirs;
pub mod exe;
pub mod inspect;
pub mod inspect_fs;
pub mod lifecycle;
pub mod log_follow;
pub mod logs;
pub mod names;
pub mod start;
mod update;

use std::collections::BTreeMap;

use serde_json::Value;

use super::Engine;
use super::error::{Error, Result};
use super::store::containers::{self, ContainerRow, Resolved};
use super::store::spread;
use config::{ContainerConfig, HostConfig};
use dirs::ContainerDirs;

/// What the user asked for; merged with the image's config by [`Engine::create_container`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateRequest {
    pub name: Option<String>,
    /// The image as the user named it.
    pub image: String,
    /// `Some` overrides the image's; `Some(vec![])` for entrypoint clears it (`--entrypoint ""`).
    pub cmd: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    pub env: Vec<String>,
    pub working_dir: Option<String>,
    pub user: Option<String>,
    pub hostname: Option<String>,
    pub domainname: Option<String>,
    pub tty: bool,
    pub open_stdin: bool,
    pub labels: BTreeMap<String, String>,
    /// `--expose` port keys (`"80/tcp"`), added to the image's.
    pub expose: Vec<String>,
    /// `--network-alias` names on the container's network.
    pub network_aliases: Vec<String>,
    pub host: HostConfig,
}

/// A new container, and the limits the host could not honour (Docker prints these as
/// `WARNING:` lines).
#[derive(Debug, Clone)]
pub struct Created {
    pub container: Container,
    pub warnings: Vec<String>,
}

/// A container as lists show it.
#[derive(Debug, Clone)]
pub struct Container {
    pub row: ContainerRow,
    pub config: ContainerConfig,
    /// Parsed on first use: lists (`ps`, 1000 rows) never look at it, and its flattened
    /// resource fields make it the costliest part of a row to parse.
    host: std::sync::OnceLock<HostConfig>,
}

impl Container {
    fn from_row(row: ContainerRow) -> Self {
        let config = serde_json::from_str(&row.config).unwrap_or_default();
        Self { row, config, host: std::sync::OnceLock::new() }
    }

    /// A container whose host configuration is already known (not read back from `row`): the
    /// TUI's fixed test rows.
    #[cfg(test)]
    pub fn with_host(row: ContainerRow, config: ContainerConfig, host: HostConfig) -> Self {
        Self { row, config, host: std::sync::OnceLock::from(host) }
    }

    /// The host configuration (`HostConfig` of `inspect`).
    pub fn host(&self) -> &HostConfig {
        self.host.get_or_init(|| serde_json::from_str(&self.row.host_config).unwrap_or_default())
    }

    pub fn id(&self) -> &str {
        &self.row.id
    }

    pub fn short_id(&self) -> &str {
        &self.row.id[..12]
    }

    /// The command as `ps` shows it (entrypoint and cmd joined).
    pub fn command(&self) -> String {
        self.config.argv().join(" ")
    }
}

impl Engine {
    /// Creates a container (its record and writable layer); nothing runs yet.
    pub fn create_container(&self, req: CreateRequest) -> Result<Created> {
        let image = self.find_image(&req.image)?;
        let image_config: Value = serde_json::from_slice(&image.config).unwrap_or(Value::Null);
        let ic = image_config.get("config").cloned().unwrap_or(Value::Null);
        let strings = |k: &str| -> Option<Vec<String>> {
            ic.get(k)
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|s| s.as_str().map(String::from)).collect())
        };
        let text = |k: &str| ic.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let id = new_id();
        let (entrypoint, cmd) = match (&req.entrypoint, &req.cmd) {
            // --entrypoint replaces the image's and drops its CMD, as in Docker.
            (Some(ep), cmd) => (if ep.is_empty() { None } else { Some(ep.clone()) }, cmd.clone()),
            (None, Some(cmd)) if !cmd.is_empty() => (strings("Entrypoint"), Some(cmd.clone())),
            (None, _) => (strings("Entrypoint"), strings("Cmd")),
        };
        let mut env = strings("Env").unwrap_or_default();
        for e in &req.env {
            crate::engine::container::config::set_env(&mut env, e);
        }
        let mut labels: BTreeMap<String, String> = ic
            .get("Labels")
            .and_then(Value::as_object)
            .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect())
            .unwrap_or_default();
        labels.extend(req.labels.clone());
        let mut exposed_ports: BTreeMap<String, config::EmptyObject> = ic
            .get("ExposedPorts")
            .and_then(Value::as_object)
            .map(|m| m.keys().map(|k| (k.clone(), config::EmptyObject {})).collect())
            .unwrap_or_default();
        for k in &req.expose {
            exposed_ports.insert(k.clone(), config::EmptyObject {});
        }
        let config = ContainerConfig {
            hostname: req.hostname.clone().unwrap_or_else(|| id[..12].to_string()),
            domainname: req.domainname.clone().unwrap_or_default(),
            user: req.user.clone().unwrap_or_else(|| text("User")),
            attach_stdin: req.open_stdin,
            attach_stdout: true,
            attach_stderr: true,
            tty: req.tty,
            open_stdin: req.open_stdin,
            stdin_once: false,
            env,
            cmd,
            image: req.image.clone(),
            working_dir: req
                .working_dir
                .clone()
                .filter(|w| !w.is_empty())
                .unwrap_or_else(|| text("WorkingDir")),
            entrypoint,
            labels,
            stop_signal: ic.get("StopSignal").and_then(Value::as_str).map(String::from),
            stop_timeout: None,
            exposed_ports,
        };
        if config.argv().is_empty() {
            return Err(Error::InvalidArgument("No command specified".into()));
        }
        if !config.working_dir.is_empty() && !config.working_dir.starts_with('/') {
            return Err(Error::InvalidArgument(format!(
                "the working directory '{}' is invalid, it needs to be an absolute path",
                config.working_dir
            )));
        }
        req.host.log_rotation().map_err(Error::InvalidArgument)?;
        let mut host = req.host.clone();
        let warnings = self.check_resources(&mut host.resources)?;
        if matches!(host.network_mode.as_str(), "" | "default") {
            host.network_mode = "bridge".into();
        }
        // `--network <name or ID of the host or none network>` is that mode.
        let mode = host.network_mode.clone();
        if !matches!(mode.as_str(), "bridge" | "host" | "none") && !mode.starts_with("container:") {
            let net = self.network(&mode)?;
            if net.driver != "bridge" {
                host.network_mode = net.name;
            }
        }
        validate_network_options(&host)?;
        let mut config = config;
        if let Some(other) = host.network_mode.strip_prefix("container:") {
            if req.hostname.is_some() {
                return Err(Error::InvalidArgument(
                    "conflicting options: hostname and the network mode".into(),
                ));
            }
            // Sharing another container's network is sharing its name too (Docker's rule).
            config.hostname = self.container(other)?.config.hostname;
        } else if host.network_mode == "host" && req.hostname.is_none() {
            config.hostname = host_hostname();
        }
        let endpoint_net = self.endpoint_network(&host.network_mode)?;
        if endpoint_net.is_none() && !req.network_aliases.is_empty() {
            return Err(Error::InvalidArgument(
                "network-scoped aliases are only supported for user-defined networks".into(),
            ));
        }
        super::runtime::caps::effective(req.host.privileged, &req.host.cap_add, &req.host.cap_drop)
            .map_err(Error::InvalidArgument)?;
        let name = match &req.name {
            Some(n) => {
                names::validate(n).map_err(Error::InvalidArgument)?;
                n.clone()
            }
            None => self.unique_name()?,
        };
        let row = ContainerRow::created(
            id.clone(),
            name.clone(),
            (image.id.to_string(), req.image.clone()),
            serde_json::to_string(&config).unwrap_or_default(),
            serde_json::to_string(&host).unwrap_or_default(),
            now_nanos(),
        );
        let dirs = ContainerDirs::new(&self.paths, &id);
        let all = self.paths.containers();
        spread::ensure_topdir(&all).map_err(|e| Error::io(format!("creating {}", all.display()), e))?;
        for d in [dirs.upper(), dirs.work(), dirs.rootfs(), dirs.etc()] {
            std::fs::create_dir_all(&d).map_err(|e| Error::io(format!("creating {}", d.display()), e))?;
        }
        let inserted = self.db.write_unique(|tx| {
            containers::insert(tx, &row)?;
            if let Some(net) = &endpoint_net {
                crate::engine::store::networks::add_endpoint(tx, &id, &net.id, &req.network_aliases)?;
            }
            Ok(())
        });
        match inserted {
            Ok(true) => {}
            Ok(false) => {
                super::store::tmp::remove_tree(&dirs.base);
                let holder = self.db.read(|c| containers::name_taken(c, &name))?.unwrap_or_default();
                return Err(Error::Conflict(format!(
                    "The container name \"/{name}\" is already in use by container \"{holder}\". You have to remove (or rename) that container to be able to reuse that name."
                )));
            }
            Err(e) => {
                super::store::tmp::remove_tree(&dirs.base);
                return Err(e);
            }
        }
        self.record(
            "container",
            "create",
            &id,
            vec![("image".into(), req.image.clone()), ("name".into(), name)],
        );
        Ok(Created { container: Container::from_row(row), warnings })
    }

    /// Docker's checks of resource limits, then what this host can apply: fills defaults,
    /// drops what it cannot honour (returning the warnings), refuses the impossible.
    fn check_resources(&self, r: &mut crate::engine::cgroups::Resources) -> Result<Vec<String>> {
        use crate::engine::cgroups::{Layout, support};
        r.validate().map_err(Error::InvalidArgument)?;
        r.normalize();
        let warnings = support::HostLimits::probe(Layout::host()).check(r).map_err(Error::InvalidArgument)?;
        support::check_ulimits(&r.ulimits).map_err(Error::InvalidArgument)?;
        Ok(warnings)
    }

    fn unique_name(&self) -> Result<String> {
        for _ in 0..50 {
            let n = names::generate();
            if self.db.read(|c| containers::name_taken(c, &n))?.is_none() {
                return Ok(n);
            }
        }
        Ok(format!("{}_{}", names::generate(), rand::random::<u16>()))
    }

    /// Resolves an ID, unique ID prefix or name to the container's full ID.
    pub fn resolve_container(&self, key: &str) -> Result<String> {
        match self.db.read(|c| containers::resolve(c, key))? {
            Resolved::One(id) => Ok(id),
            Resolved::None => Err(Error::ContainerNotFound(key.to_string())),
            Resolved::Ambiguous => {
                Err(Error::InvalidArgument(format!("multiple containers found with provided prefix: {key}")))
            }
        }
    }

    /// One container, after reconciling its state with reality.
    pub fn container(&self, key: &str) -> Result<Container> {
        let id = self.resolve_container(key)?;
        self.reconcile(&id)?;
        let row = self
            .db
            .read(|c| containers::get(c, &id))?
            .ok_or_else(|| Error::ContainerNotFound(key.to_string()))?;
        Ok(Container::from_row(row))
    }

    /// All containers, newest first, with dead monitors noticed and recorded.
    pub fn containers(&self) -> Result<Vec<Container>> {
        let rows = self.db.read(containers::list)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            if row.state.has_monitor() && !self.monitor_alive(&row) {
                self.reconcile(&row.id)?;
                if let Some(r) = self.db.read(|c| containers::get(c, &row.id))? {
                    out.push(Container::from_row(r));
                }
                continue;
            }
            out.push(Container::from_row(row));
        }
        Ok(out)
    }

    pub fn container_dirs(&self, id: &str) -> ContainerDirs {
        ContainerDirs::new(&self.paths, id)
    }
}

/// Checks the network flags that are only stored at create time (`--link`, `--add-host`,
/// `--dns`), so a bad value fails `create` rather than the start.
fn validate_network_options(host: &HostConfig) -> Result<()> {
    for l in &host.links {
        crate::engine::network::links::parse(l)?;
    }
    for h in &host.extra_hosts {
        crate::engine::runtime::files::parse_extra_host(h).map_err(Error::InvalidArgument)?;
    }
    for d in &host.dns {
        d.parse::<std::net::IpAddr>()
            .map_err(|_| Error::InvalidArgument(format!("{d} is not an ip address")))?;
    }
    if matches!(host.network_mode.as_str(), "host" | "none") || host.network_mode.starts_with("container:") {
        if (!host.port_bindings.is_empty() || host.publish_all_ports) && host.network_mode != "host" {
            return Err(Error::InvalidArgument(format!(
                "conflicting options: port publishing and the {} network mode",
                host.network_mode
            )));
        }
        if !host.links.is_empty() {
            return Err(Error::InvalidArgument(format!(
                "conflicting options: --link and the {} network mode",
                host.network_mode
            )));
        }
    }
    Ok(())
}

/// The host's name, which `--network host` containers take (as under Docker).
fn host_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_string()).unwrap_or_default()
}

/// A new 64-hex container ID.
fn new_id() -> String {
    let bytes: [u8; 32] = rand::random();
    hex::encode(bytes)
}

/// Whether `id` is a full container ID (64 lowercase hex digits), as [`new_id`] makes them.
pub fn is_full_id(id: &str) -> bool {
    id.len() == 64 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

pub fn now_nanos() -> i64 {
    chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
}
