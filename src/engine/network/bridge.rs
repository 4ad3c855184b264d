//! A bridge network's host side: its subnet, the Linux bridge with the gateway address, the
//! kernel switches routing needs, and the network's nftables rules. Built on first use and kept
//! (like docker0); a user network's is removed with the network.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use ipnet::Ipv4Net;

use super::ipam;
use super::netlink::Netlink;
use super::nft::{NetworkRules, Nft};
use super::{NetworkCreate, neterr};
use crate::engine::Engine;
use crate::engine::error::{Error, Result};
use crate::engine::store::lockfile::LockFile;
use crate::engine::store::networks::{self, NetworkRow};

/// Serializes subnet choice and bridge creation across every gantry process on the host
/// (bridges and routes are host-wide, whatever the state root).
const HOST_LOCK: &str = "/run/gantry-network.lock";

/// Docker's option keys for user networks.
pub const OPT_ICC: &str = "com.docker.network.bridge.enable_icc";
pub const OPT_MTU: &str = "com.docker.network.driver.mtu";

pub struct Addressing {
    pub subnet: Ipv4Net,
    pub gateway: Ipv4Addr,
    pub range: Option<Ipv4Net>,
}

/// A network whose bridge is up, with everything needed to attach to it.
#[derive(Debug, Clone)]
pub struct Ready {
    pub net: NetworkRow,
    pub bridge_index: u32,
    pub subnet: Ipv4Net,
    pub gateway: Ipv4Addr,
    pub range: Ipv4Net,
    pub mtu: u32,
    pub icc: bool,
}

/// Takes the host-wide network lock (held until the value is dropped).
pub(super) fn host_lock() -> Result<LockFile> {
    LockFile::exclusive(Path::new(HOST_LOCK)).map_err(|e| neterr("locking the network setup", e))
}

/// Every subnet in use: the host's routes and addresses and gantry's own networks.
fn used_subnets(engine: &Engine, except: Option<&str>) -> Result<Vec<Ipv4Net>> {
    let mut used = Netlink::open()
        .and_then(|mut n| n.used_ipv4_networks())
        .map_err(|e| neterr("reading the host's routes", e))?;
    for n in engine.networks()? {
        if Some(n.id.as_str()) == except {
            continue;
        }
        if let Ok(s) = n.subnet.parse::<Ipv4Net>() {
            used.push(s);
        }
    }
    Ok(used)
}

fn parse_net(what: &str, s: &str) -> Result<Ipv4Net> {
    s.parse::<Ipv4Net>()
        .map_err(|_| Error::InvalidArgument(format!("invalid {what} {s:?}: want an IPv4 CIDR")))
}

/// Checks (or picks) a user network's subnet, gateway and range.
/// The caller holds the host lock ([`host_lock`]) until the bridge exists.
pub fn plan_user_network(engine: &Engine, req: &NetworkCreate) -> Result<Addressing> {
    let used = used_subnets(engine, None)?;
    let subnet = match &req.subnet {
        Some(s) => {
            let net = parse_net("subnet", s)?.trunc();
            if let Some(u) = used.iter().find(|u| ipam::overlaps(&net, u)) {
                return Err(Error::Conflict(format!(
                    "Pool overlaps with other one on this address space ({u})"
                )));
            }
            net
        }
        None => ipam::choose_subnet(&used).ok_or_else(|| {
            Error::Network("could not find an available, non-overlapping IPv4 address pool".into())
        })?,
    };
    if subnet.prefix_len() > 30 {
        return Err(Error::InvalidArgument(format!("subnet {subnet} is too small")));
    }
    let gateway = match &req.gateway {
        Some(g) => {
            let g: Ipv4Addr =
                g.parse().map_err(|_| Error::InvalidArgument(format!("invalid gateway {g:?}")))?;
            if !subnet.contains(&g) || g == subnet.network() || g == subnet.broadcast() {
                return Err(Error::InvalidArgument(format!("gateway {g} is not a host address of {subnet}")));
            }
            g
        }
        None => ipam::first_host(&subnet).ok_or_else(|| Error::InvalidArgument("subnet too small".into()))?,
    };
    let range = match &req.ip_range {
        Some(r) => {
            let r = parse_net("ip-range", r)?.trunc();
            if !(subnet.contains(&r.network()) && subnet.contains(&r.broadcast())) {
                return Err(Error::InvalidArgument(format!("ip-range {r} is not within subnet {subnet}")));
            }
            Some(r)
        }
        None => None,
    };
    Ok(Addressing { subnet, gateway, range })
}

/// Where a network's "set up in this boot" marker lives (the run dir does not survive a
/// reboot, and neither do bridges or nftables rules).
fn marker(engine: &Engine, id: &str) -> PathBuf {
    engine.paths.run().join("net").join(format!("{id}.ready"))
}

/// The default bridge's addressing: `bip`/`fixed_cidr` from the settings, else what it got
/// before, else a free pool subnet.
fn default_addressing(engine: &Engine, net: &NetworkRow) -> Result<NetworkRow> {
    let cfg = &engine.config.network;
    let mut out = net.clone();
    out.bridge = cfg.bridge.clone();
    if let Some(bip) = &cfg.bip {
        let b: Ipv4Net = parse_net("network.bip", bip)?;
        out.subnet = b.trunc().to_string();
        out.gateway = b.addr().to_string();
    } else if net.subnet.is_empty() {
        let used = used_subnets(engine, Some(&net.id))?;
        let s = ipam::choose_subnet(&used).ok_or_else(|| {
            Error::Network(
                "could not find an available, non-overlapping IPv4 address pool for the default bridge"
                    .into(),
            )
        })?;
        out.subnet = s.to_string();
        out.gateway = ipam::first_host(&s).map(|g| g.to_string()).unwrap_or_default();
    }
    out.ip_range = cfg.fixed_cidr.clone().unwrap_or_default();
    if out != *net {
        engine.db.write(|tx| {
            networks::set_addressing(tx, &out.id, &out.bridge, &out.subnet, &out.gateway, &out.ip_range)
                .map_err(|e| engine.db.err(e))
        })?;
    }
    Ok(out)
}

/// Turns on IPv4 forwarding (a host-wide switch gantry's NAT needs).
fn enable_forwarding(engine: &Engine) -> Result<()> {
    switch_on(engine, "/proc/sys/net/ipv4/ip_forward", "ip_forward.previous")
}

/// Makes bridged traffic pass the IPv4 hooks, where the rules that keep containers on one
/// bridge apart (ICC off) live: without `br_netfilter` and `bridge-nf-call-iptables`, frames
/// between two ports of a bridge never reach them (Docker loads the module for the same
/// reason).
fn enable_bridge_filtering(engine: &Engine) -> Result<()> {
    const KEY: &str = "/proc/sys/net/bridge/bridge-nf-call-iptables";
    if !Path::new(KEY).exists() {
        let out = std::process::Command::new("modprobe")
            .arg("br_netfilter")
            .output()
            .map_err(|e| neterr("loading br_netfilter (modprobe)", e))?;
        if !out.status.success() || !Path::new(KEY).exists() {
            return Err(Error::Network(format!(
                "inter-container isolation needs the br_netfilter module, which could not be loaded: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
    }
    switch_on(engine, KEY, "bridge-nf-call-iptables.previous")
}

/// Sets a host sysctl to 1, recording the value it had (once, in `<root>/<record>`) so an
/// operator can restore it.
fn switch_on(engine: &Engine, key: &str, record: &str) -> Result<()> {
    let now = std::fs::read_to_string(key).map_err(|e| neterr(key, e))?;
    if now.trim() == "1" {
        return Ok(());
    }
    let record = engine.paths.root().join(record);
    if !record.exists() {
        let _ = std::fs::write(&record, now.trim());
    }
    tracing::info!(sysctl = key, previous = now.trim(), "switching on");
    std::fs::write(key, "1").map_err(|e| neterr(key, e))
}

/// A network's attach settings, before its bridge is known to be up.
struct Plan {
    net: NetworkRow,
    subnet: Ipv4Net,
    gateway: Ipv4Addr,
    range: Ipv4Net,
    mtu: u32,
    icc: bool,
}

impl Plan {
    fn of(engine: &Engine, net: NetworkRow) -> Result<Self> {
        let subnet = parse_net("subnet", &net.subnet)?;
        let gateway: Ipv4Addr = net
            .gateway
            .parse()
            .map_err(|_| Error::Network(format!("network {} has no gateway", net.name)))?;
        let range = if net.ip_range.is_empty() { subnet } else { parse_net("ip range", &net.ip_range)? };
        let cfg = &engine.config.network;
        let (icc, mtu) = if net.name == "bridge" {
            (cfg.icc, cfg.mtu)
        } else {
            (
                net.options.get(OPT_ICC).map(|v| v != "false").unwrap_or(true),
                net.options.get(OPT_MTU).and_then(|m| m.parse().ok()).unwrap_or(cfg.mtu),
            )
        };
        Ok(Self { net, subnet, gateway, range, mtu, icc })
    }

    /// What the "ready" marker holds: a changed setting (or a recreated bridge) redoes the set-up.
    fn stamp(&self, index: u32) -> String {
        format!("{index} {} icc={} internal={}", self.subnet, self.icc, self.net.internal)
    }

    fn ready(self, bridge_index: u32) -> Ready {
        let Plan { net, subnet, gateway, range, mtu, icc } = self;
        Ready { net, bridge_index, subnet, gateway, range, mtu, icc }
    }
}

/// Brings a bridge network's host side up (once per boot) and returns how to attach to it.
pub fn ensure_ready(engine: &Engine, net: &NetworkRow) -> Result<Ready> {
    // Fast path, without the host lock: addressed, and set up this boot with these settings.
    if !net.subnet.is_empty() {
        let net = if net.name == "bridge" { default_addressing(engine, net)? } else { net.clone() };
        let plan = Plan::of(engine, net)?;
        let mut nl = Netlink::open().map_err(|e| neterr("netlink", e))?;
        if let Some(index) = nl.link_index(&plan.net.bridge).map_err(|e| neterr("netlink", e))? {
            let mark = std::fs::read_to_string(marker(engine, &plan.net.id)).ok();
            if mark.as_deref() == Some(plan.stamp(index).as_str()) {
                return Ok(plan.ready(index));
            }
        }
    }
    let _lock = host_lock()?;
    // Re-read under the lock: another process may have addressed or set it up meanwhile.
    let current = engine.db.read(|c| networks::get(c, &net.id))?.unwrap_or_else(|| net.clone());
    setup_locked(engine, &current)
}

/// Builds a network's host side; the caller holds the host lock (subnet choice and bridge
/// creation must be one step, or two gantry roots could pick the same subnet).
pub(super) fn setup_locked(engine: &Engine, net: &NetworkRow) -> Result<Ready> {
    let net = if net.name == "bridge" { default_addressing(engine, net)? } else { net.clone() };
    let plan = Plan::of(engine, net)?;
    let (net, subnet, gateway) = (&plan.net, plan.subnet, plan.gateway);
    let mut nl = Netlink::open().map_err(|e| neterr("netlink", e))?;
    // The gateway's MAC follows the containers' rule (02:42 + IPv4): no container has the
    // gateway's address, so it is unique on the bridge.
    let index = nl
        .ensure_bridge(&net.bridge, plan.mtu, ipam::mac_for(gateway))
        .map_err(|e| neterr(&format!("creating bridge {}", net.bridge), e))?;
    nl.add_address(index, gateway, subnet.prefix_len())
        .map_err(|e| neterr(&format!("addressing bridge {}", net.bridge), e))?;
    nl.set_up(index).map_err(|e| neterr(&format!("bringing up {}", net.bridge), e))?;
    // DNAT of 127.0.0.1 traffic to a container needs the kernel to route loopback-sourced
    // packets out of the bridge.
    std::fs::write(format!("/proc/sys/net/ipv4/conf/{}/route_localnet", net.bridge), "1")
        .map_err(|e| neterr("enabling route_localnet", e))?;
    enable_forwarding(engine)?;
    if !plan.icc {
        enable_bridge_filtering(engine)?;
    }
    Nft::new(&engine.config.network.nft_table)
        .add_network(&NetworkRules {
            id: &net.id,
            bridge: &net.bridge,
            subnet,
            internal: net.internal,
            icc: plan.icc,
        })
        .map_err(|e| neterr("installing the network's firewall rules", e))?;
    let mark = marker(engine, &net.id);
    if let Some(dir) = mark.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let _ = std::fs::write(&mark, plan.stamp(index));
    Ok(plan.ready(index))
}

/// Removes a user network's bridge, rules and DNS responder.
pub fn teardown(engine: &Engine, net: &NetworkRow) -> Result<()> {
    super::dns::stop(engine, net);
    Nft::new(&engine.config.network.nft_table)
        .remove_network(&net.id)
        .map_err(|e| neterr("removing the network's firewall rules", e))?;
    if !net.bridge.is_empty() {
        let mut nl = Netlink::open().map_err(|e| neterr("netlink", e))?;
        nl.delete_link(&net.bridge).map_err(|e| neterr(&format!("deleting bridge {}", net.bridge), e))?;
    }
    let _ = std::fs::remove_file(marker(engine, &net.id));
    Ok(())
}
