//! Container networking on Docker's model: the default bridge (`gantry0`), user-defined bridge
//! networks, published ports through nftables DNAT, links, and the per-network DNS responder.
//!
//! Data flow for a container start (run by its monitor):
//! 1. [`Engine::network_prepare`] leases an address on each attached network (database) and
//!    reserves the published host ports (bound sockets the monitor keeps);
//! 2. the monitor writes /etc/hosts and /etc/resolv.conf from that plan and creates the
//!    container;
//! 3. [`Engine::network_plumb`] creates each veth pair with the container end made directly in
//!    its namespace, configures addresses and routes there from a dedicated thread, and installs
//!    the container's DNAT / link rules in one nftables transaction;
//! 4. when the container stops, [`Engine::network_release`] undoes all of it. It is idempotent
//!    and also run by the reconciliation that follows a killed monitor.

pub mod bridge;
pub mod dns;
pub mod inspect;
pub mod ipam;
pub mod links;
pub mod netlink;
pub mod nft;
pub mod plumb;
pub mod ports;
pub mod sweep;

use std::collections::BTreeMap;

use crate::engine::Engine;
use crate::engine::container::now_nanos;
use crate::engine::error::{Error, Result};
use crate::engine::store::containers::{self, State};
use crate::engine::store::networks::{self, EndpointRow, NetworkRow};

pub use plumb::{Attachment, Interface};

/// The networks that always exist, as in Docker.
pub const PREDEFINED: [&str; 3] = ["bridge", "host", "none"];

/// `network create`'s options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkCreate {
    pub name: String,
    pub driver: Option<String>,
    pub subnet: Option<String>,
    pub gateway: Option<String>,
    pub ip_range: Option<String>,
    pub internal: bool,
    pub labels: BTreeMap<String, String>,
    pub options: BTreeMap<String, String>,
}

/// A container on a network, for `network inspect`.
#[derive(Debug, Clone)]
pub struct NetworkMember {
    pub container_id: String,
    pub name: String,
    pub endpoint: EndpointRow,
}

/// A network setup failure, with what was being done.
pub(crate) fn neterr(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Network(format!("{what}: {e}"))
}

fn new_id() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// Network names follow container names' rules.
fn valid_name(n: &str) -> bool {
    let mut chars = n.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

impl Engine {
    pub fn networks(&self) -> Result<Vec<NetworkRow>> {
        self.db.read(networks::list)
    }

    /// A network by ID, name or unique ID prefix.
    pub fn network(&self, key: &str) -> Result<NetworkRow> {
        let mut found = self.db.read(|c| networks::resolve(c, key))?;
        match found.len() {
            0 => Err(Error::NetworkNotFound(key.to_string())),
            1 => Ok(found.remove(0)),
            _ => Err(Error::InvalidArgument(format!(
                "network {key} is ambiguous ({} matches found)",
                found.len()
            ))),
        }
    }

    /// The containers attached to a network.
    pub fn network_members(&self, network_id: &str) -> Result<Vec<NetworkMember>> {
        let eps = self.db.read(|c| networks::endpoints_on(c, network_id))?;
        let mut out = Vec::new();
        for ep in eps {
            if let Some(row) = self.db.read(|c| containers::get(c, &ep.container_id))? {
                out.push(NetworkMember { container_id: row.id, name: row.name, endpoint: ep });
            }
        }
        Ok(out)
    }

    /// Creates a user-defined bridge network. The subnet is checked (or chosen) now; the bridge
    /// device appears when the first container joins.
    pub fn create_network(&self, req: NetworkCreate) -> Result<NetworkRow> {
        let driver = req.driver.clone().unwrap_or_else(|| "bridge".into());
        if driver != "bridge" {
            return Err(Error::InvalidArgument(format!(
                "network driver {driver:?} is not supported (only bridge networks can be created)"
            )));
        }
        if !valid_name(&req.name) {
            return Err(Error::InvalidArgument(format!("invalid network name {:?}", req.name)));
        }
        if !self.db.read(|c| networks::resolve(c, &req.name))?.iter().all(|n| n.name != req.name) {
            return Err(Error::Conflict(format!("network with name {} already exists", req.name)));
        }
        let id = new_id();
        // Subnet choice, the record and the bridge under one hold of the host lock: the
        // bridge's route is what tells other gantry roots the subnet is taken.
        let _lock = bridge::host_lock()?;
        let addressing = bridge::plan_user_network(self, &req)?;
        let row = NetworkRow {
            id: id.clone(),
            name: req.name.clone(),
            driver,
            bridge: format!("gantry-{}", &id[..8]),
            subnet: addressing.subnet.to_string(),
            gateway: addressing.gateway.to_string(),
            ip_range: addressing.range.map(|r| r.to_string()).unwrap_or_default(),
            internal: req.internal,
            labels: req.labels,
            options: req.options,
            created: now_nanos(),
        };
        if !self.db.write_unique(|tx| networks::insert(tx, &row))? {
            return Err(Error::Conflict(format!("network with name {} already exists", row.name)));
        }
        if let Err(e) = bridge::setup_locked(self, &row) {
            let _ = bridge::teardown(self, &row);
            self.db.write(|tx| networks::delete(tx, &row.id).map_err(|e| self.db.err(e)))?;
            return Err(e);
        }
        self.record(
            "network",
            "create",
            &id,
            vec![("name".into(), row.name.clone()), ("type".into(), "bridge".into())],
        );
        Ok(row)
    }

    /// Removes a user-defined network no container uses, with its bridge and rules.
    pub fn remove_network(&self, key: &str) -> Result<NetworkRow> {
        let net = self.network(key)?;
        if PREDEFINED.contains(&net.name.as_str()) {
            return Err(Error::Conflict(format!(
                "{} is a pre-defined network and cannot be removed",
                net.name
            )));
        }
        let members = self.network_members(&net.id)?;
        if !members.is_empty() {
            let names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
            return Err(Error::Conflict(format!(
                "error while removing network: network {} id {} has active endpoints ({})",
                net.name,
                net.id,
                names.join(", ")
            )));
        }
        bridge::teardown(self, &net)?;
        self.db.write(|tx| networks::delete(tx, &net.id).map_err(|e| self.db.err(e)))?;
        self.record("network", "destroy", &net.id, vec![("name".into(), net.name.clone())]);
        Ok(net)
    }

    /// The networks `network prune` would remove: user-defined ones without containers.
    pub fn network_prune_candidates(&self) -> Result<Vec<NetworkRow>> {
        let mut out = Vec::new();
        for net in self.networks()? {
            if !PREDEFINED.contains(&net.name.as_str()) && self.network_members(&net.id)?.is_empty() {
                out.push(net);
            }
        }
        Ok(out)
    }

    /// Removes every user-defined network without containers; returns their names.
    pub fn prune_networks(&self) -> Result<Vec<String>> {
        let mut removed = Vec::new();
        for net in self.network_prune_candidates()? {
            self.remove_network(&net.id)?;
            removed.push(net.name);
        }
        // The explicit clean-up command also takes what a crash left behind.
        self.sweep_network_orphans();
        Ok(removed)
    }

    /// The network a container's `--network` value names, for its endpoint (`None` for the
    /// modes without one: host, none, container:X).
    pub(crate) fn endpoint_network(&self, mode: &str) -> Result<Option<NetworkRow>> {
        match mode {
            "host" | "none" => Ok(None),
            m if m.starts_with("container:") => Ok(None),
            "" | "default" | "bridge" => self.network("bridge").map(Some),
            name => {
                let net = self.network(name)?;
                Ok((net.driver == "bridge").then_some(net))
            }
        }
    }

    /// Connects a container to a network; a running one gets its interface at once.
    pub fn connect_network(&self, network: &str, container: &str, aliases: &[String]) -> Result<()> {
        let net = self.network(network)?;
        if net.driver != "bridge" {
            return Err(Error::InvalidArgument(format!(
                "container cannot be connected to network {}",
                net.name
            )));
        }
        let c = self.container(container)?;
        if matches!(c.host().network_mode.as_str(), "host" | "none")
            || c.host().network_mode.starts_with("container:")
        {
            return Err(Error::InvalidArgument(format!(
                "container {} uses network mode {} and cannot be connected to other networks",
                c.row.name,
                c.host().network_mode
            )));
        }
        let added = self.db.write_unique(|tx| networks::add_endpoint(tx, c.id(), &net.id, aliases))?;
        if !added {
            return Err(Error::Conflict(format!(
                "endpoint with name {} already exists in network {}",
                c.row.name, net.name
            )));
        }
        if c.row.state == State::Running && c.row.pid > 0 {
            if let Err(e) = plumb::hot_connect(self, c.id(), &net, c.row.pid) {
                self.db.write(|tx| {
                    networks::remove_endpoint(tx, c.id(), &net.id).map(drop).map_err(|e| self.db.err(e))
                })?;
                return Err(e);
            }
        }
        self.record(
            "network",
            "connect",
            &net.id,
            vec![("container".into(), c.id().to_string()), ("name".into(), net.name.clone())],
        );
        Ok(())
    }

    /// Disconnects a container from a network, removing its interface if it is running.
    pub fn disconnect_network(&self, network: &str, container: &str) -> Result<()> {
        let net = self.network(network)?;
        let c = self.container(container)?;
        let eps = self.db.read(|conn| networks::endpoints_of(conn, c.id()))?;
        let Some(ep) = eps.into_iter().find(|e| e.network_id == net.id) else {
            return Err(Error::InvalidArgument(format!(
                "container {} is not connected to network {}",
                c.row.name, net.name
            )));
        };
        plumb::hot_disconnect(self, c.id(), &net, &ep)?;
        self.db.write(|tx| {
            networks::remove_endpoint(tx, c.id(), &net.id).map(drop).map_err(|e| self.db.err(e))
        })?;
        dns::refresh(self, &net);
        self.record(
            "network",
            "disconnect",
            &net.id,
            vec![("container".into(), c.id().to_string()), ("name".into(), net.name.clone())],
        );
        Ok(())
    }
}
