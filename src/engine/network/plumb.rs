//! A container's side of networking: its address leases and reserved ports, the veth pairs into
//! its namespace, its nftables rules, and undoing all of it.

use std::net::Ipv4Addr;
use std::os::fd::OwnedFd;
use std::path::PathBuf;

use super::bridge::{self, Ready};
use super::links::{self, Link};
use super::netlink::{self, Netlink};
use super::nft::{Dnat, LinkAccept, Nft};
use super::ports::{self, ActivePort};
use super::{dns, ipam, neterr};
use crate::engine::Engine;
use crate::engine::container::config::{ContainerConfig, HostConfig};
use crate::engine::error::{Error, Result};
use crate::engine::store::networks::{self, EndpointRow, NetworkRow};

/// One interface of a container on one network.
#[derive(Debug, Clone)]
pub struct Interface {
    pub ready: Ready,
    pub ip: Ipv4Addr,
    pub mac: [u8; 6],
    pub endpoint_id: String,
    /// The host end of the veth pair.
    pub veth: String,
    /// The name inside the container (`eth0`, …).
    pub ifname: String,
    pub aliases: Vec<String>,
}

/// Everything a starting container holds on the network: dropped (closing the port
/// reservations) after [`Engine::network_release`].
#[derive(Debug, Default)]
pub struct Attachment {
    pub interfaces: Vec<Interface>,
    pub ports: Vec<ActivePort>,
    pub links: Vec<Link>,
    reservations: Vec<OwnedFd>,
}

impl Attachment {
    /// The interface that carries the default route and the published ports.
    pub fn primary(&self) -> Option<&Interface> {
        self.interfaces.first()
    }
}

/// The host end of an endpoint's veth pair (15 characters at most).
pub fn veth_name(endpoint_id: &str) -> String {
    format!("veth{}", &endpoint_id[..endpoint_id.len().min(7)])
}

fn netns_path(pid: i32) -> PathBuf {
    PathBuf::from(format!("/proc/{pid}/ns/net"))
}

impl Engine {
    /// Leases an address on each of the container's networks and reserves its published
    /// ports. On error nothing stays leased or reserved.
    pub fn network_prepare(
        &self,
        id: &str,
        config: &ContainerConfig,
        host: &HostConfig,
    ) -> Result<Attachment> {
        let result = self.prepare_inner(id, config, host);
        if result.is_err() {
            self.network_release(id);
        }
        result
    }

    fn prepare_inner(&self, id: &str, config: &ContainerConfig, host: &HostConfig) -> Result<Attachment> {
        let mut att = Attachment::default();
        let endpoints = self.db.read(|c| networks::endpoints_of(c, id))?;
        if endpoints.is_empty() {
            if !host.port_bindings.is_empty() && host.network_mode != "host" {
                tracing::warn!(container = id, "published ports are ignored without a bridge network");
            }
            return Ok(att);
        }
        // Leases left by a run that was killed are stale.
        self.db.write(|tx| networks::release(tx, id, None).map_err(|e| self.db.err(e)))?;
        for (n, ep) in endpoints.iter().enumerate() {
            let net = self
                .db
                .read(|c| networks::get(c, &ep.network_id))?
                .ok_or_else(|| Error::NetworkNotFound(ep.network_id.clone()))?;
            let iface = self.lease(id, &net, ep, &format!("eth{n}"))?;
            att.interfaces.push(iface);
        }
        for (key, bindings) in host.published(config) {
            let Some((port, proto)) = ports::split_key(&key) else { continue };
            for b in bindings {
                let (active, fd) = ports::reserve(proto, port, &b).map_err(Error::Network)?;
                att.ports.push(active);
                att.reservations.push(fd);
            }
        }
        if att.primary().is_some() {
            att.links = links::resolve(self, id, &host.links)?;
        }
        let active = att.ports.clone();
        self.db.write(|tx| networks::set_ports(tx, id, &active).map_err(|e| self.db.err(e)))?;
        Ok(att)
    }

    /// Brings the network up, then picks and records a free address on it.
    fn lease(&self, id: &str, net: &NetworkRow, ep: &EndpointRow, ifname: &str) -> Result<Interface> {
        let ready = bridge::ensure_ready(self, net)?;
        let endpoint_id = hex::encode(rand::random::<[u8; 32]>());
        let ip = self.db.write(|tx| {
            let used = networks::leased_ips(tx, &net.id).map_err(|e| self.db.err(e))?;
            let ip = ipam::next_free(&ready.subnet, &ready.range, ready.gateway, &used).ok_or_else(|| {
                Error::Network(format!("no available IPv4 addresses on network {}", net.name))
            })?;
            let mac = ipam::format_mac(ipam::mac_for(ip));
            networks::set_lease(tx, id, &net.id, ip, &mac, &endpoint_id).map_err(|e| self.db.err(e))?;
            Ok(ip)
        })?;
        Ok(Interface {
            veth: veth_name(&endpoint_id),
            ready,
            ip,
            mac: ipam::mac_for(ip),
            endpoint_id,
            ifname: ifname.to_string(),
            aliases: ep.aliases.clone(),
        })
    }

    /// Wires a created container (init `pid`, not yet started) to its networks.
    pub fn network_plumb(&self, id: &str, att: &Attachment, pid: i32) -> Result<()> {
        if att.interfaces.is_empty() {
            return Ok(());
        }
        let t = std::time::Instant::now();
        let mut nl = Netlink::open().map_err(|e| neterr("netlink", e))?;
        for i in &att.interfaces {
            nl.create_veth(&i.veth, i.ready.bridge_index, i.ready.mtu, &i.ifname, i.mac, pid)
                .map_err(|e| neterr(&format!("creating the veth pair for {}", i.ready.net.name), e))?;
        }
        tracing::debug!(container = id, elapsed = ?t.elapsed(), "veths created");
        configure_inside(pid, &att.interfaces, true)?;
        tracing::debug!(container = id, elapsed = ?t.elapsed(), "interfaces configured");
        let dnats: Vec<Dnat> = match att.primary() {
            Some(p) => att
                .ports
                .iter()
                .map(|a| Dnat {
                    proto: a.proto.clone(),
                    host_ip: a.host_ip,
                    host_port: a.host_port,
                    container_ip: p.ip,
                    container_port: a.container_port,
                })
                .collect(),
            None => Vec::new(),
        };
        let accepts: Vec<LinkAccept> = match att.primary() {
            Some(p) if !p.ready.icc => links::accepts(&att.links, &p.ready.net.bridge, p.ip),
            _ => Vec::new(),
        };
        Nft::new(&self.config.network.nft_table)
            .add_container(id, &dnats, &accepts)
            .map_err(|e| neterr("installing the container's port rules", e))?;
        for i in &att.interfaces {
            dns::refresh(self, &i.ready.net);
        }
        Ok(())
    }

    /// Undoes a container's networking: rules, veths, leases, ports. Never fails; problems
    /// are logged (the next reconciliation retries).
    pub fn network_release(&self, id: &str) {
        let endpoints = self.db.read(|c| networks::endpoints_of(c, id)).unwrap_or_default();
        // Rules exist only for published ports and links (and only while a lease is held);
        // a plain container's stop costs no nft call.
        let had_ports = self.db.read(|c| networks::ports_of(c, id)).map(|p| !p.is_empty()).unwrap_or(true);
        if endpoints.is_empty() && !had_ports {
            // `--network none` or `host`: nothing was leased, reserved or plumbed.
            return;
        }
        let has_links = || {
            self.db
                .read(|c| crate::engine::store::containers::get(c, id))
                .ok()
                .flatten()
                .and_then(|r| serde_json::from_str::<HostConfig>(&r.host_config).ok())
                .is_some_and(|h| !h.links.is_empty())
        };
        if had_ports || (endpoints.iter().any(|e| e.ip.is_some()) && has_links()) {
            if let Err(e) = Nft::new(&self.config.network.nft_table).remove_container(id) {
                tracing::warn!(container = id, error = %e, "removing nftables rules failed");
            }
        }
        let leased: Vec<&EndpointRow> = endpoints.iter().filter(|e| e.ip.is_some()).collect();
        if !leased.is_empty() {
            match Netlink::open() {
                Ok(mut nl) => {
                    for ep in &leased {
                        if let Err(e) = nl.delete_link(&veth_name(&ep.endpoint_id)) {
                            tracing::warn!(container = id, error = %e, "deleting a veth failed");
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "netlink"),
            }
        }
        if let Err(e) = self.db.write(|tx| networks::release(tx, id, None).map_err(|e| self.db.err(e))) {
            tracing::warn!(container = id, error = %e, "releasing leases failed");
        }
        for ep in leased {
            if let Ok(Some(net)) = self.db.read(|c| networks::get(c, &ep.network_id)) {
                dns::refresh(self, &net);
            }
        }
    }
}

/// Inside the container's namespace: loopback and each interface up with its address, and
/// (for the first interface of a routed network) the default route.
fn configure_inside(pid: i32, ifaces: &[Interface], with_route: bool) -> Result<()> {
    netlink::in_netns(&netns_path(pid), || {
        let mut nl = Netlink::open()?;
        if let Some(lo) = nl.link_index("lo")? {
            nl.set_up(lo)?;
        }
        for i in ifaces {
            let idx = nl
                .link_index(&i.ifname)?
                .ok_or_else(|| std::io::Error::other(format!("{} is missing in the container", i.ifname)))?;
            nl.add_address(idx, i.ip, i.ready.subnet.prefix_len())?;
            nl.set_up(idx)?;
        }
        if let Some(first) = ifaces.first() {
            if with_route && !first.ready.net.internal {
                nl.add_default_route(first.ready.gateway)?;
            }
        }
        Ok(())
    })
    .map_err(|e| neterr("configuring the container's interfaces", e))
}

/// `network connect` of a running container: lease, veth, address (no default route change).
pub fn hot_connect(engine: &Engine, id: &str, net: &NetworkRow, pid: i32) -> Result<()> {
    let eps = engine.db.read(|c| networks::endpoints_of(c, id))?;
    let ep = eps
        .iter()
        .find(|e| e.network_id == net.id)
        .ok_or_else(|| Error::Network("the endpoint vanished".into()))?;
    let had_route = eps.iter().any(|e| e.ip.is_some());
    let mut nl = Netlink::open().map_err(|e| neterr("netlink", e))?;
    let mut last = None;
    for n in eps.len().saturating_sub(1)..eps.len() + 8 {
        let iface = engine.lease(id, net, ep, &format!("eth{n}"))?;
        match nl.create_veth(
            &iface.veth,
            iface.ready.bridge_index,
            iface.ready.mtu,
            &iface.ifname,
            iface.mac,
            pid,
        ) {
            Ok(()) => {
                let res = configure_inside(pid, std::slice::from_ref(&iface), !had_route);
                if res.is_ok() {
                    dns::refresh(engine, &iface.ready.net);
                    if dns::served(&iface.ready.net) {
                        use_network_dns(engine, id, iface.ready.gateway);
                    }
                } else {
                    let _ = nl.delete_link(&iface.veth);
                    engine
                        .db
                        .write(|tx| networks::release(tx, id, Some(&net.id)).map_err(|e| engine.db.err(e)))?;
                }
                return res;
            }
            Err(e) => {
                engine
                    .db
                    .write(|tx| networks::release(tx, id, Some(&net.id)).map_err(|e| engine.db.err(e)))?;
                if e.raw_os_error() != Some(libc::EEXIST) {
                    return Err(neterr("creating the veth pair", e));
                }
                last = Some(e);
            }
        }
    }
    Err(neterr("no free interface name in the container", last.map(|e| e.to_string()).unwrap_or_default()))
}

/// Puts a newly joined network's responder first in a running container's resolv.conf
/// (it forwards to the container's `--dns` servers, if any), rewriting the file in place so
/// its bind mount shows it.
fn use_network_dns(engine: &Engine, id: &str, gateway: Ipv4Addr) {
    let path = engine.container_dirs(id).etc().join("resolv.conf");
    let old = std::fs::read_to_string(&path).unwrap_or_default();
    let line = format!("nameserver {gateway}");
    if old.lines().any(|l| l.trim() == line) {
        return;
    }
    if let Err(e) = std::fs::write(&path, format!("{line}\n{old}")) {
        tracing::warn!(container = id, error = %e, "updating resolv.conf failed");
    }
}

/// `network disconnect`: the interface goes (its veth), and the lease with it. The published
/// ports and link exceptions point at the first network's address, so leaving that network
/// takes them too; a responder's nameserver line leaves with its network.
pub fn hot_disconnect(engine: &Engine, id: &str, net: &NetworkRow, ep: &EndpointRow) -> Result<()> {
    let Some(ip) = ep.ip else { return Ok(()) };
    let first = engine.db.read(|c| networks::endpoints_of(c, id))?.into_iter().find(|e| e.ip.is_some());
    if first.is_some_and(|f| f.network_id == net.id) {
        Nft::new(&engine.config.network.nft_table)
            .remove_container(id)
            .map_err(|e| neterr("removing the container's port rules", e))?;
        engine.db.write(|tx| networks::set_ports(tx, id, &[]).map_err(|e| engine.db.err(e)))?;
    }
    let mut nl = Netlink::open().map_err(|e| neterr("netlink", e))?;
    nl.delete_link(&veth_name(&ep.endpoint_id)).map_err(|e| neterr("deleting the veth", e))?;
    engine.db.write(|tx| networks::release(tx, id, Some(&net.id)).map_err(|e| engine.db.err(e)))?;
    if dns::served(net) {
        if let Ok(gateway) = net.gateway.parse::<Ipv4Addr>() {
            drop_network_dns(engine, id, gateway);
        }
    }
    tracing::debug!(container = id, %ip, network = %net.name, "disconnected");
    Ok(())
}

/// Takes a left network's responder out of a running container's resolv.conf.
fn drop_network_dns(engine: &Engine, id: &str, gateway: Ipv4Addr) {
    let path = engine.container_dirs(id).etc().join("resolv.conf");
    let Ok(old) = std::fs::read_to_string(&path) else { return };
    let line = format!("nameserver {gateway}");
    if !old.lines().any(|l| l.trim() == line) {
        return;
    }
    let new: String = old.lines().filter(|l| l.trim() != line).map(|l| format!("{l}\n")).collect();
    if let Err(e) = std::fs::write(&path, new) {
        tracing::warn!(container = id, error = %e, "updating resolv.conf failed");
    }
}
