//! Docker-shaped views of networking: a container's `NetworkSettings`, `network inspect`, and
//! the PORTS text of `ps`.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::ports::{self, ActivePort};
use crate::engine::Engine;
use crate::engine::container::Container;
use crate::engine::container::inspect::time_text;
use crate::engine::error::Result;
use crate::engine::store::containers::State;
use crate::engine::store::networks::{self, NetworkRow};

impl Engine {
    /// The published ports of a running container.
    pub fn container_ports(&self, id: &str) -> Result<Vec<ActivePort>> {
        self.db.read(|c| networks::ports_of(c, id))
    }

    /// Every container's published ports (one query, for `ps`).
    pub fn all_container_ports(&self) -> Result<BTreeMap<String, Vec<ActivePort>>> {
        self.db.read(networks::all_ports)
    }

    /// `NetworkSettings` of `inspect`.
    pub fn network_settings(&self, c: &Container) -> Result<Value> {
        let running = matches!(c.row.state, State::Running | State::Paused | State::Restarting);
        let mut port_map = serde_json::Map::new();
        if running {
            for key in c.config.exposed_ports.keys() {
                port_map.insert(key.clone(), Value::Null);
            }
            for p in self.container_ports(c.id())? {
                let key = format!("{}/{}", p.container_port, p.proto);
                let entry = port_map.entry(key).or_insert(Value::Array(Vec::new()));
                if !entry.is_array() {
                    *entry = Value::Array(Vec::new());
                }
                if let Value::Array(list) = entry {
                    list.push(json!({"HostIp": p.host_ip.to_string(), "HostPort": p.host_port.to_string()}));
                }
            }
        }
        let mut nets = serde_json::Map::new();
        let mut top =
            json!({"EndpointID": "", "Gateway": "", "IPAddress": "", "IPPrefixLen": 0, "MacAddress": ""});
        for ep in self.db.read(|conn| networks::endpoints_of(conn, c.id()))? {
            let Some(net) = self.db.read(|conn| networks::get(conn, &ep.network_id))? else { continue };
            let prefix = net.subnet.parse::<ipnet::Ipv4Net>().map(|n| n.prefix_len()).unwrap_or(0);
            let leased = ep.ip.is_some();
            let v = json!({
                "IPAMConfig": Value::Null,
                "Links": if net.name == "bridge" && !c.host().links.is_empty() { json!(c.host().links) } else { Value::Null },
                "Aliases": if ep.aliases.is_empty() { Value::Null } else { json!(ep.aliases) },
                "NetworkID": net.id,
                "EndpointID": ep.endpoint_id,
                "Gateway": if leased { net.gateway.clone() } else { String::new() },
                "IPAddress": ep.ip.map(|i| i.to_string()).unwrap_or_default(),
                "IPPrefixLen": if leased { prefix } else { 0 },
                "IPv6Gateway": "",
                "GlobalIPv6Address": "",
                "GlobalIPv6PrefixLen": 0,
                "MacAddress": ep.mac,
                "DriverOpts": Value::Null,
            });
            if net.name == "bridge" {
                for k in ["EndpointID", "Gateway", "IPAddress", "IPPrefixLen", "MacAddress"] {
                    top[k] = v[k].clone();
                }
            }
            nets.insert(net.name.clone(), v);
        }
        if nets.is_empty() && matches!(c.host().network_mode.as_str(), "host" | "none") {
            if let Ok(net) = self.network(&c.host().network_mode) {
                nets.insert(
                    net.name.clone(),
                    json!({"NetworkID": net.id, "EndpointID": "", "Gateway": "", "IPAddress": "", "IPPrefixLen": 0, "MacAddress": ""}),
                );
            }
        }
        let mut out = json!({
            "Bridge": "",
            "SandboxID": if running { c.row.id.clone() } else { String::new() },
            "SandboxKey": if running && c.row.pid > 0 { format!("/proc/{}/ns/net", c.row.pid) } else { String::new() },
            "HairpinMode": false,
            "Ports": port_map,
            "Networks": nets,
        });
        if let (Value::Object(o), Value::Object(t)) = (&mut out, top) {
            o.extend(t);
        }
        Ok(out)
    }

    /// `network inspect`.
    pub fn inspect_network(&self, key: &str) -> Result<Value> {
        let net = self.network(key)?;
        Ok(network_json(&net, &self.network_members(&net.id)?))
    }
}

fn network_json(net: &NetworkRow, members: &[super::NetworkMember]) -> Value {
    let mut containers = serde_json::Map::new();
    for m in members {
        let prefix = net.subnet.parse::<ipnet::Ipv4Net>().map(|n| n.prefix_len()).unwrap_or(0);
        containers.insert(
            m.container_id.clone(),
            json!({
                "Name": m.name,
                "EndpointID": m.endpoint.endpoint_id,
                "MacAddress": m.endpoint.mac,
                "IPv4Address": m.endpoint.ip.map(|i| format!("{i}/{prefix}")).unwrap_or_default(),
                "IPv6Address": "",
            }),
        );
    }
    let config = if net.subnet.is_empty() {
        json!([])
    } else {
        let mut c = json!({"Subnet": net.subnet, "Gateway": net.gateway});
        if !net.ip_range.is_empty() {
            c["IPRange"] = json!(net.ip_range);
        }
        json!([c])
    };
    let mut options = net.options.clone();
    if net.driver == "bridge" && !net.bridge.is_empty() {
        options.insert("com.docker.network.bridge.name".into(), net.bridge.clone());
    }
    json!({
        "Name": net.name,
        "Id": net.id,
        "Created": time_text(net.created),
        "Scope": "local",
        "Driver": net.driver,
        "EnableIPv6": false,
        "IPAM": {"Driver": "default", "Options": {}, "Config": config},
        "Internal": net.internal,
        "Attachable": false,
        "Ingress": false,
        "ConfigFrom": {"Network": ""},
        "ConfigOnly": false,
        "Containers": containers,
        "Options": options,
        "Labels": net.labels,
    })
}

/// `ps`'s PORTS: published ports as `HOSTIP:PORT->PORT/PROTO`, then exposed-only ones.
pub fn ports_text(active: &[ActivePort], exposed: &[String]) -> String {
    let mut parts: Vec<String> = active
        .iter()
        .map(|p| format!("{}:{}->{}/{}", p.host_ip, p.host_port, p.container_port, p.proto))
        .collect();
    for key in exposed {
        let published = ports::split_key(key)
            .map(|(port, proto)| active.iter().any(|a| a.container_port == port && a.proto == proto))
            .unwrap_or(true);
        if !published {
            parts.push(key.clone());
        }
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ps_ports_column() {
        let active = vec![
            ActivePort {
                proto: "tcp".into(),
                container_port: 80,
                host_ip: "0.0.0.0".parse().unwrap(),
                host_port: 8080,
            },
            ActivePort {
                proto: "udp".into(),
                container_port: 53,
                host_ip: "127.0.0.1".parse().unwrap(),
                host_port: 5353,
            },
        ];
        let exposed = vec!["80/tcp".to_string(), "443/tcp".to_string()];
        assert_eq!(ports_text(&active, &exposed), "0.0.0.0:8080->80/tcp, 127.0.0.1:5353->53/udp, 443/tcp");
        assert_eq!(ports_text(&[], &[]), "");
    }
}
