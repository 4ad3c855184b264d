//! Legacy links (`--link name[:alias]`): one-way, non-transitive discovery of a running
//! container, injected as environment variables and an /etc/hosts entry, plus (with ICC off)
//! firewall exceptions for the target's exposed ports.

use std::net::Ipv4Addr;

use super::nft::LinkAccept;
use super::ports;
use crate::engine::Engine;
use crate::engine::error::{Error, Result};
use crate::engine::store::containers::State;
use crate::engine::store::networks;

/// A resolved link target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub alias: String,
    pub name: String,
    pub id: String,
    pub ip: Ipv4Addr,
    /// Exposed ports as (port, proto), sorted with TCP first within a port number.
    pub ports: Vec<(u16, String)>,
    /// The target's own environment.
    pub env: Vec<String>,
}

/// Splits `name[:alias]`; the alias defaults to the name.
pub fn parse(spec: &str) -> Result<(String, String)> {
    let (name, alias) = match spec.split_once(':') {
        Some((n, a)) => (n, a),
        None => (spec, spec),
    };
    let name = name.trim_start_matches('/');
    if name.is_empty() || alias.is_empty() {
        return Err(Error::InvalidArgument(format!("invalid link {spec:?}: want name[:alias]")));
    }
    Ok((name.to_string(), alias.to_string()))
}

/// Resolves each `--link` of container `my_id` to its running target's address and ports.
pub fn resolve(engine: &Engine, my_id: &str, specs: &[String]) -> Result<Vec<Link>> {
    let me = engine.db.read(|c| crate::engine::store::containers::get(c, my_id))?;
    let my_name = me.map(|r| r.name).unwrap_or_default();
    let mut out = Vec::new();
    for spec in specs {
        let (name, alias) = parse(spec)?;
        let target = engine
            .container(&name)
            .map_err(|_| Error::InvalidArgument(format!("could not get container for {name}")))?;
        if target.row.state != State::Running {
            return Err(Error::Conflict(format!(
                "Cannot link to a non running container: /{} AS /{my_name}/{alias}",
                target.row.name
            )));
        }
        let ip = engine
            .db
            .read(|c| networks::endpoints_of(c, target.id()))?
            .into_iter()
            .find_map(|e| e.ip)
            .ok_or_else(|| {
            Error::Conflict(format!(
                "Cannot link to /{}: it has no address on a bridge network",
                target.row.name
            ))
        })?;
        let mut keys: Vec<String> = target.config.exposed_ports.keys().cloned().collect();
        keys.extend(target.host().port_bindings.keys().cloned());
        let mut ports: Vec<(u16, String)> = keys
            .iter()
            .filter_map(|k| ports::split_key(k).map(|(p, proto)| (p, proto.to_string())))
            .collect();
        ports.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| (a.1 != "tcp").cmp(&(b.1 != "tcp"))));
        ports.dedup();
        out.push(Link {
            alias,
            name: target.row.name.clone(),
            id: target.id().to_string(),
            ip,
            ports,
            env: target.config.env.clone(),
        });
    }
    Ok(out)
}

/// The variable prefix for an alias: upper case, with `-` and `.` as `_`.
fn prefix(alias: &str) -> String {
    alias.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect()
}

/// Docker's link environment for container `my_name`.
pub fn env(my_name: &str, links: &[Link]) -> Vec<String> {
    let mut out = Vec::new();
    for l in links {
        let p = prefix(&l.alias);
        out.push(format!("{p}_NAME=/{my_name}/{}", l.alias));
        if let Some((port, proto)) = l.ports.first() {
            out.push(format!("{p}_PORT={proto}://{}:{port}", l.ip));
        }
        for (port, proto) in &l.ports {
            let up = proto.to_ascii_uppercase();
            let base = format!("{p}_PORT_{port}_{up}");
            out.push(format!("{base}={proto}://{}:{port}", l.ip));
            out.push(format!("{base}_ADDR={}", l.ip));
            out.push(format!("{base}_PORT={port}"));
            out.push(format!("{base}_PROTO={proto}"));
        }
        for e in &l.env {
            let Some((k, v)) = e.split_once('=') else { continue };
            // Build-time noise that says nothing about the linked service.
            if matches!(k, "HOME" | "PATH") {
                continue;
            }
            out.push(format!("{p}_ENV_{k}={v}"));
        }
    }
    out
}

/// The /etc/hosts lines: `IP alias ID name`.
pub fn hosts_lines(links: &[Link]) -> Vec<String> {
    links
        .iter()
        .map(|l| {
            let mut names = vec![l.alias.clone(), l.id[..12.min(l.id.len())].to_string()];
            if l.name != l.alias {
                names.push(l.name.clone());
            }
            format!("{}\t{}", l.ip, names.join(" "))
        })
        .collect()
}

/// The ICC-off exceptions: from this container to each exposed port of its targets.
pub fn accepts(links: &[Link], bridge: &str, my_ip: Ipv4Addr) -> Vec<LinkAccept> {
    let mut out = Vec::new();
    for l in links {
        for (port, proto) in &l.ports {
            out.push(LinkAccept {
                bridge: bridge.into(),
                from: my_ip,
                to: l.ip,
                proto: proto.clone(),
                port: *port,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db_link() -> Link {
        Link {
            alias: "database".into(),
            name: "mydb".into(),
            id: "6e5cdeb2d300aaaaaaaaaaaaaaaaaaaa".into(),
            ip: Ipv4Addr::new(172, 17, 0, 23),
            ports: vec![(2222, "tcp".into()), (3333, "tcp".into()), (4444, "udp".into())],
            env: vec!["PATH=/bin".into(), "MYSQL_USER=app".into()],
        }
    }

    #[test]
    fn environment_follows_the_seed() {
        let env = env("web", &[db_link()]);
        for want in [
            "DATABASE_NAME=/web/database",
            "DATABASE_PORT=tcp://172.17.0.23:2222",
            "DATABASE_PORT_3333_TCP=tcp://172.17.0.23:3333",
            "DATABASE_PORT_4444_UDP=udp://172.17.0.23:4444",
            "DATABASE_PORT_2222_TCP_PORT=2222",
            "DATABASE_PORT_4444_UDP_ADDR=172.17.0.23",
            "DATABASE_PORT_4444_UDP_PROTO=udp",
            "DATABASE_ENV_MYSQL_USER=app",
        ] {
            assert!(env.iter().any(|e| e == want), "missing {want} in {env:#?}");
        }
        assert!(!env.iter().any(|e| e.starts_with("DATABASE_ENV_PATH")));
        assert_eq!(hosts_lines(&[db_link()]), vec!["172.17.0.23\tdatabase 6e5cdeb2d300 mydb"]);
    }

    #[test]
    fn link_specs() {
        assert_eq!(parse("db").unwrap(), ("db".into(), "db".into()));
        assert_eq!(parse("/db:my-db").unwrap(), ("db".into(), "my-db".into()));
        assert!(parse("db:").is_err());
        assert_eq!(prefix("my-db.x"), "MY_DB_X");
    }
}
