//! `gantry network …` and `gantry port`.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::args::{NetworkCommand, NetworkCreateArgs, PortArgs};
use super::format::{Table, short_id};
use super::output::{Failure, Outcome, print};
use super::template::Template;
use crate::engine::Engine;
use crate::engine::network::NetworkCreate;

fn key_values(list: &[String]) -> BTreeMap<String, String> {
    list.iter()
        .map(|l| match l.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (l.to_string(), String::new()),
        })
        .collect()
}

pub fn network_command(engine: &Arc<Engine>, cmd: NetworkCommand) -> Outcome {
    match cmd {
        NetworkCommand::Create(a) => create(engine, a),
        NetworkCommand::Ls(a) => {
            let nets = engine.networks()?;
            let nets: Vec<_> = nets
                .into_iter()
                .filter(|n| {
                    a.filter.iter().all(|f| match f.split_once('=') {
                        Some(("name", v)) => n.name.contains(v),
                        Some(("driver", v)) => n.driver == v,
                        Some(("id", v)) => n.id.starts_with(v),
                        Some(("label", v)) => match v.split_once('=') {
                            Some((k, val)) => n.labels.get(k).map(|x| x == val).unwrap_or(false),
                            None => n.labels.contains_key(v),
                        },
                        _ => true,
                    })
                })
                .collect();
            if a.quiet {
                return print(
                    &nets.iter().map(|n| format!("{}\n", short_id(&n.id, a.no_trunc))).collect::<String>(),
                );
            }
            if let Some(fmt) = &a.format {
                let t = Template::parse(fmt).map_err(Failure::new)?;
                let mut out = String::new();
                for n in &nets {
                    let v = serde_json::json!({
                        "ID": short_id(&n.id, a.no_trunc), "Name": n.name, "Driver": n.driver,
                        "Scope": "local", "Internal": n.internal.to_string(),
                    });
                    out.push_str(&t.render(&v).map_err(Failure::new)?);
                    out.push('\n');
                }
                return print(&out);
            }
            let mut table = Table::new(&["NETWORK ID", "NAME", "DRIVER", "SCOPE"]);
            for n in &nets {
                table.row(vec![
                    short_id(&n.id, a.no_trunc),
                    n.name.clone(),
                    n.driver.clone(),
                    "local".into(),
                ]);
            }
            print(&table.render())
        }
        NetworkCommand::Inspect(a) => super::images::inspect_networks_only(engine, a),
        NetworkCommand::Rm(a) => {
            let mut failed = false;
            for n in &a.networks {
                match engine.remove_network(n) {
                    Ok(_) => print(&format!("{n}\n"))?,
                    Err(e) => {
                        eprintln!("Error: {}", super::output::describe(&e));
                        failed = true;
                    }
                }
            }
            if failed { Err(Failure::silent(1)) } else { Ok(()) }
        }
        NetworkCommand::Prune(a) => {
            if !a.force
                && !super::images::confirm(
                    "WARNING! This will remove all custom networks not used by at least one container.",
                )?
            {
                return Ok(());
            }
            let removed = engine.prune_networks()?;
            if removed.is_empty() {
                return Ok(());
            }
            print(&format!("Deleted Networks:\n{}\n", removed.join("\n")))
        }
        NetworkCommand::Connect(a) => Ok(engine.connect_network(&a.network, &a.container, &a.alias)?),
        NetworkCommand::Disconnect(a) => Ok(engine.disconnect_network(&a.network, &a.container)?),
    }
}

fn create(engine: &Arc<Engine>, a: NetworkCreateArgs) -> Outcome {
    let req = NetworkCreate {
        name: a.name,
        driver: a.driver,
        subnet: a.subnet,
        gateway: a.gateway,
        ip_range: a.ip_range,
        internal: a.internal,
        labels: key_values(&a.label),
        options: key_values(&a.opt),
    };
    let net = engine.create_network(req)?;
    print(&format!("{}\n", net.id))
}

/// `port CONTAINER [PRIVATE_PORT[/PROTO]]`, in Docker's format.
pub fn port(engine: &Arc<Engine>, a: PortArgs) -> Outcome {
    let c = engine.container(&a.container)?;
    let ports = engine.container_ports(c.id())?;
    match &a.port {
        None => {
            let out: String = ports.iter().map(|p| p.mapping() + "\n").collect();
            print(&out)
        }
        Some(spec) => {
            let (port, proto) = crate::engine::network::ports::split_key(spec)
                .ok_or_else(|| Failure::new(format!("invalid port {spec:?}")))?;
            let found: Vec<String> = ports
                .iter()
                .filter(|p| p.container_port == port && p.proto == proto)
                .map(|p| format!("{}:{}\n", p.host_ip, p.host_port))
                .collect();
            if found.is_empty() {
                return Err(Failure::new(format!(
                    "No public port '{port}/{proto}' published for {}",
                    a.container
                )));
            }
            print(&found.concat())
        }
    }
}
