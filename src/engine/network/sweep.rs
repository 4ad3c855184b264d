//! Reconciliation of the kernel's side with the database's: host objects gantry made that no
//! container or network in the database accounts for any more (left by a crash between two
//! steps of a teardown, or by a teardown whose kernel call failed) are found and removed.
//! Only gantry's own objects are looked at: ports named `veth…` on gantry's bridges, and
//! rules in gantry's nftables table.

use std::collections::HashSet;

use super::netlink::Netlink;
use super::nft::Nft;
use super::plumb::veth_name;
use crate::engine::Engine;
use crate::engine::store::networks;

/// What one sweep removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Swept {
    pub veths: Vec<String>,
    pub rules: usize,
}

impl Engine {
    /// Removes orphaned veths and firewall rules. Best effort: failures are logged.
    pub fn sweep_network_orphans(&self) -> Swept {
        let mut swept = Swept::default();
        let (Ok(nets), Ok(leased)) = (self.db.read(networks::list), self.db.read(networks::leased_endpoints))
        else {
            return swept;
        };
        let live_veths: HashSet<String> = leased.iter().map(|e| veth_name(&e.endpoint_id)).collect();
        let live_containers: HashSet<&str> = leased.iter().map(|e| e.container_id.as_str()).collect();
        let live_networks: HashSet<&str> = nets.iter().map(|n| n.id.as_str()).collect();
        let mut bridges: Vec<&str> =
            nets.iter().filter(|n| !n.bridge.is_empty()).map(|n| n.bridge.as_str()).collect();
        bridges.push(&self.config.network.bridge);
        bridges.sort_unstable();
        bridges.dedup();
        match Netlink::open() {
            Ok(mut nl) => {
                for bridge in bridges {
                    let Ok(Some(index)) = nl.link_index(bridge) else { continue };
                    for port in nl.ports_of(index).unwrap_or_default() {
                        if is_gantry_veth(&port) && !live_veths.contains(&port) {
                            match nl.delete_link(&port) {
                                Ok(_) => swept.veths.push(port),
                                Err(e) => {
                                    tracing::warn!(veth = %port, error = %e, "removing an orphaned veth failed")
                                }
                            }
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "netlink"),
        }
        let stale = |tag: &str| match tag.strip_prefix("net:") {
            Some(net) => !live_networks.contains(net),
            None => is_container_id(tag) && !live_containers.contains(tag),
        };
        match Nft::new(&self.config.network.nft_table).remove_stale(stale) {
            Ok(n) => swept.rules = n,
            Err(e) => tracing::warn!(error = %e, "removing orphaned firewall rules failed"),
        }
        if !swept.veths.is_empty() || swept.rules > 0 {
            tracing::info!(veths = ?swept.veths, rules = swept.rules, "removed orphaned network objects");
        }
        swept
    }
}

/// gantry's host-side veth names: `veth` and 7 hex digits (see [`veth_name`]).
fn is_gantry_veth(name: &str) -> bool {
    name.len() == 11 && name.starts_with("veth") && name[4..].bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_container_id(tag: &str) -> bool {
    tag.len() == 64 && tag.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_gantry_names_and_tags_qualify() {
        assert!(is_gantry_veth(&veth_name(&"ab".repeat(32))));
        assert!(is_gantry_veth("veth0a1b2c3"));
        for other in ["veth0a1b2c", "veth0a1b2c3d", "vethxyz1234", "eth0", "docker0", "veth-1234567"] {
            assert!(!is_gantry_veth(other), "{other}");
        }
        assert!(is_container_id(&"f".repeat(64)));
        assert!(!is_container_id("net:abc") && !is_container_id("") && !is_container_id(&"g".repeat(64)));
    }
}
